"""Issue 19, the command-line half: the report's terminal detection and width, ``--show-evidence``, standard
input through ``-`` (capped at ``max-file-size``), ``-q``/``-qq`` on every path, every configuration error at
once, ``--add-noqa``, ``--baseline``/``--write-baseline``, and the README documenting them."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest

from ecolint import cli
from ecolint.report.json_format import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# ECO101 (red, unsafe fix) on line 2.
RED = (
    "from transformers import BitsAndBytesConfig\n"
    "q = BitsAndBytesConfig(load_in_8bit=True)\n"
)
# ECO104 (info, safe fix) only: fixed away by --fix.
SAFE_ONLY = (
    "from transformers import BitsAndBytesConfig\n"
    'q = BitsAndBytesConfig(bnb_4bit_quant_type="nf4")\n'
)
CLEAN = "x = 1\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECOLINT_NO_CACHE", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


class _Stdin:
    """A stand-in for ``sys.stdin`` whose binary stream is ``buffer``."""

    def __init__(self, buffer) -> None:
        self.buffer = buffer


def feed(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(io.BytesIO(data)))


# -- 1. the report context: terminal, width, --show-evidence ---------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _contexts(monkeypatch) -> list:
    """The ReportContext of every report rendered from now on."""
    from ecolint import report

    seen: list = []
    real = report.render

    def spy(fmt, findings, ctx):
        seen.append(ctx)
        return real(fmt, findings, ctx)

    monkeypatch.setattr(report, "render", spy)
    return seen


def test_report_context_knows_the_terminal_and_its_width(project, monkeypatch):
    (project / "a.py").write_text(RED, encoding="utf-8")
    seen = _contexts(monkeypatch)
    monkeypatch.setenv("COLUMNS", "77")
    monkeypatch.setattr(sys, "stdout", _Tty())
    cli.main(["check", "a.py"])
    assert seen[-1].terminal is True and seen[-1].width == 77 and seen[-1].show_evidence is False
    cli.main(["check", "a.py", "-o", "report.txt", "--show-evidence"])  # a file is not a terminal
    assert seen[-1].terminal is False and seen[-1].show_evidence is True
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe or a CI log
    cli.main(["check", "a.py"])
    assert seen[-1].terminal is False


def test_show_evidence_prints_the_rows_under_each_finding(project, capsys):
    (project / "a.py").write_text(RED, encoding="utf-8")
    _, once, _ = check(capsys, "a.py")
    _, each, _ = check(capsys, "a.py", "--show-evidence")
    assert re.search(r"^Evidence \(\d+ measured rows? cited above\):", once, re.M)
    assert "Evidence (" not in each and each.count("= evidence:") > once.count("= evidence:")


# -- 2. standard input: `-`, --stdin-filename, the size cap ------------------------------------------------------

def test_dash_reads_standard_input_as_python(project, capsys, monkeypatch):
    feed(monkeypatch, RED.encode())
    code, out, _ = check(capsys, "-", "--output-format", "concise")
    assert code == 1 and out.startswith(f"{cli.STDIN_NAME}:2:") and "ECO101" in out


def test_dash_with_stdin_filename_lints_as_that_name(project, capsys, monkeypatch):
    feed(monkeypatch, b"services:\n  llm:\n    command: vllm serve m --quantization bitsandbytes --max-num-seqs 1\n")
    code, out, _ = check(capsys, "-", "--stdin-filename", "compose.yaml", "--output-format", "concise")
    assert code == 1 and out.startswith("compose.yaml:"), out


def test_dash_with_other_paths_is_a_usage_error(project, capsys, monkeypatch):
    (project / "a.py").write_text(RED, encoding="utf-8")
    feed(monkeypatch, RED.encode())
    code, out, err = check(capsys, "-", "a.py")
    assert code == 2 and "standard input" in err and out == ""


class _Endless(io.RawIOBase):
    """Standard input that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.taken = 0

    def read(self, n: int = -1) -> bytes:
        assert n is not None and n >= 0, "standard input must never be read to its end"
        self.taken += n
        return b"#" * n


