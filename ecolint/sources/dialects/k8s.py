"""Kubernetes (any object with ``containers`` / ``initContainers``: Deployment, StatefulSet, Pod, Job, CronJob,
KServe …): each container's ``image``, ``command`` + ``args`` and ``env``. ``$(NAME)`` in a command refers to
the container's own environment. Node selectors and affinities naming a GPU are read by the generic scan."""

from __future__ import annotations

import re
from typing import ClassVar

from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, container, env_from_map
from ecolint.sources.tree import CNode, walk

CONTAINER_LISTS = ("containers", "initContainers")
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _containers(doc: CNode, ctx: Ctx) -> list[CNode]:
    out: list[CNode] = []
    for entry, node in walk(doc):
        if entry is not None and entry.key in CONTAINER_LISTS and node.kind == "seq":
            out.extend(c for c in node.items if c.kind == "map" and not ctx.claimed(c) and ("image" in c.entries or "command" in c.entries))
    return out


class Kubernetes(Dialect):
    name = "k8s"
    tokens: ClassVar[Tokens] = LAUNCH_TOKENS

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return bool(_containers(doc, ctx))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        for c in _containers(doc, ctx):
            if not ctx.claimed(c):
                _container(ctx, c)


def _container(ctx: Ctx, c: CNode) -> None:
    ctx.claim(c)
    env = env_from_map(ctx, c.get("env"))
    words = ctx.words(c.get("command")) + ctx.words(c.get("args"))
    variables = {k: s.value.value for k, s in env.items() if s.value.known and isinstance(s.value.value, str)}
    for w in words:
        m = _VAR.fullmatch(w.text)
        if m and m.group(1) in variables:
            w.text = variables[m.group(1)]
            w.starts = [w.begin] * len(w.text)
            w.ends = [w.end] * len(w.text)
            w.expands = False
    container(ctx, c.get("image"), words, env, c.span)


DIALECT = Kubernetes()
