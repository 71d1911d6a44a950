"""Shell scripts inside YAML: GitHub Actions ``steps[].run``, SkyPilot ``run: |``, dstack ``commands:``, GitLab CI
``script:``. Each script is read like a ``.sh`` file (:func:`ecolint.sources.launch.run_script`: variables,
``export``, arrays, continuation lines, launches, lm-eval and ms-swift commands), with the variables of the
sibling (and top-level) ``env`` / ``envs`` block: exported server variables reach the launches."""

from __future__ import annotations

from typing import ClassVar, Optional

from ecolint.sources import launch
from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, env_from_map
from ecolint.sources.tree import CNode, walk
from ecolint.sources.words import split_shell

SCRIPT_KEYS = ("run", "commands", "script")
ENV_KEYS = ("env", "envs", "environment", "variables")


def _scripts(doc: CNode, ctx: Ctx) -> list[tuple[CNode, CNode]]:
    """(the mapping, its script node) for every ``run``/``commands``/``script`` holding shell text."""
    out = []
    for _, node in walk(doc):
        if node.kind != "map" or ctx.claimed(node):
            continue
        for key in SCRIPT_KEYS:
            s = node.get(key)
            if s is None or ctx.claimed(s):
                continue
            if (s.kind == "scalar" and isinstance(s.value, str)) or (s.kind == "seq" and s.items and all(i.kind == "scalar" and isinstance(i.value, str) for i in s.items)):
                out.append((node, s))
    return out


class Scripts(Dialect):
    name = "scripts"
    tokens: ClassVar[Tokens] = LAUNCH_TOKENS

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return bool(_scripts(doc, ctx))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        top_env = _env(ctx, doc) if doc.kind == "map" else {}
        for owner, script in _scripts(doc, ctx):
            ctx.claim(script)
            env = dict(top_env)
            if owner is not doc:
                env.update(_env(ctx, owner))
            variables = launch.Variables({k: s.value.value for k, s in env.items() if s.value.known and isinstance(s.value.value, str)})
            variables.spans.update({k: s.span for k, s in env.items()})
            state = launch.new_script(variables, {k: s for k, s in env.items() if k in launch.SERVER_ENV})
            items = script.items if script.kind == "seq" else [script]
            for item in items:
                w = ctx.word(item)
                if w is None:
                    continue
                commands = split_shell(ctx.tree.source, chars=w)
                launch.run_script(ctx.facts, commands, ctx.overrides, state)


def _env(ctx: Ctx, node: CNode) -> dict:
    out: dict = {}
    for key in ENV_KEYS:
        e: Optional[CNode] = node.get(key)
        if e is not None and e.kind in ("map", "seq"):
            out.update(env_from_map(ctx, e))
    return out


DIALECT = Scripts()
