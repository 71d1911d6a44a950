"""A Markdown report for a pull-request comment: a summary table by severity, then each finding with its
location, message, the measured rows behind it, and its fix as a small diff (or the advice)."""

from __future__ import annotations

import difflib

from ecolint.report import ReportContext, counts, fix_counts
from ecolint.rule import Applicability, Finding
from ecolint.text import split_lines

_MARK = {"red": "\U0001f534", "yellow": "\U0001f7e1", "info": "\U0001f535"}
_HOW = {
    Applicability.SAFE: "safe: `ecolint check --fix`",
    Applicability.UNSAFE: "unsafe, changes numerics or behaviour: `ecolint check --fix --unsafe-fixes`",
    Applicability.DISPLAY_ONLY: "suggestion, not applied automatically",
}


def render(findings: list[Finding], ctx: ReportContext) -> str:
    files = ctx.files_checked
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not findings:
        head = "## ecolint: all checks passed\n\n" + checked
        if ctx.fixed:
            head += f"; {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''} fixed"
        return head + ".\n"
    n_files = len({f.filename for f in findings})
    out = [
        f"## ecolint: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {n_files} file{'s' if n_files != 1 else ''}",
        "",
        "| severity | findings |",
        "|---|---:|",
    ]
    for sev, n in counts(findings).items():
        out.append(f"| {_MARK[sev]} {sev} | {n} |")
    out.append("")
    tail = checked
    if ctx.fixed:
        tail += f"; {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''} fixed"
    safe, unsafe = fix_counts(findings)
    if safe:
        tail += f"; {safe} fixable with `ecolint check --fix`"
    if unsafe:
        tail += f"; {unsafe} more with `--fix --unsafe-fixes` (review them: they change numerics)"
    out.append(tail + ".")
    for f in findings:
        out.append("")
        out.extend(_finding(f, ctx))
    return "\n".join(out) + "\n"


def _finding(f: Finding, ctx: ReportContext) -> list[str]:
    sev = f.severity.value
    out = [
        f"### {_MARK[sev]} {f.code} `{f.name}` ({sev}) at `{f.filename}:{f.span.line}:{f.span.col}`",
        "",
        f.message,
    ]
    if f.evidence:
        out += [
            "",
            f"<details><summary>Evidence: {len(f.evidence)} measured row{'s' if len(f.evidence) != 1 else ''}</summary>",
            "",
            "| row | GPU | model | quant | batch | J/1k tok | basis | experiment | source | note |",
            "|---|---|---|---|---:|---:|---|---|---|---|",
        ]
        for e in f.evidence:
            energy = f"{e.energy_j_per_1k_tok:,.1f}" if e.energy_j_per_1k_tok is not None else "n/a"
            cells = [e.row_id, e.gpu, e.model, e.quant, str(e.batch_size or ""), energy, e.energy_basis, e.experiment, e.source, e.note]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out += ["", "</details>"]
    if f.fix is not None:
        out += ["", f"**Fix** ({_HOW[f.fix.applicability]}): {f.fix.message}"]
        diff = _fix_diff(f, ctx)
        if diff:
            out += ["", "```diff", *diff, "```"]
    if f.advice:
        out += ["", f"**Help:** {f.advice}"]
    if f.next_command:
        out += ["", f"**Next:** `{f.next_command}`"]
    return out


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def _fix_diff(f: Finding, ctx: ReportContext) -> list[str]:
    """The lines the fix changes, as ``-``/``+`` lines (no context), when the source is at hand."""
    from ecolint.fix import OverlapError, apply_edits

    lines = ctx.source_lines(f.filename)
    if not lines or f.fix is None or not f.fix.edits:
        return []
    text = "\n".join(lines) + "\n"
    try:
        fixed = apply_edits(text, f.fix.edits)
    except (OverlapError, IndexError):
        return []
    diff = difflib.unified_diff(split_lines(text), split_lines(fixed), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("---", "+++"))]
