"""ECO401 fp32-inference."""

from __future__ import annotations

from ecolint.facts import FileFacts, ModelLoad
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


class Fp32Inference(Rule):
    """
    ## What it does
    Flags a causal language model loaded for GPU inference in float32: an explicit `torch_dtype=torch.float32`
    (`dtype="float32"`, vLLM `--dtype float32` or `dtype: float32` in its config, LLaMA-Factory
    `infer_dtype: float32`), or no dtype at all where the project's transformers pin is
    older than 5.0 (those versions load float32 unless told otherwise; 5.0 defaults to `"auto"`). A notebook
    that installs its own transformers (`!pip install transformers==4.44.2`) is judged by that install, not by
    the project's requirements; an unpinned install gets the newest release (5.x), so no dtype is fine there.

    ## Why is this bad?
    Token-by-token decoding is bound by memory bandwidth: each step reads every weight once. float32 weights
    are twice the bytes of float16/bfloat16, so each token moves twice the data and the model needs twice the
    memory (often forcing a larger GPU or CPU offload). ecolint's data hold **no fp32 measurements**; the
    factor of about 2 is a bandwidth estimate, labelled as such.

    ## Example
    ```python
    model = AutoModelForCausalLM.from_pretrained(model_id, device_map="auto")  # transformers 4.x: float32
    ```

    Use instead:
    ```python
    model = AutoModelForCausalLM.from_pretrained(model_id, device_map="auto", torch_dtype="auto")
    ```

    ## Fix safety
    **Unsafe**: changing precision changes numerics. An explicit float32 is replaced by float16; a missing dtype
    gets `torch_dtype="auto"` (the checkpoint's own precision, usually bf16 or fp16).

    A dtype that is a run-time default (`--dtype` flag, or `torch.float16 if args.fp16 else torch.float32` with
    `--fp16` off by default: reported "by default (without --fp16)") is reported one level lower and never rewritten; a call
    with an opaque `**kwargs` (which may carry the dtype) is not flagged and never gets a second `torch_dtype`.

    ## Evidence
    No measurement rows (no source measured fp32). Not flagged for tokenizers, configs, quantized loads,
    models converted with `.half()`/`.to(torch.float16)` after loading (also `model.eval().half()`),
    CPU-only loads, and a missing dtype where something other than transformers picks it (`trust_remote_code=True`
    model code, unsloth, auto_gptq, AutoAWQ).
    """

    code = "ECO401"
    name = "fp32-inference"
    severity = Severity.YELLOW
    fix_applicability = Applicability.UNSAFE
    summary = "causal LM loaded in float32 for GPU inference"
    tags = ("energy", "precision")
    reads = ("model_loads",)

    VALID = (
        Example(
            "import argparse\nimport torch\nfrom transformers import AutoModelForCausalLM\np = argparse.ArgumentParser()\n"
            "p.add_argument('--fp32', action='store_true')\nargs = p.parse_args()\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float32 if args.fp32 else torch.float16, device_map='cuda')\n"
        ),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM, AutoConfig, AutoTokenizer\n"
            "cfg = AutoConfig.from_pretrained('gpt2')\ntok = AutoTokenizer.from_pretrained('gpt2')\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float16, device_map='auto')\n"
        ),
        Example(
            "from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2', device_map='auto')\nm = m.half()\n"
        ),
        Example("from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2')\n"),
        Example("#!/bin/sh\nvllm serve mistralai/Mistral-7B-v0.1 --dtype auto\n", filename="serve.sh"),
        # the dtype may arrive through **kwargs: adding torch_dtype= would be a TypeError for callers passing one
        Example(
            "from transformers import AutoModelForCausalLM\ndef load(name, **kwargs):\n"
            "    return AutoModelForCausalLM.from_pretrained(name, device_map='cuda', **kwargs)\n"
        ),
        Example(
            "from transformers import AutoModelForCausalLM\n"
            "model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', device_map='cuda')\nmodel = model.eval().half()\n"
        ),
    )
    VALID += (
        # issue 13, class 2: weights handled exactly, an explicit CPU load, a pre-quantized checkpoint, a trainer
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\n"
            "def push(client, name):\n    model = AutoModelForCausalLM.from_pretrained(name, torch_dtype=torch.float32, device_map='auto')\n"
            "    client.update_model_params(model)\n"
        ),
        Example(
            "from transformers import AutoModelForCausalLM\nif device == 'cuda':\n"
            "    m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype='auto', device_map='auto')\nelse:\n"
            "    m = AutoModelForCausalLM.from_pretrained('gpt2', device_map={'': device})\n"
        ),
        Example("from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2', device_map={'': 'cpu'})\n"),
        Example("from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('TheBloke/Mistral-7B-v0.1-AWQ', device_map='auto')\n"),
        # the model's own code picks the dtype (Qwen-7B's sets bf16 or fp16 when none is given)
        Example("from transformers import AutoModelForCausalLM\n"
                "m = AutoModelForCausalLM.from_pretrained('Qwen/Qwen-7B-Chat', device_map='auto', trust_remote_code=True)\n"),
        # a quantization library's loader (auto_gptq loads the model to quantize in float16)
        Example("from auto_gptq import AutoGPTQForCausalLM\nm = AutoGPTQForCausalLM.from_pretrained('Qwen/Qwen-7B', quantize_config, device_map='auto')\n"),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\nclass MyTrainer:\n    def __init__(self, name):\n"
            "        self.model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32, device_map=None)\n"
        ),
    )
    INVALID = (
        # issue 13, class 7: a dtype constant used by a load is reported at the load; the fix edits the constant
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\nDTYPE = torch.float32\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', device_map='auto', torch_dtype=DTYPE)\n",
            line=4,
            fixed="import torch\nfrom transformers import AutoModelForCausalLM\nDTYPE = torch.float16\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', device_map='auto', torch_dtype=DTYPE)\n",
        ),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float32, device_map='auto')\n",
            line=3, col=62, message='loaded in float32 for GPU inference', count=1,
            fixed="import torch\nfrom transformers import AutoModelForCausalLM\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float16, device_map='auto')\n",
        ),
        Example(
            "from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2').to('cuda')\n",
            line=2,
            severity=Severity.YELLOW,
        ),
        Example("from vllm import LLM\nllm = LLM(model='mistralai/Mistral-7B-v0.1', dtype='float32')\n", line=2),
        Example(
            "#!/bin/sh\nvllm serve mistralai/Mistral-7B-v0.1 \\\n  --dtype float32 \\\n  --port 8000\n",
            filename="serve.sh",
            line=3,
            fixed="#!/bin/sh\nvllm serve mistralai/Mistral-7B-v0.1 \\\n  --dtype float16 \\\n  --port 8000\n",
        ),
        Example("model: mistralai/Mistral-7B-v0.1\ndtype: float32\nmax-num-seqs: 64\n", filename="vllm-config.yaml", line=2),
        Example(
            "import argparse\nfrom transformers import AutoModelForCausalLM\np = argparse.ArgumentParser()\n"
            "p.add_argument('--dtype', default='float32')\nargs = p.parse_args()\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=args.dtype, device_map='cuda')\n",
            line=6,
            severity=Severity.INFO,
        ),
        Example(
            "import argparse\nimport torch\nfrom transformers import AutoModelForCausalLM\np = argparse.ArgumentParser()\n"
            "p.add_argument('--fp16', action='store_true')\nargs = p.parse_args()\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float16 if args.fp16 else torch.float32, device_map='cuda')\n",
            line=7, message="by default (without --fp16)", severity=Severity.INFO,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        if facts.training:
            return
        # a file that handles weights (diff, merge, push) may need them exact: never offer a precision rewrite there
        weights = any(load.purpose == "weights" for load in facts.model_loads)
        for load in facts.model_loads:
            if not load.causal_lm or not load.on_gpu or load.quant is not None or load.converted:
                continue
            if load.cpu or load.purpose == "weights":
                continue  # an explicit CPU load, or a model loaded only for its weights (sent, merged, saved)
            if load.dtype is not None:
                if not load.dtype.known or not _is_fp32(load.dtype.value):
                    continue
                yield self._explicit(facts, load, offer_fix=not weights)
            elif load.engine == "transformers" and not load.prequantized and not load.own_dtype:
                yield from self._implicit(facts, load, offer_fix=not weights)

    def _explicit(self, facts: FileFacts, load: ModelLoad, offer_fix: bool = True):
        new = "float16"
        fix = self.make_fix(load.set_dtype(new) if load.set_dtype and offer_fix else None, "Load in float16")
        # a default the user may change at run time (``--dtype`` flag): one level lower, never rewritten
        cond = "" if load.dtype.certain else _when_default(load.dtype.source)
        severity = self.severity if load.dtype.certain else self.severity.lower()
        note = ""
        if facts.role == "benchmark":
            severity, note = Severity.INFO, f" (a measurement script, {facts.role_reason}: the dtype may be what it measures)"
        finding = self.finding(
            facts,
            load.dtype.span or load.span,
            f"{cond}{_model(load)} is loaded in float32 for GPU inference: every decoding step reads twice the bytes of "
            f"fp16/bf16 (estimated ~2x energy per token from memory bandwidth; no fp32 rows are measured){note}",
            severity=severity,
            fix=fix if load.dtype.certain else None,
            advice="Use torch_dtype=torch.float16 (or bfloat16 on Ampere and newer) or 'auto'.",
        )
        if load.dtype_origin is not None:
            finding.related.append((facts.path, load.dtype_origin, f"the dtype `{load.dtype.source}` is set here"))
        return finding

    def _implicit(self, facts: FileFacts, load: ModelLoad, offer_fix: bool = True):
        default = facts.transformers_default_dtype
        if default == "auto":
            return
        severity = self.severity if default == "fp32" else Severity.INFO
        pin = facts.transformers_pin or "no transformers pin found"
        why = (
            f"{'the file installs' if facts.transformers_install else 'the project pins'} {facts.transformers_pin}, which loads float32 when no dtype is given"
            if default == "fp32"
            else f"transformers < 5 loads float32 when no dtype is given ({pin})"
        )
        fix = self.make_fix(load.add_dtype('"auto"') if load.add_dtype and offer_fix else None, 'Add torch_dtype="auto"')
        if facts.role == "benchmark":
            severity = Severity.INFO
        yield self.finding(
            facts,
            load.span,
            f"{_model(load)} is loaded without a dtype for GPU inference: {why}; fp32 doubles the bytes read per token "
            "(estimated ~2x energy; no fp32 rows are measured)",
            severity=severity,
            fix=fix,
            advice='Pass torch_dtype="auto" (the checkpoint precision) or torch.float16.',
        )


def _when_default(source: str) -> str:
    """How a run-time default is named: "by default (without --fp16), " for a dtype a flag switches, else the
    expression that keeps its default."""
    if source.startswith("without --"):
        return f"by default ({source}), "
    return f"when `{source}` keeps its default, "


def _is_fp32(value) -> bool:
    if not isinstance(value, str):
        return False
    return value.rsplit(".", 1)[-1].lower() in ("float32", "float", "fp32")


def _model(load: ModelLoad) -> str:
    return f"`{load.model.id}`" if load.model and load.model.id else "the model"
