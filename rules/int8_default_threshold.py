"""ECO101 int8-default-threshold."""

from __future__ import annotations

from ecolint.facts import CERTAIN, DEFAULT, FileFacts, QuantSpec
from ecolint.knowledge import Knowledge
from ecolint.knowledge.evidence import describe_pair, evidence_rows, next_command, pair_lines, select
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


def repr_guard(guard: str) -> str:
    """``if args.load_in_8bit`` -> ```args.load_in_8bit``` (for messages)."""
    return f"`{guard[3:] if guard.startswith('if ') else guard}`"


class Int8DefaultThreshold(Rule):
    """
    ## What it does
    Flags bitsandbytes 8-bit loading (`load_in_8bit=True`, TGI `--quantize bitsandbytes` or `QUANTIZE=bitsandbytes`,
    SageMaker `HF_MODEL_QUANTIZE`, `load_in_8bit: true` in an axolotl or TOML config, LLaMA-Factory
    `quantization_bit: 8`) where `llm_int8_threshold` is absent (default 6.0) or above zero. In a training
    config (axolotl, LLaMA-Factory `do_train`) the finding is yellow. A config built inside a helper only when
    its caller asks (`if args.load_in_8bit:`, or a parameter's default `def load(load_in_8bit=True)`) is info:
    the caller decides. So is 8-bit behind a flag that is off by default (`load_in_8bit=args.load_in_8bit` with a
    `store_true` flag): the script as written does not use it. TGI cannot set the threshold, so a TGI finding has no fix: serve FP16, or an AWQ/GPTQ
    checkpoint.

    ## Why is this bad?
    With a threshold above zero, LLM.int8() splits every matrix multiplication into an INT8 part and an FP16
    part for "outlier" features (mixed-precision decomposition). The extra work makes default INT8 *slower and
    hungrier than plain FP16*: in every measured pair it used more energy per token, from +17.4 % (RTX 4090D,
    Qwen2.5-7B) to +147.1 % (A800, Mistral-7B, batch 4), while throughput fell by 55–76 %. A threshold of
    0.5 still decomposes.

    ## Example
    ```python
    bnb = BitsAndBytesConfig(load_in_8bit=True)
    model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb)
    ```

    Use instead (if the FP16 weights fit in GPU memory):
    ```python
    model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", torch_dtype=torch.float16)
    ```
    or, for models of about 6B parameters and more on memory-bound consumer GPUs, NF4 4-bit.

    ## Fix safety
    The fix sets `llm_int8_threshold=0.0` ("pure" INT8). It is **unsafe**: it recovers 27–42 % energy versus
    default INT8, but costs +1.3 % to +25.4 % perplexity in the measurements (Yi-1.5-6B: 11.16 -> 14.00),
    and on the A800 pure INT8 still used 32–56 % *more* energy than FP16. Prefer FP16 (or NF4 above the size
    crossover) and measure accuracy before accepting the fix.

    ## Evidence
    `fp16` vs `int8_default` pairs within one experiment: RTX 4090D rows 23/24, 27/28, 31/33, 34/36; A800
    rows 51/52, 54/55, 57/58, 67/68, 72/73, 77/78. Perplexity: rows 48–50, 67–69, 72–74.
    """

    code = "ECO101"
    name = "int8-default-threshold"
    severity = Severity.RED
    severity_note = "yellow in training"
    fix_applicability = Applicability.UNSAFE
    summary = "bitsandbytes INT8 with the default outlier threshold (mixed-precision decomposition)"
    tags = ("energy", "quantization", "bitsandbytes")
    reads = ("quant_specs",)

    VALID = (
        Example("swift sft --model Qwen/Qwen2.5-7B-Instruct --quant_method bnb --quant_bits 8\n", filename="train.sh"),
        Example("text-generation-launcher --model-id meta-llama/Llama-2-70b-chat-hf --quantize bitsandbytes-nf4\n", filename="serve.sh"),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"),
        Example('"""Docs: BitsAndBytesConfig(load_in_8bit=True) is slow."""\n# load_in_8bit=True\ns = "load_in_8bit=True"\n'),
        Example(
            "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--threshold', type=float, default=0.0)\nargs = p.parse_args()\n"
            "bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=args.threshold)\n"
        ),
        Example("from transformers import BitsAndBytesConfig\nT = 0.0\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=T)\n"),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\nbnb.llm_int8_threshold = 0.0\n"),
        Example(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  NOTES: 'never run text-generation-launcher --quantize bitsandbytes'\n",
            filename="runbook.yaml",
        ),
        Example("model_id: mistralai/Mistral-7B-v0.1\nquantization_config:\n  load_in_8bit: true\n  llm_int8_threshold: 0.0\n", filename="model.yaml"),
    )
    VALID += (
        # issue 13: a test whose subject is 8-bit loading; a diffusers pipeline's quantization config
        Example(
            "import bitsandbytes as bnb\nfrom transformers import BitsAndBytesConfig\ndef test_int8():\n"
            "    cfg = BitsAndBytesConfig(load_in_8bit=True)\n    assert isinstance(layer, bnb.nn.Linear8bitLt)\n",
            filename="tests/test_int8.py",
        ),
        Example(
            "from diffusers.quantizers import PipelineQuantizationConfig\nfrom transformers import BitsAndBytesConfig\n"
            "q = PipelineQuantizationConfig(quant_mapping={'text_encoder': BitsAndBytesConfig(load_in_8bit=True)})\n"
        ),
    )
    INVALID = (
        # issue 13, class 6: a library helper that builds the config only when its caller asks: info
        Example(
            "from transformers import BitsAndBytesConfig\ndef get_quantization_config(args):\n"
            "    if args.load_in_8bit:\n        return BitsAndBytesConfig(load_in_8bit=True)\n",
            line=4,
            severity=Severity.INFO,
        ),
        # a helper's parameter default: its callers choose (llama-recipes' llm_eval(load_in_8bit=True))
        Example(
            "from transformers import BitsAndBytesConfig\ndef quant_config(load_in_8bit=True):\n"
            "    return BitsAndBytesConfig(load_in_8bit=load_in_8bit)\n",
            line=3, message="when `load_in_8bit` is true", severity=Severity.INFO,
        ),
        Example("lm_eval --model hf --model_args pretrained=meta-llama/Llama-2-7b-hf,load_in_8bit=True --tasks piqa\n",
                filename="eval.sh", line=1, severity=Severity.RED),
        Example("swift export --model Qwen/Qwen2.5-7B-Instruct --quant_method bnb --quant_bits 8\n", filename="export.sh", line=1),
        Example('{"base_model": "meta-llama/Llama-2-7b-hf", "load_in_8bit": true}\n', filename="request.json", line=1),
        Example(
            "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_8bit=True)\n"
            'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb, device_map="auto")\n',
            line=2, col=26, message='default llm_int8_threshold (6.0)', count=1,
            severity=Severity.RED,
            fixed="from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"
            'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb, device_map="auto")\n',
        ),
        Example(
            "import transformers as tf\nbnb = tf.BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.5)\n",
            line=2,
            fixed="import transformers as tf\nbnb = tf.BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n",
        ),
        Example(
            'from transformers import AutoModelForCausalLM\nkw = {"load_in_8bit": True}\n'
            'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", **kw)\n',
            line=2,
        ),
        Example(
            "from transformers import BitsAndBytesConfig as BNB\n"
            'cfg = BNB.from_dict({"load_in_8bit": True})\n',
            line=2,
        ),
        Example(
            "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--eight-bit', action='store_true')\nargs = p.parse_args()\n"
            "bnb = BitsAndBytesConfig(load_in_8bit=args.eight_bit)\n",
            line=6,
            severity=Severity.INFO, message="when `args.eight_bit` is true",
        ),
        Example(
            "containers:\n  - name: tgi\n    image: ghcr.io/huggingface/text-generation-inference:2.0\n"
            "    args: [--model-id, mistralai/Mistral-7B-Instruct-v0.2, --quantize, bitsandbytes]\n",
            filename="deployment.yaml",
            line=4,
            severity=Severity.RED,
        ),
        Example(
            '[model]\nmodel_id = "mistralai/Mistral-7B-v0.1"\n\n[model.quantization]\nload_in_8bit = true\n',
            filename="model.toml",
            line=5,
            fixed='[model]\nmodel_id = "mistralai/Mistral-7B-v0.1"\n\n[model.quantization]\nload_in_8bit = true\nllm_int8_threshold = 0.0\n',
        ),
        Example("base_model: NousResearch/Llama-2-7b-hf\nload_in_8bit: true\nadapter: lora\nmicro_batch_size: 2\n", filename="lora.yml", line=2, severity=Severity.YELLOW),
    )

    @classmethod
    def live_evidence(cls, knowledge: Knowledge) -> list[str]:
        return pair_lines(knowledge, "fp16", "int8_default")

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        for spec in facts.quant_specs:
            if spec.non_llm:
                continue  # the config quantizes an image model (a diffusers pipeline), not a language model
            eight = spec.eight_bit
            if eight is None or (eight.certainty == CERTAIN and eight.value is not True):
                continue
            thr = spec.threshold
            if thr is None and spec.opaque:
                continue  # the threshold may arrive through **kwargs we cannot see
            if thr is not None:
                if not thr.known:
                    continue  # set from a value we cannot see: the user chose it deliberately
                if not isinstance(thr.value, (int, float)) or isinstance(thr.value, bool) or thr.value <= 0:
                    continue
            yield self._finding(spec, facts, ctx)

    def _finding(self, spec: QuantSpec, facts: FileFacts, ctx: RuleContext):
        eight = spec.eight_bit
        thr = spec.threshold
        loads = facts.model_for(spec)
        model = loads[0].model if loads else None
        params = model.params_b if model else None
        gpu = ctx.gpu_for(facts)
        sel = select(ctx.knowledge, "fp16", "int8_default", gpu, params)
        severity = self.severity
        if facts.training:
            severity = Severity.YELLOW
        # Run-time values and overridable defaults that are off (``--eight-bit`` flags) may be switched on: the
        # finding is info and phrased "when ..."; under an ``if`` that asks for 8-bit, or with a threshold the user
        # may set at run time, it is one level lower. Neither is ever rewritten.
        # A function parameter's default (``def load(load_in_8bit=True)``) is its caller's to change: unlike a
        # script's own flag default, it does not say what the deployment runs.
        parameter_default = eight.certainty == DEFAULT and eight.source.isidentifier() and bool(spec.helper)
        uncertain = not eight.is_true(or_default=not parameter_default)
        runtime_threshold = thr is not None and not thr.certain
        if uncertain:
            severity = Severity.INFO  # an opt-in (a flag off by default): the run as written does not use INT8
        elif runtime_threshold or spec.guard:
            severity = severity.lower()
        context = ""
        if spec.helper and (uncertain or spec.guard):
            # a helper or factory that builds the config only when its caller asks: the caller's choice
            severity = Severity.INFO
            when = ("when " + repr_guard(spec.guard)) if spec.guard else "when its caller asks"
            context = f" (built inside `{spec.helper}()` only {when}: a user's opt-in inside a library helper is not the library's waste)"
        elif facts.role == "benchmark":
            severity = Severity.INFO
            context = f" (a measurement script, {facts.role_reason}: it may measure INT8 on purpose)"
        if thr is None:
            what = "the default llm_int8_threshold (6.0)"
        elif runtime_threshold:
            what = f"llm_int8_threshold={thr.source or '?'} (default {thr.value})"
        else:
            what = f"llm_int8_threshold={thr.value}"
        cond = f"when `{eight.source}` is true, " if uncertain else (f"when `{spec.guard[3:]}`, " if spec.guard and not spec.helper else "")
        message = (
            f"{cond}bitsandbytes INT8 with {what} runs mixed-precision decomposition: "
            f"measured {sel.range_text()} energy per token vs FP16"
        )
        if sel.pairs:
            message += "; " + "; ".join(describe_pair(p) for p in sel.pairs) + f" ({sel.how})"
        if facts.training:
            message += f" (training context: {facts.training_reason})"
        message += context
        advice = (
            "Load in FP16 if the weights fit (about 2 GB per billion parameters), or NF4 4-bit for models of ~6B+ "
            "on memory-bound GPUs. `llm_int8_threshold=0.0` saves 27-42 % vs default INT8 but costs +1.3 % to "
            "+25 % perplexity and is still worse than FP16 on A800."
        )
        if spec.engine == "tgi" or spec.origin == "tgi":
            advice = (
                "TGI cannot set the INT8 threshold: serve FP16 (drop --quantize) if the weights fit, or use "
                "`--quantize bitsandbytes-nf4` for models of ~6B+, or a pre-quantized AWQ/GPTQ checkpoint."
            )
        fix = None
        if spec.set_option is not None and spec.origin in ("BitsAndBytesConfig", "from_dict", "dict") and not (uncertain or runtime_threshold) and not context:
            fix = self.make_fix(spec.set_option("llm_int8_threshold", "0.0"), "Set `llm_int8_threshold=0.0` (pure INT8; check perplexity)")
        fallback_model = sel.pairs[0].base.hf_id if sel.pairs else None
        fallback_gpu = sel.pairs[0].base.gpu if sel.pairs else None
        span = eight.span or spec.span
        return self.finding(
            facts,
            span,
            message,
            severity=severity,
            fix=fix,
            evidence=evidence_rows(sel),
            next_command=next_command(model.id if model else None, gpu, fallback_model, fallback_gpu),
            advice=advice,
        )
