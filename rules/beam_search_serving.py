"""ECO304 beam-search-serving."""

from __future__ import annotations

from ecolint.facts import FileFacts, Generation
from ecolint.rule import Example, Rule, RuleContext, Severity


class BeamSearchServing(Rule):
    """
    ## What it does
    Flags beam search as the default of a serving path: `num_beams > 1` in a `generate(...)` or pipeline call, or
    a `GenerationConfig(num_beams=...)`, inside a web request handler (`@app.post(...)`, `@app.route(...)`), a
    Gradio callback, a local function one of them calls or a Streamlit app; a `GenerationConfig(num_beams=...)` or
    `generation_config.num_beams = N` anywhere in a module that serves requests; and vLLM's
    `BeamSearchParams(beam_width=N)` or (before vLLM 0.6.3) `SamplingParams(use_beam_search=True, best_of=N)` in
    such a handler. A value that is only a default (a parameter default, an argparse default) counts: it is what a
    request gets unless it asks for something else.

    ## Why is this bad?
    Beam search keeps `num_beams` candidate sequences and decodes all of them for every token: each request
    carries `num_beams` times the KV cache and attention work of greedy or sampled decoding, and a server fits
    `num_beams` times fewer requests in the memory it batches them in. For open-ended chat and instruction
    following, Hugging Face's generation guide recommends sampling rather than beam search, which tends to repeat
    itself there. ecolint has no measurement rows for beam search, so the finding is information.

    ## Example
    ```python
    @app.post("/chat")
    def chat(req: Request):
        return model.generate(**tok(req.prompt, return_tensors="pt").to("cuda"), num_beams=4, max_new_tokens=256)
    ```

    Use instead:
    ```python
    @app.post("/chat")
    def chat(req: Request):
        return model.generate(**tok(req.prompt, return_tensors="pt").to("cuda"), do_sample=True, max_new_tokens=256)
    ```

    Not flagged: `num_beams=1`; offline evaluation scripts and benchmarks (beam search outside a serving path),
    tests; encoder-decoder translation and summarisation models (`AutoModelForSeq2SeqLM`, T5, BART, Marian,
    NLLB, a `translation`/`summarization`/`text2text-generation` pipeline), whose checkpoints are published to
    decode with beam search and whose outputs are short and bounded by the input: there beam search is the
    quality setting, not waste. Config files are not read: neither vLLM nor TGI has a server-wide beam search
    default (vLLM takes beam search per request, TGI does not implement it).

    ## Fix safety
    No automatic fix: greedy or sampled decoding changes the outputs.

    ## Evidence
    Documented by Hugging Face (text generation strategies: beam search decodes `num_beams` hypotheses per step).
    Not measured in ecolint's data.
    """

    code = "ECO304"
    name = "beam-search-serving"
    severity = Severity.INFO
    summary = "beam search (num_beams > 1) as the default of a serving path"
    tags = ("energy", "decoding", "serving")
    reads = ("generations",)

    VALID = (
        # an offline evaluation script: not serving
        Example(
            "from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained('gpt2')\n"
            "for batch in loader:\n    out = model.generate(**batch, num_beams=4)\n"
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/chat')\ndef chat(req: dict):\n"
            "    return model.generate(**req, num_beams=1)\n"
        ),
        # a translation model: beam search is how it is published to decode
        Example(
            "from fastapi import FastAPI\nfrom transformers import AutoModelForSeq2SeqLM\napp = FastAPI()\n"
            "model = AutoModelForSeq2SeqLM.from_pretrained('Helsinki-NLP/opus-mt-en-de')\n\n@app.post('/translate')\n"
            "def translate(req: dict):\n    return model.generate(**req, num_beams=4)\n"
        ),
        Example(
            "from fastapi import FastAPI\nfrom transformers import pipeline\napp = FastAPI()\n"
            "summarizer = pipeline('summarization', model='facebook/bart-large-cnn')\n\n@app.post('/summarize')\n"
            "def summarize(req: dict):\n    return summarizer(req['text'], num_beams=4)\n"
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/chat')\ndef chat(req: dict):\n"
            "    return model.generate(**req, num_beams=4)\n",
            filename="tests/test_server.py",
        ),
        Example(
            "from transformers import GenerationConfig\ncfg = GenerationConfig(num_beams=4)\n"
            "for batch in loader:\n    model.generate(**batch, generation_config=cfg)\n",
            filename="benchmarks/beams.py",
        ),
    )
    INVALID = (
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/chat')\ndef chat(req: dict):\n"
            "    return model.generate(**req, num_beams=4, max_new_tokens=256)\n",
            line=6, col=34, message="`num_beams=4` in the POST /chat handler `chat`", count=1, severity=Severity.INFO,
        ),
        Example(
            "import gradio as gr\nfrom transformers import GenerationConfig\n\n"
            "def evaluate(instruction, num_beams=4):\n    cfg = GenerationConfig(num_beams=num_beams)\n"
            "    return model.generate(**tok(instruction, return_tensors='pt'), generation_config=cfg)\n\n"
            "gr.Interface(fn=evaluate, inputs=['text', 'number'], outputs='text').launch()\n",
            line=5, message="by default",
        ),
        Example(
            "from flask import Flask\nfrom transformers import AutoModelForCausalLM\napp = Flask(__name__)\n"
            "model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-Instruct-v0.2')\n"
            "model.generation_config.num_beams = 3\n\n@app.route('/generate', methods=['POST'])\ndef generate():\n"
            "    return model.generate(**request.json)\n",
            line=5, message="module that serves requests",
        ),
        Example(
            "from fastapi import FastAPI\nfrom vllm import LLM\nfrom vllm.sampling_params import BeamSearchParams\napp = FastAPI()\n"
            "llm = LLM(model='Qwen/Qwen2.5-7B-Instruct')\n\n@app.post('/complete')\ndef complete(req: dict):\n"
            "    return llm.beam_search([req['prompt']], BeamSearchParams(beam_width=4, max_tokens=128))\n",
            line=9, message="`beam_width=4`",
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test or facts.role == "benchmark":
            return  # tests and measurement scripts serve nothing
        for gen in facts.generations:
            beams = gen.num_beams
            if beams is None or gen.served is None or gen.seq2seq:
                continue
            if not beams.known or isinstance(beams.value, bool) or not isinstance(beams.value, int) or beams.value <= 1:
                continue
            yield self._finding(facts, gen)

    def _finding(self, facts: FileFacts, gen: Generation):
        beams = gen.num_beams
        assert beams is not None and gen.served is not None
        n = beams.value
        keyword = "beam_width" if gen.api.endswith("BeamSearchParams") else "best_of" if gen.api.endswith("SamplingParams") else "num_beams"
        written = f"`{keyword}={n}`" if beams.certain else f"`{keyword}={beams.source}` ({n} by default)"
        served = gen.served
        if served.where == "module":
            place = f"in a module that serves requests ({served.detail})"
        elif served.where == "rerun":
            place = f"in {served.detail}, run on every interaction"
        elif served.via:
            place = f"in `{served.via}`, which the {served.detail} calls on line {served.at.line if served.at else '?'}"
        else:
            place = f"in the {served.detail}"
        finding = self.finding(
            facts,
            beams.span or gen.span,
            f"{written} {place}: every request decodes {n} sequences side by side, {n}x the KV cache and attention "
            f"work of greedy or sampled decoding, and {n}x fewer requests fit in a batch (documented by Hugging Face's "
            "generation strategies; not measured in ecolint's data)",
            advice="Serve with greedy or sampled decoding (num_beams=1, do_sample=True) and offer beam search only "
            "to requests that ask for it.",
        )
        if served.context is not None:
            finding.related.append((facts.path, served.context, served.detail))
        return finding
