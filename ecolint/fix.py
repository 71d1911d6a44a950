"""Applying fixes. Edits are span-exact text replacements (Python fixes are produced by libcst transforms of
the node concerned, config fixes by the config front ends), so one mechanism applies both."""

from __future__ import annotations

from typing import Iterable

from ecolint.facts import Edit


class OverlapError(ValueError):
    pass


def _offsets(text: str) -> list[int]:
    """Start offset of each line (1-based line n starts at offsets[n-1]); handles \\n, \\r\\n and \\r."""
    starts = [0]
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\r":
            if i + 1 < n and text[i + 1] == "\n":
                i += 1
            starts.append(i + 1)
        elif c == "\n":
            starts.append(i + 1)
        i += 1
    return starts


def to_offset(starts: list[int], line: int, col: int) -> int:
    return starts[line - 1] + col - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (1-based, end exclusive). Overlapping edits raise :class:`OverlapError`;
    callers apply one fix per pass and re-lint, as ruff does."""
    starts = _offsets(text)
    ranges = sorted(
        ((to_offset(starts, e.span.line, e.span.col), to_offset(starts, e.span.end_line, e.span.end_col), e.content) for e in edits),
        key=lambda r: (r[0], r[1]),
    )
    out = []
    pos = 0
    for start, end, content in ranges:
        if start < pos:
            raise OverlapError("overlapping edits")
        out.append(text[pos:start])
        out.append(content)
        pos = end
    out.append(text[pos:])
    return "".join(out)
