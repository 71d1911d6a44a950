"""``ecolint.api``: the one pipeline behind ``ecolint check`` (paths and standard input) as a library."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecolint import api
from ecolint.config import Overrides, Resolver
from ecolint.rule import Severity

BAD = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\n"  # ECO101
FIXABLE = 'from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n'  # ECO104, safe fix
NO_CACHE = api.Options(cache=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "a" / "ecolint.toml").write_text('ignore = ["ECO101"]\nfail-on = "red"\n', encoding="utf-8")
    return tmp_path


def test_lint_paths_resolves_settings_per_file(project):
    result = api.lint_paths([Path("b"), Path("a")], options=NO_CACHE)
    assert [(f.filename, f.code) for f in result.findings] == [("b/m.py", "ECO101")]
    assert result.files_checked == 2
    assert result.settings_for("a/m.py").ignore == ("ECO101",) and result.settings_for("b/m.py").ignore == ()
    assert result.run_settings.config_path is None  # the working directory has no configuration
    assert result.fails() and not result.internal_error
    assert "b/m.py" in result.texts


def test_lint_paths_with_overrides_and_forced_config(project):
    assert api.lint_paths([Path(".")], Resolver(Overrides(ignore=("ECO1",))), NO_CACHE).findings == []
    forced = api.lint_paths([Path("b")], Resolver(config=Path("a/ecolint.toml")), NO_CACHE)
    assert forced.findings == [] and forced.run_settings.fail_on == Severity.RED


def test_fix_paths_without_writing_gives_the_diff_and_leaves_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.py").write_text(FIXABLE, encoding="utf-8")
    result = api.fix_paths([Path(".")], options=api.Options(cache=False, write=False))
    assert result.fixed == 1 and result.changed == 1 and result.errors == []
    assert result.diff.startswith("--- a/f.py\n+++ b/f.py\n") and 'bnb_4bit_quant_type="nf4"' in result.diff
    assert (tmp_path / "f.py").read_text(encoding="utf-8") == FIXABLE
    written = api.fix_paths([Path(".")], options=api.Options(cache=False))
    assert written.fixed == 1 and "bnb_4bit_quant_type" not in (tmp_path / "f.py").read_text(encoding="utf-8")
    assert [f.code for f in written.findings if f.code == "ECO104"] == []


def test_fix_result_takes_only_a_lint_paths_result(project):
    with pytest.raises(ValueError):
        api.fix_result(api.lint_bytes(Path("b/x.py"), BAD.encode()))


def test_lint_bytes_uses_the_settings_of_its_name_and_fixes_the_content(project):
    assert api.lint_bytes(Path("a/new.py"), BAD.encode(), options=NO_CACHE).findings == []
    assert [f.code for f in api.lint_bytes(Path("b/new.py"), BAD.encode()).findings] == ["ECO101"]
    unknown = api.lint_bytes(Path("b/notes.txt"), b"anything")
    assert unknown.files_checked == 0 and unknown.findings == [] and unknown.content == b"anything"
    fixed = api.lint_bytes(Path("b/f.py"), FIXABLE.encode(), fix=True)
    assert fixed.fixed == 1 and fixed.content is not None and b"bnb_4bit_quant_type" not in fixed.content
    assert not (project / "b" / "f.py").exists()  # nothing is written


def test_output_that_is_an_input_is_a_usage_error(project):
    with pytest.raises(api.UsageError, match="is one of the files to lint"):
        api.lint_paths([Path("b")], options=api.Options(cache=False, output=Path("b/m.py")))


def test_cli_paths_and_stdin_share_the_pipeline(project, capsys, monkeypatch):
    """The report of a file and of the same bytes on standard input are the same."""
    import io
    import sys

    from ecolint.cli import main

    assert main(["check", "--no-cache", "--output-format", "concise", "b/m.py"]) == 1
    from_path = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
    assert main(["check", "--no-cache", "--output-format", "concise", "--stdin-filename", "b/m.py"]) == 1
    assert capsys.readouterr().out == from_path
