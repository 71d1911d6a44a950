"""ECO203 cuda-graphs-disabled."""

from __future__ import annotations

from ecolint.deployment import vllm_switched, written
from ecolint.facts import FileFacts
from ecolint.rule import Example, Rule, RuleContext, Severity


class CudaGraphsDisabled(Rule):
    """
    ## What it does
    Flags vLLM serving with CUDA graphs switched off: `--enforce-eager` on a `vllm serve` command line (shell,
    Dockerfile, compose, Kubernetes args), `enforce-eager: true` in a vLLM `--config` file, `enforce_eager: true`
    in engine kwargs, or `LLM(..., enforce_eager=True)` in Python.

    ## Why is this bad?
    vLLM captures the decode step of each batch size as a CUDA graph and replays it, so one launch runs the whole
    forward pass. In eager mode every decode step launches each kernel from Python, and at small and medium batch
    sizes the GPU waits on the CPU between kernels: more time, and so more energy, per generated token. vLLM's
    documentation describes `enforce_eager` as "always use eager-mode PyTorch. If False, we will use CUDA graph and
    eager execution in hybrid for maximal performance and flexibility". ecolint has no measurement rows for it, so
    the finding is information.

    ## Example
    ```shell
    vllm serve Qwen/Qwen2.5-7B-Instruct --enforce-eager
    ```

    Use instead:
    ```shell
    vllm serve Qwen/Qwen2.5-7B-Instruct
    ```

    Eager mode is a legitimate choice for debugging, to save the memory the graphs take on a GPU that is nearly
    full, or for a model or quantization whose documentation asks for it; then keep it and suppress the finding
    with a reason. Not flagged: `enforce_eager=False`, test modules, CI workflows and test deployments.

    ## Fix safety
    No automatic fix: the graphs take GPU memory and start-up time, and a few models need eager mode.

    ## Evidence
    Documented by vLLM (engine arguments: `enforce_eager`; CUDA graphs). Not measured in ecolint's data.
    """

    code = "ECO203"
    name = "cuda-graphs-disabled"
    severity = Severity.INFO
    summary = "vLLM serving with --enforce-eager (no CUDA graphs)"
    tags = ("energy", "serving", "vllm")
    reads = ("servings",)

    VALID = (
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enforce_eager=False)\n"),
        Example("#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --max-num-seqs 64\n", filename="serve.sh"),
        Example("#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --enforce-eager\n", filename="tests/smoke_serve.sh"),
        Example(
            "jobs:\n  smoke:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: vllm serve facebook/opt-125m --enforce-eager\n",
            filename=".github/workflows/ci.yml",
        ),
        Example("from vllm import LLM\ndef test_load():\n    llm = LLM(model='facebook/opt-125m', enforce_eager=True)\n",
                filename="tests/test_vllm.py"),
    )
    INVALID = (
        Example(
            "#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --enforce-eager\n",
            filename="serve.sh", line=2, col=37, message="`--enforce-eager` turns off vLLM's CUDA graphs", count=1,
            severity=Severity.INFO,
        ),
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enforce_eager=True)\n", line=2, col=45, message='`enforce_eager=True` turns off'),
        Example("model: Qwen/Qwen2.5-7B-Instruct\nmax-num-seqs: 64\nenforce-eager: true\n", filename="vllm-config.yaml", line=3, message="`enforce-eager: true`"),
        Example(
            "services:\n  vllm:\n    image: vllm/vllm-openai:v0.6.3\n"
            "    command: --model Qwen/Qwen2.5-7B-Instruct --enforce-eager\n",
            filename="compose.yaml", line=4,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        for serving, v in vllm_switched(facts, "enforce_eager", True):
            yield self.finding(
                facts,
                v.span or serving.span,
                f"`{written(facts, v, 'enforce_eager', True)}` turns off vLLM's CUDA graphs: every decode step launches its kernels "
                "one by one in eager PyTorch, so the GPU idles on the CPU between them (documented by vLLM: CUDA graphs "
                "are used unless enforce_eager is set; not measured in ecolint's data)",
                advice="Remove --enforce-eager for serving unless the model or quantization documents that it needs eager "
                "mode, or GPU memory is too tight for the graphs (then say so in a noqa reason).",
            )
