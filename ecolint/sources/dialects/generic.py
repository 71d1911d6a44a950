"""The generic scan of every document, after the specific dialects:

* any mapping that no dialect claimed and that holds bitsandbytes keys (``load_in_8bit``,
  ``llm_int8_threshold``, ``bnb_4bit_*``) or names a bitsandbytes method under a quantization key
  (``quant_method: int8_bnb``, ``quant: llm.int8``, ``quantization: bnb4``): a quantization config, fixable
  like ``BitsAndBytesConfig(...)`` keyword arguments. With a model id key in that mapping or up to two above
  it, and a ``torch_dtype`` / ``dtype`` beside the model id, also a model load;
* node selectors and node affinities (claimed or not) with a GPU label, and instance / machine type keys
  (``InstanceType: ml.g4dn.xlarge``): GPU hints.
"""

from __future__ import annotations

import re
from typing import ClassVar, Optional

from ecolint.facts import CERTAIN, DtypeUse, ModelLoad, Value
from ecolint.sources import launch
from ecolint.sources.dialects.base import BNB_4BIT_PREFIX, BNB_KEYS, FALLBACK, Ctx, Dialect, Tokens, model_ref, spec_from_entries
from ecolint.sources.tree import CEntry, CNode, walk

MODEL_KEYS = ("model_name_or_path", "pretrained_model_name_or_path", "model_id", "model_name", "base_model", "model")
QUANT_METHOD_KEYS = ("quant_method", "quantization_method", "quantization", "quantize", "quant")
# Method names (compared in lower case) that mean bitsandbytes 8-bit / 4-bit.
BNB8_NAMES = frozenset({"bnb_8bit", "bnb-8bit", "bnb8", "bitsandbytes_8bit", "bitsandbytes-8bit", "llm.int8", "llm_int8", "int8_bnb"})
BNB4_NAMES = frozenset({"bnb_4bit", "bnb-4bit", "bnb4", "bitsandbytes_4bit", "bitsandbytes-4bit", "bitsandbytes-nf4", "bitsandbytes-fp4", "bnb_nf4", "bnb_fp4"})
DTYPE_KEYS = ("torch_dtype", "dtype")
# Hyperparameters only a training run has: two of them in the mapping that holds a quantized model (or one
# or two mappings above it) make the document a training config (an axolotl payload nested in a job request,
# a fine-tuning studio's presets), whatever tool reads it.
TRAINING_KEYS = frozenset({"learning_rate", "lr", "num_epochs", "num_train_epochs", "epochs", "micro_batch_size",
                           "gradient_accumulation_steps", "lora_r", "lora_alpha", "lora_dropout", "warmup_steps",
                           "warmup_ratio", "weight_decay", "lr_scheduler", "lr_scheduler_type", "optimizer", "optim"})
GPU_LABELS = ("nvidia.com/gpu.product", "cloud.google.com/gke-accelerator", "karpenter.k8s.aws/instance-gpu-name", "accelerator",
              "gpu-type", "gpu_type", "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type", "karpenter.k8s.aws/instance-family")
_INSTANCE_STEMS = ("instance", "machine", "vm", "gpu", "accelerator")
INSTANCE_KEYS = re.compile(r"^(instance[_-]?type|machine[_-]?type|vm[_-]?size|gpu[_-]?kind|accelerator[_-]?type|gpu[_-]?type)$", re.IGNORECASE)

_QUANT_TOKENS = tuple(sorted(BNB_KEYS | {BNB_4BIT_PREFIX} | set(QUANT_METHOD_KEYS) | BNB8_NAMES | BNB4_NAMES))


class Generic(Dialect):
    name = "generic"
    stage = FALLBACK
    tokens: ClassVar[Tokens] = {
        "quant_specs": _QUANT_TOKENS,
        # A model load needs a model id key *and* a quantization or dtype key: the rarer half is listed.
        "model_loads": tuple(sorted(set(_QUANT_TOKENS) | set(DTYPE_KEYS))),
        "dtype_uses": DTYPE_KEYS,
        # Key stems in the spellings configs use (the instance-type keys are compared ignoring case).
        "gpu_hints": tuple(sorted(set(GPU_LABELS) | {v for s in _INSTANCE_STEMS for v in (s, s.capitalize(), s.upper())})),
    }

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return True  # the catch-all: every document is scanned

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        for entry, node in walk(doc):
            if node.kind == "map":
                _gpu_labels(ctx, node)
                if not ctx.claimed(node):
                    _quant_or_model(ctx, node)
            elif entry is not None and node.kind == "scalar" and isinstance(node.value, str) and INSTANCE_KEYS.match(entry.key):
                ctx.gpu(node.value, entry.span, entry.key)
            elif entry is not None and entry.key == "accelerators":  # SkyPilot: ``T4:1``, ``{T4: 1}``, ``[L4, A10G]``
                _accelerators(ctx, entry, node)


