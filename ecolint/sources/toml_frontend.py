"""TOML front end: fly.io ``fly.toml``, TOML model/quantization configs, anything with bitsandbytes keys.

``tomllib`` (``tomli`` before Python 3.11) decides validity and every value; it keeps no positions, so a
small scanner here walks the same text and records where each key, value and array item is written. The
two are joined by key path into the shared tree of :mod:`ecolint.sources.tree`, and the config dialects of
:mod:`ecolint.sources.dialects` do the rest (the same code as for YAML).
"""

from __future__ import annotations

import re
import sys
from typing import Any, Mapping

from ecolint.facts import FileFacts
from ecolint.sources import SourceError
from ecolint.sources.frontend import FrontEnd
from ecolint.sources.tree import CEntry, CNode, Tree, template_mark
from ecolint.sources.words import Source, align_word, literal_word

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def extract(path: str, text: str, settings) -> FileFacts:
    from ecolint.sources import dialects

    mark = template_mark(text)
    if mark is not None:
        raise SourceError("templated TOML (Jinja tags such as {{ ... }}) cannot be analysed as written; lint the rendered file",
                          mark[0], mark[1], code="ECO905")
    tree = parse(text)
    facts = FileFacts(path=path, kind="toml")
    dialects.extract(tree, facts, path, getattr(settings, "model_overrides", None) or {})
    return facts


def parse(text: str) -> Tree:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _WHERE.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        raise SourceError(f"cannot parse TOML: {_WHERE.sub('', msg).strip()} (line {line}, column {col})", line, col) from None
    except ValueError:  # not a syntax error: an integer longer than Python converts (int_max_str_digits)
        raise _too_long_integer(text) from None
    source = Source(text)
    root = _Scanner(source).scan()
    _assign(root, data)
    return Tree(source, "toml", [root])


def _too_long_integer(text: str) -> SourceError:
    limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
    m = re.search(r"(?<![0-9A-Za-z_])[-+]?[0-9](?:_?[0-9]){%d,}" % limit, text)
    line, col = Source(text).pos(m.start()) if m else (1, 1)
    return SourceError(f"cannot parse TOML: integer with more than {limit} digits (line {line}, column {col})", line, col)


def _assign(node: CNode, value: Any) -> None:
    if node.kind == "map" and isinstance(value, dict):
        for k, e in node.entries.items():
            if k in value:
                _assign(e.node, value[k])
    elif node.kind == "seq" and isinstance(value, list):
        for n, v in zip(node.items, value):
            _assign(n, v)
    elif node.kind == "scalar" and not isinstance(value, (dict, list)):
        node.value = value
        if isinstance(value, str) and node.word is not None and node.word.text != value:
            node.word = align_word(value, node.source, node.begin, node.end)


