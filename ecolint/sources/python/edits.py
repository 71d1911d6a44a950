"""Fix edits for Python code: the smallest text changes that set, add or remove one option or replace one dtype.

An option is added or removed with its comma and its own comment, and nothing else of the call or dict is
rewritten (the bracket arithmetic is in :mod:`ecolint.sources.python.brackets`). :meth:`Edits.guarded` then marks
an edit that could change more than its message names as advice only or unsafe.
"""

from __future__ import annotations

from functools import cached_property
from typing import Optional, Sequence

import libcst as cst

from ecolint.dtypes import dtype_name
from ecolint.facts import FixCandidate, QuantSpec
from ecolint.sources.cst_walk import children
from ecolint.sources.python.brackets import (
    Items,
    SourceText,
    append,
    comment_in,
    format_off_lines,
    removal,
)
from ecolint.sources.python.resolve import Item, Resolver
from ecolint.sources.python.vocab import BNB_OPTIONS


class Edits:
    """Builds :class:`~ecolint.facts.FixCandidate` objects for one module (its text and the resolver's positions
    and bindings). Nothing is measured until a fix is asked for."""

    def __init__(self, text: str, resolver: Resolver):
        self.text = text
        self.r = resolver
        self.changed_specs: set[int] = set()  # id(QuantSpec) whose object gets attribute assignments later

    @cached_property
    def source(self) -> SourceText:
        return SourceText(self.text)

    @cached_property
    def format_off(self) -> list[tuple[int, int]]:
        """Line ranges the user keeps out of formatting."""
        return format_off_lines(self.text)

    def span(self, node: cst.CSTNode):
        return self.r.span(node)

    def offer(self, ranges: Sequence[tuple[int, int, str]], comment_loss: bool = False) -> Optional[FixCandidate]:
        """A fix from (start, end, replacement) offset ranges, or None when one of them reaches into a region the
        user keeps out of formatting (``# fmt: off`` ... ``# fmt: on``, a ``# fmt: skip`` line): an edit there
        could not follow the user's layout, so such a finding is advice only."""
        src = self.source
        regions = self.format_off
        if regions:
            for start, end, _ in ranges:
                first, last = src.position(start)[0], src.position(end)[0]
                if any(a <= last and first <= b for a, b in regions):
                    return None
        return FixCandidate([src.edit(*r) for r in ranges], comment_loss=comment_loss)

    def replace_edit(self, node: cst.CSTNode, content: str) -> Optional[FixCandidate]:
        r = self.span(node)
        src = self.source
        return self.offer([(src.offset(r.line, r.col), src.offset(r.end_line, r.end_col), content)])

    def measure(self, container: cst.CSTNode) -> Items:
        """Where the brackets and the items of a call's arguments or a dict's items are in the text."""
        src = self.source
        seq = container.args if isinstance(container, cst.Call) else container.elements
        r = self.span(container)
        close = src.offset(r.end_line, r.end_col) - 1  # (the span ends after the closing bracket)
        starts, ends, after = [], [], []
        for el in seq:
            sp = self.span(el)
            starts.append(src.offset(sp.line, sp.col))
            ends.append(src.offset(sp.end_line, sp.end_col))
            if isinstance(el.comma, cst.Comma):
                c = self.span(el.comma)
                after.append(src.offset(c.end_line, c.end_col))
            else:
                after.append(ends[-1])
        if isinstance(container, cst.Call):
            ws = container.whitespace_before_args  # between "(" and the first argument
            if isinstance(ws, cst.SimpleWhitespace):
                opening = (starts[0] if starts else close) - len(ws.value)
            else:  # a line break: its text depends on the indentation around it, its position does not
                w = self.span(ws)
                opening = src.offset(w.line, w.col)
        else:
            opening = src.offset(r.line, r.col) + 1
        return Items(opening, close, starts, ends, after)

    def comments_in(self, node: cst.CSTNode) -> list[int]:
        """Offsets of the comments inside ``node``."""
        from libcst import matchers

        src = self.source
        return [src.offset(self.span(c).line, self.span(c).col) for c in matchers.findall(node, matchers.Comment())]

    def set_option_edit(self, call: cst.Call, items: dict, name: str, literal: str) -> Optional[FixCandidate]:
        away = written_elsewhere(items.values())
        if away is not None:
            return away
        item = items.get(name)
        if item is not None:
            return self.replace_edit(item.expression, literal)
        # Add the option where the other options were written: the call itself or a dict literal.
        others = [it for k, it in items.items() if k in BNB_OPTIONS]
        if not others:
            return None
        container = others[0].container
        if any(it.container is not container for it in others):
            return None
        if isinstance(container, cst.Call):
            return self.set_option_edit_call(container, name, literal)
        if isinstance(container, cst.Dict):
            quote = next((k.key.quote for k in container.elements if isinstance(getattr(k, "key", None), cst.SimpleString)), '"')
            if len(quote) != 1:
                quote = '"'
            return self.offer(append(self.source, self.measure(container), f"{quote}{name}{quote}: {literal}"))
        return None

    def remove_items_edit(self, items: dict, names: Sequence[str]) -> Optional[FixCandidate]:
        doomed = [items[n] for n in names if n in items]
        if not doomed:
            return None
        away = written_elsewhere(doomed)
        if away is not None:
            return away
        ranges: list[tuple[int, int, str]] = []
        loss = False
        by_container: dict[int, list[Item]] = {}
        for it in doomed:
            by_container.setdefault(id(it.container), []).append(it)
        for group in by_container.values():
            container = group[0].container
            if isinstance(container, cst.Call):
                seq = container.args
            elif isinstance(container, cst.Dict):
                seq = container.elements
            else:
                return None
            remove = {id(it.element) for it in group}
            removed = removal(self.source, self.measure(container), [k for k, el in enumerate(seq) if id(el) in remove])
            loss = loss or comment_in(removed, self.comments_in(container))
            ranges.extend(removed)
        return self.offer(ranges, comment_loss=loss)

    def guarded(self, candidate: Optional[FixCandidate], touched: Sequence[Item], spec: Optional[QuantSpec] = None) -> Optional[FixCandidate]:
        """Mark an edit that could change more than its message names: a container that another call site
        reads or that is changed after it is built, a config object assigned to later, a binding (walrus) that
        later code reads -> advice only; a replaced or deleted expression that may do something -> unsafe."""
        if candidate is None:
            return None
        if spec is not None and id(spec) in self.changed_specs:
            candidate.advice_only = "the config object is changed after it is built"
        for it in touched:
            if getattr(it, "elsewhere", ""):
                candidate.advice_only = f"the value is written in {it.elsewhere}"
                continue
            if self.r.shared_container(it.container):
                candidate.advice_only = f"`{self.r.bound_to[id(it.container)]}` is also used elsewhere or changed later"
            value = getattr(it.element, "value", None)
            if value is None:
                continue
            if binds(value):
                candidate.advice_only = "it would delete a name that later code may read"
            elif not inert(value):
                candidate.side_effects = True
        return candidate

    def set_option_edit_call(self, call: cst.Call, name: str, literal: str) -> Optional[FixCandidate]:
        """Add ``name=literal`` as the call's last argument."""
        args = call.args
        if len(args) == 1 and isinstance(args[0].value, cst.GeneratorExp) and not args[0].value.lpar:
            return None  # `f(x for x in y)` takes no second argument
        return self.offer(append(self.source, self.measure(call), f"{name}={literal}"))

    def replace_dtype_edit(self, node: cst.CSTNode, new: str) -> Optional[FixCandidate]:
        """``torch.bfloat16`` -> ``torch.float16`` (only the attribute name changes) or ``"bfloat16"`` ->
        ``"float16"``."""
        if isinstance(node, cst.Attribute):
            if dtype_name(node.attr.value) == "other":  # `settings.DTYPE`: the dtype is written elsewhere
                return None
            return self.replace_edit(node.attr, new)
        if isinstance(node, cst.SimpleString):
            quote = node.quote
            return self.replace_edit(node, f"{node.prefix}{quote}{new}{quote}")
        return None


