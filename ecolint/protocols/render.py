"""One small document model, two renderers: rich text for the terminal (readable at 80 columns) and Markdown
that can be pasted into a pull request. JSON is the report dict itself (see :func:`dump_json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional, Sequence, TextIO, Union


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str
    style: str = ""  # "", "dim", "warn", "bad", "good"


@dataclass
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    align: str = ""  # one letter per column: l or r (default: first l, rest r)
    caption: str = ""


@dataclass
class Bullets:
    items: Sequence[str]
    numbered: bool = False
    style: str = ""


@dataclass
class KeyValues:
    pairs: Sequence[tuple[str, str]]


@dataclass
class Bars:
    """A horizontal bar chart: one bar per (label, value, measured); measured bars solid, extrapolated hatched."""

    title: str
    unit: str
    items: Sequence[tuple[str, float, bool]]


Block = Union[Heading, Para, Table, Bullets, KeyValues, Bars]
BAR_WIDTH = 40
SOLID, HATCHED = "█", "░"
BAR_LEGEND = f"{SOLID} measured   {HATCHED} extrapolated"


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def h(self, text: str, level: int = 2) -> "Document":
        self.blocks.append(Heading(text, level))
        return self

    def p(self, text: str, style: str = "") -> "Document":
        self.blocks.append(Para(text, style))
        return self

    def table(self, headers, rows, align: str = "", caption: str = "") -> "Document":
        self.blocks.append(Table(list(headers), [list(r) for r in rows], align, caption))
        return self

    def bullets(self, items, numbered: bool = False, style: str = "") -> "Document":
        items = [i for i in items if i]
        if items:
            self.blocks.append(Bullets(items, numbered, style))
        return self

    def bars(self, title: str, unit: str, items) -> "Document":
        items = [(str(label), float(v), bool(m)) for label, v, m in items if v is not None and v > 0]
        if items:
            self.blocks.append(Bars(title, unit, items))
        return self

    def kv(self, pairs) -> "Document":
        self.blocks.append(KeyValues(list(pairs)))
        return self


VERBOSE_HINT = "Row ids, methods and sources: --verbose, or --format json."


# -- numbers -------------------------------------------------------------------------------------------------------

def num(x: Optional[float], digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def sig(x: Optional[float]) -> str:
    """A readable number: 3 significant figures below 100, thousands separators above."""
    if x is None:
        return "—"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:,.2f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


def pct(x: Optional[float]) -> str:
    if x is None:
        return "—"
    return f"{x:+.1f} %"


def ids_text(ids: Sequence[str], limit: int = 8) -> str:
    ids = list(ids)
    if not ids:
        return "—"
    text = ", ".join(ids[:limit])
    if len(ids) > limit:
        text += f" (+{len(ids) - limit})"
    return text


# -- markdown ------------------------------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    out: list[str] = [f"## {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [("#" * (b.level + 1)) + " " + b.text, ""]
        elif isinstance(b, Para):
            text = b.text
            if b.style in ("warn", "bad"):
                text = f"> **{text}**" if len(text) < 120 else f"> {text}"
            elif b.style == "dim":
                text = f"_{text}_"
            out += [text, ""]
        elif isinstance(b, Table):
            align = b.align or ("l" + "r" * (len(b.headers) - 1))
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
            for r in b.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
            if b.caption:
                out += ["", f"_{b.caption}_"]
            out.append("")
        elif isinstance(b, Bullets):
            for i, item in enumerate(b.items, 1):
                out.append((f"{i}. " if b.numbered else "- ") + item)
            out.append("")
        elif isinstance(b, KeyValues):
            for k, v in b.pairs:
                out.append(f"- **{k}:** {v}")
            out.append("")
        elif isinstance(b, Bars):
            out += mermaid_bars(b) + [""]
    return "\n".join(out).rstrip() + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def mermaid_bars(b: Bars) -> list[str]:
    """A Mermaid ``xychart-beta`` block (GitHub renders it); extrapolated bars are named '(extrap.)'."""
    labels = ", ".join(f'"{_mermaid_text(label)}{"" if m else " (extrap.)"}"' for label, _, m in b.items)
    top = max(v for _, v, _ in b.items)
    return ["```mermaid", "xychart-beta horizontal", f'    title "{_mermaid_text(b.title)}"',
            f"    x-axis [{labels}]", f'    y-axis "{_mermaid_text(b.unit)}" 0 --> {sig(top * 1.05).replace(",", "")}',
            f"    bar [{', '.join(f'{v:.1f}' for _, v, _ in b.items)}]", "```"]


def bar_lines(b: Bars, width: int = BAR_WIDTH) -> list[tuple[str, str, str]]:
    """(label, bar, value) per item; the longest bar is ``width`` cells; at least one cell per bar."""
    top = max(v for _, v, _ in b.items)
    out = []
    for label, v, m in b.items:
        n = max(1, round(v / top * width))
        out.append((label, (SOLID if m else HATCHED) * n, sig(v)))
    return out


# -- rich text -----------------------------------------------------------------------------------------------------

_STYLES = {"": "", "dim": "dim", "warn": "yellow", "bad": "bold red", "good": "green"}


def render_text(doc: Document, file: Optional[TextIO] = None, width: Optional[int] = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    console = Console(file=file, width=width, highlight=False, soft_wrap=False)
    console.print(Text(doc.title, style="bold"))
    console.rule(style="dim")
    for b in doc.blocks:
        if isinstance(b, Heading):
            console.print()
            console.print(Text(b.text, style="bold cyan" if b.level <= 2 else "bold"))
        elif isinstance(b, Para):
            console.print(Text(b.text, style=_STYLES.get(b.style, "")))
        elif isinstance(b, Table):
            align = b.align or ("l" + "r" * (len(b.headers) - 1))
            t = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
            for h, a in zip(b.headers, align):
                t.add_column(Text(h, style="bold"), justify="left" if a == "l" else "right", overflow="fold")
            for r in b.rows:
                t.add_row(*[Text(str(c)) for c in r])
            console.print(t)
            if b.caption:
                console.print(Text(b.caption, style="dim"))
        elif isinstance(b, Bullets):
            grid = RichTable.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for i, item in enumerate(b.items, 1):
                grid.add_row(Text(f"{i}." if b.numbered else "•"), Text(item, style=_STYLES.get(b.style, "")))
            console.print(grid)
        elif isinstance(b, Bars):
            console.print(Text(f"{b.title} ({b.unit})", style="bold"))
            grid = RichTable.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True, justify="right")
            for (label, bar, value), (_, _, m) in zip(bar_lines(b), b.items):
                grid.add_row(Text(label), Text(bar, style="green" if m else "dim"), Text(value))
            console.print(grid)
            console.print(Text(BAR_LEGEND, style="dim"))
        elif isinstance(b, KeyValues):
            grid = RichTable.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="fold")
            for k, v in b.pairs:
                grid.add_row(Text(k, style="bold"), Text(v))
            console.print(grid)


def dump_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
