"""Source ranges of libcst nodes, computed on demand for the statement that holds the node.

libcst computes positions by generating the code of the whole module (``PositionProvider``); a linter that
asks for a handful of spans in a 7,000-line module pays for all of it. Here the module is cut into *units*:
every statement that is a line of a block (a direct element of a module's or an indented block's body) and
every comment or blank line of the module's header and footer. A unit is generated alone, starting at its
first line and with the indentation of the blocks around it; that records exactly what ``PositionProvider``
reports for every node in it. A node belongs to the innermost unit holding it.

Where each unit starts is counted while the analysis walks the tree anyway (:meth:`Positions.enter` and
:meth:`Positions.leave` are a :class:`~ecolint.sources.cst_walk.Observer`): every line break of the module
comes from a ``Newline`` node or from inside the text of a string or whitespace node. A unit's generated code
must equal the source text on the lines the count gives it, which checks both the count and the unit (also
while the walk is still under way); where it does not, the request resolves the whole module, as libcst does.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState

# Node types whose own text (``value``) can hold line breaks: triple-quoted strings, f-string text, backslash
# continuations inside white space.
_TEXT_TYPES = frozenset(t for t in (cst.SimpleString, cst.FormattedStringText, cst.SimpleWhitespace, getattr(cst, "TemplatedStringText", None)) if t is not None)


def _breaks(text: str) -> int:
    if "\n" not in text and "\r" not in text:
        return 0
    return len(NEWLINE_RE.findall(text))


class Positions:
    """``positions[node]`` is the ``CodeRange`` libcst's ``PositionProvider`` gives ``node`` in ``module``, whose
    source is ``text``; units are recorded by walking the module with this object as the observer."""

    def __init__(self, module: cst.Module, text: str):
        self.module = module
        self.text = text
        self.provider = PositionProvider()
        self.computed = self.provider._computed
        self.unit_of: dict[int, int] = {}  # id(node) -> its unit (the module keeps every node alive)
        self.units: list[cst.CSTNode] = []
        self.starts: list[int] = []
        self.indents: list[tuple[str, ...]] = []
        self.done: set[int] = set()
        self.everything = False
        self._offsets: list[int] = []  # where each line of the text starts (computed on first use)
        # walk state
        self._line = 1
        self._unit_heads: set[int] = set()  # id() of the nodes that start a unit
        self._open: list[int] = []  # units being walked, innermost last
        self._indent: list[str] = []

    # -- the walk (an Observer) -----------------------------------------------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        t = type(node)
        key = id(node)
        if t is cst.IndentedBlock:
            self._indent.append(self.module.default_indent if node.indent is None else node.indent)
            self._unit_heads.update(map(id, node.body))
        elif t is cst.Module:
            self._unit_heads.update(map(id, node.header))
            self._unit_heads.update(map(id, node.body))
            self._unit_heads.update(map(id, node.footer))
        elif key in self._unit_heads:
            self._open.append(len(self.units))
            self.units.append(node)
            self.starts.append(self._line)
            self.indents.append(tuple(self._indent))
        if self._open:
            self.unit_of[key] = self._open[-1]
        if t is cst.Newline:
            self._line += 1
        elif t in _TEXT_TYPES:
            self._line += _breaks(node.value)

    def leave(self, node: cst.CSTNode) -> None:
        if self._open and self.units[self._open[-1]] is node:
            self._open.pop()
        elif type(node) is cst.IndentedBlock:
            self._indent.pop()
        elif type(node) is cst.Module:
            self._unit_heads = set()

    # -- lookups --------------------------------------------------------------------------------------------
    def __getitem__(self, node: cst.CSTNode):
        r = self.computed.get(node)
        if r is not None:
            return r
        k = self.unit_of.get(id(node))
        if k is None or k in self.done:
            self.resolve_all()
        else:
            self.resolve_unit(k)
        return self.computed[node]

    def start_line(self, node: cst.CSTNode) -> int:
        """``self[node].start.line``; for a class statement not resolved yet, counted from the lines before its
        ``class`` keyword (leading lines, decorators) instead of generating the whole class, and checked
        against the text."""
        r = self.computed.get(node)
        if r is None and type(node) is cst.ClassDef:
            k = self.unit_of.get(id(node))
            if k is not None and self.units[k] is node and k not in self.done:
                line = self.starts[k] + len(node.leading_lines) + len(node.lines_after_decorators)
                line += sum(_breaks(self.module.code_for_node(d)) for d in node.decorators)
                if self._line_starts_with(line, "class"):
                    return line
        return self[node].start.line

    def _line_starts_with(self, line: int, word: str) -> bool:
        offsets = self._line_offsets()
        if not 1 <= line <= len(offsets):
            return False
        code = self.text[offsets[line - 1] : offsets[line] if line < len(offsets) else len(self.text)].lstrip(" \t\f")
        return code.startswith(word) and code[len(word) : len(word) + 1] in (" ", "\t", "\f", "\\")

    def _line_offsets(self) -> list[int]:
        offsets = self._offsets
        if not offsets:
            offsets.append(0)
            offsets.extend(m.end() for m in NEWLINE_RE.finditer(self.text))
        return offsets

    def resolve_unit(self, k: int) -> None:
        m = self.module
        state = PositionProvidingCodegenState(default_indent=m.default_indent, default_newline=m.default_newline, provider=self.provider, line=self.starts[k])
        state.indent_tokens = list(self.indents[k])
        self.units[k]._codegen(state)
        if not self._is_source(self.starts[k], state.line, "".join(state.tokens)):
            self.resolve_all()
        self.done.add(k)

    def _is_source(self, first: int, after: int, code: str) -> bool:
        """Is ``code`` the text of lines ``first`` to ``after - 1``?"""
        offsets = self._line_offsets()
        if not 1 <= first <= len(offsets):
            return False
        a = offsets[first - 1]
        b = offsets[after - 1] if after - 1 < len(offsets) else len(self.text)
        got = self.text[a:b]
        # (the module's last line may lack the line break libcst generates for it)
        return got == code or (b == len(self.text) and code.startswith(got) and code[len(got) :] in ("\n", "\r\n", "\r"))

    def resolve_all(self) -> None:
        if self.everything:
            return
        self.everything = True
        self.computed.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
        self.done.update(range(len(self.units)))
