"""Output formats. Each module has ``render(findings, ctx) -> str``; ``FORMATS`` maps a format name to it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ecolint.rule import Applicability, Finding, Severity

FORMATS: dict[str, str] = {
    "full": "ecolint.report.full",
    "concise": "ecolint.report.concise",
    "json": "ecolint.report.json_format",
    "sarif": "ecolint.report.sarif",
    "github": "ecolint.report.github",
    "markdown": "ecolint.report.markdown",
}


@dataclass
class ReportContext:
    files_checked: int = 0
    root: Path = field(default_factory=Path.cwd)
    colour: bool = False
    width: int = 100
    verbose: bool = False
    source_lines: Callable[[str], list[str] | None] = lambda _p: None
    unsafe_fixes: bool = False
    fixed: int = 0  # fixes applied in this run
    # Whether the report goes to a terminal: only then is prose wrapped (and code frames fitted) to ``width``.
    # None: standard output is asked. Logs, pipes and files get unwrapped lines.
    terminal: bool | None = None
    show_evidence: bool = False  # ``full``: each finding's evidence rows under it, not once at the end


def position(f: Finding) -> str:
    """``path:row:col``, or in a notebook ``path:cell N:row:col`` (rows counted inside the cell)."""
    cell = f"cell {f.span.cell}:" if f.span.cell is not None else ""
    return f"{f.filename}:{cell}{f.span.line}:{f.span.col}"


def cell_text(text: str | None, f: Finding) -> str | None:
    """The text ``f``'s rows count in: its file's ``text``, or the source of its notebook cell."""
    if text is None or f.span.cell is None:
        return text
    from ecolint.sources.notebook_frontend import cell_source

    return cell_source(text, f.span.cell)


def finding_lines(ctx: ReportContext, f: Finding) -> list[str] | None:
    """The lines ``f``'s rows count in (see :func:`cell_text`), without line endings."""
    lines = ctx.source_lines(f.filename)
    if lines is None or f.span.cell is None:
        return lines
    from ecolint.text import split_lines

    text = cell_text("\n".join(lines), f)
    return split_lines(text) if text is not None else None


def wrap_width(ctx: ReportContext) -> int | None:
    """The width to wrap prose and fit code frames to, or None (never wrap) when not writing to a terminal."""
    terminal = ctx.terminal
    if terminal is None:
        try:
            terminal = sys.stdout.isatty()
        except (AttributeError, ValueError):
            terminal = False
    return ctx.width if terminal else None


def short_source(source: str) -> str:
    """An evidence source ``owner/repository:dir/sub/file.csv`` as ``repository:file.csv`` (the full path stays
    in JSON and SARIF)."""
    repo, sep, path = source.partition(":")
    if not sep or " " in repo or path.startswith("//"):
        return source
    return f"{repo.rsplit('/', 1)[-1]}:{path.rsplit('/', 1)[-1]}"


def render(fmt: str, findings: list[Finding], ctx: ReportContext) -> str:
    return importlib.import_module(FORMATS[fmt]).render(findings, ctx)


def counts(findings: list[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for f in findings:
        out[f.severity.value] += 1
    return out


def fix_counts(findings: list[Finding]) -> tuple[int, int]:
    safe = sum(1 for f in findings if f.fix and f.fix.applicability == Applicability.SAFE)
    unsafe = sum(1 for f in findings if f.fix and f.fix.applicability == Applicability.UNSAFE)
    return safe, unsafe


def summary_line(findings: list[Finding], ctx: ReportContext) -> str:
    if not findings:
        head = f"All checks passed! ({ctx.files_checked} file{'s' if ctx.files_checked != 1 else ''} checked)"
        if ctx.fixed:
            head = f"Fixed {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''}. " + head
        return head
    c = counts(findings)
    files = len({f.filename for f in findings})
    parts = ", ".join(f"{n} {sev}" for sev, n in c.items() if n)
    text = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''} ({parts}; {ctx.files_checked} checked)."
    if ctx.fixed:
        text = f"Fixed {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''}. " + text
    safe, unsafe = fix_counts(findings)
    if safe:
        text += f"\n{safe} fixable with `ecolint check --fix`."
    if unsafe:
        text += f"\n{unsafe} more fixable with `--fix --unsafe-fixes` (they change numerics: review them)."
    return text
