"""ECO105 bnb-4bit-fp32-compute."""

from __future__ import annotations

from ecolint.dtypes import canonical_dtype
from ecolint.facts import FileFacts, QuantSpec
from ecolint.knowledge.gpus import resolve_gpu
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity

# Where the compute dtype is the tool's business: axolotl and LLaMA-Factory derive it from their own `bf16`/`fp16`
# keys; a launch command or evaluation harness option set passes the switch on, not a whole config.
_TOOL_SETS_IT = frozenset({"axolotl", "llamafactory", "lm_eval", "swift", "vllm", "tgi", "unsloth"})
# Where an added option is a plain keyword of the config being built (from_pretrained's own `load_in_4bit=` is
# deprecated in transformers; its kwargs are not rewritten).
_FIXABLE = frozenset({"BitsAndBytesConfig", "from_dict", "dict"})


class Bnb4bitFp32Compute(Rule):
    """
    ## What it does
    Flags 4-bit bitsandbytes loading (`BitsAndBytesConfig(load_in_4bit=True)`, `from_pretrained(...,
    load_in_4bit=True)`, `load_in_4bit: true` in a `quantization_config` mapping) that does not set
    `bnb_4bit_compute_dtype`.

    ## Why is this bad?
    transformers then sets the compute dtype to float32, while the rest of a 4-bit model is loaded in float16
    (transformers' default for bitsandbytes). Every 4-bit matrix multiplication dequantizes to float32 and runs
    in float32. bitsandbytes itself warns about exactly this: "Input type into Linear4bit is torch.float16, but
    bnb_4bit_compute_dtype=torch.float32 (default). This will lead to slow inference or training speed."
    ecolint has no measurement rows for it, so the finding is information.

    ## Example
    ```python
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
    ```

    Use instead:
    ```python
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype="bfloat16")
    ```

    Not flagged: a model loaded with `torch_dtype=torch.bfloat16` or `torch.float32` (bitsandbytes then computes in
    the input's dtype), axolotl and LLaMA-Factory configs (they derive the compute dtype from their `bf16`/`fp16`
    keys), unsloth's `FastLanguageModel.from_pretrained` (it builds the bitsandbytes config with its own dtype),
    training scripts (their autocast sets the input dtype), a config that also asks for 8-bit (ECO103), options
    that may arrive through `**kwargs`, test modules. A `load_in_4bit` from a flag or default is reported without
    a fix.

    ## Fix safety
    The fix adds `bnb_4bit_compute_dtype="bfloat16"` (`"float16"` when the model loads in float16 or the GPU is
    older than Ampere). It is **unsafe**: outputs change slightly, as with any change of compute precision.

    ## Evidence
    Documented by bitsandbytes (the `Linear4bit` warning above) and transformers (`BitsAndBytesConfig`:
    `bnb_4bit_compute_dtype` defaults to `torch.float32`). Not measured in ecolint's data.
    """

    code = "ECO105"
    name = "bnb-4bit-fp32-compute"
    severity = Severity.INFO
    fix_applicability = Applicability.UNSAFE
    summary = "4-bit bitsandbytes without bnb_4bit_compute_dtype computes in float32"
    tags = ("energy", "quantization", "bitsandbytes")
    reads = ("quant_specs",)

    VALID = (
        Example(
            "import torch\nfrom transformers import BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)\n"
        ),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True)\n"
            "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', quantization_config=bnb, torch_dtype=torch.bfloat16)\n"
        ),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=True, **extra)\n"),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\n"),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=False)\n"),
        Example("base_model: NousResearch/Llama-2-7b-hf\nload_in_4bit: true\nadapter: qlora\nbf16: true\nmicro_batch_size: 2\n",
                filename="qlora.yml"),
        Example("model_name_or_path: meta-llama/Llama-2-7b-hf\nstage: sft\nquantization_bit: 4\nbf16: true\n",
                filename="llamafactory_qlora.yaml"),
        Example(
            "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=True)\n",
            filename="tests/test_quant.py",
        ),
    )
    INVALID = (
        Example(
            'from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")\n',
            line=2, col=26, message="`load_in_4bit=True` without `bnb_4bit_compute_dtype`", count=1,
            severity=Severity.INFO,
            fixed='from transformers import BitsAndBytesConfig\n'
                  'bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype="bfloat16")\n',
        ),
        Example(
            "from transformers import AutoModelForCausalLM\n"
            "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', load_in_4bit=True, device_map='auto')\n",
            line=2, message="bitsandbytes warns",
        ),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True)\n"
            "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', quantization_config=bnb, torch_dtype=torch.float16)\n",
            line=3,
            fixed="import torch\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
                  'bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype="float16")\n'
                  "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', quantization_config=bnb, torch_dtype=torch.float16)\n",
        ),
        Example(
            "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--four-bit', action='store_true')\nargs = p.parse_args()\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=args.four_bit)\n",
            line=6, message="when `args.four_bit` is true", severity=Severity.INFO,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        if facts.training:
            return  # mixed-precision training (bf16/fp16 autocast) feeds bitsandbytes half-precision inputs
        for spec in facts.quant_specs:
            four = spec.four_bit
            if four is None or spec.origin in _TOOL_SETS_IT or spec.opaque or spec.non_llm:
                continue
            if "bnb_4bit_compute_dtype" in spec.options or (spec.eight_bit is not None and spec.eight_bit.is_true()):
                continue  # set, or a conflicting 8-bit + 4-bit request (ECO103) that fails first
            if four.certain and four.value is not True:
                continue  # written false (or not a boolean)
            certain = four.is_true()  # otherwise a flag, default or parameter may switch 4-bit on at run time
            load_dtype = _load_dtype(facts, spec)
            if load_dtype is None and facts.transformers_default_dtype == "auto":
                continue  # the checkpoint's own dtype (often bfloat16), which bitsandbytes then computes in
            if load_dtype in ("bf16", "fp32"):
                continue  # bitsandbytes computes in the input's dtype when it is bfloat16 or float32
            target = "float16" if load_dtype == "fp16" or _pre_ampere(ctx.gpu_for(facts)) else "bfloat16"
            fix = None
            if certain and spec.set_option is not None and spec.origin in _FIXABLE:
                literal = target if spec.origin == "dict" else f'"{target}"'
                fix = self.make_fix(spec.set_option("bnb_4bit_compute_dtype", literal), f"Set `bnb_4bit_compute_dtype` to {target}")
            switch = "`load_in_4bit: true`" if spec.origin in ("dict", "yaml") else "`load_in_4bit=True`"
            written = switch if certain else f"4-bit loading when `{four.source or 'load_in_4bit'}` is true"
            yield self.finding(
                facts,
                four.span or spec.span,
                f"{written} without `bnb_4bit_compute_dtype`: transformers defaults the compute dtype to float32, so every "
                "4-bit layer dequantizes and multiplies in float32; bitsandbytes warns this \"will lead to slow inference\" "
                "(documented by bitsandbytes; not measured in ecolint's data)",
                fix=fix,
                advice=f"Set bnb_4bit_compute_dtype={target} (bfloat16 on Ampere and newer, float16 on older GPUs).",
            )


def _load_dtype(facts: FileFacts, spec: QuantSpec) -> str | None:
    """The canonical dtype the model using this config is loaded in, when one load names it."""
    for load in facts.model_for(spec):
        if load.dtype is not None and load.dtype.certain:
            value = load.dtype.value
            return canonical_dtype(str(value)) if value is not None else None
    return None


def _pre_ampere(gpu_id: str | None) -> bool:
    info = resolve_gpu(gpu_id) if gpu_id else None
    return info is not None and not info.bf16
