"""--fix, --unsafe-fixes, --diff, --exit-non-zero-on-fix and --stdin-filename: the fix loop, file encodings,
newlines, modes, atomic and conditional writes, reverting a broken fix."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pytest

from ecolint import cli
from ecolint import fix as fixmod
from ecolint.facts import Edit, Span
from ecolint.fix import apply_fixes, fix_file, unified_diff
from ecolint.rule import Applicability, Finding, Fix, Severity

# ECO101 (red, unsafe fix) and ECO104 (info, safe fix) on one call: their edits overlap, so the loop needs
# two passes. ECO201 (yellow, display-only) is never fixed.
BAD = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "bnb = BitsAndBytesConfig(\n"
    "    load_in_8bit=True,\n"
    "    bnb_4bit_quant_type=\"nf4\",\n"
    ")\n"
    'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb, device_map="auto")\n'
)
FIXED_SAFE = BAD.replace('    bnb_4bit_quant_type="nf4",\n', "")
FIXED_ALL = FIXED_SAFE.replace("    load_in_8bit=True,\n", "    load_in_8bit=True,\n    llm_int8_threshold=0.0,\n")
LOOP = (
    "from transformers import AutoModelForCausalLM\n"
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", device_map="cuda")\n'
    "for p in prompts:\n"
    "    model.generate(p, use_cache=False)\n"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.ecolint]\ntransformers-version = "4.44.0"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_width", lambda: 100)
    return tmp_path


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# -- basic behaviour ----------------------------------------------------------------------------------------

def test_fix_applies_safe_fixes_only(project, capsys):
    f = write(project / "bad.py", BAD)
    code, out, _ = check(capsys, "bad.py", "--fix", "--output-format", "concise")
    assert f.read_text(encoding="utf-8") == FIXED_SAFE
    assert code == 1  # ECO101 (red) remains
    assert "ECO101" in out and "ECO104" not in out
    assert "Fixed 1 finding." in out


def test_unsafe_fixes_and_loop_until_stable(project, capsys):
    f = write(project / "bad.py", BAD)
    code, out, _ = check(capsys, "bad.py", "--fix", "--unsafe-fixes")
    assert f.read_text(encoding="utf-8") == FIXED_ALL
    assert code == 0 and "Fixed 2 findings." in out


def test_display_only_is_never_applied(project, capsys):
    f = write(project / "loop.py", LOOP)
    code, out, _ = check(capsys, "loop.py", "--fix", "--unsafe-fixes", "--output-format", "concise")
    assert "use_cache=False" not in f.read_text(encoding="utf-8")  # ECO301 unsafe fix applied
    assert "model.generate(p)" in f.read_text(encoding="utf-8")
    assert code == 1 and "ECO201" in out  # sequential generate is advice only


def test_idempotent_and_unchanged_files_are_not_written(project, capsys):
    f = write(project / "bad.py", BAD)
    check(capsys, "bad.py", "--fix", "--unsafe-fixes")
    first = f.read_bytes()
    st = f.stat()
    code, out, _ = check(capsys, "bad.py", "--fix", "--unsafe-fixes")
    assert code == 0 and f.read_bytes() == first
    st2 = f.stat()
    assert (st2.st_ino, st2.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), "a file without changes must not be rewritten"
    assert "Fixed" not in out


def test_exit_codes(project, capsys):
    write(project / "bad.py", BAD)
    assert check(capsys, "bad.py", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix")[0] == 1
    assert check(capsys, "bad.py", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix")[0] == 0  # nothing left to fix
    write(project / "bad.py", BAD)
    assert check(capsys, "bad.py", "--fix", "--exit-zero")[0] == 0


# -- encodings, newlines, modes ----------------------------------------------------------------------------

def test_crlf_is_preserved(project, capsys):
    f = write(project / "crlf.py", BAD, newline="\r\n")
    check(capsys, "crlf.py", "--fix", "--unsafe-fixes")
    data = f.read_bytes()
    assert data == FIXED_ALL.replace("\n", "\r\n").encode()
    assert data.count(b"\n") == data.count(b"\r\n")


def test_mixed_fix_content_uses_the_files_newlines():
    """Config front ends produce plain text edits; the engine writes them with the file's newline style."""
    text = "a: 1\r\nb: 2\r\n"
    finding = Finding("ECO999", "x", Severity.INFO, "m", "c.yaml", Span(1, 1, 1, 5), fix=Fix(Applicability.SAFE, "f", [Edit(Span(1, 1, 1, 5), "a: 1\nc: 3")]))
    new, applied = apply_fixes(text, [finding])
    assert new == "a: 1\r\nc: 3\r\nb: 2\r\n" and applied == [finding]


