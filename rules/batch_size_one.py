"""ECO202 batch-size-one."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.knowledge import Knowledge
from ecolint.knowledge.evidence import batch_sweep_lines, batching_selection, describe_batch_pair, evidence_rows, next_command, serving_batching_evidence
from ecolint.knowledge.serving import DEFAULT_SERVING_MODEL as SERVING_EXAMPLE_MODEL
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity

_ADVICE = {
    "pipeline": "Raise the pipeline's batch_size (8-64, as memory allows) and pass a list or dataset of prompts.",
    "pipeline call": "Raise batch_size (8-64, as memory allows) and pass the whole list of prompts.",
    "dataloader": "Use batch_size 8-64 for the inference DataLoader (with left padding), generating once per batch.",
    "vllm max_num_seqs": "Leave max_num_seqs at vLLM's default (256) or size it to your memory; 1 disables batching.",
    "tgi max_batch_size": "Leave --max-batch-size unset (TGI sizes batches by tokens) or raise it well above 1.",
}


class BatchSizeOne(Rule):
    """
    ## What it does
    Flags an explicit batch size of 1 for inference: `pipeline(..., batch_size=1)`, a `DataLoader(batch_size=1)`
    whose batches feed `generate`, vLLM `max_num_seqs=1` (`--max-num-seqs 1`, `max-num-seqs: 1` in a vLLM
    config), TGI `--max-batch-size 1` (`MAX_BATCH_SIZE=1` in its environment), LLaMA-Factory
    `per_device_eval_batch_size: 1` in a prediction config. Training micro-batches (axolotl
    `micro_batch_size`, LLaMA-Factory training files) are not flagged.

    ## Why is this bad?
    Batch size is the biggest energy lever the measurements show: energy per token on the A800 fell by 84 %
    from batch 1 to batch 8 and by 95.7 % at batch 64 (Mistral-7B, HF transformers). A server capped at one
    sequence cannot batch concurrent requests at all.

    ## Example
    ```python
    pipe = pipeline("text-generation", model=model_id, batch_size=1)
    ```

    Use instead:
    ```python
    pipe = pipeline("text-generation", model=model_id, batch_size=16)
    ```

    ## Fix safety
    No automatic fix: the right batch size depends on GPU memory and latency targets.

    ## Evidence
    A800 batch sweep rows 60–66 and validation rows 51–59 (HF transformers static batches). On a vLLM or TGI
    setting: the vLLM `max_num_seqs` series of Llama-3.1-8B-Instruct on one H100 (ML.ENERGY Benchmark v3,
    serving rows), 8 → 64 → 512.
    """

    code = "ECO202"
    name = "batch-size-one"
    severity = Severity.YELLOW
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "explicit batch size 1 for inference or serving"
    tags = ("energy", "batching")
    reads = ("batch_settings",)

    VALID = (
        Example("apiVersion: kubeai.org/v1\nkind: Model\nspec:\n  url: hf://Qwen/Qwen2.5-7B-Instruct\n  engine: VLLM\n"
                "  args:\n    - --max-num-seqs=8\n", filename="model.yaml"),
        Example("from transformers import pipeline\npipe = pipeline('text-generation', model='gpt2', batch_size=16)\n"),
        Example(
            "from torch.utils.data import DataLoader\nfrom transformers import Trainer\n"
            "loader = DataLoader(ds, batch_size=1)\ntrainer = Trainer(model=model)\ntrainer.train()\n"
        ),
        Example("from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=1)\nfor x in loader:\n    print(x)\n"),
        Example("base_model: NousResearch/Llama-2-7b-hf\nadapter: lora\nmicro_batch_size: 1\n", filename="lora.yml"),
        Example("services:\n  vllm:\n    image: vllm/vllm-openai:v0.6.3\n    command: --model Qwen/Qwen2.5-7B-Instruct --max-num-seqs 128\n", filename="compose.yaml"),
    )
    INVALID = (
        Example("from transformers import pipeline\npipe = pipeline('text-generation', model='gpt2', batch_size=1)\n", line=2, col=50, message='batch size 1 for inference (pipeline)', count=1),  # noqa: E501
        Example("apiVersion: kubeai.org/v1\nkind: Model\nspec:\n  url: hf://Qwen/Qwen2.5-7B-Instruct\n  engine: VLLM\n"
                "  args:\n    - --max-num-seqs=1\n", filename="model.yaml", line=7),
        Example("#!/bin/sh\nexport MAX_CONCURRENT_REQUESTS=1\ntext-generation-launcher --model-id mistralai/Mistral-7B-v0.1\n",
                filename="serve.sh", line=2),
        Example("engine=Python\noption.max_rolling_batch_size=1\n", filename="serving.properties", line=2),
        Example(
            "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=1)\n"
            "for batch in loader:\n    model.generate(**batch)\n",
            line=2,
        ),
        Example("from vllm import LLM\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', max_num_seqs=1)\n", line=2),
        Example(
            "services:\n  vllm:\n    image: vllm/vllm-openai:v0.6.3\n    command: --model Qwen/Qwen2.5-7B-Instruct --max-num-seqs 1\n",
            filename="compose.yaml",
            line=4,
        ),
        Example(
            'app = "llm"\n[build]\n  image = "ghcr.io/huggingface/text-generation-inference:2.0"\n[env]\n  MAX_BATCH_SIZE = "1"\n',
            filename="fly.toml",
            line=5,
        ),
    )

    @classmethod
    def live_evidence(cls, knowledge: Knowledge) -> list[str]:
        return batch_sweep_lines(knowledge)

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        if facts.training:
            return
        sel = None
        for setting in facts.batch_settings:
            if not setting.feeds_generation or not setting.value.known or setting.value.value != 1:
                continue
            engine = _serving_engine(setting.where)
            if engine:
                cited, evidence = serving_batching_evidence()
            else:
                if sel is None:
                    sel = batching_selection(ctx.knowledge)
                cited, evidence = "; ".join(describe_batch_pair(p) for p in sel.pairs), evidence_rows(sel)
            yield self.finding(
                facts,
                setting.span,
                f"batch size 1 for inference ({setting.where}): every decoding step serves a single sequence; batching measured {cited}",
                evidence=evidence,
                advice=_ADVICE.get(setting.where, "Batch requests: 8-64 sequences per step as memory allows."),
                next_command=_next(facts, ctx, engine),
            )


def _serving_engine(where: str):
    head = where.split(" ", 1)[0]
    return head if head in ("vllm", "tgi") else None


def _next(facts: FileFacts, ctx: RuleContext, engine):
    """``optimize`` at batch size 1 for the file's model (serving: with its engine; the series' model and GPU
    stand in where the file names none)."""
    model = next((s.model.id for s in facts.servings if s.model and s.model.id), None)
    model = model or next((m.model.id for m in facts.model_loads if m.model and m.model.id), None)
    if engine:
        return next_command(model, ctx.gpu_for(facts), SERVING_EXAMPLE_MODEL, "h100", command="optimize",
                            batch_size=1, engine=engine)
    return next_command(model, ctx.gpu_for(facts), command="optimize", batch_size=1)
