"""Command words with source positions, for every front end that reads command lines.

A launch command can be written in a shell script, a Dockerfile ``CMD``, a Kubernetes ``args:`` list, a
compose ``command:`` string or a fly.io ``cmd`` array. Each of those front ends hands :func:`split_shell`
(or builds directly) a list of :class:`Word` objects whose characters remember where they came from in the
file, so a finding can point at the exact argument and a fix can replace just the value of a flag.

The splitter follows POSIX shell quoting the way :mod:`shlex` does in ``posix`` mode (single and double
quotes, backslash escapes, ``\\<newline>`` continuations, comments) and additionally splits at command
operators (``;``, ``&&``, ``||``, ``|``, ``&``, newlines), drops redirections and skips here-document bodies.
:mod:`shlex` itself cannot report positions, so it is not used directly.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Optional

from ecolint.facts import Edit, Span
from ecolint.text import line_starts


class Source:
    """A file's text plus the offset -> (line, column) map (1-based, end exclusive spans)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = line_starts(text)

    def pos(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    def span(self, start: int, end: int) -> Span:
        a = self.pos(start)
        b = self.pos(max(start, end))
        return Span(a[0], a[1], b[0], b[1])

    def line_text(self, line: int) -> str:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")


@dataclass
class Word:
    """One argument: its value and, per character, the source offsets it was read from."""

    text: str
    source: Source
    starts: list[int]  # source offset of each character of ``text``
    ends: list[int]  # source offset just after each character
    begin: int  # offset where the whole word (quotes included) starts
    end: int  # offset just after the whole word
    expands: bool = False  # holds an unquoted/double-quoted ``$`` or a backquote: the run-time value may differ

    @property
    def span(self) -> Span:
        return self.source.span(self.begin, self.end)

    def sub_span(self, i: int, j: int) -> Span:
        if i >= j or not self.starts:
            return self.span
        return self.source.span(self.starts[i], self.ends[j - 1])

    def replace(self, i: int, j: int, new: str) -> Optional[Edit]:
        """An edit replacing characters ``i:j`` of the value, when they are written verbatim in the source."""
        if i >= j or j > len(self.text):
            return None
        a, b = self.starts[i], self.ends[j - 1]
        if self.source.text[a:b] != self.text[i:j]:
            return None  # escapes or quotes inside: do not guess
        if not all(c.isalnum() or c in "-_." for c in new):
            return None
        return Edit(self.source.span(a, b), new)


def literal_word(source: Source, start: int, end: int, value: Optional[str] = None) -> Word:
    """A word whose value is written verbatim at ``start:end`` (or, when ``value`` differs, mapped as a whole)."""
    text = source.text[start:end] if value is None else value
    if value is None or source.text[start:end] == value:
        offs = list(range(start, start + len(text)))
        return Word(text, source, offs, [o + 1 for o in offs], start, end)
    return align_word(value, source, start, end)


def align_word(value: str, source: Source, start: int, end: int) -> Word:
    """Map each character of ``value`` onto the source region ``start:end`` it was decoded from (quotes,
    escapes, indentation and folded line breaks skipped greedily). Characters that cannot be matched get the
    position of the whole region, which keeps spans inside it."""
    raw = source.text
    starts: list[int] = []
    ends: list[int] = []
    k = start
    for ch in value:
        m = k
        while m < end and raw[m] != ch and not (ch in " \n" and raw[m] in " \t\r\n"):
            m += 1
        if m >= end:
            starts.append(min(k, end))
            ends.append(min(k + 1, end))
            continue
        starts.append(m)
        ends.append(m + 1)
        k = m + 1
    return Word(value, source, starts, ends, start, end)


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    # ``NAME=( a b c )``: the array's items (``words`` is then the single ``NAME=`` word)
    array: Optional[list[Word]] = None


@dataclass
class HereDoc:
    """A here-document: its body's source offsets, the words of the command it feeds and that command's
    last output redirection (``cat > run.sh <<EOF`` -> ``["cat"]``, ``run.sh``)."""

    start: int
    end: int
    feeds: list[str]
    target: str


_OPERATOR_CHARS = ";&|()"


def split_shell(source: Source, start: int = 0, end: Optional[int] = None, chars: Optional[Word] = None,
                comments: Optional[list[int]] = None, bodies: Optional[list["HereDoc"]] = None) -> list[Command]:
    """Split shell text into simple commands of words.

    Either a region ``start:end`` of the file, or the characters of an already decoded ``chars`` word (the
    string of a ``sh -c`` argument or a YAML block scalar), whose positions map back into the file.
    ``comments``, when given, receives the source offset of each comment's ``#``; ``bodies``, when given, each
    here-document (:class:`HereDoc`; region mode only: a body inside a decoded word is not mapped back).
    """
    if chars is not None:
        text = chars.text
        offs = chars.starts
        offe = chars.ends
        if not text:
            return []
    else:
        end = len(source.text) if end is None else end
        text = source.text[start:end]
        offs = None
        offe = None

    def so(i: int) -> int:  # source offset of char i
        if offs is None:
            return start + i
        return offs[i] if i < len(offs) else (offe[-1] if offe else 0)

    def se(i: int) -> int:  # source offset after char i
        if offe is None:
            return start + i + 1
        return offe[i] if i < len(offe) else (offe[-1] if offe else 0)

    n = len(text)
    commands: list[Command] = []
    current = Command()
    heredocs: list[tuple[str, bool, list[str], str]] = []  # delimiter, <<-, the command's words, its redirection
    drop_next = False
    redirect = ""
    i = 0

    def finish() -> None:
        nonlocal current, redirect
        redirect = ""
        if current.words:
            commands.append(current)
        current = Command()

    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and i + 1 < n and text[i + 1] in "\r\n":
            i += 2 if text[i + 1] == "\n" or text[i + 1:i + 3] != "\r\n" else 3
            continue
        if c in "\r\n":
            finish()
            i += 1
            if c == "\r" and i < n and text[i] == "\n":
                i += 1
            while heredocs:  # skip here-document bodies
                delim, strip_tabs, feeds, target = heredocs.pop(0)
                body = i
                body_end = n
                while i < n:
                    j = text.find("\n", i)
                    j = n if j == -1 else j
                    line = text[i:j].rstrip("\r")
                    if (line.lstrip("\t") if strip_tabs else line) == delim:
                        body_end = i
                        i = j + 1
                        break
                    i = j + 1
                if bodies is not None and offs is None and body_end > body:
                    bodies.append(HereDoc(start + body, start + body_end, feeds, target))
            continue
        if c == "#":
            if comments is not None:
                comments.append(so(i))
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        if c in _OPERATOR_CHARS:
            finish()
            i += 2 if text[i:i + 2] in ("&&", "||", ";;") else 1
            continue
        if c in "<>":
            if text.startswith("<<", i):
                i += 2
                strip = i < n and text[i] == "-"
                if strip:
                    i += 1
                while i < n and text[i] in " \t":
                    i += 1
                w, i = _read_word(text, i, so, se, source)
                if w is not None:
                    heredocs.append((w.text, strip, [x.text for x in current.words], redirect))
                continue
            i += 1
            while i < n and text[i] in "<>&|":
                i += 1
            drop_next = True
            continue
        w, i = _read_word(text, i, so, se, source)
        if w is None:
            continue
        if i < n and text[i] in "<>" and w.text.isdigit():
            continue  # a file-descriptor number before a redirection (2>&1)
        if drop_next:
            drop_next = False
            redirect = w.text
            continue
        if not current.words and i < n and text[i] == "(" and _ARRAY_NAME.match(w.text):
            items, i = _read_array(text, i + 1, so, se, source)
            commands.append(Command([w], items))
            continue
        current.words.append(w)
    finish()
    return commands


_ARRAY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=$")


def _read_array(text: str, i: int, so, se, source: Source) -> tuple[list[Word], int]:
    """The items of ``NAME=( ... )`` from just after ``(`` to the closing ``)`` (newlines and comments inside)."""
    n = len(text)
    items: list[Word] = []
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "\\" and i + 1 < n and text[i + 1] in "\r\n":
            i += 2
        elif c == "#":
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif c == ")":
            return items, i + 1
        else:
            w, i = _read_word(text, i, so, se, source)
            if w is not None:
                items.append(w)
    return items, n


def _read_word(text: str, i: int, so, se, source: Source) -> tuple[Optional[Word], int]:
    n = len(text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    expands = False
    begin = i

    def add(ch: str, at: int) -> None:
        chars.append(ch)
        starts.append(so(at))
        ends.append(se(at))

    while i < n:
        c = text[i]
        if c in " \t\r\n" or c in _OPERATOR_CHARS or c in "<>":
            break
        if c == "\\":
            if i + 1 < n and text[i + 1] in "\r\n":
                i += 2 if text[i + 1] == "\n" else (3 if text[i + 1:i + 3] == "\r\n" else 2)
                continue
            if i + 1 < n:
                add(text[i + 1], i + 1)
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j == -1 else j
            for k in range(i + 1, j):
                add(text[k], k)
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    if nxt == "\n":
                        i += 2
                        continue
                    if nxt in '$`"\\':
                        add(nxt, i + 1)
                        i += 2
                        continue
                if text[i] in "$`":
                    expands = True
                    if text.startswith("$(", i) or text.startswith("${", i):
                        j = _matching(text, i + 1)
                        for k in range(i, j):
                            add(text[k], k)
                        i = j
                        continue
                add(text[i], i)
                i += 1
            i += 1
            continue
        if c == "$" and i + 1 < n and text[i + 1] in "({":
            expands = True
            j = _matching(text, i + 1)
            for k in range(i, j):
                add(text[k], k)
            i = j
            continue
        if c == "`":
            expands = True
            j = text.find("`", i + 1)
            j = n if j == -1 else j + 1
            for k in range(i, j):
                add(text[k], k)
            i = j
            continue
        if c == "$":
            expands = True
        add(c, i)
        i += 1
    if i == begin:
        return None, i + 1
    w = Word("".join(chars), source, starts, ends, so(begin), se(i - 1) if i > begin else so(begin))
    w.expands = expands
    return w, i


def _matching(text: str, i: int) -> int:
    """Index just after the bracket closing the one at ``i`` (``(`` or ``{``), quotes respected."""
    open_c = text[i]
    close_c = ")" if open_c == "(" else "}"
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j == -1 else j + 1
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n
