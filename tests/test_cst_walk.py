"""The fast libcst walk and the per-statement positions must agree exactly with libcst's own traversal and
``PositionProvider``, node by node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from ecolint.sources.cst_positions import Positions
from ecolint.sources.cst_walk import children, names_in, walk

ROOT = Path(__file__).resolve().parent.parent

# Syntax that exercises unusual node types, line breaks inside tokens, and indentation styles.
SAMPLES = {
    "kitchen_sink": '''\
#!/usr/bin/env python
# header comment

"""Module docstring
spanning lines."""
import os, sys as system
from typing import (
    Any,  # trailing comment
    Optional,
)

@decorator
@other.decorator(arg,
                 kw=1)
async def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "x":
    global G
    x = lambda y: (
        y + 1)
    async with ctx() as (p, q), other():
        async for i in aiter():
            await i
    try:
        pass
    except* ValueError as e:
        raise
    finally:
        del x
    match command:
        case [Point(x=0, y=0), *rest] if rest:
            pass
        case {"k": v, **others} | None:
            pass
        case _:
            pass
    # a comment at the end of a block

class C(Base, metaclass=M):
    attr: int = 1
    def method(self):
        s = f"""multi
line {self.attr!r:>{width}} text
"""
        t = ("implicit "
             "concatenation" \\
             )
        if a:
            pass
        elif b:
            pass
        else:
            x = [i for i in range(3) if i if not i]
        while (n := next(it)) is not None:
            yield from g()
        return {**d, 'k': v}, {1, 2}, (*a, *b)
    \t
# footer comment
''',
    "crlf": "import torch\r\nx = 1\r\nif x:\r\n    y = '''a\r\nb'''\r\n    z = 2\r\n",
    "cr_and_mixed": "x = 1\ry = 2\nif x:\r\n  z = 3\r",
    "tabs_and_backslash": "if x:\n\ty = 1 + \\\n\t\t2\n\tif y:\n\t\tz = 3\n",
    "no_trailing_newline": "def f():\n    return 1",
    "comments_only": "# just a comment\n\n# and another",
    "semicolons": "a = 1; b = 2\nif a: b = 3; c = 4\nelse: pass\n",
}


def _modules():
    for name, text in SAMPLES.items():
        yield name, text
    for path in sorted((ROOT / "fixtures").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        yield path.name, text


MODULES = list(_modules())


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []

    class Record(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            out.append(node)
            return True

    module.visit(Record())
    return out


@pytest.mark.parametrize("name, text", MODULES, ids=[m[0] for m in MODULES])
def test_children_match_libcst(name, text):
    module = cst.parse_module(text)
    for node in _all_nodes(module):
        mine, theirs = children(node), node.children
        assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs)), type(node).__name__


@pytest.mark.parametrize("name, text", MODULES, ids=[m[0] for m in MODULES])
def test_positions_match_position_provider(name, text):
    module = cst.parse_module(text)
    positions = Positions(module, text)
    walk(module, object(), observer=positions)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in _all_nodes(module) if not isinstance(n, cst.Module)]
    for node in reversed(nodes):  # innermost first: each request resolves one unit
        assert positions[node] == expected[node], (type(node).__name__, cst.Module([]).code_for_node(node))
    if module.code == text:  # (libcst drops a lone "\r" ending a file: that unit falls back)
        assert not positions.everything, "a unit's generated code did not match the source where counted"


CLASSES = (
    "# leading comment\n"
    "\n"
    "@decorator\n"
    "@other.decorator(arg,\n"
    "                 '''multi\n"
    "line''')\n"
    "\n"
    "class A(Base):\n"
    "    x = 1\n"
    "    @dataclass\n"
    "    class Inner: pass\n"
    "\n"
    "class \\\n"
    "  B: pass\n"
)


@pytest.mark.parametrize("name, text", [*MODULES, ("classes", CLASSES)], ids=[m[0] for m in MODULES] + ["classes"])
def test_class_start_line_matches_position_provider(name, text):
    module = cst.parse_module(text)
    positions = Positions(module, text)
    walk(module, object(), observer=positions)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in [n for n in _all_nodes(module) if isinstance(n, cst.ClassDef)]:
        assert positions.start_line(node) == expected[node].start.line, cst.Module([]).code_for_node(node)
    if name == "classes":
        assert not positions.done, "counted without generating the classes"


def test_positions_fall_back_when_the_text_differs():
    text = SAMPLES["kitchen_sink"]
    module = cst.parse_module(text)
    positions = Positions(module, "\n" + text)  # every line one lower than the tree says
    walk(module, object(), observer=positions)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    node = _all_nodes(module)[-1]
    assert positions[node] == expected[node] and positions.everything


class _Trace(cst.CSTVisitor):
    """Records visit/leave calls; skips the children of lambdas and of ``if`` tests."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def visit_Lambda(self, node):
        self.calls.append(("visit", "Lambda"))
        return False

    def leave_Lambda(self, node):
        self.calls.append(("leave", "Lambda"))

    def visit_Name(self, node):
        self.calls.append(("visit", node.value))

    def leave_Name(self, node):
        self.calls.append(("leave", node.value))

    def visit_If(self, node):
        self.calls.append(("visit", "If"))

    def visit_Comparison(self, node):
        return False


def test_walk_calls_what_libcst_visit_calls():
    module = cst.parse_module(SAMPLES["kitchen_sink"] + "if a < b:\n    f = lambda qq: qq\n")
    theirs, mine = _Trace(), _Trace()
    module.visit(theirs)
    walk(module, mine)
    assert mine.calls == theirs.calls and ("visit", "qq") not in mine.calls


def test_names_in_skips_attribute_names():
    expr = cst.parse_expression("f(a.b.c, d[e], g=h.i)")
    assert names_in(expr) == {"f", "a", "d", "e", "g", "h"}  # (a keyword is a Name too)
