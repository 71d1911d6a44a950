"""ECO302 prefix-caching-disabled."""

from __future__ import annotations

from ecolint.deployment import vllm_switched, written
from ecolint.facts import FileFacts
from ecolint.rule import Example, Rule, RuleContext, Severity


class PrefixCachingDisabled(Rule):
    """
    ## What it does
    Flags vLLM serving with automatic prefix caching switched off: `--no-enable-prefix-caching` on a command line,
    `enable-prefix-caching: false` in a vLLM `--config` file or engine kwargs, `LLM(..., enable_prefix_caching=False)`
    in Python.

    ## Why is this bad?
    With prefix caching, vLLM keeps the KV cache of prompt prefixes it has already computed and reuses it for the
    next request that starts the same way: a chat's system prompt, the earlier turns of a conversation, a document
    that many RAG questions share. Switched off, every request prefills its whole prompt again on the GPU. vLLM V1
    turns prefix caching on by default, so switching it off is a deliberate choice that usually outlives its
    reason (a benchmark of raw prefill, an old bug). ecolint has no measurement rows for it, so the finding is
    information; the saving grows with the share of prompt tokens that requests have in common.

    ## Example
    ```shell
    vllm serve Qwen/Qwen2.5-7B-Instruct --no-enable-prefix-caching
    ```

    Use instead:
    ```shell
    vllm serve Qwen/Qwen2.5-7B-Instruct
    ```

    Not flagged: `--enable-prefix-caching`, test modules, CI workflows and test deployments.

    ## Fix safety
    No automatic fix: outputs do not change, but a workload whose prompts share nothing gains nothing, and the
    choice may be deliberate.

    ## Evidence
    Documented by vLLM (automatic prefix caching; enabled by default in the V1 engine). Not measured in
    ecolint's data.
    """

    code = "ECO302"
    name = "prefix-caching-disabled"
    severity = Severity.INFO
    summary = "vLLM serving with prefix caching switched off"
    tags = ("energy", "serving", "cache", "vllm")
    reads = ("servings",)

    VALID = (
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enable_prefix_caching=True)\n"),
        Example("#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --enable-prefix-caching\n", filename="serve.sh"),
        Example("#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --no-enable-prefix-caching\n", filename="ci/serve.sh"),
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enable_prefix_caching=flag)\n"),
    )
    INVALID = (
        Example(
            "#!/bin/sh\nvllm serve Qwen/Qwen2.5-7B-Instruct --no-enable-prefix-caching\n",
            filename="serve.sh", line=2, col=37, message="`--no-enable-prefix-caching` switches off", count=1,
            severity=Severity.INFO,
        ),
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enable_prefix_caching=False)\n", line=2, col=45,
                message="`enable_prefix_caching=False`"),
        Example("model: Qwen/Qwen2.5-7B-Instruct\nmax-num-seqs: 64\nenable-prefix-caching: false\n", filename="vllm-config.yaml",
                line=3, message="`enable-prefix-caching: false`"),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        for serving, v in vllm_switched(facts, "prefix_caching", False):
            yield self.finding(
                facts,
                v.span or serving.span,
                f"`{written(facts, v, 'enable_prefix_caching', False)}` switches off vLLM's automatic prefix caching: a "
                "system prompt, earlier chat turns or a shared document is prefilled again on the GPU for every request "
                "(documented by vLLM: prefix caching reuses their KV cache and is on by default in the V1 engine; not "
                "measured in ecolint's data)",
                advice="Remove the switch unless a measured reason needs it; prompts that share a prefix then reuse its KV cache.",
            )
