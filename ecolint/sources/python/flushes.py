"""``torch.cuda.empty_cache()`` once per generated batch: in a loop whose body generates, or in a web request
handler that generates. The calls are collected during the extraction pass and placed at its end, when every
generation of the file (and of the local functions a loop calls) is known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from ecolint.facts import CacheFlush, Generation, Span
from ecolint.sources.python import per_request
from ecolint.sources.python.resolve import Scope

if TYPE_CHECKING:
    from ecolint.sources.python.recognise import Analyzer

FLUSH_CALL = "torch.cuda.empty_cache"


@dataclass
class PendingFlush:
    span: Span
    loops: list[Any]  # the enclosing loops of the same function (innermost last), kept alive until placed
    scope: Scope


def place_flushes(a: Analyzer, flushes: list[PendingFlush], loop_generations: dict[int, list[Generation]], pending: list) -> None:
    """Record each flush that runs once per generated batch as a :class:`CacheFlush` fact."""
    for flush in flushes:
        fact = _in_generating_loop(a, flush, loop_generations, pending) or _in_handler(a, flush)
        if fact is not None:
            a.facts.cache_flushes.append(fact)


def _in_generating_loop(a: Analyzer, flush: PendingFlush, loop_generations: dict[int, list[Generation]], pending: list) -> CacheFlush | None:
    for loop in reversed(flush.loops):
        start = loop.header.line
        # (a finished loop's id may be reused by a later one: its generations all come before this loop's header)
        generates = any(g.span.line >= start for g in loop_generations.get(id(loop), ())) or any(
            p.loop is loop and p.func in a.generating_functions for p in pending)
        if generates:
            return CacheFlush(flush.span, "loop", loop.header, loop.desc)
    return None


def _in_handler(a: Analyzer, flush: PendingFlush) -> CacheFlush | None:
    node = flush.scope.node
    if not isinstance(node, cst.FunctionDef):
        return None
    route = next((r for r in (per_request.route(a, d) for d in node.decorators) if r), "")
    if not route:
        return None
    where = a.span(node)
    if not any(where.line <= g.span.line <= where.end_line for g in a.facts.generations):
        return None  # the handler does not generate (a health check, an admin endpoint)
    header = Span(where.line, where.col, where.line, where.col + 3 + len(node.name.value) + 1)
    return CacheFlush(flush.span, "handler", header, f"{route} handler `{node.name.value}`")
