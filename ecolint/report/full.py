"""The default output: each finding with a code frame, the rows it cites, the fix or advice and the
follow-up command, coloured by severity; then the cited measurement rows, once each; then a summary.

Prose is wrapped, and code frames fitted, to the terminal's width only when writing to a terminal: logs,
pipes and files get whole lines, so a CI log never shows an underline broken away from its code."""

from __future__ import annotations

import io
import textwrap

from ecolint.report import ReportContext, finding_lines, position, short_source, summary_line, wrap_width
from ecolint.rule import Applicability, Evidence, Finding

_STYLE = {"red": "bold red", "yellow": "bold yellow", "info": "bold cyan"}


def render(findings: list[Finding], ctx: ReportContext) -> str:
    if not findings:
        return summary_line(findings, ctx) + "\n"
    from rich.console import Console
    from rich.text import Text

    width = wrap_width(ctx)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=ctx.colour, no_color=not ctx.colour, width=width or 10_000, highlight=False, soft_wrap=True)

    def say(text: str, first: str, rest: str, style: str = "") -> None:
        console.print(Text(_wrap(text, width, first, rest), style=style))

    for f in findings:
        head = Text()
        head.append(f"{position(f)}: ", style="bold")
        head.append(f"{f.code} ", style=_STYLE[f.severity.value])
        head.append(f"[{f.severity.value}] ", style=_STYLE[f.severity.value])
        head.append(f.name, style="dim")
        console.print(head)
        say(f.message, "  ", "  ")
        lines = finding_lines(ctx, f)
        if lines and 1 <= f.span.line <= len(lines):
            _frame(console, lines, f, width)
        if ctx.show_evidence:
            for ev in f.evidence:
                say(evidence_line(ev), "   = evidence: ", " " * 5, "dim")
        elif f.evidence:
            say(evidence_citation(f), "   = evidence: ", " " * 5, "dim")
        if f.fix is not None:
            how = {Applicability.SAFE: "safe, --fix", Applicability.UNSAFE: "unsafe, --fix --unsafe-fixes", Applicability.DISPLAY_ONLY: "suggestion"}[f.fix.applicability]
            say(f.fix.message, f"   = fix ({how}): ", " " * 5, "green")
        if f.advice:
            say(f.advice, "   = help: ", " " * 5)
        if f.next_command:
            console.print(Text(f"   = next: {f.next_command}", style="cyan"))
        if ctx.verbose and f.detail:
            console.print(Text(f.detail, style="dim"))
        console.print()
    rows = cited_rows(findings)
    if rows and not ctx.show_evidence:
        console.print(Text(f"Evidence ({len(rows)} measured row{'s' if len(rows) != 1 else ''} cited above):", style="bold"))
        for ev in rows:
            say(evidence_line(ev), "  ", "    ", "dim")
        console.print()
    console.print(Text(summary_line(findings, ctx), style="bold"))
    return buf.getvalue()


def evidence_line(ev: Evidence) -> str:
    """One measurement row: id, setup, energy, basis and (shortened) source."""
    energy = f"{ev.energy_j_per_1k_tok:,.0f} J/1k tok" if ev.energy_j_per_1k_tok is not None else "no energy value"
    bs = f" BS={ev.batch_size}" if ev.batch_size else ""
    return f"row {ev.row_id} {ev.gpu} {ev.model} {ev.quant}{bs}: {energy} ({ev.energy_basis or 'basis n/a'}); {short_source(ev.source)}"


def evidence_citation(f: Finding) -> str:
    """The rows a finding cites, with the comparisons measured between them unless its message states them
    already: ``rows 67, 68 (int8_default: +130.8 % energy vs row 67)``."""
    ids = list(dict.fromkeys(ev.row_id for ev in f.evidence))
    ratios = [] if "%" in f.message else list(dict.fromkeys(ev.note for ev in f.evidence if ev.note and "%" in ev.note))
    text = f"row{'s' if len(ids) != 1 else ''} {', '.join(ids)}"
    return text + (f" ({'; '.join(ratios)})" if ratios else "") + " (see Evidence below)"


def cited_rows(findings: list[Finding]) -> list[Evidence]:
    """Every row the findings cite, once, in order of first citation."""
    seen: dict[tuple[str, str], Evidence] = {}
    for f in findings:
        for ev in f.evidence:
            seen.setdefault((ev.row_id, ev.source), ev)
    return list(seen.values())


def _wrap(text: str, width: int | None, first: str, rest: str) -> str:
    if width is None:
        return first + " ".join(text.split("\n"))
    return textwrap.fill(text, width=max(40, width - 1), initial_indent=first, subsequent_indent=rest, break_on_hyphens=False, break_long_words=False)


_FRAME_MAX = 80  # characters shown of a source line longer than _FRAME_LONG in a code frame (not a terminal)
_FRAME_LONG = 160


def _window(text: str, skip: int, size: int) -> str:
    """``text`` from character ``skip`` on, at most ``size`` characters, with an ellipsis where cut."""
    if not skip and len(text) <= size:
        return text
    shown = text[skip : skip + size]
    return ("…" if skip else "") + shown + ("…" if skip + size < len(text) else "")


def _frame(console, lines: list[str], f: Finding, width: int | None) -> None:
    """The finding's line (and the one before it unless blank), the span underlined. Very long lines (minified or generated
    code), and on a terminal lines wider than it, are shown as a window around the column."""
    from rich.text import Text

    start = f.span.line - 1 if f.span.line > 1 and lines[f.span.line - 2].strip() else f.span.line
    gutter = len(str(f.span.line))
    line = lines[f.span.line - 1].rstrip("\r\n").expandtabs(4)
    if width is None:
        long, size = _FRAME_LONG, _FRAME_MAX
    else:
        long = size = max(20, width - gutter - 5)  # room for "N | " and the ellipses
    skip = 0 if len(line) <= long else max(0, min(f.span.col - 1 - size // 2, len(line) - size))
    if len(line) <= long:
        size = long
    for n in range(start, f.span.line + 1):
        row = Text(f"{n:>{gutter}} | ", style="blue")
        row.append(_window(lines[n - 1].rstrip("\r\n").expandtabs(4), skip, size))
        console.print(row)
    col = f.span.col - skip + (1 if skip else 0)
    shown = _window(line, skip, size)
    end_col = (f.span.end_col - skip + (1 if skip else 0)) if f.span.end_line == f.span.line else len(shown) + 1
    length = max(1, end_col - col)
    marker = Text(" " * gutter + " | ", style="blue")  # under "N | "
    colour = "red" if f.severity.value == "red" else "yellow" if f.severity.value == "yellow" else "cyan"
    marker.append(" " * (col - 1) + "^" * min(length, max(1, len(shown) - col + 1)), style="bold " + colour)
    console.print(marker)
