"""The default output: each finding with a code frame, its evidence rows, the fix or advice and the
follow-up command, coloured by severity, then a summary."""

from __future__ import annotations

import io
import textwrap

from ecolint.report import ReportContext, summary_line
from ecolint.rule import Applicability, Finding

_STYLE = {"red": "bold red", "yellow": "bold yellow", "info": "bold cyan"}


def render(findings: list[Finding], ctx: ReportContext) -> str:
    if not findings:
        return summary_line(findings, ctx) + "\n"
    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=ctx.colour, no_color=not ctx.colour, width=ctx.width, highlight=False, soft_wrap=False)
    for f in findings:
        head = Text()
        head.append(f"{f.filename}:{f.span.line}:{f.span.col}: ", style="bold")
        head.append(f"{f.code} ", style=_STYLE[f.severity.value])
        head.append(f"[{f.severity.value}] ", style=_STYLE[f.severity.value])
        head.append(f.name, style="dim")
        console.print(head)
        console.print(Text(_wrap(f.message, ctx.width, "  ", "  ")), soft_wrap=True)
        lines = ctx.source_lines(f.filename)
        if lines and 1 <= f.span.line <= len(lines):
            _frame(console, lines, f)
        for ev in f.evidence:
            energy = f"{ev.energy_j_per_1k_tok:,.0f} J/1k tok" if ev.energy_j_per_1k_tok is not None else "no energy value"
            bs = f" BS={ev.batch_size}" if ev.batch_size else ""
            line = f"row {ev.row_id} {ev.gpu} {ev.model} {ev.quant}{bs}: {energy} ({ev.energy_basis or 'basis n/a'}); {ev.source}"
            console.print(Text(_wrap(line, ctx.width, "   = evidence: ", " " * 5), style="dim"), soft_wrap=True)
        if f.fix is not None:
            how = {Applicability.SAFE: "safe, --fix", Applicability.UNSAFE: "unsafe, --fix --unsafe-fixes", Applicability.DISPLAY_ONLY: "suggestion"}[f.fix.applicability]
            console.print(Text(_wrap(f.fix.message, ctx.width, f"   = fix ({how}): ", " " * 5), style="green"), soft_wrap=True)
        if f.advice:
            console.print(Text(_wrap(f.advice, ctx.width, "   = help: ", " " * 5)), soft_wrap=True)
        if f.next_command:
            console.print(Text(f"   = next: {f.next_command}", style="cyan"))
        if ctx.verbose and f.detail:
            console.print(Text(f.detail, style="dim"))
        console.print()
    console.print(Text(summary_line(findings, ctx), style="bold"))
    return buf.getvalue()


def _wrap(text: str, width: int, first: str, rest: str) -> str:
    return textwrap.fill(text, width=max(40, width - 1), initial_indent=first, subsequent_indent=rest, break_on_hyphens=False, break_long_words=False)


_FRAME_MAX = 80  # characters shown of a source line longer than _FRAME_LONG in a code frame
_FRAME_LONG = 160


def _window(text: str, skip: int) -> str:
    """``text`` from character ``skip`` on, at most :data:`_FRAME_MAX` characters, with an ellipsis where cut."""
    if len(text) <= _FRAME_LONG and not skip:
        return text
    shown = text[skip : skip + _FRAME_MAX]
    return ("…" if skip else "") + shown + ("…" if skip + _FRAME_MAX < len(text) else "")


def _frame(console, lines: list[str], f: Finding) -> None:
    from rich.text import Text

    start = max(1, f.span.line - 1)
    width = len(str(f.span.line))
    line = lines[f.span.line - 1].rstrip("\r\n")
    # Very long lines (minified or generated code) are shown as a window around the column.
    skip = 0 if len(line) <= _FRAME_LONG else max(0, min(f.span.col - 1 - _FRAME_MAX // 2, len(line) - _FRAME_MAX))
    console.print(Text(" " * width + " |", style="blue"))
    for n in range(start, f.span.line + 1):
        text = _window(lines[n - 1].rstrip("\r\n"), skip).expandtabs(4)
        row = Text(f"{n:>{width}} | ", style="blue")
        row.append(text)
        console.print(row, soft_wrap=True)
    col = f.span.col - skip + (1 if skip else 0)
    line = _window(line, skip)
    end_col = (f.span.end_col - skip + (1 if skip else 0)) if f.span.end_line == f.span.line else len(line) + 1
    length = max(1, end_col - col)
    marker = Text(" " * width + " | ", style="blue")  # under "N | "
    marker.append(" " * (col - 1) + "^" * min(length, max(1, len(line) - col + 1)), style="bold " + ("red" if f.severity.value == "red" else "yellow" if f.severity.value == "yellow" else "cyan"))
    console.print(marker)
