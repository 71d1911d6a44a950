"""A JSON array of findings (ruff-compatible keys plus ``severity``, ``evidence`` and ``next_command``)."""

from __future__ import annotations

import json

from ecolint.report import ReportContext
from ecolint.rule import Finding


def render(findings: list[Finding], ctx: ReportContext) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False, allow_nan=False) + "\n"
