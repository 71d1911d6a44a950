"""IPython syntax in notebook cells and exported scripts, turned into plain Python with every position kept.

Notebook code (and a ``.py`` downloaded from Colab or written by ``jupyter nbconvert --to script``) mixes Python
with IPython's own syntax: line magics (``%pip install x``, ``%time y = f()``, and ``pip install x`` without the ``%``), cell magics (``%%time``,
``%%capture``, ``%%bash``), shell escapes (``!pip install x``, ``files = !ls``), help (``obj?``, ``??obj``) and
autocall (``/f x``). :func:`transform` blanks that syntax with spaces, or swaps it for a placeholder of the same
width, so the result is Python in which every remaining character sits at the line and column it had: findings,
suppression comments and fixes computed on the result apply to the original text unchanged. Lines holding
IPython syntax are listed in :attr:`Transformed.blanked`; fixes must never touch them.

Only the start of a statement can hold IPython syntax (a ``%`` or ``!`` inside a string, a bracket or after a
backslash continuation is Python), so the text is scanned for strings, brackets and continuations as it goes.
Top-level ``await`` needs nothing: CPython (``PyCF_ALLOW_TOP_LEVEL_AWAIT``) and libcst both accept it. Text that
is not valid Python for another reason is left as it is, so its syntax error is still reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecolint.text import split_lines

# Cell magics whose body is Python run in the notebook's own namespace: only their first line is IPython.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "mprun", "tensorflow_version"})
# Line magics followed by a Python statement that runs in the notebook: the statement is kept. The value is the
# set of options that take an argument (``%timeit -n 10 f()``).
_STATEMENT_MAGICS: dict[str, frozenset[str]] = {
    "time": frozenset(),
    "timeit": frozenset("nrp"),
    "prun": frozenset("DTls"),
}

_MAGIC = re.compile(r"[ \t]*%{1,2}(?P<name>[A-Za-z_][\w.]*)?")
_ASSIGN = re.compile(r"(?P<lhs>[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*)(?P<rhs>!!?|%)")
# `pip install x` without `%` (IPython's automagic): two names in a row are never Python.
_AUTOMAGIC = re.compile(r"(?:pip|pip3|conda|mamba)[ \t]+(?:install|uninstall|download|list|show|freeze|update|create)\b")
_OPTION = re.compile(r"-(?P<flags>[A-Za-z]+)[ \t]*")
_INDENT = re.compile(r"[ \t]*")
_COMPOUND = re.compile(r"(?:async|for|while|if|with|try|def|class|match)\b")
_SCRIPT_CELL_MARK = re.compile(r"[ \t]*#[ \t]*(?:In\[[ \d]*\]|%%)")  # nbconvert's `# In[3]:`, `# %%` cells


@dataclass(frozen=True)
class Blank:
    """A line (1-based) that held IPython syntax, and what it was: ``line-magic``, ``cell-magic``, ``shell``,
    ``help``, ``autocall``, ``magic-body`` (a line of a cell whose magic runs something other than Python, or
    a backslash continuation of a magic or shell line)."""

    line: int
    kind: str
    start: int = 0  # the blanked columns, 0-based, end exclusive (None: to the end of the line); the rest of
    end: int | None = None  # the line is Python (`%time x = f()` keeps `x = f()`, `x = !ls` keeps `x = `)


@dataclass(frozen=True)
class Transformed:
    """The Python text (same line count, same line endings, same length of every line) and what was blanked."""

    text: str
    blanks: tuple[Blank, ...] = ()
    python: bool = True  # False: the whole cell runs as something else (``%%bash``, ``%%writefile``, ...)

    @property
    def blanked(self) -> frozenset[int]:
        return frozenset(b.line for b in self.blanks)

    @property
    def changed(self) -> bool:
        return bool(self.blanks)

    def touches(self, line: int, start: int = 0, end: int | None = None) -> bool:
        """Whether columns ``start:end`` (0-based, end exclusive; None: to the end) of ``line`` overlap IPython
        syntax: an edit there would change something that is not Python."""
        for b in self.blanks:
            if b.line == line and (end is None or b.start < end) and (b.end is None or start < b.end):
                return True
        return False


def transform(source: str, *, cell: bool = True) -> Transformed:
    """Blank IPython syntax in ``source`` keeping every position. ``cell``: ``source`` is one notebook cell (a
    cell magic counts only on its first non-blank line); otherwise it is a script exported from a notebook, in
    which a cell magic at column 1 starts a cell wherever it stands, and a non-Python cell ends at the next
    ``# In[ ]:`` / ``# %%`` marker or blank line."""
    if not _may_hold_ipython(source):
        return Transformed(source)
    lines = split_lines(source, keepends=True)
    out = list(lines)
    blanks: list[Blank] = []
    scanner = _Scanner()
    i = 0
    first_code = next((n for n, ln in enumerate(lines) if ln.strip()), len(lines))
    while i < len(lines):
        line = lines[i]
        if scanner.at_statement_start:
            body = _body(line)
            cell_magic = _cell_magic_name(body)
            if cell_magic is not None and (i == first_code or not cell and not body[:1].isspace()):
                if cell_magic in PYTHON_CELL_MAGICS:
                    i = _blank_run(lines, out, blanks, i, "cell-magic")
                    continue
                end = len(lines) if cell else _script_cell_end(lines, i)
                for n in range(i, end):
                    out[n] = _spaces(lines[n])
                    blanks.append(Blank(n + 1, "cell-magic" if n == i else "magic-body"))
                if cell and i == first_code:
                    return Transformed("".join(out), tuple(blanks), python=False)
                i = end
                continue
            handled = _line_syntax(lines, out, blanks, i)
            if handled is not None:
                i = handled
                continue
        scanner.feed(line)
        i += 1
    if not blanks:
        return Transformed(source)
    return Transformed("".join(out), tuple(blanks))


