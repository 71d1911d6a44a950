"""The long fuzz campaign (``bench/fuzz.py``) itself: a hanging input is killed at the budget and recorded the
moment it is found, and the other inputs keep running. A few inputs only, so that it stays quick."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "bench" / "fuzz.py"


def _run(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, list[dict]]:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(FUZZ), "--out", str(out), "--workers", "2", *args],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
    )
    jsonl = out / "failures.jsonl"
    records = [json.loads(line) for line in jsonl.read_text().splitlines()] if jsonl.exists() else []
    return proc, records


def test_a_hanging_input_is_killed_at_the_budget_and_recorded(tmp_path):
    # Each "hang" input sleeps for an hour in its worker: only the parent's kill can end it.
    proc, records = _run(tmp_path, "-n", "3", "--only", "hang", "--budget", "1", timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert [r["kind"] for r in records] == ["timeout"] * 3
    saved = Path(records[0]["input"])
    assert saved.read_bytes() == b"x = 1\n"
    assert records[0]["generator"] == "hang" and records[0]["seconds"] >= 1
    assert "inputs over budget: 3" in proc.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["over_budget"] == 3 and summary["inputs"] == {"hang": 3}


def test_oracles_see_an_unsafe_fix(tmp_path):
    # Side-effecting option values: a safe fix that deletes them must be reported (on the current ecolint, or
    # not at all once ecolint stops deleting them); either way the campaign runs every input and ends.
    proc, records = _run(tmp_path, "-n", "8", "--only", "side_effects", "--budget", "20")
    assert "ecolint fuzz: 8 inputs" in proc.stdout, proc.stderr
    assert {r["kind"] for r in records} <= {"safe-fix-side-effect", "indent-changed", "comment-moved", "diff-outside-statement"}
    assert proc.returncode == (1 if records else 0)


def test_oracles_on_hand_made_fixes():
    sys.path[:0] = [str(ROOT / "bench")]
    try:
        import fuzz_oracle
    finally:
        del sys.path[0]
    found: list[tuple[str, str]] = []
    fail = lambda kind, message: found.append((kind, message))  # noqa: E731
    original = "def f():\n    bnb = BitsAndBytesConfig(\n        load_in_8bit=True,  # keep\n    )\n    return bnb\n"

    def call(text: str) -> str:  # the replaced span: the call, lines 2-4 of the original
        return text[text.index("BitsAndBytesConfig") : text.index("\n    return")]

    def finding(content: str) -> dict:
        edit = {"content": content, "location": {"row": 2, "column": 11}, "end_location": {"row": 4, "column": 6}}
        return {
            "location": {"row": 3, "column": 9}, "end_location": {"row": 3, "column": 26},
            "fix": {"applicability": "unsafe", "message": "Set `llm_int8_threshold=0.0`", "edits": [edit]},
        }

    good = "def f():\n    bnb = BitsAndBytesConfig(\n        load_in_8bit=True,  # keep\n        llm_int8_threshold=0.0,\n    )\n    return bnb\n"
    fuzz_oracle.python_oracles(original, good, [finding(call(good))], "unsafe", fail)
    assert found == []
    flattened = "def f():\n    bnb = BitsAndBytesConfig(\n    load_in_8bit=True,\n    llm_int8_threshold=0.0,  # keep\n)\n    return bnb\n"
    fuzz_oracle.python_oracles(original, flattened, [finding(call(flattened))], "unsafe", fail)
    assert {k for k, _ in found} == {"indent-changed", "comment-moved"}
    found.clear()
    elsewhere = good.replace("return bnb", "return None")
    fuzz_oracle.python_oracles(original, elsewhere, [finding(call(good))], "unsafe", fail)
    assert {k for k, _ in found} == {"ast-changed", "diff-outside-statement"}


def test_a_mixed_campaign_ends(tmp_path):
    # The default mix in small: the harness must run every input to the end, whatever ecolint's verdicts are
    # (a failure of the harness itself would show up as a crash inside fuzz_oracle).
    proc, records = _run(tmp_path, "-n", "16", "--budget", "4", "--seed", "3", timeout=60)
    assert "ecolint fuzz: 16 inputs" in proc.stdout, proc.stderr
    assert all(r["kind"] != "crash" or "fuzz_oracle" not in r["message"] for r in records), records
