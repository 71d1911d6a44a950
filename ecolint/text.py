"""The one line-splitting rule: only ``\\n``, ``\\r\\n`` and ``\\r`` end a line.

``str.splitlines`` also breaks at U+2028, U+2029, U+0085, ``\\x0b``, ``\\x0c`` and ``\\x1c``-``\\x1e``, which
can sit inside a string literal of the analysed file; positions, suppression comments and code frames
would then disagree about which line is which. Everything that numbers lines uses these helpers.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def line_starts(text: str) -> list[int]:
    """Start offset of each line: line ``n`` (1-based) starts at ``line_starts(text)[n - 1]``."""
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of ``text`` like ``str.splitlines(keepends)``, but broken only at ``\\n``, ``\\r\\n`` and ``\\r``."""
    lines = _LINE.findall(text)
    if keepends:
        return lines
    return [line.rstrip("\r\n") for line in lines]