def test_standard_input_is_read_up_to_max_file_size(project, capsys, monkeypatch):
    (project / "ecolint.toml").write_text("max-file-size = 100\n", encoding="utf-8")
    endless = _Endless()
    monkeypatch.setattr(sys, "stdin", _Stdin(endless))
    code, out, _ = check(capsys, "-", "--output-format", "concise")
    assert endless.taken == 101
    assert "ECO904" in out and "standard input is over the 100-byte limit" in out and code == 0


def test_standard_input_over_the_limit_goes_through_fix_unchanged(project, capsysbinary, monkeypatch):
    (project / "ecolint.toml").write_text("max-file-size = 100\n", encoding="utf-8")
    data = (RED * 20).encode()
    feed(monkeypatch, data)
    code = cli.main(["check", "-", "--fix", "--unsafe-fixes"])
    out, err = capsysbinary.readouterr()
    assert out == data and b"ECO904" in err and code == 0


# -- 3. -q and -qq on every path ------------------------------------------------------------------------------

QUIET_CASES = {
    "findings": (["a.py"], {"a.py": RED}, 1),
    "success": (["clean.py"], {"clean.py": CLEAN}, 0),
    "fix-all": (["--fix", "s.py"], {"s.py": SAFE_ONLY}, 0),
    "fix-some": (["--fix", "a.py", "s.py"], {"a.py": RED, "s.py": SAFE_ONLY}, 1),
    "statistics": (["--statistics", "a.py", "s.py"], {"a.py": RED, "s.py": SAFE_ONLY}, 1),
    "concise": (["--output-format", "concise", "a.py", "s.py"], {"a.py": RED, "s.py": SAFE_ONLY}, 1),
}


@pytest.mark.parametrize("case", sorted(QUIET_CASES))
def test_quiet_prints_only_findings_and_very_quiet_nothing(project, capsys, case):
    args, files, expected = QUIET_CASES[case]
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    code, out, err = check(capsys, "-q", *args)
    assert code == expected and err == ""
    for noise in ("All checks passed", "Found ", "fixable", "Fixed "):
        assert noise not in out, (case, out)
    if expected:
        assert "ECO101" in out
    else:
        assert out == ""
    for name, text in files.items():  # the fixes of the -q run are undone for the -qq run
        (project / name).write_text(text, encoding="utf-8")
    assert check(capsys, "-qq", *args) == (expected, "", "")


def test_quiet_diff_prints_the_diff_only_and_very_quiet_nothing(project, capsys):
    (project / "s.py").write_text(SAFE_ONLY, encoding="utf-8")
    code, out, err = check(capsys, "-q", "--diff", "s.py")
    assert code == 1 and out.startswith("--- ") and err == ""
    assert check(capsys, "-qq", "--diff", "s.py") == (1, "", "")
    assert (project / "s.py").read_text(encoding="utf-8") == SAFE_ONLY


def test_quiet_standard_input(project, capsysbinary, monkeypatch):
    feed(monkeypatch, SAFE_ONLY.encode())
    assert cli.main(["check", "-", "-q", "--fix"]) == 0
    out, err = capsysbinary.readouterr()
    assert b"bnb_4bit_quant_type" not in out and out.startswith(b"from transformers") and err == b""
    feed(monkeypatch, RED.encode())
    assert cli.main(["check", "-", "-qq"]) == 1
    assert capsysbinary.readouterr() == (b"", b"")


# -- 4. every configuration error at once -------------------------------------------------------------------

def test_four_configuration_mistakes_are_four_errors_in_one_run(project, capsys):
    (project / "a.py").write_text(RED, encoding="utf-8")
    (project / "ecolint.toml").write_text(
        'selct = ["ECO1"]\nfail-on = "purple"\ngpu = "a1000x"\nignore = ["ECO99X"]\n', encoding="utf-8"
    )
    code, out, err = check(capsys, "a.py")
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 4, err
    assert all(line.startswith("ecolint: configuration error: ") and "ecolint.toml: " in line for line in lines)
    text = "\n".join(lines)
    assert "unknown key 'selct' (did you mean 'select'?)" in text
    assert "fail-on must be one of red, yellow, info" in text
    assert "unknown gpu 'a1000x' (did you mean" in text
    assert "unknown rule selector 'ECO99X'" in text


