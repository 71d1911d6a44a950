"""One line per finding: ``path:line:col: CODE [severity] message``."""

from __future__ import annotations

from ecolint.report import ReportContext, summary_line
from ecolint.rule import Finding


def render(findings: list[Finding], ctx: ReportContext) -> str:
    lines = [f"{f.filename}:{f.span.line}:{f.span.col}: {f.code} [{f.severity.value}] {f.message}" for f in findings]
    lines.append(summary_line(findings, ctx))
    return "\n".join(lines) + "\n"