def _may_hold_ipython(source: str) -> bool:
    return any(c in source for c in "%!?/;,") or "pip" in source or "conda" in source or "mamba" in source


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _cell_magic_name(body: str) -> str | None:
    stripped = body.lstrip(" \t")
    if not stripped.startswith("%%"):
        return None
    m = re.match(r"%%([A-Za-z_][\w.]*)", stripped)
    return m.group(1) if m else ""


def _script_cell_end(lines: list[str], start: int) -> int:
    for n in range(start + 1, len(lines)):
        if not lines[n].strip() or _SCRIPT_CELL_MARK.match(lines[n]):
            return n
    return len(lines)


def _line_syntax(lines: list[str], out: list[str], blanks: list[Blank], i: int) -> int | None:
    """Handle IPython syntax starting a statement on line ``i``; return the next line to scan, or None when the
    line is Python."""
    body = _body(lines[i])
    indent = _INDENT.match(body).end()  # type: ignore[union-attr]
    rest = body[indent:]
    if not rest:
        return None
    lead = rest[0]
    if lead in "%?" and _is_help(rest) or lead == "?":
        return _blank_run(lines, out, blanks, i, "help", placeholder=indent > 0)
    if lead == "%":
        m = _MAGIC.match(body)
        name = m.group("name") if m else None
        if name in _STATEMENT_MAGICS and not rest.startswith("%%") and not _continued(body):
            kept = _statement_after(body, m.end(), _STATEMENT_MAGICS[name])  # type: ignore[union-attr, index]
            if kept is not None and not _COMPOUND.match(body, kept):
                # `%time x = f()` -> `0;    x = f()`: the statement keeps its column and the line its indentation
                out[i] = body[:indent] + "0;" + " " * (kept - indent - 2) + lines[i][kept:]
                blanks.append(Blank(i + 1, "line-magic", indent, kept))
                return i + 1
        return _blank_run(lines, out, blanks, i, "line-magic", placeholder=indent > 0)
    if lead == "!":
        return _blank_run(lines, out, blanks, i, "shell", placeholder=indent > 0)
    if _is_help(rest):
        return _blank_run(lines, out, blanks, i, "help", placeholder=indent > 0)
    if lead in "/;," and len(rest) > 1 and (rest[1].isalpha() or rest[1] == "_"):
        return _blank_run(lines, out, blanks, i, "autocall", placeholder=indent > 0)
    if _AUTOMAGIC.match(rest):
        return _blank_run(lines, out, blanks, i, "line-magic", placeholder=indent > 0)
    m = _ASSIGN.match(body)
    if m is not None:
        start = m.start("rhs")
        end = _run_end(lines, i)
        for n in range(i, end):
            blanks.append(Blank(n + 1, "shell" if m.group("rhs").startswith("!") else "line-magic", start) if n == i else Blank(n + 1, "magic-body"))
            if n > i:
                out[n] = _spaces(lines[n])
        width = len(body) - start
        out[i] = body[:start] + _placeholder(width) + lines[i][len(body):]
        return end
    return None


