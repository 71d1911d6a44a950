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
    assert any(line.startswith("::notice ") and "ECO104" in line for line in lines)
    assert any(line.startswith("::warning ") and "ECO301" in line for line in lines)
    # one line per finding: newlines and % in messages are escaped
    assert len(lines) == 5 and all("%25" in line for line in lines if "ECO101" in line)


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
    assert out.count("| 67 |") == 1, "each cited row once, in one table"
    # the fix as a unified diff with context lines, not a lone +/- pair
    assert ' MODEL = "mistralai/Mistral-7B-Instruct-v0.3"\n-bnb = BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_compute_dtype=torch.float16)\n+bnb' in out
    assert " tok = AutoTokenizer.from_pretrained(MODEL)\n" in out


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


FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_full_output_is_half_as_long_with_the_same_findings(capsys, monkeypatch):
    """issue 19: ``ecolint check fixtures/`` printed 875 lines for 47 findings, mostly the same evidence rows
    repeated under every finding; each row is now printed once, at the end."""
    monkeypatch.chdir(FIXTURES.parent)
    cli.main(["check", "fixtures", "--no-cache", "--output-format", "json"])
    findings = json.loads(capsys.readouterr().out)
    cli.main(["check", "fixtures", "--no-cache"])
    out = capsys.readouterr().out
    # 875 lines for 47 findings before; the folder has grown since (notebooks, issue-14 shapes), so the bound is
    # half the old length per finding.
    assert len(findings) >= 47
    assert out.count("\n") <= len(findings) * 875 / 47 / 2
    heads = [line for line in out.splitlines() if line.startswith("fixtures/") and " ECO" in line]
    assert len(heads) == len(findings)
    assert "Evidence (" in out
    row_lines = [line for line in out.splitlines() if line.startswith("  row ")]
    assert len(row_lines) == len(set(row_lines)), "each evidence row once"
    assert "hongping-zh/" not in out, "evidence sources are shortened to repository:file"
    assert all(e["source"].startswith(("hongping-zh/", "ml-energy/")) for f in findings for e in f["evidence"]), "JSON keeps the full source"


def test_show_evidence_puts_rows_under_each_finding(project, capsys):
    from ecolint.report import ReportContext, render
    from ecolint.rule import Finding

    _, out, _ = run(capsys, "check", ".", "--output-format", "json")
    findings = [Finding.from_dict(d) for d in json.loads(out)]
    once = render("full", findings, ReportContext(terminal=False))
    each = render("full", findings, ReportContext(terminal=False, show_evidence=True))
    assert once.count("row 67 ") == 1 and "Evidence (" in once
    assert each.count("= evidence: row 67 ") == 1 and "Evidence (" not in each
    assert each.count("= evidence: row 60 ") == 1


def test_no_wrapped_frames_off_a_terminal(tmp_path, monkeypatch):
    """A CI log (not a terminal, COLUMNS=100): long messages and long code lines stay whole, the underline
    stays on the line right under its code."""
    import subprocess
    import sys

    src = tmp_path / "wide.py"
    src.write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", revision="main", trust_remote_code=False, torch_dtype=torch.float32, device_map="cuda")\n',
        encoding="utf-8",
    )
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "ecolint", "check", "--no-cache", "wide.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    lines = proc.stdout.splitlines()
    code = next(i for i, line in enumerate(lines) if line.startswith("3 | "))
    assert lines[code] == "3 | " + src.read_text().splitlines()[2], "the code line is whole"
    marker = lines[code + 1]
    assert marker.startswith("  | ") and set(marker[4:].strip()) == {"^"}
    assert marker.index("^") == 4 + lines[code][4:].index("torch.float32")
    assert lines[code + 2].startswith("   = "), "nothing of the underline wraps onto the next line"
    message = lines[1]
    assert len(message) > 100 and message.startswith("  `Qwen/")


def test_frames_fit_a_terminal(project):
    import io

    from rich.console import Console

    from ecolint.facts import Span
    from ecolint.report.full import _frame
    from ecolint.rule import Finding, Severity

    line = "x = [" + ", ".join(str(i) for i in range(60)) + "]; load(use_cache=False)"
    f = Finding("ECO301", "kv-cache-disabled", Severity.YELLOW, "m", "a.py", Span(1, line.index("use_cache") + 1, 1, line.index("use_cache") + 16))
    buf = io.StringIO()
    _frame(Console(file=buf, width=10_000, soft_wrap=True), [line], f, 80)
    rows = buf.getvalue().splitlines()
    assert all(len(r) <= 80 for r in rows)
    assert "use_cache=False" in rows[0]
    assert rows[0].index("use_cache") == rows[1].index("^")


def test_concise_lines_are_short_one_line_summaries(capsys, monkeypatch):
    from ecolint.report.concise import first_clause, one_line

    monkeypatch.chdir(FIXTURES.parent)
    cli.main(["check", "fixtures", "--no-cache", "--output-format", "concise"])
    lines = capsys.readouterr().out.splitlines()
    findings = [line for line in lines if line.startswith("fixtures/")]
    assert len(findings) >= 47  # the folder grows with new shapes; every line must stay short
    assert all(len(line) <= 120 for line in findings), max(findings, key=len)
    assert "fixtures/batch_eval_pipeline.py:15:5: ECO202 [yellow] batch size 1 for inference (pipeline)" in findings
    assert "fixtures/deploy/traps/broken-values.yaml:3:13: ECO900 [yellow] cannot parse YAML: " in "\n".join(findings), "short messages stay whole"
    assert first_clause("`a: b` is x: y") == "`a: b` is x"
    assert one_line("word " * 40, 30).endswith("…") and len(one_line("word " * 40, 30)) <= 30


def test_json_output_matches_its_schema(project, capsys):
    import jsonschema

    from ecolint.report.json_format import SCHEMA

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    _, out, _ = run(capsys, "check", ".", "--output-format", "json")
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 5, "the JSON report stays a top-level list"
    jsonschema.validate(data, schema)
    data[0]["severity"] = "purple"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_json_schema_covers_related_locations():
    import jsonschema

    from ecolint.facts import Span
    from ecolint.report import ReportContext, render
    from ecolint.report.json_format import SCHEMA
    from ecolint.rule import Finding, Severity

    f = Finding("ECO103", "x", Severity.INFO, "m", "a.py", Span(2, 1, 2, 5), related=[("b.yaml", Span(3, 1, 3, 4), "set here")])
    data = json.loads(render("json", [f], ReportContext()))
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert Finding.from_dict(data[0]).related == f.related


def test_precommit_hooks_default_to_concise():
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert all(h["entry"].endswith("--output-format concise") for h in hooks)