def written_elsewhere(items) -> Optional[FixCandidate]:
    """Advice only when an option's value is written in another module of the project (see
    :mod:`ecolint.project`): a fix never edits a file other than the one it is reported in."""
    for it in items:
        if getattr(it, "elsewhere", ""):
            return FixCandidate([], advice_only=f"the value is written in {it.elsewhere}")
    return None


def inert(node: cst.CSTNode) -> bool:
    """Deleting or replacing ``node`` cannot change what the program does: a literal, a name, a dotted name,
    a negative number, or a tuple/list of those. Anything else (a call, ``opts.pop(...)``, a subscript that
    may raise, an f-string) may have an effect."""
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Name, cst.Ellipsis)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return inert(node.left) and inert(node.right)
    if isinstance(node, cst.Attribute):
        return inert(node.value)
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, (cst.Minus, cst.Plus)) and isinstance(node.expression, (cst.Integer, cst.Float))
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(not isinstance(el, cst.StarredElement) and inert(el.value) for el in node.elements)
    return False


def binds(node: cst.CSTNode) -> bool:
    """Does ``node`` bind a name (``(dt := torch.float16)``) that later code may read?"""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.NamedExpr):
            return True
        if not isinstance(n, cst.Lambda):  # (a walrus in a comprehension binds in the enclosing scope)
            stack.extend(children(n))
    return False