def _statement_after(body: str, pos: int, valued: frozenset[str]) -> int | None:
    """Column (0-based) where the Python statement after ``%time``/``%timeit``/``%prun`` and its options starts,
    or None when nothing follows."""
    while pos < len(body) and body[pos] in " \t":
        pos += 1
    while pos < len(body) and body[pos] == "-":
        m = _OPTION.match(body, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group("flags")[-1] in valued:
            m2 = re.compile(r"[^ \t]+[ \t]*").match(body, pos)
            if m2 is None:
                return None
            pos = m2.end()
    return pos if pos < len(body) and body[pos] != "#" else None


def _is_help(rest: str) -> bool:
    """``obj?``, ``obj.attr??``, ``%magic?``: a statement whose code ends with a question mark (a comment after
    it, or a question mark inside a string or comment, does not count)."""
    code = _code_part(rest).rstrip()
    return code.endswith("?")


def _code_part(text: str) -> str:
    """``text`` up to its comment, strings kept (an open string: the whole text)."""
    quote = ""
    n = 0
    while n < len(text):
        c = text[n]
        if quote:
            if c == "\\":
                n += 2
                continue
            if text.startswith(quote, n):
                n += len(quote)
                quote = ""
                continue
        elif c == "#":
            return text[:n]
        elif c in "'\"":
            quote = text[n : n + 3] if text[n : n + 3] in ('"""', "'''") else c
            n += len(quote)
            continue
        n += 1
    return text


def _continued(body: str) -> bool:
    return body.endswith("\\")


def _run_end(lines: list[str], i: int) -> int:
    """The line after ``lines[i]`` and its backslash continuations."""
    n = i
    while n < len(lines) - 1 and _continued(_body(lines[n])):
        n += 1
    return n + 1


def _blank_run(lines: list[str], out: list[str], blanks: list[Blank], i: int, kind: str, placeholder: bool = False) -> int:
    end = _run_end(lines, i)
    for n in range(i, end):
        out[n] = _spaces(lines[n])
        blanks.append(Blank(n + 1, kind if n == i else "magic-body"))
    if placeholder:  # an indented magic may be the only statement of its block: keep a statement there
        body = _body(lines[i])
        indent = _INDENT.match(body).end()  # type: ignore[union-attr]
        out[i] = body[:indent] + _placeholder(len(body) - indent) + lines[i][len(body):]
    return end


def _placeholder(width: int) -> str:
    """An expression exactly ``width`` characters wide (at least 1)."""
    token = "..." if width >= 3 else "0"
    return token + " " * (width - len(token))


def _spaces(line: str) -> str:
    body = _body(line)
    return " " * len(body) + line[len(body):]


class _Scanner:
    """Follows strings, brackets and backslash continuations line by line, to tell whether the next line
    starts a statement."""

    def __init__(self) -> None:
        self.quote = ""  # the open triple quote carried to the next line
        self.depth = 0
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return not self.quote and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        body = _body(line)
        n = 0
        quote = self.quote
        depth = self.depth
        size = len(body)
        while n < size:
            c = body[n]
            if quote:
                if c == "\\":
                    n += 2
                    continue
                if body.startswith(quote, n):
                    n += len(quote)
                    quote = ""
                    continue
                n += 1
                continue
            if c == "#":
                break
            if c in "'\"":
                quote = body[n : n + 3] if body[n : n + 3] in ('"""', "'''") else c
                n += len(quote)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth = max(0, depth - 1)
            n += 1
        self.continued = body.endswith("\\") and not (n < size and body[n] == "#")
        if len(quote) == 1 and not self.continued:
            quote = ""  # an unterminated one-line string: a syntax error Python reports itself
        self.quote = quote if len(quote) == 3 or self.continued else ""
        self.depth = depth
