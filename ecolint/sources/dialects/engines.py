"""Serving engines configured through an operator or a chart rather than a command line:

* kubeai ``Model`` resources and the catalog entries of kubeai's Helm values (``engine: VLLM``, ``args:``,
  the model from ``url: hf://org/name``, the GPU from ``resourceProfile: nvidia-gpu-l4:1``);
* vLLM production-stack Helm values (``vllmConfig:`` with ``extraArgs``, ``maxNumSeqs``, ``dtype``; the model
  from the sibling ``modelURL``);
* Ray Serve LLM configs (``engine_kwargs: {max_num_seqs: 1}`` beside ``model_loading_config.model_source``);
* KServe ``InferenceService`` predictors with ``modelFormat: huggingface`` and ``args`` (the Hugging Face
  server, vLLM backend by default: ``--model_id``, ``--dtype``, ``--max_num_seqs``).

Each is a vLLM launch (:func:`ecolint.sources.launch.emit`) with the settings as written."""

from __future__ import annotations

import re
from typing import ClassVar, Optional

from ecolint.sources import launch
from ecolint.sources.dialects.base import LAUNCH_TOKENS, Ctx, Dialect, Tokens, is_map, merge_tokens
from ecolint.sources.launch import Setting
from ecolint.sources.tree import CEntry, CNode, walk

# camelCase / snake_case keys of chart values and engine kwargs -> launch settings
KEY_SETTINGS = {"maxNumSeqs": "max_batch", "max_num_seqs": "max_batch", "max-num-seqs": "max_batch", "dtype": "dtype",
                "quantization": "quantize", "load_format": "load_format", "loadFormat": "load_format",
                "enforce_eager": "enforce_eager", "enable_prefix_caching": "prefix_caching"}
_RECOGNISED = ("vllm", "engine_kwargs", "huggingface")
_KEY_FACTS = {"batch_settings": ("max_batch",), "dtype_uses": ("dtype",), "quant_specs": ("quantize", "load_format")}
_URL = re.compile(r"^(hf|huggingface|s3|gs|pvc|oss)://")
_PROFILE = re.compile(r"nvidia-gpu-([a-z0-9]+)", re.IGNORECASE)


def _kind(node: CNode) -> Optional[str]:
    if node.kind != "map":
        return None
    engine = node.scalar("engine")
    if isinstance(engine, str) and engine.lower() == "vllm" and ("args" in node.entries or "url" in node.entries):
        return "kubeai"
    if is_map(node.get("vllmConfig")):
        return "stack"
    if is_map(node.get("engine_kwargs")):
        return "ray"
    fmt = node.get("modelFormat")
    if fmt is not None and fmt.kind == "map" and str(fmt.scalar("name", "")).lower() == "huggingface" and "image" not in node.entries:
        return "kserve"
    return None


def _targets(doc: CNode, ctx: Ctx) -> list[tuple[str, CNode]]:
    out = []
    for _, node in walk(doc):
        if not ctx.claimed(node):
            k = _kind(node)
            if k:
                out.append((k, node))
    return out


class Engines(Dialect):
    name = "engines"
    tokens: ClassVar[Tokens] = merge_tokens(LAUNCH_TOKENS, {
        # what recognises one: ``engine: VLLM`` / ``vllmConfig``, ``engine_kwargs``, KServe ``modelFormat: huggingface``
        "model_loads": _RECOGNISED,
        "servings": _RECOGNISED + tuple(k for k, v in KEY_SETTINGS.items() if v in ("enforce_eager", "prefix_caching")),
        **{fact: tuple(k for k, v in KEY_SETTINGS.items() if v in settings) for fact, settings in _KEY_FACTS.items()},
        "gpu_hints": ("nvidia-gpu-",),
    })

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return bool(_targets(doc, ctx))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        for kind, node in _targets(doc, ctx):
            ctx.claim(node)
            args = node.get("args")
            words = ctx.words(args) if args is not None and args.kind == "seq" else []
            settings: dict[str, Setting] = {}
            model: Optional[CEntry] = None
            keys: Optional[CNode] = node
            if kind == "kubeai":
                model = node.entries.get("url")
                profile = node.entries.get("resourceProfile")
                if profile is not None and isinstance(profile.node.value, str):
                    m = _PROFILE.search(profile.node.value)
                    if m:
                        ctx.gpu(m.group(1), profile.span, "kubeai resource profile")
            elif kind == "stack":
                keys = node.get("vllmConfig")
                extra = keys.get("extraArgs") if keys is not None else None
                words = ctx.words(extra) if extra is not None else []
                model = node.entries.get("modelURL")
            elif kind == "ray":
                keys = node.get("engine_kwargs")
                mlc = node.get("model_loading_config")
                model = (mlc.entries.get("model_source") or mlc.entries.get("model_id")) if mlc is not None and mlc.kind == "map" else None
            if keys is None:
                continue
            ctx.claim(keys)
            for key, entry in keys.entries.items():
                if key in KEY_SETTINGS and entry.node.kind == "scalar":
                    settings[KEY_SETTINGS[key]] = ctx.setting(entry, key)
            settings.update(launch.parse_args("vllm", words))
            if model is not None and "model" not in settings and isinstance(model.node.value, str):
                settings["model"] = _model_setting(ctx, model)
            anchor = (node.entries.get("engine") or node.entries.get("vllmConfig") or node.entries.get("engine_kwargs")
                      or node.entries.get("modelFormat"))
            launch.emit(ctx.facts, "vllm", f"{kind} vLLM", (anchor.key_span if anchor else node.span), settings, ctx.overrides)


def _model_setting(ctx: Ctx, entry: CEntry) -> Setting:
    s = ctx.setting(entry)
    if isinstance(s.value.value, str):
        s.value.value = _URL.sub("", s.value.value)
    return s


DIALECT = Engines()
