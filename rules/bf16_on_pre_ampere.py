"""ECO402 bf16-on-pre-ampere."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.knowledge.gpus import resolve_gpu
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


class Bf16OnPreAmpere(Rule):
    """
    ## What it does
    Flags bfloat16 (`torch_dtype=torch.bfloat16`, `bnb_4bit_compute_dtype=torch.bfloat16`, `.bfloat16()`,
    autocast, `--dtype bfloat16`, `bf16: true`) where the deployment GPU has no bf16 support: T4 and the
    RTX 20 series (Turing), V100 (Volta), P100/P40 (Pascal), K80. The GPU comes from `--gpu`, `[tool.ecolint]
    gpu`, or a GPU the file or config names (a comment, a Kubernetes node selector, a fly.io VM size). A
    comment that states the target ("runs on", "targets") wins over one that merely mentions a GPU; when
    comments name different GPUs and none is stated as the target, ecolint does not guess.

    ## Why is this bad?
    These GPUs have no bf16 tensor-core path: PyTorch either refuses (`bf16 is not supported`) or emulates
    bf16 through float32 arithmetic, which is slower and costs more energy per token than float16 on the
    same card. ecolint has no bf16 measurement rows; the finding rests on the hardware table
    (`bf16_support = no`).

    ## Example
    ```python
    # deployed on a T4
    model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.bfloat16, device_map="auto")
    ```

    Use instead:
    ```python
    model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.float16, device_map="auto")
    ```

    ## Fix safety
    **Unsafe**: float16 has a smaller exponent range than bfloat16; a model trained in bf16 can overflow in
    fp16 (check outputs).

    ## Evidence
    hardware.csv `bf16_support` (t4: no, v100: no) and public NVIDIA specifications for the other GPUs.
    """

    code = "ECO402"
    name = "bf16-on-pre-ampere"
    severity = Severity.YELLOW
    fix_applicability = Applicability.UNSAFE
    summary = "bfloat16 on a GPU without bf16 support (T4, V100, RTX 20xx ...)"
    tags = ("energy", "precision", "hardware")
    reads = ("dtype_uses",)
    needs_gpu = True

    VALID = (
        Example("resources:\n  accelerators: A10G:1\nrun: |\n  vllm serve Qwen/Qwen2.5-7B-Instruct --dtype bfloat16\n", filename="sky.yaml"),
        Example("import torch\nm = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16)\n"),
        Example("import torch\n# runs on an A100\nm = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16)\n"),
        Example("import torch\n# runs on a T4\nm = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float16)\n"),
        Example(
            "# T4 users should run fp16 instead; this script targets the A100\nimport torch\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16)\n"
        ),
        Example(
            'app = "llm"\n[build]\n  image = "vllm/vllm-openai:v0.6.3"\n[experimental]\n  cmd = ["--model", "m/x-7b", "--dtype", "bfloat16"]\n'
            '[[vm]]\n  size = "l40s"\n',
            filename="fly.toml",
        ),
    )
    VALID += (
        # issue 13, class 3: autocast switched off; a GPU named in passing inside another function
        Example("# runs on a T4\nimport torch\nwith torch.autocast('cuda', dtype=torch.bfloat16, enabled=False):\n    pass\n"),
        Example(
            "import torch\ndef other():\n    \"\"\"The V100 case, where the bug bites.\"\"\"\n\n"
            "def run(model):\n    return model.to(torch.bfloat16)\n"
        ),
    )
    INVALID = (
        Example("resources:\n  accelerators: T4:1\nrun: |\n  vllm serve Qwen/Qwen2.5-7B-Instruct --dtype bfloat16\n",
                filename="sky.yaml", line=4),
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\n# Colab T4\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16)\n",
            line=4, col=62, message='bfloat16 (from_pretrained) on NVIDIA Tesla T4', count=1,
            fixed="import torch\nfrom transformers import AutoModelForCausalLM\n# Colab T4\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.float16)\n",
        ),
        Example(
            "import torch\nfrom transformers import BitsAndBytesConfig\n"
            "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)\n",
            line=3,
            gpu="v100",
        ),
        Example(
            "spec:\n  nodeSelector:\n    cloud.google.com/gke-accelerator: nvidia-tesla-t4\n  containers:\n"
            "    - image: vllm/vllm-openai:v0.6.3\n      args: [--model, mistralai/Mistral-7B-v0.1, --dtype, bfloat16]\n",
            filename="pod.yaml",
            line=6,
            fixed="spec:\n  nodeSelector:\n    cloud.google.com/gke-accelerator: nvidia-tesla-t4\n  containers:\n"
            "    - image: vllm/vllm-openai:v0.6.3\n      args: [--model, mistralai/Mistral-7B-v0.1, --dtype, float16]\n",
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        gpu_id = ctx.gpu_for(facts)
        if not gpu_id:
            return
        info = resolve_gpu(gpu_id)
        if info is None or info.bf16:
            return
        if ctx.gpu:
            where = "--gpu / [tool.ecolint] gpu"
        else:
            hint = facts.gpu_hints[0]
            where = f"named on line {hint.span.line}" if hint.span else f"from {hint.source}"
        for use in facts.dtype_uses:
            if use.dtype != "bf16":
                continue
            fix = self.make_fix(use.replace_with("float16") if use.replace_with else None, "Use float16")
            if use.where.startswith("vllm"):  # vLLM checks the compute capability and refuses to start
                outcome = ("vLLM refuses bfloat16 below compute capability 8.0, so this deployment fails at start-up "
                           "(no bf16 rows are measured)")
            else:
                outcome = "it fails or runs emulated in fp32, slower and hungrier than fp16 (no bf16 rows are measured)"
            yield self.finding(
                facts,
                use.span,
                f"bfloat16 ({use.where}) on {info.name} ({info.arch}, {where}), which has no bf16 support: {outcome}",
                fix=fix,
                advice="Use float16 on pre-Ampere GPUs; keep bfloat16 for A100/H100/RTX 30xx and newer.",
            )