class _Scanner:
    def __init__(self, source: Source):
        self.src = source
        self.text = source.text
        self.i = 0

    def node(self, kind: str, begin: int, end: int) -> CNode:
        return CNode(kind, begin, end, self.src)

    def scan(self) -> CNode:
        text = self.text
        root = self.node("map", 0, len(text))
        table = root
        n = len(text)
        while self.i < n:
            self.skip_ws(newlines=True)
            if self.i >= n:
                break
            c = text[self.i]
            if c == "#":
                self.skip_line()
                continue
            if c == "[":
                array = text.startswith("[[", self.i)
                self.i += 2 if array else 1
                keys = self.key()
                j = text.find("\n", self.i)
                self.i = n if j == -1 else j
                table = self.table(root, keys, array)
                continue
            begin = self.i
            keys = self.key()
            self.skip_ws()
            if self.i >= n or text[self.i] != "=":
                self.skip_line()
                continue
            self.i += 1
            self.skip_ws()
            value = self.value()
            target = table
            if not keys:
                self.skip_line()
                continue
            for part, _, _ in keys[:-1]:
                target = self.child_map(target, part, begin)
            name, key_end, key_start = keys[-1]
            prefix = text[begin:key_start]
            entry = CEntry(name, begin, key_end, value, target, block=True, prefix=prefix)
            target.entries[name] = entry
            self.skip_ws()
            if self.i < n and text[self.i] == "#":
                self.skip_line()
        return root

    # -- pieces ---------------------------------------------------------------------------------------
    def skip_ws(self, newlines: bool = False) -> None:
        chars = " \t\r\n" if newlines else " \t"
        while self.i < len(self.text) and self.text[self.i] in chars:
            self.i += 1

    def skip_line(self) -> None:
        j = self.text.find("\n", self.i)
        self.i = len(self.text) if j == -1 else j + 1

    def key(self) -> list[tuple[str, int, int]]:
        """Dotted key -> [(name, end offset, start offset)]."""
        parts = []
        text = self.text
        while self.i < len(text):
            self.skip_ws()
            start = self.i
            if self.i < len(text) and text[self.i] in "\"'":
                q = text[self.i]
                j = self.i + 1
                while j < len(text) and text[j] != q:
                    j += 2 if q == '"' and text[j] == "\\" else 1
                raw = text[self.i:j + 1]
                name = raw[1:-1] if q == "'" else _unescape(raw)
                self.i = j + 1
            else:
                m = _BARE.match(text, self.i)
                if not m:
                    break
                name = m.group(0)
                self.i = m.end()
            parts.append((name, self.i, start))
            self.skip_ws()
            if self.i < len(text) and text[self.i] == ".":
                self.i += 1
                continue
            break
        return parts

    def child_map(self, parent: CNode, name: str, at: int) -> CNode:
        e = parent.entries.get(name)
        if e is not None:
            if e.node.kind == "seq" and e.node.items:
                return e.node.items[-1]
            if e.node.kind == "map":
                return e.node
        child = self.node("map", at, at)
        parent.entries[name] = CEntry(name, at, at, child, parent, block=False)
        return child

    def table(self, root: CNode, keys: list, array: bool) -> CNode:
        cur = root
        if not keys:
            return root
        for name, _end, start in keys[:-1]:
            cur = self.child_map(cur, name, start)
        name, end, start = keys[-1]
        if array:
            e = cur.entries.get(name)
            if e is None or e.node.kind != "seq":
                seq = self.node("seq", start, end)
                cur.entries[name] = CEntry(name, start, end, seq, cur, block=False)
                e = cur.entries[name]
            item = self.node("map", start, end)
            e.node.items.append(item)
            return item
        e = cur.entries.get(name)
        if e is not None and e.node.kind == "map":
            return e.node
        table = self.node("map", start, end)
        cur.entries[name] = CEntry(name, start, end, table, cur, block=False)
        return table

    def value(self) -> CNode:
        text = self.text
        n = len(text)
        b = self.i
        if text.startswith('"""', b) or text.startswith("'''", b):
            q = text[b:b + 3]
            j = b + 3
            while True:
                j = text.find(q, j)
                if j == -1:
                    j = n
                    break
                if q == '"""' and _escaped(text, j):
                    j += 1
                    continue
                break
            while j + 3 < n and text[j + 3] == q[0]:
                j += 1
            self.i = min(n, j + 3)
            node = self.node("scalar", b, self.i)
            node.word = align_word(text[b + 3:j], self.src, b + 3, j)
            return node
        if b < n and text[b] in "\"'":
            q = text[b]
            j = b + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if q == '"' and text[j] == "\\" else 1
            self.i = min(n, j + 1)
            node = self.node("scalar", b, self.i)
            node.word = literal_word(self.src, b + 1, j)
            return node
        if b < n and text[b] == "[":
            node = self.node("seq", b, b)
            self.i += 1
            while self.i < n:
                self.skip_comments()
                if self.i < n and text[self.i] == "]":
                    self.i += 1
                    break
                node.items.append(self.value())
                self.skip_comments()
                if self.i < n and text[self.i] == ",":
                    self.i += 1
            node.end = self.i
            return node
        if b < n and text[b] == "{":
            node = self.node("map", b, b)
            self.i += 1
            while self.i < n:
                self.skip_ws()
                if self.i < n and text[self.i] == "}":
                    self.i += 1
                    break
                kb = self.i
                keys = self.key()
                self.skip_ws()
                if self.i < n and text[self.i] == "=":
                    self.i += 1
                self.skip_ws()
                v = self.value()
                target = node
                for part, _, _ in keys[:-1]:
                    target = self.child_map(target, part, kb)
                if keys:
                    target.entries[keys[-1][0]] = CEntry(keys[-1][0], kb, keys[-1][1], v, target, block=False)
                self.skip_ws()
                if self.i < n and text[self.i] == ",":
                    self.i += 1
                elif self.i < n and text[self.i] != "}":
                    break
            node.end = self.i
            return node
        j = b
        while j < n and text[j] not in ",]}#\r\n":
            j += 1
        e = j
        while e > b and text[e - 1] in " \t":
            e -= 1
        self.i = e if e > b else min(n, b + 1)
        node = self.node("scalar", b, e)
        node.word = literal_word(self.src, b, e)
        return node

    def skip_comments(self) -> None:
        while self.i < len(self.text):
            self.skip_ws(newlines=True)
            if self.i < len(self.text) and self.text[self.i] == "#":
                self.skip_line()
                continue
            break


def _escaped(text: str, j: int) -> bool:
    k = j - 1
    count = 0
    while k >= 0 and text[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


def _unescape(raw: str) -> str:
    try:
        return tomllib.loads(f"x = {raw}")["x"]
    except tomllib.TOMLDecodeError:
        return raw[1:-1]


class TomlFrontEnd(FrontEnd):
    """TOML configs: the config dialects over the scanned tree."""

    kind = "toml"

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract(path, text, settings)

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        from ecolint.sources.config_tokens import TOKENS

        return TOKENS

    def hides_tokens(self, text: str) -> bool:
        return "\\" in text and any(e in text for e in ("\\x", "\\u", "\\U"))  # escapes in basic strings and quoted keys


FRONT_END = TomlFrontEnd()
