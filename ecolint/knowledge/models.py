"""Model registry: a Hugging Face id or short name -> parameter count (billions), family, context length.

Resolution order: the table of popular names below (models whose id carries no size, or whose size token is
misleading), the ids that appear in the measurement table, then a size token in the id (``7B``, ``1.5b``,
``135M``, ``8x7B``). Nothing is ever fetched: an id we cannot size stays unknown and size-dependent rules
stay silent (users can set ``[tool.ecolint.models]`` to teach us).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ecolint.knowledge.data import builtin_measurements


@dataclass(frozen=True)
class ModelInfo:
    id: str
    params_b: float
    family: str = ""
    context_length: Optional[int] = None
    how: str = "table"  # "table", "measurements", "size-token", "config"


# Lower-cased basename (part after the last "/") -> (params in billions, family, context length).
_TABLE: dict[str, tuple[float, str, Optional[int]]] = {
    "gpt2": (0.124, "gpt2", 1024),
    "distilgpt2": (0.082, "gpt2", 1024),
    "gpt2-medium": (0.355, "gpt2", 1024),
    "gpt2-large": (0.774, "gpt2", 1024),
    "gpt2-xl": (1.5, "gpt2", 1024),
    "phi-1": (1.3, "phi", 2048),
    "phi-1_5": (1.3, "phi", 2048),
    "phi-2": (2.7, "phi", 2048),
    "phi-3-mini-4k-instruct": (3.8, "phi3", 4096),
    "phi-3-mini-128k-instruct": (3.8, "phi3", 131072),
    "phi-3-mini": (3.8, "phi3", 4096),
    "phi-3.5-mini-instruct": (3.8, "phi3", 131072),
    "phi-3-small-8k-instruct": (7.0, "phi3", 8192),
    "phi-3-medium-4k-instruct": (14.0, "phi3", 4096),
    "phi-4": (14.7, "phi4", 16384),
    "phi-4-mini-instruct": (3.8, "phi4", 131072),
    "gemma-2b": (2.5, "gemma", 8192),
    "gemma-2b-it": (2.5, "gemma", 8192),
    "gemma-7b": (8.5, "gemma", 8192),
    "gemma-7b-it": (8.5, "gemma", 8192),
    "mixtral-8x7b-v0.1": (46.7, "mixtral", 32768),
    "mixtral-8x7b-instruct-v0.1": (46.7, "mixtral", 32768),
    "mixtral-8x22b-v0.1": (141.0, "mixtral", 65536),
    "mixtral-8x22b-instruct-v0.1": (141.0, "mixtral", 65536),
    "bloom": (176.0, "bloom", 2048),
    "falcon-7b": (7.0, "falcon", 2048),
    "tinyllama-1.1b-chat-v1.0": (1.1, "llama", 2048),
    "smollm-135m": (0.135, "smollm", 2048),
    "smollm-360m": (0.36, "smollm", 2048),
    "smollm-1.7b": (1.7, "smollm", 2048),
    "smollm2-135m-instruct": (0.135, "smollm", 8192),
    "smollm2-360m-instruct": (0.36, "smollm", 8192),
    "smollm2-1.7b-instruct": (1.7, "smollm", 8192),
    "opt-125m": (0.125, "opt", 2048),
    "opt-350m": (0.35, "opt", 2048),
    "dialogpt-small": (0.124, "gpt2", 1024),
    "dialogpt-medium": (0.355, "gpt2", 1024),
    "dialogpt-large": (0.774, "gpt2", 1024),
}

_FAMILY_CONTEXT: dict[str, int] = {
    "mistral": 32768,
    "qwen2.5": 32768,
    "qwen2": 32768,
    "qwen3": 32768,
    "llama-2": 4096,
    "llama-3.1": 131072,
    "llama-3.2": 131072,
    "llama-3.3": 131072,
    "llama-3": 8192,
    "yi-1.5": 4096,
    "tinyllama": 2048,
    "opt": 2048,
    "bloom": 2048,
    "pythia": 2048,
    "falcon": 2048,
    "gemma-2": 8192,
    "gemma": 8192,
}

_MOE = re.compile(r"(?<![a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z0-9])")
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:[._]\d+)?)([bm])(?![a-z0-9])")


def size_from_token(model_id: str) -> Optional[float]:
    """Parameters in billions from a size token in the id: ``7B`` -> 7, ``1.5b`` -> 1.5, ``135M`` -> 0.135,
    ``8x7B`` -> 56 (total experts; the table holds the real Mixtral totals)."""
    text = model_id.lower().rsplit("/", 1)[-1]
    moe = _MOE.search(text)
    if moe:
        return float(moe.group(1)) * float(moe.group(2))
    m = _SIZE.search(text)
    if not m:
        return None
    value = float(m.group(1).replace("_", "."))
    if value <= 0:
        return None
    return value if m.group(2) == "b" else value / 1000.0


def _family(basename: str) -> str:
    for fam in sorted(_FAMILY_CONTEXT, key=len, reverse=True):
        if basename.startswith(fam) or basename.startswith("meta-" + fam):
            return fam
    return basename.split("-", 1)[0]


@lru_cache(maxsize=None)
def _measured_ids() -> dict[str, float]:
    out: dict[str, float] = {}
    for row in builtin_measurements():
        for key in (row.hf_id, row.model):
            if key:
                out[key.lower().rsplit("/", 1)[-1]] = row.params_b
    return out


def lookup_model(model_id: str, overrides: Optional[dict[str, float]] = None) -> Optional[ModelInfo]:
    """Size a model from its id or short name without touching the network."""
    if not model_id or not isinstance(model_id, str):
        return None
    ident = model_id.strip()
    if overrides:
        for key, params in overrides.items():
            if key.lower() == ident.lower() or key.lower() == ident.lower().rsplit("/", 1)[-1]:
                return ModelInfo(ident, float(params), _family(ident.lower().rsplit("/", 1)[-1]), None, "config")
    base = ident.lower().rstrip("/").rsplit("/", 1)[-1]
    if base in _TABLE:
        params, fam, ctx = _TABLE[base]
        return ModelInfo(ident, params, fam, ctx, "table")
    fam = _family(base)
    ctx = _FAMILY_CONTEXT.get(fam)
    if base in _measured_ids():
        return ModelInfo(ident, _measured_ids()[base], fam, ctx, "measurements")
    size = size_from_token(base)
    if size is None:
        return None
    return ModelInfo(ident, size, fam, ctx, "size-token")