def _gpu_labels(ctx: Ctx, node: CNode) -> None:
    for key in GPU_LABELS:
        e = node.entries.get(key)
        if e is not None and e.node.kind == "scalar":
            ctx.gpu(e.node.value, e.span, "node selector")
    values = node.get("values")
    if node.scalar("key") in GPU_LABELS and values is not None and values.kind == "seq":
        for item in values.items:  # node affinity matchExpressions
            ctx.gpu(item.value, item.span, "node affinity")
            break


def _accelerators(ctx: Ctx, entry: CEntry, node: CNode) -> None:
    names: list = []
    if node.kind == "scalar" and isinstance(node.value, str):
        names = [node.value]
    elif node.kind == "map":
        names = list(node.entries)
    elif node.kind == "seq":
        names = [i.value for i in node.items if i.kind == "scalar"]
    gpus = {str(n).split(":", 1)[0].strip() for n in names if isinstance(n, str)}
    if len(gpus) == 1:  # one GPU type; a list of alternatives names no single one
        ctx.gpu(gpus.pop(), entry.span, "accelerators")


def _quant_or_model(ctx: Ctx, node: CNode) -> None:
    e = node.entries
    bnb = {k: v for k, v in e.items() if (k in BNB_KEYS or k.startswith(BNB_4BIT_PREFIX)) and v.node.kind == "scalar"}
    method = next((e[k] for k in QUANT_METHOD_KEYS if k in e and isinstance(e[k].node.value, str)), None)
    if method is not None:
        name = method.node.value.strip().lower()
        if name in BNB8_NAMES:
            bnb.setdefault("load_in_8bit", method)
        elif name in BNB4_NAMES:
            bnb.setdefault("load_in_4bit", method)
    dtype = e.get("torch_dtype") or e.get("dtype")
    model_entry = _nearby_model(ctx, node)
    if not bnb and not (dtype is not None and model_entry is not None and node is model_entry.parent):
        return
    spec = None
    if bnb:
        anchor = min(bnb.values(), key=lambda x: x.key_begin)
        spec = spec_from_entries(ctx, "dict", dict(bnb), True, anchor)
        for k, v in bnb.items():
            if v is method:
                spec.options[k] = Value(True, CERTAIN, v.span, f"{v.key}: {v.node.value}")
        ctx.facts.quant_specs.append(spec)
    if spec is not None or model_entry is not None:
        _training_beside(ctx, node)
    if model_entry is None:
        return
    load = ModelLoad(span=model_entry.span, api="config", engine="transformers", causal_lm=True, quant=spec)
    load.model = model_ref(ctx, model_entry)
    dm = model_entry.parent.get("device_map") or node.get("device_map")
    dev = model_entry.parent.get("device") or node.get("device")
    load.on_gpu = (dm is not None and dm.value != "cpu") or (dev is not None and isinstance(dev.value, str) and "cuda" in dev.value)
    if dtype is not None:
        s = ctx.setting(dtype)
        load.dtype = s.value
        load.set_dtype = s.replace
        dt = launch.canonical_dtype(s.value.value)
        if dt:
            ctx.facts.dtype_uses.append(DtypeUse(s.span, dt, dtype.key, replace_with=s.replace))
    else:
        load.dtype = Value(None, "unknown")
    ctx.facts.model_loads.append(load)


def _training_beside(ctx: Ctx, node: CNode) -> None:
    cur: Optional[CNode] = node
    for _ in range(3):
        if cur is None or cur.kind != "map":
            return
        keys = sorted(TRAINING_KEYS.intersection(cur.entries))
        if len(keys) >= 2:
            e = cur.entries[keys[0]]
            ctx.training(f"training hyperparameters beside the model (`{keys[0]}` on line {e.key_span.line}, `{keys[1]}`)")
            return
        cur = ctx.parents.get(id(cur))


def _nearby_model(ctx: Ctx, node: CNode) -> Optional[CEntry]:
    """A model id key in this mapping or up to two mappings above it."""
    cur: Optional[CNode] = node
    for _ in range(3):
        if cur is None:
            return None
        if cur.kind == "map":
            for k in MODEL_KEYS:
                e = cur.entries.get(k)
                if e is not None and e.node.kind == "scalar" and isinstance(e.node.value, str):
                    return e
        cur = ctx.parents.get(id(cur))
    return None


DIALECT = Generic()