def test_overlapping_fixes_wait_for_the_next_pass():
    text = "abcdef\n"
    def mk(code, a, b, content):
        return Finding(code, code, Severity.INFO, "m", "t", Span(1, a, 1, b), fix=Fix(Applicability.SAFE, "f", [Edit(Span(1, a, 1, b), content)]))

    first, overlapping, later, dup = mk("A", 1, 4, "X"), mk("B", 3, 5, "Y"), mk("C", 5, 7, "Z"), mk("D", 1, 4, "X")
    new, applied = apply_fixes(text, [later, overlapping, first, dup])
    assert new == "XdZ\n"
    assert {f.code for f in applied} == {"A", "C", "D"}
    # unsafe fixes need the flag
    unsafe = Finding("U", "u", Severity.INFO, "m", "t", Span(1, 1, 1, 2), fix=Fix(Applicability.UNSAFE, "f", [Edit(Span(1, 1, 1, 2), "Q")]))
    assert apply_fixes(text, [unsafe])[0] == text
    assert apply_fixes(text, [unsafe], unsafe=True)[0] == "Qbcdef\n"


def test_utf8_bom_is_preserved(project, capsys):
    f = project / "bom.py"
    f.write_bytes(b"\xef\xbb\xbf" + BAD.encode())
    check(capsys, "bom.py", "--fix", "--unsafe-fixes")
    assert f.read_bytes() == b"\xef\xbb\xbf" + FIXED_ALL.encode()


def test_latin1_coding_cookie_is_preserved(project, capsys):
    src = "# -*- coding: latin-1 -*-\n# caf\u00e9 demo, \u00a9 2024\n" + BAD
    f = write(project / "latin.py", src, encoding="latin-1")
    code, _, _ = check(capsys, "latin.py", "--fix", "--unsafe-fixes")
    data = f.read_bytes()
    assert b"caf\xe9 demo, \xa9 2024" in data  # still latin-1 bytes, not UTF-8
    assert data.decode("latin-1") == "# -*- coding: latin-1 -*-\n# caf\u00e9 demo, \u00a9 2024\n" + FIXED_ALL
    assert code == 0


def test_missing_trailing_newline_is_kept(project, capsys):
    f = write(project / "nonl.py", BAD.rstrip("\n"))
    check(capsys, "nonl.py", "--fix", "--unsafe-fixes")
    assert f.read_text(encoding="utf-8") == FIXED_ALL.rstrip("\n")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_file_mode_and_symlink_are_preserved(project, capsys):
    real = write(project / "real.py", BAD)
    real.chmod(0o751)
    link = project / "link.py"
    link.symlink_to(real.name)
    check(capsys, "link.py", "--fix")
    assert link.is_symlink() and os.readlink(link) == "real.py"
    assert real.read_text(encoding="utf-8") == FIXED_SAFE
    assert stat.S_IMODE(real.stat().st_mode) == 0o751
    assert [p.name for p in project.iterdir() if p.name.endswith(".ecolint-tmp")] == []


# -- --diff -------------------------------------------------------------------------------------------------

