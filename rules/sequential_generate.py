"""ECO201 sequential-generate."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.knowledge import Knowledge
from ecolint.knowledge.evidence import batch_sweep_lines, batching_selection, describe_batch_pair, evidence_rows, next_command
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity

_ADVICE = {
    "transformers": "Tokenize a list of prompts together (tokenizer.padding_side='left', padding=True) and call generate once per batch of 8-64.",
    "pipeline": "Pass the whole list to the pipeline with a batch size: pipe(prompts, batch_size=16).",
    "vllm": "Pass all prompts to one llm.generate(prompts, params) call; vLLM schedules them together (continuous batching).",
}


class SequentialGenerate(Rule):
    """
    ## What it does
    Flags text generation (`model.generate`, a text-generation `pipeline` call, vLLM `llm.generate`) called
    once per prompt inside a `for` loop or a comprehension over prompts — directly, or through a local
    function that generates.

    ## Why is this bad?
    Decoding one sequence at a time leaves the GPU memory-bound and mostly idle: every step streams all the
    weights to produce one token. Batching amortises that. On the A800 the measured energy per token fell by
    47 % at batch 2, 84 % at batch 8 and 95.7 % at batch 64 (Mistral-7B, HF transformers); FP16 at batch 8
    used 85.5 % less than at batch 1.

    ## Example
    ```python
    for prompt in prompts:
        inputs = tokenizer(prompt, return_tensors="pt").to("cuda")
        outputs.append(model.generate(**inputs, max_new_tokens=128))
    ```

    Use instead:
    ```python
    tokenizer.padding_side = "left"
    for i in range(0, len(prompts), 16):
        inputs = tokenizer(prompts[i:i + 16], return_tensors="pt", padding=True).to("cuda")
        outputs.extend(model.generate(**inputs, max_new_tokens=128))
    ```

    ## Fix safety
    No automatic fix: batching changes padding, memory use and (with sampling) outputs; it is advice.

    ## Evidence
    A800 batch sweep rows 60–66 (raw runs, Pure INT8, 256 in / 256 out) and the A800 validation run rows
    51–59 (BS 1/4/8 for FP16, default INT8 and Pure INT8). No other GPU has batch measurements, and none of
    them is a vLLM/TGI serving figure.
    """

    code = "ECO201"
    name = "sequential-generate"
    severity = Severity.YELLOW
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "generation called once per prompt inside a loop"
    tags = ("energy", "batching")
    reads = ("generations",)

    VALID = (
        Example(
            "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=8)\n"
            "for batch in loader:\n    out = model.generate(**batch, max_new_tokens=32)\n"
        ),
        Example(
            "texts = []\nfor p in prompts:\n    texts.append(template.format(p))\n"
            "inputs = tok(texts, return_tensors='pt', padding=True)\nout = model.generate(**inputs)\n"
        ),
        Example("def answer(p):\n    return model.generate(**tok(p, return_tensors='pt'))\n\nfor i in range(3):\n    print(i)\n"),
        Example("for _ in range(5):  # timing repeats of one batch\n    model.generate(**inputs)\n"),
        Example(
            "enc = tok(prompts, return_tensors='pt', padding=True)\nfor temperature in [0.1, 0.5, 1.0]:\n"
            "    out = model.generate(**enc, do_sample=True, temperature=temperature)\n"
        ),
        Example(
            "from vllm import LLM\nllm = LLM(model='mistralai/Mistral-7B-v0.1')\n"
            "shards = [prompts[i:i + 64] for i in range(0, len(prompts), 64)]\nfor shard in shards:\n    outs = llm.generate(shard)\n"
        ),
        Example(
            "from jinja2 import Environment\ntmpl = Environment().from_string('Q: {{ q }}')\n"
            "for q in questions:\n    text = ''.join(tmpl.generate(q=q))  # renders a template\n"
        ),
        Example("def render(compiled_template, chat):\n    return ''.join(compiled_template.generate(messages=chat))\n\nfor c in chats:\n    render(tpl, c)\n"),
    )
    VALID += (
        # issue 13, class 1: not one-prompt LLM decoding
        Example("def draw(engine, prompts):\n    return [engine.generate(prompt=p, width=1024, height=1024, num_inference_steps=30) for p in prompts]\n"),
        Example("def ask(client, prompts):\n    return [client.generate(p, max_tokens=64) for p in prompts]\n"),
        Example("for slice_idx in order:\n    inputs = slices[slice_idx]\n    model.generate(input_ids=inputs['prompts'])\n"),
        Example(
            "for j in range(0, len(ds), n):\n    sliced = ds[j:j + n]\n"
            "    model.generate(**tok(sliced, return_tensors='pt', padding=True))\n"
        ),
        Example(
            "def score(windows):\n    for chunk in chunked(windows, 8):\n        model.generate(**tok(chunk, return_tensors='pt', padding=True))\n\n"
            "for s in strings:\n    score(make_windows(s))\n"
        ),
        Example("import torch\nfor p in prompts:\n    model.generate(**tok(p, return_tensors='pt'))\n", filename="tests/test_generate.py"),
    )
    INVALID = (
        # the receiver is not known from the file: info, not a yellow guess
        Example("def run(backend, prompts):\n    return [backend.generate(p) for p in prompts]\n", line=2, severity=Severity.INFO),
        Example(
            "from transformers import pipeline\npipe = pipeline('text-generation', model='gpt2')\n"
            "outs = [pipe(p) for p in prompts]\n",
            line=3, col=9, message='runs once per item of `for p in prompts`', count=1,
        ),
        Example(
            "for prompt in prompts:\n    inputs = tok(prompt, return_tensors='pt').to('cuda')\n"
            "    out = model.generate(**inputs, max_new_tokens=64)\n",
            line=3,
        ),
        Example(
            "def answer(p):\n    ids = tok(p, return_tensors='pt')\n    return model.generate(**ids)\n\n"
            "results = []\nfor q in questions:\n    results.append(answer(q))\n",
            line=7,
        ),
        Example(
            "from vllm import LLM, SamplingParams\nllm = LLM(model='mistralai/Mistral-7B-v0.1')\n"
            "for p in prompts:\n    out = llm.generate(p, SamplingParams(max_tokens=64))\n",
            line=4,
        ),
    )

    @classmethod
    def live_evidence(cls, knowledge: Knowledge) -> list[str]:
        return batch_sweep_lines(knowledge)

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        sel = None
        for gen in facts.generations:
            if gen.per_item_loop is None or gen.receiver in ("non-llm", "api"):
                continue  # image/audio generators and server clients do not decode here
            if sel is None:
                sel = batching_selection(ctx.knowledge)
            loop = gen.loop_detail or "a loop"
            cited = "; ".join(describe_batch_pair(p) for p in sel.pairs)
            message = (
                f"`{gen.api}` runs once per item of `{loop}` (line {gen.per_item_loop.line}): one sequence per decoding "
                f"step keeps the GPU memory-bound; batching measured {cited}"
            )
            severity = self.severity
            if gen.receiver == "unknown":
                severity = Severity.INFO
                message += " (what `generate` runs on is not known from this file)"
            elif facts.role == "benchmark":
                severity = Severity.INFO
                message += f" (a measurement script, {facts.role_reason}: one prompt at a time may be what it measures)"
            yield self.finding(
                facts,
                gen.span,
                message,
                severity=severity,
                evidence=evidence_rows(sel),
                advice=_ADVICE.get(gen.engine, _ADVICE["transformers"]),
                next_command=_next(gen, ctx, facts),
            )


def _next(gen, ctx: RuleContext, facts: FileFacts):
    model = next((m.model.id for m in facts.model_loads if m.model and m.model.id), None)
    return next_command(model, ctx.gpu_for(facts), command="optimize", batch_size=1)
