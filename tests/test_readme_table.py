"""The README's rule table is generated from the rule classes; it fails here when it drifts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecolint import docs
from ecolint.registry import builtin_rules

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_rule_table_matches_the_rule_classes():
    text = README.read_text(encoding="utf-8")
    assert docs.with_readme_table(text) == text, "README rule table is stale: run `python -m ecolint.docs --readme`"


def test_every_rule_has_a_row():
    text = README.read_text(encoding="utf-8")
    table = text[text.index(docs.TABLE_START): text.index(docs.TABLE_END)]
    for rule in builtin_rules():
        assert f"| {rule.code} | {rule.name} | {rule.severity.value}" in table, rule.code


def test_check_mode_reports_a_drifted_table(tmp_path):
    text = README.read_text(encoding="utf-8")
    drifted = tmp_path / "README.md"
    drifted.write_text(text.replace("| ECO101 | int8-default-threshold | red", "| ECO101 | int8-default-threshold | info"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "ecolint.docs", "--readme", str(drifted), "--check"], capture_output=True, text=True)
    assert proc.returncode == 1 and "out of date" in proc.stderr
    assert subprocess.run([sys.executable, "-m", "ecolint.docs", "--readme", str(drifted)]).returncode == 0
    assert drifted.read_text(encoding="utf-8") == text


def test_markers_are_required(tmp_path):
    with pytest.raises(ValueError, match="markers"):
        docs.with_readme_table("# no table here\n")
