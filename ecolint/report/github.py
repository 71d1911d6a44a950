"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff.

``::error file=P,line=L,col=C,endLine=L2,endColumn=C2,title=ECO101 int8-default-threshold::message``
(red -> error, yellow -> warning, info -> notice). A finding in a notebook cell annotates the notebook file
as a whole (its rows count inside the cell, not in the file) and its message names the cell and row. Paths are relative to the repository root, where GitHub
resolves them. Values are escaped as the runner expects: ``%``, CR and LF everywhere, plus ``:`` and ``,``
inside properties.
"""

from __future__ import annotations

from ecolint.report import ReportContext
from ecolint.report.sarif import cell_prefix, repo_relative, source_root
from ecolint.rule import Finding, Severity

COMMAND = {Severity.RED: "error", Severity.YELLOW: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding], ctx: ReportContext) -> str:
    root = source_root()
    lines = []
    for f in findings:
        path = repo_relative(f.filename, root) or f.filename
        props = [("file", path)]
        if f.span.cell is None:
            props += [
                ("line", str(f.span.line)),
                ("col", str(f.span.col)),
                ("endLine", str(max(f.span.line, f.span.end_line))),
                ("endColumn", str(max(1, f.span.end_col))),
            ]
        props.append(("title", f"{f.code} {f.name}"))
        message = cell_prefix(f) + f.message
        if f.fix is not None:
            message += f"\nFix ({f.fix.applicability.value}): {f.fix.message}"
        elif f.advice:
            message += f"\n{f.advice}"
        if f.evidence:
            message += "\nEvidence: rows " + ", ".join(e.row_id for e in f.evidence)
        head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
        lines.append(f"::{COMMAND[f.severity]} {head}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
