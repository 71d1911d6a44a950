"""LLaMA-Factory (``model_name_or_path`` with ``template`` / ``stage`` / ``quantization_bit`` …): training
when it trains (``do_train``, or a ``stage`` without prediction), inference otherwise. ``infer_dtype`` and
``bf16`` / ``pure_bf16`` are dtype uses, ``quantization_bit`` (with the bitsandbytes method) the quantization,
``per_device_eval_batch_size`` the batch."""

from __future__ import annotations

from typing import ClassVar, Optional

from ecolint.facts import CERTAIN, DEFAULT, BatchSetting, DtypeUse, Engine, FixCandidate, ModelLoad, QuantSpec, Value
from ecolint.sources import launch
from ecolint.sources.dialects.base import Ctx, Dialect, Tokens, local, model_ref, text_of, truthy
from ecolint.sources.tree import CEntry, CNode

MARKERS = frozenset({"template", "stage", "finetuning_type", "quantization_bit", "infer_backend", "do_train", "do_predict", "dataset",
                     "adapter_name_or_path", "infer_dtype"})
MODEL_KEY = "model_name_or_path"
BITS_KEY = "quantization_bit"
BNB_METHODS = ("bitsandbytes", "bnb")  # quantization_method values read as bitsandbytes (the default)
# LLaMA-Factory's 4-bit option names -> BitsAndBytesConfig's.
EXTRA_OPTIONS = {"quantization_type": "bnb_4bit_quant_type", "double_quantization": "bnb_4bit_use_double_quant"}
DTYPE_KEY = "infer_dtype"
BF16_KEYS = ("bf16", "pure_bf16")
BATCH_KEY = "per_device_eval_batch_size"


class LlamaFactory(Dialect):
    name = "llamafactory"
    tokens: ClassVar[Tokens] = {
        "model_loads": (MODEL_KEY,),
        "quant_specs": (BITS_KEY,),
        "batch_settings": (BATCH_KEY,),
        "dtype_uses": tuple(sorted((DTYPE_KEY,) + BF16_KEYS)),
    }

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return doc.kind == "map" and MODEL_KEY in doc.entries and not MARKERS.isdisjoint(doc.entries)

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        ctx.claim(doc)
        facts = ctx.facts
        e = doc.entries
        predicting = truthy(doc.get("do_predict")) or truthy(doc.get("predict_with_generate")) or truthy(doc.get("do_eval")) and not truthy(doc.get("do_train"))
        do_train = doc.get("do_train")
        if truthy(do_train):
            ctx.training(f"LLaMA-Factory training config (`do_train` on line {e['do_train'].key_span.line})")
        elif "stage" in e and not predicting and not (do_train is not None and do_train.value is False):
            ctx.training(f"LLaMA-Factory training config (`stage` on line {e['stage'].key_span.line})")
        backend = doc.scalar("infer_backend")
        engine: Engine = "vllm" if isinstance(backend, str) and backend.lower() == "vllm" else "transformers"
        load = ModelLoad(span=e[MODEL_KEY].span, api="llamafactory model_name_or_path", engine=engine, causal_lm=True, on_gpu=True)
        load.model = model_ref(ctx, e[MODEL_KEY])
        if DTYPE_KEY in e:
            s = ctx.setting(e[DTYPE_KEY])
            load.dtype = s.value
            load.set_dtype = s.replace
            dt = launch.canonical_dtype(s.value.value)
            if dt:
                facts.dtype_uses.append(DtypeUse(s.span, dt, "LLaMA-Factory infer_dtype", replace_with=s.replace))
        else:
            load.dtype = Value("auto", DEFAULT)  # LLaMA-Factory's default infer_dtype
        spec = _quant_spec(ctx, doc)
        if spec is not None:
            facts.quant_specs.append(spec)
            load.quant = spec
        facts.model_loads.append(load)
        bs = e.get(BATCH_KEY)
        if bs is not None and bs.node.kind == "scalar":
            facts.batch_settings.append(BatchSetting(bs.span, Value(bs.node.value, CERTAIN, bs.span), "LLaMA-Factory per_device_eval_batch_size",
                                                     feeds_generation=predicting or "stage" not in e))
        for key in BF16_KEYS:
            bf = e.get(key)
            if bf is not None and bf.node.value is True:
                facts.dtype_uses.append(DtypeUse(bf.span, "bf16", f"LLaMA-Factory `{key}: true`"))


def _quant_spec(ctx: Ctx, doc: CNode) -> Optional[QuantSpec]:
    e = doc.entries
    qb = e.get(BITS_KEY)
    method = doc.scalar("quantization_method", "bitsandbytes")
    if qb is None or str(method).lower() not in BNB_METHODS:
        return None
    bits = qb.node.value
    try:
        bits = int(bits)
    except (TypeError, ValueError):
        bits = None
    opts: dict[str, Value] = {}
    if bits == 8:
        opts["load_in_8bit"] = Value(True, CERTAIN, qb.span, "quantization_bit: 8")
    elif bits == 4:
        opts["load_in_4bit"] = Value(True, CERTAIN, qb.span, "quantization_bit: 4")
    if not opts:
        return None
    named: dict[str, CEntry] = {}
    for key, option in EXTRA_OPTIONS.items():
        if key in e:
            opts[option] = Value(e[key].node.value, CERTAIN, e[key].span, text_of(e[key].node.value))
            named[option] = e[key]
    if bits == 4 and "bnb_4bit_use_double_quant" not in opts:
        opts["bnb_4bit_use_double_quant"] = Value(True, DEFAULT, qb.span, "double_quantization (default true)")
    spec = QuantSpec(span=qb.span, origin="llamafactory", options=opts)

    def remove(names: list[str]) -> Optional[FixCandidate]:
        if not all(x in named for x in names):
            return None
        doomed = [named[x] for x in names]
        return local(ctx.tree.remove_entries(doomed), doomed)

    spec.remove_options = remove
    return spec


DIALECT = LlamaFactory()
