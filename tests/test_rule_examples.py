"""Every rule's VALID and INVALID examples, run as tests (rule docs and tests stay in one place)."""

from __future__ import annotations

import pytest
from helpers import lint_snippet

from ecolint.fix import apply_edits
from ecolint.registry import all_rules

CASES = []
for rule in all_rules():
    for i, ex in enumerate(rule.VALID):
        CASES.append(pytest.param(rule, ex, False, id=f"{rule.code}-valid-{i}"))
    for i, ex in enumerate(rule.INVALID):
        CASES.append(pytest.param(rule, ex, True, id=f"{rule.code}-invalid-{i}"))


@pytest.mark.parametrize("rule,example,invalid", CASES)
def test_example(rule, example, invalid):
    findings = [f for f in lint_snippet(example.code, example.filename, gpu=example.gpu) if f.code == rule.code]
    if not invalid:
        assert findings == [], [f.message for f in findings]
        return
    assert findings, f"{rule.code} did not fire on its INVALID example"
    f = findings[0]
    if example.line is not None:
        assert f.span.line == example.line
    if example.col is not None:
        assert f.span.col == example.col, f"{rule.code} at column {f.span.col}, expected {example.col}"
    if example.message is not None:
        assert example.message in f.message, f"{example.message!r} not in {f.message!r}"
    if example.count is not None:
        assert len(findings) == example.count, [f.message for f in findings]
    if example.severity is not None:
        assert f.severity == example.severity
    if example.fixed is not None:
        assert f.fix is not None and f.fix.edits
        assert apply_edits(example.code, f.fix.edits) == example.fixed


def test_every_rule_has_examples_and_docs():
    for rule in all_rules():
        doc = rule.documentation()
        assert "## What it does" in doc and "## Why is this bad?" in doc and "## Fix safety" in doc, rule.code
        assert rule.summary and rule.name and rule.code.startswith("ECO")
        if not rule.engine_emitted:
            assert rule.VALID and rule.INVALID, rule.code
            assert rule.reads, rule.code  # the prefilter derives which files matter from the facts read


def test_codes_and_names_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
