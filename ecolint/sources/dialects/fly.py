"""fly.io (``fly.toml``, or ``app`` with fly's own tables): ``[build] image``, ``[env]``,
``[experimental] cmd``/``entrypoint``, ``[processes]``, and ``[[vm]] size``/``gpu_kind`` (or ``vm_size``) as
the GPU hint."""

from __future__ import annotations

from typing import ClassVar

from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, container, env_from_map, is_map, merge_tokens
from ecolint.sources.tree import CNode
from ecolint.sources.words import Word

_FLY_KEYS = {"primary_region", "vm", "http_service", "env", "build"}
VM_GPU_KEYS = ("gpu_kind", "size")


class Fly(Dialect):
    name = "fly"
    tokens: ClassVar[Tokens] = merge_tokens(LAUNCH_TOKENS, {"gpu_hints": VM_GPU_KEYS + ("vm_size",)})

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        if doc.kind != "map":
            return False
        keys = set(doc.entries)
        return ctx.path.rsplit("/", 1)[-1].startswith("fly") or ("app" in keys and bool(keys & _FLY_KEYS))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        env = env_from_map(ctx, doc.get("env")) if doc.get("env") is not None else {}
        build = doc.get("build")
        image = build.get("image") if build is not None and build.kind == "map" else None
        vms = doc.get("vm")
        for vm in (vms.items if vms is not None and vms.kind == "seq" else [vms] if vms is not None else []):
            if vm.kind == "map":
                for key in VM_GPU_KEYS:
                    e = vm.entries.get(key)
                    if e is not None:
                        ctx.gpu(e.node.value, e.span, "fly.io vm")
        if doc.get("vm_size") is not None:
            ctx.gpu(doc.scalar("vm_size"), doc.entries["vm_size"].span, "fly.io vm")
        commands: list[list[Word]] = []
        exp = doc.get("experimental")
        if exp is not None and exp.kind == "map":
            w = ctx.words(exp.get("entrypoint")) + ctx.words(exp.get("cmd"))
            if w:
                commands.append(w)
        procs = doc.get("processes")
        if is_map(procs):
            assert procs is not None
            for e in procs.entries.values():
                commands.append(ctx.words(e.node))
        if not commands:
            commands.append([])
        anchor = doc.entries["env"].key_span if "env" in doc.entries else None
        for words in commands:
            container(ctx, image, words, env, anchor)


DIALECT = Fly()