def test_unknown_selectors_on_the_command_line_are_reported_together(project, capsys):
    (project / "a.py").write_text(RED, encoding="utf-8")
    code, _, err = check(capsys, "--select", "ECO1,XYZ", "--ignore", "ECO77", "a.py")
    assert code == 2 and [line.split("'")[1] for line in err.splitlines()] == ["XYZ", "ECO77"], err


# -- 5. --add-noqa ------------------------------------------------------------------------------------------

ROUND_TRIP = {  # one file of each syntax with comments, every finding suppressible
    "chat_int8.py": "chat_int8.py",
    "predict.yaml": "deploy/llamafactory/mistral_predict.yaml",
    "fly.toml": "deploy/fly/fly.toml",
    "serve_vars.sh": "issue14/shell/serve_vars.sh",
    "Dockerfile.shellform": "issue14/dockerfile/Dockerfile.shellform",
}


def test_add_noqa_then_check_passes(project, capsys):
    for name, source in ROUND_TRIP.items():
        shutil.copyfile(FIXTURES / source, project / name)
    code, before, _ = check(capsys, "--output-format", "concise", ".")
    assert code == 1 and {line.split(":")[0] for line in before.splitlines() if "ECO" in line} == set(ROUND_TRIP)
    code, out, err = check(capsys, "--add-noqa", ".")
    assert code == 0 and err == "" and "not suppressed" not in out and f"in {len(ROUND_TRIP)} files" in out, out
    assert check(capsys, "-q", ".") == (0, "", "")
    for name, source in ROUND_TRIP.items():  # only comments were added
        old, new = (FIXTURES / source).read_text(encoding="utf-8"), (project / name).read_text(encoding="utf-8")
        assert re.sub(r"  # noqa: [A-Z0-9, ]+$", "", new, flags=re.M) == old


def test_add_noqa_on_the_fixtures_leaves_exactly_what_it_refused(tmp_path, monkeypatch, capsys):
    shutil.copytree(FIXTURES, tmp_path / "fx")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECOLINT_NO_CACHE", "1")
    _, out, _ = check(capsys, "--add-noqa", "fx")
    where = re.compile(r"^(.*?: ECO\d{3}) ")  # path[:cell N]:line:col: CODE
    refused = {where.match(line).group(1) for line in out.splitlines() if " not suppressed: " in line}
    _, remaining, _ = check(capsys, "--output-format", "concise", "-q", "fx")
    left = {where.match(line).group(1) for line in remaining.splitlines()}
    assert refused and left == refused


def test_add_noqa_keeps_mode_and_hard_links_and_touches_nothing_else(project, capsys):
    a, b, other = project / "a.py", project / "b.py", project / "notes.py"
    a.write_text(RED, encoding="utf-8")
    b.write_text(RED, encoding="utf-8")
    other.write_text(CLEAN, encoding="utf-8")
    os.chmod(a, 0o640)
    os.link(a, project / "a_link.py")
    before = other.stat().st_mtime_ns
    code, out, _ = check(capsys, "--add-noqa", "a.py", "notes.py")
    assert code == 0
    assert a.read_text(encoding="utf-8") == RED.replace("=True)\n", "=True)  # noqa: ECO101\n")
    assert (project / "a_link.py").read_text(encoding="utf-8") == a.read_text(encoding="utf-8")
    assert stat.S_IMODE(a.stat().st_mode) == 0o640
    assert b.read_text(encoding="utf-8") == RED  # not named on the command line
    assert other.stat().st_mtime_ns == before


def test_add_noqa_refuses_read_only_files(project, capsys):
    a = project / "a.py"
    a.write_text(RED, encoding="utf-8")
    os.chmod(a, 0o444)
    code, out, err = check(capsys, "--add-noqa", "a.py")
    assert code == 2 and "read-only" in err and "a.py:2:" in out
    assert a.read_text(encoding="utf-8") == RED


