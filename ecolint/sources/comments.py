"""The real comments of each syntax, for suppression comments: a ``#`` inside a string, a YAML block scalar, a
shell word or a here-document is not a comment. Each front end's ``comments`` method returns one of these
finders' results: ``(offset, comment text or None)`` pairs, None meaning "to the end of the line"."""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from typing import Iterator, Optional

from ecolint.sources.words import Source, split_shell


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
    found: list[int] = []
    split_shell(Source(text), comments=found)
    for offset in found:
        yield offset, None
