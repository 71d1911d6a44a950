"""axolotl (``base_model`` with axolotl's training keys): a *training* config. ``base_model`` is the model
load, ``load_in_8bit`` / ``load_in_4bit`` / ``bnb_4bit_*`` (also under ``bnb_config_kwargs``) its
quantization, ``micro_batch_size`` a (training) batch setting, ``bf16: true`` a dtype use that a fix can turn
into ``fp16: true``."""

from __future__ import annotations

from typing import Callable, ClassVar, Optional

from ecolint.facts import CERTAIN, DEFAULT, BatchSetting, DtypeUse, FixCandidate, ModelLoad, Value
from ecolint.sources.dialects.base import BNB_4BIT_PREFIX, BNB_KEYS, Ctx, Dialect, Tokens, model_ref, spec_from_entries
from ecolint.sources.tree import CEntry, CNode

MARKERS = frozenset({"micro_batch_size", "adapter", "sequence_len", "gradient_accumulation_steps", "num_epochs", "datasets", "lora_r",
                     "output_dir", "load_in_8bit", "load_in_4bit"})
QUANT_KEYS = ("load_in_8bit", "load_in_4bit")  # top level; under bnb_config_kwargs every bitsandbytes key
BNB_KWARGS = "bnb_config_kwargs"
BATCH_KEY = "micro_batch_size"
BF16_KEY = "bf16"


class Axolotl(Dialect):
    name = "axolotl"
    tokens: ClassVar[Tokens] = {
        "model_loads": ("base_model",),
        "quant_specs": tuple(sorted(set(QUANT_KEYS) | BNB_KEYS | {BNB_4BIT_PREFIX})),
        "batch_settings": (BATCH_KEY,),
        "dtype_uses": (BF16_KEY,),
    }

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        # axolotl configs are YAML; a JSON request (``{"base_model", "load_in_8bit", "task": "generate"}``) needs a
        # training key besides the quantization ones
        markers = MARKERS - set(QUANT_KEYS) if ctx.tree.flavor == "json" else MARKERS
        return doc.kind == "map" and "base_model" in doc.entries and not markers.isdisjoint(doc.entries)

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        ctx.claim(doc)
        facts = ctx.facts
        marker = next((k for k in ("micro_batch_size", "adapter", "num_epochs", "datasets") if k in doc.entries), "base_model")
        ctx.training(f"axolotl training config (`{marker}` on line {doc.entries[marker].key_span.line})")
        load = ModelLoad(span=doc.entries["base_model"].span, api="axolotl base_model", engine="transformers", causal_lm=True, on_gpu=True)
        load.model = model_ref(ctx, doc.entries["base_model"])
        load.dtype = Value("auto", DEFAULT)
        entries = {k: e for k, e in doc.entries.items() if k in QUANT_KEYS or k.startswith(BNB_4BIT_PREFIX)}
        kw = doc.get(BNB_KWARGS)
        if kw is not None and kw.kind == "map":
            ctx.claim(kw)
            entries.update({k: e for k, e in kw.entries.items() if k.startswith(BNB_4BIT_PREFIX) or k in BNB_KEYS})
        if entries:
            anchor = min(entries.values(), key=lambda e: e.key_begin)
            spec = spec_from_entries(ctx, "axolotl", entries, False, anchor)
            facts.quant_specs.append(spec)
            load.quant = spec
        facts.model_loads.append(load)
        mbs = doc.entries.get(BATCH_KEY)
        if mbs is not None and mbs.node.kind == "scalar":
            facts.batch_settings.append(BatchSetting(mbs.span, Value(mbs.node.value, CERTAIN, mbs.span), "axolotl micro_batch_size", feeds_generation=False))
        bf = doc.entries.get(BF16_KEY)
        if bf is not None and bf.node.value is True:
            facts.dtype_uses.append(DtypeUse(bf.span, "bf16", "axolotl `bf16: true`", replace_with=_flip_bf16(ctx, doc, bf)))


def _flip_bf16(ctx: Ctx, doc: CNode, bf: CEntry) -> Callable[[str], Optional[FixCandidate]]:
    """``bf16: true`` -> ``bf16: false`` plus ``fp16: true`` (set, or added on the next line)."""

    def replace(new: str) -> Optional[FixCandidate]:
        if new != "float16":
            return None
        first = ctx.tree.replace_scalar(bf.node, "false")
        if first is None:
            return None
        fp = doc.entries.get("fp16")
        if fp is not None:
            second = ctx.tree.replace_scalar(fp.node, "true") if fp.node.value is not True else FixCandidate([])
        else:
            second = ctx.tree.insert_after(bf, "fp16", "true")
        if second is None:
            return None
        return FixCandidate(first.edits + second.edits)

    return replace


DIALECT = Axolotl()
