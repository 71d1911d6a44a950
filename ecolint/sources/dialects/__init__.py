"""Config dialects: each module reads one kind of YAML/TOML document (see :mod:`.base` for the interface and
for how dialects that match the same document combine).

To add a dialect: write one module here with a :class:`~.base.Dialect` subclass and a ``DIALECT`` instance,
list it in ``DIALECTS`` below, and add its fixtures and tests. Its ``tokens`` reach the prefilter through
:func:`tokens`; no rule needs to change.
"""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.sources.dialects import axolotl, compose, engines, fly, generic, k8s, llamafactory, sagemaker, scripts, vllm_config
from ecolint.sources.dialects.base import STAGES, Ctx, Dialect, Tokens, merge_tokens
from ecolint.sources.tree import CNode, Tree, walk

DIALECTS: tuple[Dialect, ...] = (
    k8s.DIALECT,
    compose.DIALECT,
    engines.DIALECT,
    scripts.DIALECT,
    fly.DIALECT,
    axolotl.DIALECT,
    llamafactory.DIALECT,
    vllm_config.DIALECT,
    sagemaker.DIALECT,
    generic.DIALECT,
)

# Facts that nothing else refers to: one recorded by two dialects for the same span is kept once.
_LEAF_LISTS = ("dtype_uses", "batch_settings")


def tokens() -> Tokens:
    """Fact-list name -> every word whose presence can let some dialect add to that list."""
    return merge_tokens(*(d.tokens for d in DIALECTS))


def recognised(doc: CNode, ctx: Ctx) -> list[str]:
    """Names of the dialects that recognise ``doc`` given what earlier stages claimed (for tests and tools)."""
    return [d.name for d in DIALECTS if d.recognise(doc, ctx)]


def extract(tree: Tree, facts: FileFacts, path: str, overrides: dict) -> None:
    """Every document through every dialect that recognises it, stage by stage."""
    ctx = Ctx(tree, facts, path, overrides)
    for doc in tree.docs:
        _index_parents(ctx, doc)
        recorded: dict[str, set] = {name: set() for name in _LEAF_LISTS}
        for stage in STAGES:
            for dialect in DIALECTS:
                if dialect.stage == stage and dialect.recognise(doc, ctx):
                    before = {name: len(getattr(facts, name)) for name in _LEAF_LISTS}
                    dialect.extract(doc, ctx)
                    _drop_repeats(facts, before, recorded)


def _index_parents(ctx: Ctx, doc: CNode) -> None:
    for entry, node in walk(doc):
        if entry is not None:
            ctx.parents[id(node)] = entry.parent
        elif node.kind == "seq":
            for item in node.items:
                ctx.parents.setdefault(id(item), node)


def _drop_repeats(facts: FileFacts, before: dict[str, int], recorded: dict[str, set]) -> None:
    """Drop the leaf facts one dialect just recorded at a span that another dialect already recorded."""
    for name, start in before.items():
        items = getattr(facts, name)
        fresh = items[start:]
        kept = [f for f in fresh if f.span not in recorded[name]]
        if len(kept) != len(fresh):
            items[start:] = kept
        recorded[name].update(f.span for f in kept)
