"""Kubernetes (any object with ``containers`` / ``initContainers``: Deployment, StatefulSet, Pod, Job, CronJob,
KServe …): each container's ``image``, ``command`` + ``args`` and ``env``. ``$(NAME)`` in a command refers to
the container's own environment. Node selectors and affinities naming a GPU are read by the generic scan."""

from __future__ import annotations

import re
from typing import ClassVar

from ecolint.facts import DEFAULT, ModelRef
from ecolint.sources import launch
from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, container, env_from_map
from ecolint.sources.tree import CNode, walk

CONTAINER_LISTS = ("containers", "initContainers")
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _containers(doc: CNode, ctx: Ctx) -> list[CNode]:
    out: list[CNode] = []
    for entry, node in walk(doc):
        if entry is not None and entry.key in CONTAINER_LISTS and node.kind == "seq":
            out.extend(c for c in node.items if c.kind == "map" and not ctx.claimed(c) and ("image" in c.entries or "command" in c.entries or "args" in c.entries))
    return out


class Kubernetes(Dialect):
    name = "k8s"
    tokens: ClassVar[Tokens] = LAUNCH_TOKENS

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return bool(_containers(doc, ctx))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        before = len(ctx.facts.model_loads)
        for c in _containers(doc, ctx):
            if not ctx.claimed(c):
                _container(ctx, c)
        _model_from_label(ctx, doc, ctx.facts.model_loads[before:])


# A label naming the served model (GKE samples): read only when the launch itself names no model.
MODEL_LABELS = ("ai.gke.io/model",)
# Flags only TGI's launcher has (vLLM spells them ``--model``, ``--quantization``, ``--max-num-seqs``).
TGI_ONLY_FLAGS = ("--model-id", "--quantize", "--max-concurrent-requests", "--num-shard", "--max-batch-prefill-tokens")
_TGI_WORD = re.compile(r"text-generation-inference|text-generation-launcher|(?<![a-z0-9])tgi(?![a-z])", re.IGNORECASE)


def _model_from_label(ctx: Ctx, doc: CNode, loads: list) -> None:
    from ecolint.knowledge.models import lookup_model

    label = next(((e, key) for _, n in walk(doc) if n.kind == "map" for key in MODEL_LABELS
                  for e in [n.entries.get(key)] if e is not None and isinstance(e.node.value, str)), None)
    if label is None:
        return
    entry, key = label
    for load in loads:
        if load.model is not None and load.model.id:
            continue
        info = lookup_model(entry.node.value, ctx.overrides)
        load.model = ModelRef(entry.node.value, DEFAULT, entry.span, info.params_b if info else None, info.how if info else "")
        for s in ctx.facts.servings:
            if s.span == load.span:
                s.model = load.model
        if load.quant is not None:
            for v in load.quant.options.values():
                ctx.facts.note(v.span, f"model named only by the {key} label", (entry.span, "the model label"))


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
    before = len(ctx.facts.model_loads)
    container(ctx, c.get("image"), words, env, c.span)
    if len(ctx.facts.model_loads) == before and c.get("image") is None and words and _tgi_patch(ctx, words):
        settings = launch.parse_args("tgi", words)
        for key, s in launch.env_settings(env).items():
            settings.setdefault(key, s)
        launch.emit(ctx.facts, "tgi", "text-generation-launcher", words[0].span, settings, ctx.overrides)
        for s in settings.values():
            ctx.facts.note(s.span, "TGI inferred from its flags in a container patch without an image, in a file that names TGI")


def _tgi_patch(ctx: Ctx, words: list) -> bool:
    """A kustomize patch of a TGI container: TGI-only flags, and TGI named somewhere in the file."""
    flags = {w.text.split("=", 1)[0] for w in words if w.text.startswith("--")}
    return not flags.isdisjoint(TGI_ONLY_FLAGS) and _TGI_WORD.search(ctx.tree.source.text) is not None


DIALECT = Kubernetes()
