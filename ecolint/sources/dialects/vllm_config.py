"""vLLM ``--config`` files (``model:`` with vLLM's engine arguments, dashed or underscored): a vLLM server
launch with its ``dtype``, ``max-num-seqs``, ``quantization`` and ``load-format``."""

from __future__ import annotations

from typing import ClassVar

from ecolint.sources import launch
from ecolint.sources.dialects.base import Ctx, Dialect, Tokens
from ecolint.sources.tree import CNode

ENGINE_KEYS = frozenset({"max-num-seqs", "max_num_seqs", "quantization", "tensor-parallel-size", "tensor_parallel_size", "gpu-memory-utilization",
                         "gpu_memory_utilization", "max-model-len", "max_model_len", "served-model-name", "served_model_name", "kv-cache-dtype",
                         "enforce-eager", "load-format", "load_format", "enable-prefix-caching", "max-num-batched-tokens", "dtype"})
# Config key -> the launch setting it is (see ecolint.sources.launch.emit).
SETTINGS = {"model": "model", "dtype": "dtype", "max-num-seqs": "max_batch", "max_num_seqs": "max_batch",
            "quantization": "quantize", "load-format": "load_format", "load_format": "load_format",
            "enforce-eager": "enforce_eager", "enforce_eager": "enforce_eager",
            "enable-prefix-caching": "prefix_caching", "enable_prefix_caching": "prefix_caching"}
_SIGNATURE = ENGINE_KEYS - {"dtype"}  # ``dtype`` alone is no sign of vLLM


def _keys_for(setting: str) -> tuple[str, ...]:
    return tuple(sorted(k for k, v in SETTINGS.items() if v == setting))


class VllmConfig(Dialect):
    name = "vllm_config"
    tokens: ClassVar[Tokens] = {
        "model_loads": tuple(sorted(_SIGNATURE)),  # every launch is recognised by one of these keys
        "servings": tuple(sorted(_SIGNATURE)) + _keys_for("enforce_eager") + _keys_for("prefix_caching"),
        "quant_specs": _keys_for("quantize") + _keys_for("load_format"),
        "dtype_uses": _keys_for("dtype"),
        "batch_settings": _keys_for("max_batch"),
    }

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        if doc.kind != "map" or "apiVersion" in doc.entries or "kind" in doc.entries:
            return False
        keys = set(doc.entries)
        has_dash = any("-" in k for k in keys & ENGINE_KEYS)
        if "model" not in keys:  # a ``--config`` file beside a command line that names the model: dashed keys only
            return has_dash and len(keys & _SIGNATURE) >= 1 and all(k in ENGINE_KEYS or "-" in k for k in keys)
        return bool(keys & _SIGNATURE) and (has_dash or "vllm" in ctx.path.lower() or "max_num_seqs" in keys or "gpu_memory_utilization" in keys)

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        ctx.claim(doc)
        settings = {}
        for key, entry in doc.entries.items():
            if key in SETTINGS and entry.node.kind == "scalar":
                settings[SETTINGS[key]] = ctx.setting(entry, key)
        anchor = doc.entries.get("model") or next(iter(doc.entries.values()))
        launch.emit(ctx.facts, "vllm", "vllm serve --config", anchor.span, settings, ctx.overrides)


DIALECT = VllmConfig()