def test_diff_writes_nothing(project, capsys):
    f = write(project / "bad.py", BAD, newline="\r\n")
    before = f.read_bytes()
    code, out, err = check(capsys, "bad.py", "--diff")
    assert code == 1 and f.read_bytes() == before
    assert out.startswith("--- a/bad.py\n+++ b/bad.py\n")
    assert '-    bnb_4bit_quant_type="nf4",\r\n' in out
    assert "Would fix 1 finding in 1 file." in err
    code, out, err = check(capsys, "bad.py", "--diff", "--unsafe-fixes")
    assert code == 1 and "+    llm_int8_threshold=0.0,\r\n" in out


def test_diff_exit_zero_when_nothing_to_fix(project, capsys):
    write(project / "loop.py", LOOP.replace(", use_cache=False", ""))
    code, out, err = check(capsys, "loop.py", "--diff")
    assert code == 0 and out == "" and "No fixes" in err


def test_unified_diff_marks_missing_newline():
    d = unified_diff("a\nb", "a\nc", "x.py")
    assert d.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")


# -- safety -------------------------------------------------------------------------------------------------

def test_fix_that_breaks_the_code_is_reverted(project, capsys, monkeypatch):
    from ecolint.registry import rule_by_code

    rule = rule_by_code("ECO104")
    original_check = rule.check

    def broken_check(self, facts, ctx):
        for finding in original_check(self, facts, ctx):
            if finding.fix:
                finding.fix.edits = [Edit(e.span, e.content + "(") for e in finding.fix.edits]  # unbalanced
            yield finding

    monkeypatch.setattr(rule, "check", broken_check)
    f = write(project / "bad.py", BAD)
    other = write(project / "other.py", LOOP)
    code, out, err = check(capsys, "bad.py", "other.py", "--fix", "--unsafe-fixes", "--output-format", "concise")
    assert f.read_text(encoding="utf-8") == BAD, "the broken fix must not be written"
    assert "does not parse" in err and "bad.py" in err and "ECO104" in err
    assert "ECO104" in out and "ECO101" in out  # the file's findings are still reported
    assert "use_cache=False" not in other.read_text(encoding="utf-8")  # other files are still fixed
    assert code == 2  # a file that could not be fixed is an error (exit 2), like an unwritable one


def test_file_changed_during_the_run_is_not_overwritten(project, capsys, monkeypatch):
    f = write(project / "bad.py", BAD)
    real_fix_text = fixmod.fix_text

    def racing_fix_text(*args, **kwargs):
        result = real_fix_text(*args, **kwargs)
        f.write_text(BAD + "# edited in the editor meanwhile\n", encoding="utf-8")
        return result

    monkeypatch.setattr(fixmod, "fix_text", racing_fix_text)
    code, _, err = check(capsys, "bad.py", "--fix")
    assert "changed on disk" in err
    assert f.read_text(encoding="utf-8").endswith("# edited in the editor meanwhile\n")


def test_text_changed_between_lint_and_fix_is_refused(project):
    from ecolint.config import load_settings
    from ecolint.runner import Engine

    f = write(project / "bad.py", BAD)
    engine = Engine.create(load_settings(project, None))
    result = fix_file(f, "bad.py", "python", engine, expected_text=BAD + "# older\n")
    assert result.error and "changed on disk" in result.error
    assert f.read_text(encoding="utf-8") == BAD


# -- --stdin-filename ---------------------------------------------------------------------------------------

def stdin_check(monkeypatch, capsysbinary, data: bytes, *args: str) -> tuple[int, bytes, bytes]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = cli.main(["check", *args])
    out, err = capsysbinary.readouterr()
    return code, out, err


def test_stdin_reports_with_the_given_name(project, monkeypatch, capsysbinary):
    code, out, _ = stdin_check(monkeypatch, capsysbinary, BAD.encode(), "--stdin-filename", "src/app.py", "--output-format", "concise")
    assert code == 1
    assert out.decode().startswith("src/app.py:3:5: ECO101")


