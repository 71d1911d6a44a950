"""Suppression comments, the same in every kind of file: ``# noqa``, ``# noqa: ECO101, ECO202`` on the
finding's line, and file-level ``# ecolint: noqa`` / ``# ecolint: noqa: ECO101``.

Where the comments of a file are is its front end's business (``FrontEnd.comments``); the finders for the
syntaxes ecolint reads are here, each yielding ``(offset, comment text or None for "to the end of the line")``."""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterator, Optional

from ecolint.facts import Span
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


def python_comments(text: str) -> Iterator[tuple[int, Optional[str]]]:
    found = []
    try:
        # The tokenizer numbers lines split at "\n" only; its positions are turned into offsets.
        rows = [0] + [m.end() for m in re.finditer("\n", text)]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                found.append((rows[tok.start[0] - 1] + tok.start[1], tok.string))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        yield from quoted_comments(text, raw_quotes="")
        return
    yield from found


def quoted_comments(text: str, raw_quotes: str = "'") -> Iterator[tuple[int, Optional[str]]]:
    """Comments of TOML (and the fallback for Python text the tokenizer rejects): ``#`` outside single-
    and triple-quoted strings; a backslash escapes the next character except in ``raw_quotes`` strings."""
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "#":
            yield i, None
            while i < n and text[i] not in "\r\n":
                i += 1
        elif c in "\"'":
            escapes = c not in raw_quotes
            triple = text.startswith(c * 3, i)
            close = c * 3 if triple else c
            j = i + len(close)
            while j < n and not text.startswith(close, j) and (triple or text[j] not in "\r\n"):
                j += 2 if escapes and text[j] == "\\" else 1
            while triple and j + 3 < n and text[j + 3] == c:  # quotes right before the closing ones are content
                j += 1
            i = j + len(close)
        else:
            i += 1


def yaml_comments(text: str) -> Iterator[tuple[int, Optional[str]]]:
    """``#`` at a line start or after a blank, outside every scalar (quoted, plain or block) of the token stream."""
    import yaml

    strings: list[tuple[int, int]] = []
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(tok, yaml.ScalarToken):
                begin, end = tok.start_mark.index, tok.end_mark.index
                if tok.style in ("|", ">"):  # the header line (indicators, comment) is not content
                    breaks = [k for k in (text.find("\n", begin), text.find("\r", begin)) if k != -1]
                    begin = min(breaks) if breaks else end
                strings.append((begin, end))
    except yaml.YAMLError:
        pass  # a text the scanner rejects: past the last token, every blank-preceded ``#`` counts
    ends = [e for _, e in strings]
    i = text.find("#")
    while i != -1:
        k = bisect.bisect_right(ends, i)
        inside = k < len(strings) and strings[k][0] <= i
        if not inside and (i == 0 or text[i - 1] in " \t\r\n\ufeff"):
            yield i, None
            breaks = [b for b in (text.find("\n", i), text.find("\r", i)) if b != -1]
            if not breaks:
                return
            i = min(breaks)
        i = text.find("#", i + 1)


def shell_comments(text: str) -> Iterator[tuple[int, Optional[str]]]:
    from ecolint.sources.words import Source, split_shell

    found: list[int] = []
    split_shell(Source(text), comments=found)
    for offset in found:
        yield offset, None


def dockerfile_comments(text: str) -> Iterator[tuple[int, Optional[str]]]:
    """Lines whose first non-blank character is ``#`` (Docker drops them, inside continuations too), and the
    shell comments of shell-form ``RUN`` / ``CMD`` / ``ENTRYPOINT`` instructions."""
    from ecolint.sources.shell_frontend import _instructions
    from ecolint.sources.words import Source, split_shell

    found: set[int] = set()
    starts = line_starts(text)
    for s in starts:
        j = s
        while j < len(text) and text[j] in " \t":
            j += 1
        if text.startswith("#", j):
            found.add(j)
    source = Source(text)
    for keyword, begin, end in _instructions(text):
        if keyword.upper() in ("RUN", "CMD", "ENTRYPOINT") and not text[begin:end].lstrip().startswith("["):
            shell: list[int] = []
            split_shell(source, begin, end, comments=shell)
            found.update(shell)
    for offset in sorted(found):
        yield offset, None


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
