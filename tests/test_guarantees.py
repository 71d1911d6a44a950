"""Two promises a linter makes to the repository it runs on.

1. It never imports or executes the code it analyses: every way a linted tree could get code run (module-level
   side effects, packages, ``conftest.py``/``setup.py``, files that shadow ecolint's own dependencies, a
   ``*.dist-info`` that registers a rule plugin, YAML python tags) writes a marker file, and no run of
   ``ecolint`` -- plain, ``python -m``, parallel, ``--fix``, ``--diff``, standard input -- may create it.
2. An exception inside one rule on one file becomes an ECO903 finding that names the rule (exit code 2), the
   other rules and files are still reported, and ``-v`` shows the traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from ecolint.config import Settings
from ecolint.rule import Rule, Severity
from ecolint.runner import Engine, lint_paths

TRIGGER = "out = model.generate(x, use_cache=False)\n"
SCRIPT = Path(sys.executable).with_name("ecolint")


def _env(extra: dict | None = None) -> dict:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "ECOLINT_NO_CACHE": "1", **(extra or {})}
    env.pop("FORCE_COLOR", None)
    return env


def run(argv: list[str], cwd: Path, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, input=input, env=_env(env), timeout=180)


# -- 1. never executed ----------------------------------------------------------------------------------------
def hostile_tree(root: Path) -> Path:
    """A project in which importing or running anything writes ``root/MARKER``; returns the marker path."""
    marker = root / "MARKER"
    touch = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    files = {
        "gen.py": touch + "import evil_pkg\nfrom model import model\n" + TRIGGER,
        "quantized.py": touch + "from transformers import BitsAndBytesConfig\nq = BitsAndBytesConfig(load_in_8bit=True)\n",
        "evil_pkg/__init__.py": touch,
        "evil_pkg/__main__.py": touch,
        "conftest.py": touch,
        "setup.py": touch + "from setuptools import setup\nsetup(name='evil')\n",
        "sitecustomize.py": touch,
        "usercustomize.py": touch,
        "__main__.py": touch,
        # shadows of ecolint's own dependencies and of the standard library modules it imports lazily
        "yaml.py": touch + "raise ImportError('shadowed')\n",
        "libcst.py": touch,
        "rich.py": touch,
        "tomli.py": touch,
        "tokenize.py": touch,
        "ecolint_evil.py": touch + "from ecolint.rule import Rule\nclass Evil(Rule):\n    code = 'EVIL001'\n    name = 'evil'\n    summary = 'x'\n    def check(self, facts, ctx):\n        return []\n",  # noqa: E501
        "evil-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: evil\nVersion: 0.1\n",
        "evil-0.1.dist-info/entry_points.txt": "[ecolint.rules]\nevil = ecolint_evil:Evil\n",
        "deploy.yaml": f"x: !!python/object/apply:os.system [\"echo yaml >> {marker}\"]\nload_in_8bit: true\n",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return marker


def _assert_clean(marker: Path, proc: subprocess.CompletedProcess) -> None:
    assert not marker.exists(), f"analysed code was executed: {marker.read_text()!r}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr


def _commands() -> list[list[str]]:
    cmds = [[sys.executable, "-m", "ecolint"]]
    if SCRIPT.exists():
        cmds.append([str(SCRIPT)])
    return cmds


@pytest.mark.parametrize(
    "args",
    [
        ["check", "."],
        ["check", "--jobs", "2", "--output-format", "json", "."],
        ["check", "--diff", "--unsafe-fixes", "."],
        ["check", "--fix", "--unsafe-fixes", "."],
        ["check", "gen.py", "deploy.yaml", "yaml.py", "conftest.py"],
    ],
    ids=["check", "parallel", "diff", "fix", "explicit-files"],
)
@pytest.mark.parametrize("how", ["python-m", "console-script"])
def test_analysed_code_is_never_executed(tmp_path, args, how):
    commands = _commands()
    if how == "console-script" and len(commands) < 2:
        pytest.skip("no ecolint console script next to this interpreter")
    marker = hostile_tree(tmp_path)
    proc = run(commands[0 if how == "python-m" else 1] + args, cwd=tmp_path)
    _assert_clean(marker, proc)
    if "--diff" not in args and "--fix" not in args:
        assert "ECO301" in proc.stdout and "ECO101" in proc.stdout  # the files were really analysed
    assert "EVIL001" not in proc.stdout


def test_analysed_code_is_never_executed_from_stdin(tmp_path):
    marker = hostile_tree(tmp_path)
    source = (tmp_path / "gen.py").read_text()
    proc = run([sys.executable, "-m", "ecolint", "check", "--stdin-filename", "gen.py", "-"], cwd=tmp_path, input=source)
    _assert_clean(marker, proc)
    assert "ECO301" in proc.stdout


def test_shadowed_dependencies_are_not_imported_with_python_m(tmp_path):
    """``python -m`` puts the working directory on sys.path; a repository's ``yaml.py`` must not replace PyYAML."""
    marker = hostile_tree(tmp_path)
    proc = run([sys.executable, "-m", "ecolint", "check", "--output-format", "json", "deploy.yaml", "gen.py"], cwd=tmp_path)
    _assert_clean(marker, proc)
    assert {f["code"] for f in json.loads(proc.stdout)} == {"ECO101", "ECO301"}


def test_in_process_lint_imports_nothing_from_the_tree(tmp_path):
    marker = hostile_tree(tmp_path)
    before = set(sys.modules)
    found = lint_paths([tmp_path], Engine.create(Settings(root=tmp_path)), jobs=1).findings
    assert not marker.exists()
    loaded = [m for m in set(sys.modules) - before if str(getattr(sys.modules[m], "__file__", "") or "").startswith(str(tmp_path))]
    assert loaded == []
    assert "ECO903" not in {f.code for f in found}


