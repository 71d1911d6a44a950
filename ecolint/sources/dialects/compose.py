"""docker-compose (a ``services:`` mapping): each service's ``image``, ``entrypoint`` + ``command`` (a string
or a list) and ``environment`` (a list of ``NAME=value`` or a mapping)."""

from __future__ import annotations

from typing import ClassVar

from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, container, env_from_map, is_map
from ecolint.sources.tree import CNode


class Compose(Dialect):
    name = "compose"
    tokens: ClassVar[Tokens] = LAUNCH_TOKENS

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return doc.kind == "map" and is_map(doc.get("services"))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        services = doc.get("services")
        assert services is not None
        for entry in services.entries.values():
            svc = entry.node
            if svc.kind == "map":
                ctx.claim(svc)
                env = env_from_map(ctx, svc.get("environment"))
                words = ctx.words(svc.get("entrypoint")) + ctx.words(svc.get("command"))
                container(ctx, svc.get("image"), words, env, svc.span)


DIALECT = Compose()
