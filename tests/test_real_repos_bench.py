"""The real-repository benchmark's own logic: judged-file parsing, matching findings to verdicts, the table,
"gone" rows, appending unjudged rows and --strict, on a synthetic two-file checkout (no mirror, no network)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "real_repos.py"


@pytest.fixture(scope="module")
def rr():
    spec = importlib.util.spec_from_file_location("real_repos_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


INT8 = """from transformers import AutoModelForCausalLM, BitsAndBytesConfig

model = AutoModelForCausalLM.from_pretrained(
    "mistralai/Mistral-7B-Instruct-v0.3",
    quantization_config=BitsAndBytesConfig(load_in_8bit=True),
    device_map="auto",
)
"""

LOOP = """from transformers import AutoModelForCausalLM, AutoTokenizer

tok = AutoTokenizer.from_pretrained("mistralai/Mistral-7B-Instruct-v0.3")
model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-Instruct-v0.3", torch_dtype="auto", device_map="cuda")
prompts = ["a", "b", "c"]
for p in prompts:
    ids = tok(p, return_tensors="pt").to("cuda")
    out = model.generate(**ids, max_new_tokens=20)
"""


def write_judged(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["repo", "commit", "path", "line", "code", "verdict", "reason"])
        writer.writerows(rows)


def test_findings_are_matched_to_verdicts_on_a_synthetic_checkout(rr, tmp_path):
    checkout = tmp_path / "owner+demo-000000000000"
    (checkout / "pkg").mkdir(parents=True)
    (checkout / "pkg" / "load.py").write_text(INT8, encoding="utf-8")
    (checkout / "loop.py").write_text(LOOP, encoding="utf-8")
    repo = rr.Repo("owner/demo", "0" * 40, "personal")

    findings = rr.run_ecolint(repo, checkout, ["--select", "ECO101,ECO201"])
    keys = {(f.path, f.line, f.code) for f in findings}
    assert ("pkg/load.py", 5, "ECO101") in keys
    assert ("loop.py", 8, "ECO201") in keys
    assert all(f.repo == "owner/demo" and f.commit == "0" * 40 for f in findings)

    judged = tmp_path / "judged.csv"
    write_judged(judged, [
        ["owner/demo", "0" * 40, "pkg/load.py", "5", "ECO101", "right", "int8 at inference"],
        ["owner/demo", "0" * 40, "old.py", "3", "ECO401", "wrong", "a finding that went away"],
        ["other/repo", "0" * 40, "x.py", "1", "ECO401", "wrong", "a repository not run this time"],
    ])
    comparison = rr.compare(findings, rr.load_judged(judged), {"owner/demo"})
    table = comparison.counts()
    assert table["ECO101"]["right"] == 1
    assert table["ECO201"]["unjudged"] == 1
    assert [(j.path, j.code) for j in comparison.gone] == [("old.py", "ECO401")]  # not the repository not run
    assert [f.code for f in comparison.unjudged] == ["ECO201"]
    assert rr.strict_failures(comparison) == ["1 unjudged finding(s)"]
    assert "ECO101" in rr.format_table(comparison)
    assert rr.source_line(checkout, "loop.py", 8).startswith("out = model.generate(")

    # Appending writes only what is new, with an empty verdict, and the file still parses.
    assert rr.append_unjudged(judged, comparison.unjudged) == 1
    assert rr.append_unjudged(judged, comparison.unjudged) == 0
    reread = rr.load_judged(judged)
    assert [j.verdict for j in reread if j.code == "ECO201"] == [""]
    # An empty-verdict placeholder stays unjudged and is never "gone".
    again = rr.compare(findings, reread, {"owner/demo"})
    assert [f.code for f in again.unjudged] == ["ECO201"]
    assert all(j.verdict for j in again.gone)


def test_precision_and_strict_threshold(rr):
    findings = [rr.Finding("o/r", "c", f"f{i}.py", 1, "ECO101") for i in range(5)]
    verdicts = ["right", "right", "right", "wrong", "debatable"]
    judged = [rr.Judgement("o/r", "c", f"f{i}.py", 1, "ECO101", v, "") for i, v in enumerate(verdicts)]
    comparison = rr.compare(findings, judged, {"o/r"})
    counts = comparison.counts()["ECO101"]
    assert rr.precision(counts) == 0.75  # debatable counted apart, not in the denominator
    assert [f.path for f, _ in comparison.debatable] == ["f4.py"]
    assert rr.strict_failures(comparison) == ["ECO101: precision 0.75 < 0.9 on 5 findings"]


def test_unknown_verdict_is_refused(rr, tmp_path):
    judged = tmp_path / "judged.csv"
    write_judged(judged, [["o/r", "c", "a.py", "1", "ECO101", "maybe", ""]])
    with pytest.raises(SystemExit):
        rr.load_judged(judged)


def test_committed_judged_file_parses_and_names_listed_repositories(rr):
    repos = {r.name: r.commit for r in rr.load_repos(BENCH.parent / "real_repos.toml")}
    rows = rr.load_judged(BENCH.parent / "real_repos_judged.csv")
    assert len(repos) >= 12 and rows
    for row in rows:
        assert row.verdict in rr.VERDICTS and row.reason
        assert repos.get(row.repo) == row.commit


def test_notebook_findings_in_different_cells_are_judged_apart(rr, tmp_path):
    f1 = rr.Finding("o/n", "c" * 40, "demo.ipynb", 3, "ECO401", cell=2)
    f2 = rr.Finding("o/n", "c" * 40, "demo.ipynb", 3, "ECO401", cell=5)
    judged = tmp_path / "judged.csv"
    rr.write_judged(judged, [rr.Judgement("o/n", "c" * 40, "demo.ipynb", 3, "ECO401", "right", "before cells", 0)])
    # a row without a cell still matches (both findings), until --migrate-cells splits it
    assert [j.verdict for _, j in rr.compare([f1, f2], rr.load_judged(judged), {"o/n"}).rows] == ["right", "right"]
    assert rr.migrate_cells(judged, [f1, f2], {"o/n"}) == (1, 1)
    rows = rr.load_judged(judged)
    assert [(j.cell, j.verdict) for j in rows] == [(2, "right"), (5, "")]
    comparison = rr.compare([f1, f2], rows, {"o/n"})
    assert [(f.cell, j.verdict) for f, j in comparison.rows] == [(2, "right"), (5, "")]
    assert comparison.unjudged == [f2] and comparison.gone == []
    with judged.open(newline="") as fh:
        assert next(csv.reader(fh)) == list(rr.COLUMNS)
