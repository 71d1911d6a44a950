"""Minimal text edits to a bracketed, comma-separated list: call arguments and dict items.

A fix that adds or removes one argument touches that argument (with its comma, the white space that separates it
and its own trailing comment) and nothing else, so every other line keeps its indentation (spaces or tabs), its
comments and its line ending. Two layouts are told apart:

* *one item per line* (the item starts its line and its comma is followed by the end of the line, perhaps
  after a comment): whole lines are removed, and a new item is written on a line of its own, after the last
  item's line and its comment, with that line's indentation and line ending;
* *inline*: the item and one separator are removed (its trailing comment with it), a new item is written after
  the last one, with the separator the list already uses.

Positions are offsets into the analysed text; :class:`SourceText` turns them into the 1-based spans of
:class:`~ecolint.facts.Edit`. Nothing here knows about libcst: the caller measures the list (:class:`Items`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Optional, Sequence

from ecolint.facts import Edit, Span

_NEWLINE = re.compile(r"\r\n|\r|\n")
# The rest of a line after an item's comma when nothing else follows on it: blanks, perhaps a comment, the line
# break (group 1: the comment, group 2: the line break).
_LINE_END = re.compile(r"[ \t\f]*(#[^\r\n]*)?(\r\n|\r|\n)")
_BLANKS = re.compile(r"[ \t\f]*")


class SourceText:
    """A text with conversions between offsets and 1-based (line, column) positions; a line ends at ``\\n``,
    ``\\r\\n`` or ``\\r`` (as in libcst and CPython)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def line_start(self, offset: int) -> int:
        return self.starts[bisect_right(self.starts, offset) - 1]

    def edit(self, start: int, end: int, content: str) -> Edit:
        return Edit(Span(*self.position(start), *self.position(end)), content)

    def starts_line(self, offset: int) -> bool:
        """Is there only white space between the start of its line and ``offset``?"""
        start = self.line_start(offset)
        return _BLANKS.match(self.text, start, offset).end() == offset

    def indentation(self, offset: int) -> str:
        start = self.line_start(offset)
        return self.text[start : _BLANKS.match(self.text, start, offset).end()]


@dataclass
class Items:
    """A measured list. ``open``: the offset just after the opening bracket; ``close``: the offset of the
    closing bracket; per item, ``starts``/``ends`` delimit its own text (``key=value``, ``*args``, ``"k": v``)
    and ``after`` is the offset after its comma (its end when it has none)."""

    open: int
    close: int
    starts: list[int]
    ends: list[int]
    after: list[int]

    def __len__(self) -> int:
        return len(self.starts)

    def has_comma(self, i: int) -> bool:
        return self.after[i] != self.ends[i]


@dataclass
class _LineEnd:
    comment_end: Optional[int]  # end of the item's trailing comment, if any
    newline_start: int
    newline_end: int


