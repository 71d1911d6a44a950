"""ECO102 nf4-below-crossover."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.knowledge import Knowledge
from ecolint.knowledge.evidence import describe_pair, evidence_rows, next_command, pair_lines, select
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity

CROSSOVER_B = 3.0  # largest measured size where every GPU but the T4 showed an NF4 penalty
NO_PENALTY_PCT = 5.0  # below this, the GPU's own data show no meaningful penalty


class Nf4BelowCrossover(Rule):
    """
    ## What it does
    Flags bitsandbytes 4-bit loading (NF4 or FP4, `load_in_4bit=True`, vLLM `quantization="bitsandbytes"` /
    `--quantization bitsandbytes`, TGI `--quantize bitsandbytes-nf4`, LLaMA-Factory `quantization_bit: 4`)
    of a model with 3B parameters or fewer, for inference.

    ## Why is this bad?
    A small model is not memory-bound enough for 4-bit weights to pay for their de-quantization. In the
    measurements 4-bit used *more* energy per token than FP16 on every GPU but one for models of 0.5–3B:
    +11.7 % to +29.4 % on the RTX 5090 and +25.2 % to +56.1 % on the RTX 4090D, while drawing less power
    (lower watts, but far fewer tokens per second). The T4 is the exception (+4.6 % at 1.1B, −1.4 % at 3B);
    on a T4 the finding is only informational.

    ## Example
    ```python
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct", quantization_config=bnb)
    ```

    Use instead:
    ```python
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct", torch_dtype=torch.float16)
    ```
    A 1.5B model needs about 3 GB in FP16.

    ## Fix safety
    No automatic fix: dropping quantization changes memory use and numerics, so it is advice only.

    ## Evidence
    `fp16` vs `nf4` pairs of models ≤ 3B within one experiment: RTX 5090 rows 1–6, 9/10, 13/14, 17/18;
    RTX 4090D rows 37–46; T4 rows 82–87. The size crossover is not measured directly: Phi-3-mini (3.8B)
    already saves 8.1 % on the RTX 4090D while the RTX 5090 guide row claims a penalty.
    """

    code = "ECO102"
    name = "nf4-below-crossover"
    severity = Severity.YELLOW
    severity_note = "info on T4"
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "bitsandbytes 4-bit on a model of 3B parameters or fewer (more energy per token than FP16)"
    tags = ("energy", "quantization", "bitsandbytes")
    reads = ("model_loads", "quant_specs")

    VALID = (
        Example(
            "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True)\n"
            'm = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-70b-chat-hf", quantization_config=bnb)\n'
        ),
        Example(
            "from transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct", torch_dtype="auto")\n'
        ),
        Example(
            "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True)\n"
            "m = AutoModelForCausalLM.from_pretrained(some_unknown_id, quantization_config=bnb)\n"
        ),
        Example(
            "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nstage: sft\ndo_train: true\nquantization_bit: 4\ntemplate: qwen\n",
            filename="qlora_sft.yaml",
        ),
    )
    INVALID = (
        Example("swift export --model Qwen/Qwen2.5-0.5B-Instruct --quant_method bnb --quant_bits 4\n", filename="export.sh", line=1),
        Example(
            "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            'bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")\n'
            'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct", quantization_config=bnb)\n',
            line=2, col=26, message='4-bit bitsandbytes on Qwen/Qwen2.5-1.5B-Instruct', count=1,
            severity=Severity.YELLOW,
        ),
        Example(
            "from transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM-135M", load_in_4bit=True)\n',
            line=2,
        ),
        Example(
            "from transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("TinyLlama/TinyLlama-1.1B-Chat-v1.0", load_in_4bit=True)\n',
            line=2,
            severity=Severity.INFO,
            gpu="t4",
        ),
        Example(
            "#!/bin/sh\nexec vllm serve Qwen/Qwen2.5-0.5B-Instruct \\\n    --quantization bitsandbytes \\\n    --port 8000\n",
            filename="serve.sh",
            line=3,
        ),
        Example("model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\ntemplate: qwen\nquantization_bit: 4\n", filename="chat.yaml", line=3),
    )

    @classmethod
    def live_evidence(cls, knowledge: Knowledge) -> list[str]:
        return pair_lines(knowledge, "fp16", "nf4", max_params=3.0)

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        if facts.training:
            return
        for load in facts.model_loads:
            spec = load.quant
            if spec is None or spec.four_bit is None or not spec.four_bit.is_true(or_default=True) or spec.non_llm:
                continue
            if load.model is None or load.model.params_b is None or load.model.params_b > CROSSOVER_B:
                continue
            params = load.model.params_b
            gpu = ctx.gpu_for(facts)
            sel = select(ctx.knowledge, "fp16", "nf4", gpu, params, max_params=CROSSOVER_B)
            severity = self.severity if spec.four_bit.certain else self.severity.lower()
            note = ""
            mine = [p for p in sel.pairs if gpu and p.base.gpu == gpu]
            if mine and min(p.delta_pct for p in mine) < NO_PENALTY_PCT:
                severity = Severity.INFO
                note = f" On {gpu} the measurements show no meaningful penalty, so this is informational."
            dq = spec.get("bnb_4bit_use_double_quant")
            if dq is not None and dq.is_true(or_default=True):
                note += " Double quantization adds to it: NF4 with double quant used +9.0 % to +19.0 % more energy than FP16 on A800 (rows 67/71, 77/81, 72/76)."
            message = (
                f"4-bit bitsandbytes on {load.model.id} ({params:g}B, at or below the ~{CROSSOVER_B:g}B crossover): "
                f"on models <= {CROSSOVER_B:g}B, 4-bit changed energy per token by {sel.range_text()} vs FP16 "
                "(a penalty on every measured GPU but the T4); "
                + "; ".join(describe_pair(p) for p in sel.pairs)
                + f" ({sel.how})."
                + note
            )
            fp16_gb = params * 2
            yield self.finding(
                facts,
                spec.four_bit.span or load.span,
                message,
                severity=severity,
                evidence=evidence_rows(sel),
                next_command=next_command(load.model.id, gpu, None, sel.pairs[0].base.gpu if sel.pairs else None),
                advice=f"Load in FP16/BF16 instead (about {fp16_gb:.1f} GB of weights); keep 4-bit for models of ~6B+ where memory is the bottleneck.",
            )