def test_add_noqa_never_writes_a_file_that_does_not_parse(project, capsys, monkeypatch):
    from ecolint import add_noqa as module

    a = project / "a.py"
    a.write_text(RED, encoding="utf-8")
    monkeypatch.setattr(module, "add_noqa", lambda text, findings, kind: (text + "q = (\n", []))
    code, out, _ = check(capsys, "--add-noqa", "a.py")
    assert code == 1 and "fail to parse" in out and a.read_text(encoding="utf-8") == RED


@pytest.mark.parametrize("extra", [["--fix"], ["--diff"], ["--statistics"], ["-o", "r.txt"], ["--write-baseline", "b.json"]])
def test_add_noqa_with_an_option_that_has_no_meaning_is_a_usage_error(project, capsys, extra):
    (project / "a.py").write_text(RED, encoding="utf-8")
    code, _, err = check(capsys, "--add-noqa", *extra, "a.py")
    assert code == 2 and "cannot be combined" in err
    assert (project / "a.py").read_text(encoding="utf-8") == RED


# -- 6. --baseline and --write-baseline ------------------------------------------------------------------------

def test_baseline_round_trip_survives_moved_code_and_shows_new_findings(project, capsys):
    a = project / "a.py"
    a.write_text(RED, encoding="utf-8")
    code, out, _ = check(capsys, "--write-baseline", "baseline.json", ".")
    assert code == 0 and "Recorded 1 finding" in out
    a.write_text("\n" * 5 + RED, encoding="utf-8")
    assert check(capsys, "--baseline", "baseline.json", "-q", ".") == (0, "", "")
    a.write_text("\n" * 5 + RED + 'r = BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_quant_type="nf4")\n', encoding="utf-8")
    code, out, _ = check(capsys, "--baseline", "baseline.json", "--output-format", "concise", "-q", ".")
    assert code == 1 and [line.split(" ")[0] for line in out.splitlines()] == ["a.py:8:24:", "a.py:8:43:"], out


def test_baseline_applies_to_standard_input(project, capsys, monkeypatch):
    (project / "a.py").write_text(RED, encoding="utf-8")
    check(capsys, "--write-baseline", "baseline.json", "a.py")
    feed(monkeypatch, ("# moved\n" + RED).encode())
    assert check(capsys, "-", "--stdin-filename", "a.py", "--baseline", "baseline.json", "-q") == (0, "", "")


@pytest.mark.parametrize("content", [None, "not json", '{"version": 99, "findings": []}', '{"version": 1, "findings": [{}]}'])
def test_a_bad_baseline_is_a_usage_error(project, capsys, content):
    (project / "a.py").write_text(RED, encoding="utf-8")
    if content is not None:
        (project / "baseline.json").write_text(content, encoding="utf-8")
    code, out, err = check(capsys, "--baseline", "baseline.json", "a.py")
    assert code == 2 and out == "" and "baseline" in err


def test_write_baseline_never_overwrites_a_file_that_is_not_a_baseline(project, capsys):
    (project / "a.py").write_text(RED, encoding="utf-8")
    code, _, err = check(capsys, "--write-baseline", "a.py", "a.py")
    assert code == 2 and "not an ecolint baseline" in err
    assert (project / "a.py").read_text(encoding="utf-8") == RED
    assert check(capsys, "--write-baseline", "b.json", "-q", "a.py") == (0, "", "")
    assert check(capsys, "--write-baseline", "b.json", "-q", "a.py") == (0, "", "")  # a baseline is replaced


# -- 7, 8. the README -------------------------------------------------------------------------------------------

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_documents_the_json_schema_with_a_valid_example():
    jsonschema = pytest.importorskip("jsonschema")
    assert "ecolint/report/schema.json" in README
    example = re.search(r"```json\n(.*?)```", README, re.S)
    assert example is not None
    jsonschema.validate([json.loads(example.group(1))], json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_readme_documents_the_new_options_and_adoption():
    synopsis = README[README.index("Command line: `ecolint check") :][:1200]
    for flag in ("--add-noqa", "--baseline FILE", "--write-baseline FILE", "--show-evidence", "-qq", "[paths | -]"):
        assert flag in synopsis, flag
    assert "## Adopting ecolint on an existing repository" in README
