"""Snapshot tests of every output format (and --statistics, --diff) on the files in tests/data/formats.

Update the snapshots after an intended change with ``ECOLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_output_formats.py``
and review the diff."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ecolint import cli
from ecolint.report.github import escape_data, escape_property

DATA = Path(__file__).parent / "data" / "formats"
SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of tests/data/formats as the root of a repository, as the working directory."""
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    (root / ".git").mkdir()  # marks the repository root that SARIF and GitHub paths are relative to
    monkeypatch.chdir(root)
    monkeypatch.setattr(cli, "_width", lambda: 100)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def normalise(text: str, root: Path) -> str:
    return text.replace(root.as_uri(), "file:///REPO").replace(str(root), "/REPO")


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("ECOLINT_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        if not os.environ.get("ECOLINT_UPDATE_SNAPSHOTS"):
            pytest.fail(f"snapshot {name} was missing and has been written; review it and run again")
    assert text == path.read_text(encoding="utf-8"), f"output differs from tests/snapshots/{name}"


FORMATS = [("full", "txt"), ("concise", "txt"), ("json", "json"), ("sarif", "sarif.json"), ("github", "txt"), ("markdown", "md")]


@pytest.mark.parametrize("fmt,ext", FORMATS, ids=[f for f, _ in FORMATS])
def test_format_snapshot(project, capsys, fmt, ext):
    code, out, err = run(capsys, "check", ".", "--output-format", fmt)
    assert code == 1 and err == ""
    if fmt == "sarif":
        out = _without_rule_docs(out)
    assert_snapshot(f"formats.{fmt}.{ext}", normalise(out, project))


def _without_rule_docs(out: str) -> str:
    """Rule descriptors carry each rule's docstring (checked against the rules in test_sarif.py); the
    snapshot keeps their structure, not their prose, so editing a rule's documentation does not break it."""
    log = json.loads(out)
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        for key in ("shortDescription", "fullDescription"):
            rule[key]["text"] = "<rule docs>"
        rule["help"] = {k: "<rule docs>" for k in rule["help"]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "sarif", "github", "markdown"])
def test_format_without_findings(project, capsys, fmt):
    code, out, _ = run(capsys, "check", "clean.py", "--output-format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(out) == []
    elif fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"] == []
    elif fmt == "github":
        assert out == ""
    else:
        assert "passed" in out


def test_statistics_snapshot(project, capsys):
    code, out, _ = run(capsys, "check", ".", "--statistics")
    assert code == 1
    assert_snapshot("formats.statistics.txt", out)
    code, out, _ = run(capsys, "check", ".", "--statistics", "--output-format", "json")
    rows = json.loads(out)
    assert {r["code"]: r["count"] for r in rows} == {"ECO101": 1, "ECO104": 1, "ECO201": 1, "ECO301": 1, "ECO401": 1}
    assert [r["fixable"] for r in rows if r["code"] == "ECO104"] == [1]


def test_diff_snapshot(project, capsys):
    before = {p.name: p.read_bytes() for p in project.glob("*.py")}
    code, out, err = run(capsys, "check", ".", "--diff", "--unsafe-fixes")
    assert code == 1
    assert "Would fix" in err
    assert_snapshot("formats.diff.unsafe.txt", out)
    assert {p.name: p.read_bytes() for p in project.glob("*.py")} == before, "--diff must not write"


def test_github_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("dir,with:colon/a.py") == "dir%2Cwith%3Acolon/a.py"


def test_github_levels_and_title(project, capsys):
    _, out, _ = run(capsys, "check", ".", "--output-format", "github")
    lines = out.splitlines()
    assert lines[0].startswith("::error file=chat_int8.py,line=6,col=26,endLine=6,endColumn=")
    assert ",title=ECO101 int8-default-threshold::" in lines[0]
    assert any(l.startswith("::notice ") and "ECO104" in l for l in lines)
    assert any(l.startswith("::warning ") and "ECO301" in l for l in lines)
    # one line per finding: newlines and % in messages are escaped
    assert len(lines) == 5 and all("%25" in l for l in lines if "ECO101" in l)


def test_github_paths_are_repository_relative(project, capsys, monkeypatch):
    monkeypatch.chdir(project.parent)  # run from outside the repository root: paths stay repo-relative
    (project.parent / ".git").mkdir()
    _, out, _ = run(capsys, "check", "repo/fp32_eval.py", "--output-format", "github")
    assert out.startswith("::warning file=repo/fp32_eval.py,line=4,")


def test_markdown_has_summary_evidence_and_fix(project, capsys):
    _, out, _ = run(capsys, "check", ".", "--output-format", "markdown")
    assert out.startswith("## ecolint: 5 findings in 2 files\n")
    assert "| \U0001f534 red | 1 |" in out and "| \U0001f7e1 yellow | 3 |" in out
    assert "<details><summary>Evidence: " in out and "| 67 |" in out
    assert "```diff\n-bnb = BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_compute_dtype=torch.float16)\n" in out


def test_output_file(project, capsys):
    code, out, _ = run(capsys, "check", ".", "--output-format", "sarif", "-o", "report.sarif")
    assert code == 1 and out == ""
    assert json.loads((project / "report.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_github_action_run_step(project, tmp_path):
    """action.yml's run step, executed with bash as the runner would (inputs arrive as environment variables)."""
    import subprocess
    import sys

    import yaml

    ecolint_bin = Path(sys.executable).with_name("ecolint")
    if not ecolint_bin.exists() or shutil.which("bash") is None:
        pytest.skip("needs bash and the installed ecolint script")
    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert {"paths", "args", "sarif-file"} <= set(action["inputs"])
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    outputs = tmp_path / "github_output"
    env = {**os.environ, **{k: str(v) for k, v in step["env"].items() if "${{" not in str(v)}}
    env.update(ECOLINT_BIN=str(ecolint_bin), ECOLINT_PATHS="chat_int8.py clean.py", ECOLINT_ARGS="--fail-on red",
               ECOLINT_SARIF="out dir.sarif", ECOLINT_ANNOTATIONS="true", ECOLINT_FAIL="true", GITHUB_OUTPUT=str(outputs))
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "::error file=chat_int8.py,line=6," in proc.stdout
    log = json.loads((project / "out dir.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["results"]
    assert outputs.read_text().splitlines() == ["sarif-file=out dir.sarif", "exit-code=1"]
    env.update(ECOLINT_FAIL="false", ECOLINT_SARIF="", ECOLINT_ANNOTATIONS="false")
    outputs.write_text("")
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    assert outputs.read_text().splitlines() == ["exit-code=1"]