# -- 2. a broken rule -----------------------------------------------------------------------------------------
BROKEN_PLUGIN = textwrap.dedent('''
    from ecolint.rule import Rule, Severity


    class AlwaysBreaks(Rule):
        """
        ## What it does
        Nothing useful: it fails on every generation call, to test ecolint's isolation of rule errors.
        """

        code = "ACME666"
        name = "always-breaks"
        severity = Severity.YELLOW
        summary = "a rule with a bug"
        triggers = ("generate",)

        def check(self, facts, ctx):
            for gen in facts.generations:
                yield self.finding(facts, gen.span, "unreachable")
                ratio = 1 / len(facts.path.split("/", 9999)[9999:])  # ZeroDivisionError
''')


def _install_broken_plugin(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "acme_broken-0.1.dist-info").mkdir(parents=True)
    (site / "acme_broken.py").write_text(BROKEN_PLUGIN)
    (site / "acme_broken-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-broken\nVersion: 0.1\n")
    (site / "acme_broken-0.1.dist-info" / "entry_points.txt").write_text("[ecolint.rules]\nalways-breaks = acme_broken:AlwaysBreaks\n")
    return site


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "gen.py").write_text("import torch\n" + TRIGGER)
    (project / "quiet.py").write_text("from transformers import BitsAndBytesConfig\nq = BitsAndBytesConfig(load_in_8bit=True)\n")
    return project


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_broken_plugin_rule_is_eco903_naming_the_rule(tmp_path, jobs):
    site = _install_broken_plugin(tmp_path)
    project = _project(tmp_path)
    for i in range(4):  # enough files and bytes for the process pool to be used with --jobs 2
        (project / f"pad{i}.py").write_text("# padding\n" * 8000 + "x = 1\n")
    env = {"PYTHONPATH": os.pathsep.join(p for p in [str(site), os.environ.get("PYTHONPATH", "")] if p)}
    proc = run([sys.executable, "-m", "ecolint", "check", "--jobs", jobs, "--output-format", "json", "."], cwd=project, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    found = json.loads(proc.stdout)
    by_code = {(f["code"], f["filename"]) for f in found}
    assert ("ECO903", "gen.py") in by_code
    assert ("ECO301", "gen.py") in by_code  # the other rules still ran on that file
    assert ("ECO101", "quiet.py") in by_code  # and the other files were linted
    assert ("ECO903", "quiet.py") not in by_code
    eco903 = next(f for f in found if f["code"] == "ECO903")
    assert "ACME666" in eco903["message"] and "always-breaks" in eco903["message"] and "ZeroDivisionError" in eco903["message"]

    quiet = run([sys.executable, "-m", "ecolint", "check", "--jobs", jobs, "."], cwd=project, env=env)
    assert quiet.returncode == 2 and "ECO903" in quiet.stdout and "Traceback" not in quiet.stdout + quiet.stderr
    verbose = run([sys.executable, "-m", "ecolint", "check", "--jobs", jobs, "-v", "."], cwd=project, env=env)
    assert verbose.returncode == 2
    assert "Traceback (most recent call last)" in verbose.stdout and "acme_broken.py" in verbose.stdout
    assert "ZeroDivisionError" in verbose.stdout


def test_noqa_does_not_hide_an_internal_error(tmp_path):
    site = _install_broken_plugin(tmp_path)
    project = _project(tmp_path)
    (project / "gen.py").write_text("# ecolint: noqa\nimport torch\n" + TRIGGER)
    env = {"PYTHONPATH": str(site)}
    proc = run([sys.executable, "-m", "ecolint", "check", "--output-format", "json", "gen.py"], cwd=project, env=env)
    assert proc.returncode == 2
    assert [f["code"] for f in json.loads(proc.stdout)] == ["ECO903"]


class _Exploding(Rule):
    """Test double: fails on every file it sees."""

    code = "ZZZ901"
    name = "exploding"
    severity = Severity.RED
    summary = "raises"
    kinds = ("python", "yaml", "toml")

    def check(self, facts, ctx):
        raise RuntimeError(f"boom on {facts.path}")


def test_broken_rule_in_process(tmp_path):
    project = _project(tmp_path)
    base = Engine.create(Settings(root=project))
    engine = replace(base, rules=[*base.rules, _Exploding()], prefilter=False)
    found = lint_paths([project], engine, jobs=1).findings
    errors = [f for f in found if f.code == "ECO903"]
    assert sorted(Path(f.filename).name for f in errors) == ["gen.py", "quiet.py"]
    assert all("ZZZ901 (exploding)" in f.message and "RuntimeError: boom" in f.message for f in errors)
    assert all("Traceback" in f.detail and "boom on" in f.detail for f in errors)
    assert {f.code for f in found} >= {"ECO101", "ECO301", "ECO903"}


def test_broken_front_end_in_process(tmp_path, monkeypatch):
    from ecolint.sources import python_frontend

    project = _project(tmp_path)

    def explode(path, text, settings):
        raise KeyError("front-end bug")

    monkeypatch.setattr(python_frontend, "extract", explode)
    found = lint_paths([project], replace(Engine.create(Settings(root=project)), prefilter=False), jobs=1).findings
    assert {(f.code, Path(f.filename).name) for f in found} == {("ECO903", "gen.py"), ("ECO903", "quiet.py")}
    assert all("python front end" in f.message and "KeyError" in f.message for f in found)