def _line_end(src: SourceText, offset: int) -> Optional[_LineEnd]:
    """The end of the line at ``offset`` when only blanks and a comment are left on it."""
    m = _LINE_END.match(src.text, offset)
    if m is None:
        return None
    return _LineEnd(m.end(1) if m.group(1) else None, m.start(2), m.end(2))


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive indices, as (first, last)."""
    runs: list[tuple[int, int]] = []
    for i in sorted(set(indices)):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def removal(src: SourceText, items: Items, doomed: Sequence[int]) -> list[tuple[int, int, str]]:
    """The (start, end, replacement) ranges that remove the items at the indices ``doomed``."""
    n = len(items)
    text = src.text
    out: list[tuple[int, int, str]] = []
    for i, j in _runs(doomed):
        end = _line_end(src, items.after[j])
        own_lines = end is not None and src.starts_line(items.starts[i])
        if i == 0 and j == n - 1 and not (own_lines and "#" in text[items.open : items.starts[0]]):
            out.append((items.open, items.close, ""))  # nothing left: an empty pair of brackets
        elif own_lines:  # the items have lines of their own (a comment after the opening bracket stays)
            out.append((src.line_start(items.starts[i]), end.newline_end, ""))
        elif j < n - 1:  # an item follows
            if end is None:  # ... on the same line: remove the items and their separators
                out.append((items.starts[i], items.starts[j + 1], ""))
            else:  # ... on the next line: remove the rest of this line (the trailing comment too)
                out.append((items.after[i - 1] if i > 0 else items.open, end.newline_start, ""))
        elif src.starts_line(items.starts[i]) and "#" in text[items.after[i - 1] : items.starts[i]]:
            # last items, on the line after a comment that belongs to the item before them
            out.append((items.starts[i], items.after[j], ""))
        else:  # last items: remove the separator before them, keep their own trailing comma (if any)
            comma = text[items.ends[j] : items.after[j]]
            stop = end.comment_end if end is not None and end.comment_end is not None else items.ends[j]
            out.append((items.ends[i - 1], stop, comma if stop != items.ends[j] else ""))
    return out


def append(src: SourceText, items: Items, item: str) -> list[tuple[int, int, str]]:
    """The (start, end, replacement) ranges that add ``item`` after the last item, in the list's own layout."""
    n = len(items)
    if n == 0:
        return [(items.close, items.close, item)]
    last = n - 1
    comma = items.has_comma(last)
    end = _line_end(src, items.after[last])
    if end is not None and src.starts_line(items.starts[last]):
        # one item per line: a new line after the last item's line (and its comment), indented like it
        newline = src.text[end.newline_start : end.newline_end]
        line = src.indentation(items.starts[last]) + item + ("," if comma else "") + newline
        out = [] if comma else [(items.ends[last], items.ends[last], ",")]
        return out + [(end.newline_end, end.newline_end, line)]
    separator = " "
    if n >= 2 and items.after[n - 2] == items.starts[n - 1]:  # the list writes `a,b`
        separator = ""
    if comma:
        return [(items.after[last], items.after[last], separator + item + ",")]
    return [(items.ends[last], items.ends[last], "," + separator + item)]


def comment_in(ranges: Sequence[tuple[int, int, str]], comments: Sequence[int]) -> bool:
    """Does one of ``ranges`` delete a comment (given the offsets where the comments start)?"""
    return any(start <= c < end for start, end, _ in ranges for c in comments)


def format_off_lines(text: str) -> list[tuple[int, int]]:
    """Line ranges (first, last; 1-based) a formatter must leave alone: from ``# fmt: off`` to the next
    ``# fmt: on`` (or the end of the file), and the logical line a ``# fmt: skip`` comment ends."""
    if "fmt:" not in text:
        return []
    import io
    import tokenize

    regions: list[tuple[int, int]] = []
    off_since: Optional[int] = None
    logical_start: Optional[int] = None
    lines = _NEWLINE.sub("\n", text)  # tokenize counts lines at "\n" only
    last_line = lines.count("\n") + 1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(lines).readline):
            kind, line = tok.type, tok.start[0]
            if kind == tokenize.COMMENT:
                directive = re.search(r"fmt:\s*(off|on|skip)\b", tok.string)
                if directive is None:
                    continue
                word = directive.group(1)
                if word == "off" and off_since is None:
                    off_since = line
                elif word == "on" and off_since is not None:
                    regions.append((off_since, line))
                    off_since = None
                elif word == "skip":
                    regions.append((logical_start or line, line))
            elif kind in (tokenize.NEWLINE, tokenize.NL):
                if kind == tokenize.NEWLINE:
                    logical_start = None
            elif kind not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER) and logical_start is None:
                logical_start = line
    except (tokenize.TokenError, SyntaxError, ValueError):
        return [(1, last_line)]  # cannot tell: leave the whole file alone
    if off_since is not None:
        regions.append((off_since, last_line))
    return regions