def test_stdin_fix_prints_the_fixed_source(project, monkeypatch, capsysbinary):
    src = ("# -*- coding: latin-1 -*-\n# \u00e9\n" + BAD).replace("\n", "\r\n").encode("latin-1")
    code, out, err = stdin_check(monkeypatch, capsysbinary, src, "--stdin-filename", "app.py", "--fix", "--unsafe-fixes")
    assert out == ("# -*- coding: latin-1 -*-\n# \u00e9\n" + FIXED_ALL).replace("\n", "\r\n").encode("latin-1")
    assert b"Fixed 2 findings" in err
    assert code == 0
    assert not (project / "app.py").exists()


def test_stdin_fix_without_fixes_echoes_the_input(project, monkeypatch, capsysbinary):
    src = b"print('hello')\n"
    code, out, _ = stdin_check(monkeypatch, capsysbinary, src, "--stdin-filename", "notes.txt", "--fix")
    assert (code, out) == (0, src)


def test_stdin_diff(project, monkeypatch, capsysbinary):
    code, out, _ = stdin_check(monkeypatch, capsysbinary, BAD.encode(), "--stdin-filename", "app.py", "--diff")
    assert code == 1 and out.decode().startswith("--- a/app.py\n+++ b/app.py\n")


def test_stdin_force_exclude(project, monkeypatch, capsysbinary):
    (project / "pyproject.toml").write_text('[tool.ecolint]\ntransformers-version = "4.44.0"\nextend-exclude = ["vendor"]\n', encoding="utf-8")
    code, out, _ = stdin_check(monkeypatch, capsysbinary, BAD.encode(), "--stdin-filename", "vendor/x.py", "--force-exclude", "--output-format", "concise")
    assert code == 0 and b"ECO101" not in out


def test_stdin_end_to_end(project):
    """The real command line with a pipe (no in-process shortcuts)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "ecolint", "check", "--stdin-filename", "pipe.py", "--fix"],
        input=BAD.encode(), capture_output=True, cwd=project, timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout.decode() == FIXED_SAFE
    assert b"pipe.py:3:5: ECO101" in proc.stderr
    assert proc.returncode == 1


def test_fix_run_without_texts_lints_afresh(project):
    """Findings that come without their text (e.g. from a results cache) still get fixed."""
    from ecolint.config import load_settings
    from ecolint.fix import fix_run
    from ecolint.runner import Engine, lint_paths

    f = write(project / "bad.py", BAD)
    engine = Engine.create(load_settings(project, None))
    run = lint_paths([Path("bad.py")], engine)
    run.texts.clear()
    result = fix_run(run, engine)
    assert result.fixed == 1 and f.read_text(encoding="utf-8") == FIXED_SAFE
    assert [x.code for x in result.findings] == ["ECO101"]


def test_fixing_all_bundled_fixtures_converges(tmp_path, monkeypatch, capsys):
    """Every fix in the bundled example scripts and deploy configs (Python, YAML, TOML, shell), unsafe ones
    included: the result parses, and a second run has nothing left to change."""
    src = Path(__file__).resolve().parent.parent / "fixtures"
    if not src.is_dir():
        pytest.skip("no bundled fixtures")
    import shutil

    shutil.copytree(src, tmp_path / "fixtures")
    monkeypatch.chdir(tmp_path)
    import json

    def unparsable(out: str) -> set:
        return {f["filename"] for f in json.loads(out) if f["code"] == "ECO900"}

    cli.main(["check", "fixtures", "--output-format", "json"])
    broken_before = unparsable(capsys.readouterr().out)  # the fixtures include deliberately broken files
    cli.main(["check", "fixtures", "--fix", "--unsafe-fixes", "--output-format", "json"])
    out, err = capsys.readouterr()
    assert "does not parse" not in err and "ecolint: error" not in err, err
    assert unparsable(out) == broken_before
    code = cli.main(["check", "fixtures", "--diff", "--unsafe-fixes"])
    out, err = capsys.readouterr()
    assert (code, out) == (0, ""), out
