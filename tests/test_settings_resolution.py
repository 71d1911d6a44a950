"""Settings are resolved per file (issue 12, item 4): the nearest configuration in or above a file's directory
governs it, whatever the order or the mix of the paths on the command line; command-line options override on
top of each; ``--config`` forces one configuration for every file; a nested configuration replaces its parent
(no merging)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from ecolint.cli import main

BAD = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\n"  # ECO101 (red)
INFO_ONLY = 'from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n'  # ECO104 (info)


def _check(capsys, *args: str) -> tuple[int, list[tuple[str, str]]]:
    """Run ``ecolint check`` in-process; the exit code and the (file, code) pairs reported."""
    capsys.readouterr()
    code = main(["check", "--output-format", "json", *args])
    out = capsys.readouterr().out
    return code, sorted((f["filename"], f["code"]) for f in json.loads(out or "[]"))


@pytest.fixture
def two_projects(tmp_path, monkeypatch):
    """``a/`` ignores ECO101 in its own ecolint.toml; ``b/`` has no configuration; the same file in both."""
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "a" / "ecolint.toml").write_text('ignore = ["ECO101"]\n', encoding="utf-8")
    return tmp_path


# -- the order bug -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cache", [["--no-cache"], []])
def test_path_order_does_not_change_findings(two_projects, capsys, cache):
    ab = _check(capsys, *cache, "a", "b")
    ba = _check(capsys, *cache, "b", "a")
    assert ab == ba == (1, [("b/m.py", "ECO101")])
    assert _check(capsys, *cache, "a", "b") == ab  # again, from the cache when there is one


def test_explicit_files_across_a_monorepo_each_under_its_own_config(tmp_path, monkeypatch, capsys):
    """What pre-commit does: files from several projects, in any order, named explicitly."""
    monkeypatch.chdir(tmp_path)
    for d in ("svc1", "svc2/pkg", "tools"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "svc1" / "pyproject.toml").write_text('[project]\nname = "svc1"\n[tool.ecolint]\nignore = ["ECO101"]\n', encoding="utf-8")
    (tmp_path / "svc2" / "ecolint.toml").write_text('select = ["ECO104"]\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "root"\n', encoding="utf-8")  # no [tool.ecolint]: not a config
    for f in ("svc1/m.py", "svc2/pkg/m.py", "tools/m.py"):
        (tmp_path / f).write_text(BAD + INFO_ONLY.replace("b =", "c ="), encoding="utf-8")
    expected = [
        ("svc1/m.py", "ECO104"),
        ("svc2/pkg/m.py", "ECO104"),
        ("tools/m.py", "ECO101"),
        ("tools/m.py", "ECO104"),
    ]
    files = ["svc2/pkg/m.py", "tools/m.py", "svc1/m.py"]
    assert _check(capsys, "--no-cache", *files)[1] == expected
    assert _check(capsys, "--no-cache", *reversed(files))[1] == expected


def test_config_option_forces_one_configuration_for_every_file(two_projects, capsys):
    (two_projects / "forced.toml").write_text('select = ["ECO104"]\n', encoding="utf-8")
    assert _check(capsys, "--no-cache", "--config", "a/ecolint.toml", "b", "a") == (0, [])
    assert _check(capsys, "--no-cache", "--config", "forced.toml", "a", "b") == (0, [])


def test_nearest_configuration_wins_without_merging(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "ecolint.toml").write_text('ignore = ["ECO101"]\nfail-on = "info"\n', encoding="utf-8")
    (tmp_path / "sub" / "ecolint.toml").write_text('extend-select = ["ECO1"]\n', encoding="utf-8")  # says nothing of ignore
    (tmp_path / "top.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "sub" / "m.py").write_text(BAD, encoding="utf-8")
    assert _check(capsys, "--no-cache", ".") == (1, [("sub/m.py", "ECO101")])


def test_command_line_options_override_every_files_settings(two_projects, capsys):
    assert _check(capsys, "--no-cache", "--ignore", "ECO101", "a", "b") == (0, [])
    assert _check(capsys, "--no-cache", "--select", "ECO2", "b", "a") == (0, [])
    # a command-line selection replaces the file's ``select``; the file's ``ignore`` still applies to it
    assert _check(capsys, "--no-cache", "--select", "ECO101", "a", "b") == (1, [("b/m.py", "ECO101")])


def test_fail_on_is_that_of_each_files_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for d in ("strict", "lax"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(INFO_ONLY, encoding="utf-8")
    (tmp_path / "strict" / "ecolint.toml").write_text('fail-on = "info"\n', encoding="utf-8")
    assert _check(capsys, "--no-cache", "lax")[0] == 0
    assert _check(capsys, "--no-cache", "strict")[0] == 1
    assert _check(capsys, "--no-cache", "lax", "strict")[0] == _check(capsys, "--no-cache", "strict", "lax")[0] == 1
    assert _check(capsys, "--no-cache", "--fail-on", "red", "lax", "strict")[0] == 0


def test_stdin_is_linted_under_the_settings_of_its_name(two_projects, capsys, monkeypatch):
    for name, expected in (("a/new.py", []), ("b/new.py", [("b/new.py", "ECO101")])):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
        assert _check(capsys, "--no-cache", "--stdin-filename", name)[1] == expected


# -- exclusion during a walk ---------------------------------------------------------------------------------

def test_exclude_patterns_belong_to_the_configuration_governing_the_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for f in ("a/gen/m.py", "a/keep/m.py", "b/gen/m.py", "a/deep/skip.py"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text(BAD, encoding="utf-8")
    # ``gen`` matches any path component below a/; ``deep/skip.py`` is relative to a/ (the config's directory)
    (tmp_path / "a" / "ecolint.toml").write_text('extend-exclude = ["gen", "deep/skip.py"]\n', encoding="utf-8")
    expected = [("a/keep/m.py", "ECO101"), ("b/gen/m.py", "ECO101")]
    assert _check(capsys, "--no-cache", ".")[1] == expected
    assert _check(capsys, "--no-cache", "b", "a")[1] == expected
    # named explicitly, an excluded file is linted unless --force-exclude
    assert _check(capsys, "--no-cache", "a/gen/m.py")[1] == [("a/gen/m.py", "ECO101")]
    assert _check(capsys, "--no-cache", "--force-exclude", "a/gen/m.py", "b/gen/m.py")[1] == [("b/gen/m.py", "ECO101")]


def test_respect_gitignore_is_per_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    for f in ("a/ignored/m.py", "b/ignored/m.py"):
        (tmp_path / f).parent.mkdir(parents=True)
        (tmp_path / f).write_text(BAD, encoding="utf-8")
    (tmp_path / "b" / "ecolint.toml").write_text("respect-gitignore = false\n", encoding="utf-8")
    assert _check(capsys, "--no-cache", ".")[1] == [("b/ignored/m.py", "ECO101")]


# -- the resolver itself -------------------------------------------------------------------------------------

def test_resolver_reads_each_configuration_once_and_caches_per_directory(tmp_path, monkeypatch):
    from ecolint import config
    from ecolint.config import Resolver

    (tmp_path / "p" / "x" / "y").mkdir(parents=True)
    (tmp_path / "p" / "ecolint.toml").write_text('ignore = ["ECO101"]\n', encoding="utf-8")
    reads: list[Path] = []
    real = config._read
    monkeypatch.setattr(config, "_read", lambda path: reads.append(path) or real(path))
    resolver = Resolver(cwd=tmp_path)
    first = resolver.for_directory(tmp_path / "p" / "x" / "y")
    assert resolver.for_file(tmp_path / "p" / "x" / "m.py") is first
    assert resolver.for_directory(tmp_path / "p") is first
    assert first.ignore == ("ECO101",) and first.root == (tmp_path / "p").resolve()
    assert reads == [(tmp_path / "p" / "ecolint.toml").resolve()]


def test_overrides_apply_on_top_of_each_configuration(tmp_path):
    from ecolint.config import Overrides, Resolver
    from ecolint.rule import Severity

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "ecolint.toml").write_text('extend-select = ["ECO1"]\nfail-on = "info"\n', encoding="utf-8")
    resolver = Resolver(Overrides(extend_select=("ECO2",), fail_on=Severity.RED, jobs=3), cwd=tmp_path)
    s = resolver.for_directory(tmp_path / "p")
    assert s.extend_select == ("ECO1", "ECO2") and s.fail_on == Severity.RED and s.jobs == 3
    assert resolver.for_directory(tmp_path).extend_select == ("ECO2",)


def test_one_engine_per_distinct_settings_and_tables_loaded_once(tmp_path, monkeypatch):
    from ecolint.config import Resolver
    from ecolint.knowledge import Knowledge
    from ecolint.runner import Engines

    for d in ("a", "b", "c"):
        (tmp_path / d).mkdir()
    (tmp_path / "a" / "ecolint.toml").write_text('ignore = ["ECO101"]\n', encoding="utf-8")
    (tmp_path / "b" / "ecolint.toml").write_text('ignore = ["ECO102"]\n', encoding="utf-8")
    loads: list = []
    real = Knowledge.load
    monkeypatch.setattr(Knowledge, "load", staticmethod(lambda tables=(): loads.append(tuple(tables)) or real(tables)))
    engines = Engines(Resolver(cwd=tmp_path))
    a, b, c = (engines.for_file(tmp_path / d / "m.py") for d in ("a", "b", "c"))
    assert a is engines.for_file(tmp_path / "a" / "n.py") and len({id(a), id(b), id(c)}) == 3
    assert loads == [()]  # three engines, one set of (packaged) tables


def test_a_broken_nested_configuration_is_a_configuration_error(two_projects, capsys):
    (two_projects / "b" / "ecolint.toml").write_text("selct = []\n", encoding="utf-8")
    assert main(["check", "--no-cache", "a", "b"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "selct" in err and "did you mean 'select'" in err


# -- one UsageError ------------------------------------------------------------------------------------------

def test_every_usage_problem_is_one_error_type():
    from ecolint.config import ConfigError
    from ecolint.errors import UsageError
    from ecolint.knowledge.data import DataError
    from ecolint.protocols.context import UsageError as AdvisorUsageError
    from ecolint.registry import RuleLoadError

    assert AdvisorUsageError is UsageError
    for error in (ConfigError, DataError, RuleLoadError):
        assert issubclass(error, UsageError)
    assert ConfigError.label == "configuration error" and UsageError.label == "error"


def test_main_reports_a_bad_measurement_table_as_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("not,a,table\n", encoding="utf-8")
    (tmp_path / "ecolint.toml").write_text('measurements = "t.csv"\n', encoding="utf-8")
    (tmp_path / "m.py").write_text(BAD, encoding="utf-8")
    assert main(["check", "--no-cache", "m.py"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecolint: error: ") and "t.csv" in err and "internal error" not in err
