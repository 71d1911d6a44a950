"""Walking a libcst tree without rebuilding it.

``node.visit(visitor)`` is written for transformers: it rebuilds (and re-validates) every node it passes, even
for a read-only visitor, and that was most of the cost of analysing a large module. The walk here visits the
same children in the same lexical order and calls the same ``visit_<Type>`` / ``leave_<Type>`` methods, without
building anything.

The order of a node type's children is what its ``_visit_and_replace_children`` hands to libcst's visiting
helpers, in that order; the field names it passes are the string constants of that method, so the order is
read from its code object once per type (no source files needed) and checked against ``node.children`` on the
first node of the type. A type where the two disagree falls back to ``node.children`` (correct, slow).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Protocol

import libcst as cst
from libcst import MaybeSentinel

_ORDER: dict[type, Optional[tuple[str, ...]]] = {}  # None: use node.children for this type


def _fields_in_visit_order(t: type) -> Optional[tuple[str, ...]]:
    try:
        names = {f.name for f in dataclasses.fields(t)}
        consts = t._visit_and_replace_children.__code__.co_consts
    except (TypeError, AttributeError):
        return None
    return tuple(c for c in consts if isinstance(c, str) and c in names)


def _collect(node: cst.CSTNode, order: tuple[str, ...]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for name in order:
        v = getattr(node, name)
        if v is None or v is MaybeSentinel.DEFAULT:
            continue
        if isinstance(v, (tuple, list)):
            out.extend(v)
        else:
            out.append(v)
    return out


def _learn(node: cst.CSTNode) -> Optional[tuple[str, ...]]:
    order = _fields_in_visit_order(type(node))
    if order is not None:
        mine, theirs = _collect(node, order), node.children
        if len(mine) != len(theirs) or any(a is not b for a, b in zip(mine, theirs)):
            order = None
    _ORDER[type(node)] = order
    return order


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (the direct children in lexical order), without rebuilding ``node``."""
    try:
        order = _ORDER[type(node)]
    except KeyError:
        order = _learn(node)
    if order is None:
        return list(node.children)
    return _collect(node, order)


def memo_children(memo: dict[int, list[cst.CSTNode]]) -> Callable[[cst.CSTNode], list[cst.CSTNode]]:
    """:func:`children`, remembered in ``memo`` by ``id`` (for walks over one tree that stays alive)."""

    def kids(node: cst.CSTNode) -> list[cst.CSTNode]:
        found = memo.get(id(node))
        if found is None:
            found = memo[id(node)] = children(node)
        return found

    return kids


class Observer(Protocol):
    def enter(self, node: cst.CSTNode) -> None: ...

    def leave(self, node: cst.CSTNode) -> None: ...


def _dispatch(visitor: object) -> Callable[[type], tuple]:
    table: dict[type, tuple] = {}

    def methods(t: type) -> tuple:
        pair = table.get(t)
        if pair is None:
            name = t.__name__
            pair = table[t] = (getattr(visitor, "visit_" + name, None), getattr(visitor, "leave_" + name, None))
        return pair

    return methods


def walk(root: cst.CSTNode, visitor: object, observer: Optional[Observer] = None, memo: Optional[dict[int, list[cst.CSTNode]]] = None) -> None:
    """Visit ``root`` as ``root.visit(visitor)`` would for a read-only visitor: ``visit_<Type>(node)`` (children
    are skipped when it returns ``False``), then the children, then ``leave_<Type>(node)``.

    An ``observer`` sees every node, in the same order, including those inside subtrees the visitor skips.
    ``memo``: the children of each node by ``id``, filled by this walk and used by the next over the same tree
    (the tree must stay alive in between)."""
    methods = _dispatch(visitor)
    kids = memo_children(memo) if memo is not None else children

    def go(node: cst.CSTNode) -> None:
        visit, leave = methods(type(node))
        if visit is None or visit(node) is not False:
            for kid in kids(node):
                go(kid)
        if leave is not None:
            leave(node)

    if observer is None:
        try:
            go(root)
        finally:
            go = None  # type: ignore[assignment]  # (the closure refers to itself: a reference cycle through the visitor)
        return
    enter, exit_ = observer.enter, observer.leave

    def quiet(node: cst.CSTNode) -> None:
        enter(node)
        for kid in kids(node):
            quiet(kid)
        exit_(node)

    def observed(node: cst.CSTNode) -> None:
        enter(node)
        visit, leave = methods(type(node))
        if visit is None or visit(node) is not False:
            for kid in kids(node):
                observed(kid)
        else:
            for kid in kids(node):
                quiet(kid)
        if leave is not None:
            leave(node)
        exit_(node)

    try:
        observed(root)
    finally:
        observed = quiet = go = None  # type: ignore[assignment]  # (break the closures' cycles, as above)


def names_in(node: cst.CSTNode) -> set[str]:
    """Every ``Name`` in ``node``, except attribute names (``a.b`` holds ``a``)."""
    names: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            names.add(n.value)
        elif isinstance(n, cst.Attribute):
            stack.append(n.value)
        else:
            stack.extend(children(n))
    return names
