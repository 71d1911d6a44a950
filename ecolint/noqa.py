"""Suppression comments, the same in every kind of file: ``# noqa``, ``# noqa: ECO101, ECO202`` on the
finding's line, and file-level ``# ecolint: noqa`` / ``# ecolint: noqa: ECO101``.

Where the comments of a file are is its front end's business (``FrontEnd.comments``); the finders for the
syntaxes ecolint reads are here, each yielding ``(offset, comment text or None for "to the end of the line")``."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from ecolint.facts import Span
from ecolint.sources.comments import python_comments, quoted_comments, shell_comments, yaml_comments  # noqa: F401  (re-exported)
from ecolint.text import line_starts

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_FILE = re.compile(r"#\s*ecolint:\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)


@dataclass
class Directive:
    line: int
    col: int
    end_col: int
    codes: Optional[tuple[str, ...]]  # None = blanket
    used: set[str] = field(default_factory=set)


@dataclass
class Suppressions:
    lines: dict[int, Directive] = field(default_factory=dict)
    file_codes: Optional[tuple[str, ...]] = None  # () = whole file
    file_all: bool = False

    def suppresses(self, code: str, line: int) -> bool:
        if self.file_all or (self.file_codes and code in self.file_codes):
            return True
        d = self.lines.get(line)
        if d is None:
            return False
        if d.codes is None or code in d.codes:
            d.used.add(code)
            return True
        return False

    def unused(self) -> list[tuple[Directive, list[str]]]:
        """Directives naming ECO codes that suppressed nothing (other tools' codes are left alone)."""
        out = []
        for d in sorted(self.lines.values(), key=lambda d: d.line):
            if d.codes is None:
                continue
            stale = [c for c in d.codes if c.startswith("ECO") and c not in d.used]
            if stale:
                out.append((d, stale))
        return out


def _comments(text: str, kind: str) -> Iterator[tuple[int, int, str]]:
    """(line, 0-based column, comment text) for each real comment of the file's syntax: a ``#`` inside a
    string, a YAML block scalar, a shell word or a here-document is not a comment."""
    from ecolint.sources import front_end

    starts = line_starts(text)
    for offset, comment in front_end(kind).comments(text):
        line = bisect.bisect_right(starts, offset)
        if comment is None:
            end = starts[line] if line < len(starts) else len(text)
            comment = text[offset:end].rstrip("\r\n")
        yield line, offset - starts[line - 1], comment


def parse_suppressions(text: str, kind: str) -> Suppressions:
    sup = Suppressions()
    if "noqa" not in text and "NOQA" not in text:
        return sup
    for line, col, comment in _comments(text, kind):
        fm = _FILE.search(comment)
        if fm:
            codes = fm.group("codes")
            if codes:
                sup.file_codes = tuple(sorted(set((sup.file_codes or ()) + _split(codes))))
            else:
                sup.file_all = True
            continue
        m = _NOQA.search(comment)
        if m:
            codes = m.group("codes")
            start = col + m.start()
            sup.lines[line] = Directive(line, start + 1, col + m.end() + 1, _split(codes) if codes else None)
    return sup


def _split(codes: str) -> tuple[str, ...]:
    return tuple(c.upper() for c in re.split(r"[\s,]+", codes.strip()) if c)


def directive_span(d: Directive) -> Span:
    return Span(d.line, d.col, d.line, d.end_col)
