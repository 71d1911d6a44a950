"""A JSON array of findings (ruff-compatible keys plus ``severity``, ``evidence``, ``next_command`` and
``related``), described by the JSON Schema in ``ecolint/report/schema.json`` (:data:`SCHEMA`)."""

from __future__ import annotations

import json
from pathlib import Path

from ecolint.report import ReportContext
from ecolint.rule import Finding

SCHEMA = Path(__file__).with_name("schema.json")


def render(findings: list[Finding], ctx: ReportContext) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False, allow_nan=False) + "\n"
