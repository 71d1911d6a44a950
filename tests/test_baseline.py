"""The baseline library (issue 19): record today's findings, report only new ones, and keep matching when
code moves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecolint import cli
from ecolint.baseline import BaselineError, filter_new, load_baseline, write_baseline
from ecolint.rule import Finding

DATA = Path(__file__).parent / "data" / "formats"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def check(capsys) -> tuple[list[Finding], dict[str, str]]:
    cli.main(["check", ".", "--no-cache", "--output-format", "json"])
    findings = [Finding.from_dict(d) for d in json.loads(capsys.readouterr().out)]
    return findings, {f.filename: Path(f.filename).read_text(encoding="utf-8") for f in findings}


def test_baseline_round_trip_survives_line_moves(repo, capsys):
    findings, texts = check(capsys)
    assert len(findings) == 5
    assert write_baseline(findings, texts, repo / "baseline.json") == 5
    assert filter_new(findings, texts, repo / "baseline.json") == []
    src = repo / "chat_int8.py"
    # lines inserted above every finding: nothing resurfaces
    src.write_text("# header\n\n" + src.read_text(encoding="utf-8"), encoding="utf-8")
    moved, texts = check(capsys)
    assert [f.span.line for f in moved if f.code == "ECO101"] == [8]
    assert filter_new(moved, texts, repo / "baseline.json") == []
    # a new occurrence of the same code is new
    src.write_text(src.read_text(encoding="utf-8") + "\nfor p in range(3):\n    out = model.generate(**ids, max_new_tokens=64, use_cache=False)\n", encoding="utf-8")
    grown, texts = check(capsys)
    new = filter_new(grown, texts, load_baseline(repo / "baseline.json"))
    assert [f.code for f in new] == ["ECO301"] and new[0].span.line > 14, "the identical new line is a second occurrence"


def test_baseline_file_is_readable_json(repo, capsys):
    findings, texts = check(capsys)
    write_baseline(findings, texts, repo / "b.json")
    data = json.loads((repo / "b.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and {"fingerprint", "code", "filename", "line", "message"} <= set(data["findings"][0])


@pytest.mark.parametrize("content", ["not json", "[]", '{"version": 1}', '{"version": 1, "findings": [{}]}'])
def test_a_broken_baseline_is_a_clear_error(tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError):
        load_baseline(path)
    with pytest.raises(BaselineError):
        load_baseline(tmp_path / "missing.json")
