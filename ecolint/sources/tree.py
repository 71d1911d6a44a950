"""One position-carrying document tree for YAML and TOML.

The YAML front end builds it from ``yaml.compose`` nodes, the TOML front end from its own scanner; the
config dialects in :mod:`ecolint.sources.dialects` read only this tree, so an axolotl key means the same in
either syntax. Every node and key knows its source offsets, which is all the text edits need: replacing a
scalar, deleting whole ``key: value`` lines, inserting a sibling line. Edits keep everything else (comments,
quoting, indentation) byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from ecolint.facts import Edit, FixCandidate, Span
from ecolint.sources.words import Source, Word
from ecolint.text import split_lines


@dataclass(eq=False)
class CNode:
    kind: str  # map | seq | scalar
    begin: int
    end: int
    source: Source
    value: Any = None  # scalars: str | bool | int | float | None
    entries: dict[str, "CEntry"] = field(default_factory=dict)
    items: list["CNode"] = field(default_factory=list)
    word: Optional[Word] = None  # string scalars: characters mapped to the source
    tag: str = ""
    shared: bool = False  # a YAML anchor that an alias or merge key (``*a``, ``<<: *a``) refers to elsewhere

    @property
    def span(self) -> Span:
        return self.source.span(self.begin, self.end)

    def get(self, key: str) -> Optional["CNode"]:
        e = self.entries.get(key)
        return e.node if e else None

    def scalar(self, key: str, default: Any = None) -> Any:
        n = self.get(key)
        return n.value if n is not None and n.kind == "scalar" else default


@dataclass(eq=False)
class CEntry:
    key: str
    key_begin: int
    key_end: int
    node: CNode
    parent: CNode
    block: bool = True  # ``key: value`` starts its own line (the line can be removed or followed)
    prefix: str = ""  # TOML dotted-key prefix written before the key (``bnb.``)

    @property
    def key_span(self) -> Span:
        return self.node.source.span(self.key_begin, self.key_end)

    @property
    def span(self) -> Span:
        """From the key to the end of the value: where findings about this setting point."""
        end = self.node.end if self.node.end > self.key_end else self.key_end
        if self.node.kind != "scalar":
            end = self.key_end
        return self.node.source.span(self.key_begin, end)


@dataclass
class Tree:
    source: Source
    flavor: str  # yaml | toml
    docs: list[CNode] = field(default_factory=list)

    # -- edits ------------------------------------------------------------------------------------------
    def replace_scalar(self, node: CNode, new: str) -> Optional[FixCandidate]:
        if node.kind != "scalar" or node.word is None:
            return None
        edit = node.word.replace(0, len(node.word.text), new)
        return FixCandidate([edit]) if edit else None

    def _last_line(self, entry: CEntry) -> Optional[tuple[int, int]]:
        """(first line start offset, offset after the entry's last line) when the entry owns whole lines."""
        src = self.source
        text = src.text
        if not entry.block:
            return None
        line, _ = src.pos(entry.key_begin)
        start = src.starts[line - 1]
        if text[start:entry.key_begin].strip(" \t") != "":
            return None
        end = max(entry.node.end, entry.key_end)
        while end > entry.key_end and text[end - 1] in " \t\r\n":
            end -= 1
        last, _ = src.pos(max(end - 1, entry.key_begin))
        after = src.starts[last] if last < len(src.starts) else len(text)
        return start, after

    def remove_entries(self, entries: list[CEntry]) -> Optional[FixCandidate]:
        edits: list[Edit] = []
        loss = False
        parents: dict[int, tuple[CNode, int]] = {}
        for e in entries:
            rng = self._last_line(e)
            if rng is None:
                return None
            start, after = rng
            removed = self.source.text[start:after]
            if "#" in removed:
                loss = True
            edits.append(Edit(self.source.span(start, after), ""))
            p = parents.setdefault(id(e.parent), (e.parent, 0))
            parents[id(e.parent)] = (p[0], p[1] + 1)
        for parent, count in parents.values():
            if count >= len(parent.entries) and parent not in self.docs:
                return None  # would leave an empty (null) mapping behind
        return FixCandidate(edits, comment_loss=loss)

    def insert_after(self, entry: CEntry, key: str, literal: str) -> Optional[FixCandidate]:
        rng = self._last_line(entry)
        if rng is None:
            return None
        start, after = rng
        indent = self.source.text[start:entry.key_begin]
        value = _literal(literal)
        line = f"{indent}{entry.prefix}{key}: {value}" if self.flavor == "yaml" else f"{indent}{entry.prefix}{key} = {value}"
        text = self.source.text
        newline = "\r\n" if text[max(0, after - 2):after] == "\r\n" else "\n"
        if after == len(text) and not text.endswith(("\n", "\r")):
            return FixCandidate([Edit(self.source.span(after, after), newline + line)])
        return FixCandidate([Edit(self.source.span(after, after), line + newline)])


def _literal(python_literal: str) -> str:
    return {"True": "true", "False": "false", "None": "null"}.get(python_literal, python_literal)


def walk(root: CNode, limit: int = 50_000) -> Iterator[tuple[Optional[CEntry], CNode]]:
    """Every node once (shared YAML anchors and recursive aliases included), with the entry that holds it."""
    seen: set[int] = set()
    stack: list[tuple[Optional[CEntry], CNode]] = [(None, root)]
    count = 0
    while stack and count < limit:
        entry, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        yield entry, node
        if node.kind == "map":
            stack.extend((e, e.node) for e in reversed(list(node.entries.values())))
        elif node.kind == "seq":
            stack.extend((None, n) for n in reversed(node.items))


_TEMPLATE = re.compile(r"(?<![$\w])\{\{|\{%|\{#-?\s")


def template_mark(text: str) -> Optional[tuple[int, int]]:
    """(line, column) of the first Helm/Jinja template tag outside a comment; ``${{ }}`` (GitHub Actions,
    Azure Pipelines expressions) is YAML-valid text, not a template."""
    for line, col, _ in template_marks(text):
        return line, col
    return None


def template_marks(text: str) -> Iterator[tuple[int, int, int]]:
    """(line, column, offset) of every Helm/Jinja template tag outside a comment, in order."""
    offset = 0
    for number, line in enumerate(split_lines(text, keepends=True), 1):
        start = offset
        offset += len(line)
        if line.lstrip().startswith("#"):
            continue
        hash_at = line.find(" #")
        for m in _TEMPLATE.finditer(line):
            if hash_at != -1 and hash_at < m.start() and line[:hash_at].count('"') % 2 == 0 and line[:hash_at].count("'") % 2 == 0:
                break
            yield number, m.start() + 1, start + m.start()
