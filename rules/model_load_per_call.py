"""ECO204 model-load-per-call."""

from __future__ import annotations

from ecolint.facts import FileFacts, ModelLoad, Repetition
from ecolint.knowledge.loading import LoadEstimate, load_estimate
from ecolint.rule import Example, Rule, RuleContext, Severity

_PLACES = {
    "handler": "once per request",
    "callback": "once per request",
    "call": "once per call",
    "rerun": "once per interaction",
}


class ModelLoadPerCall(Rule):
    """
    ## What it does
    Flags a language model loaded (`from_pretrained` of a causal LM, `pipeline("text-generation", ...)`,
    vLLM `LLM(...)`) where it runs again and again: in the body of a loop, in a web request handler
    (`@app.post(...)`, `@app.route(...)`, `@router.get(...)`), in a Gradio callback (`gr.Interface(fn=...)`,
    `button.click(fn, ...)`), in a `__call__` method, in a Streamlit script (Streamlit runs the script again on
    every interaction), or in a local function or class that one of these calls (a "safety checker" factory called
    for every dialog).

    ## Why is this bad?
    Every load reads the whole checkpoint from storage, builds the model and copies the weights to the GPU:
    gigabytes per call (about 2 bytes per parameter, ~15 GB for a 7B model) before the first token is generated.
    At an assumed 2 GB/s read and 300 W for the server while it loads, that is ~7 s and ~2 kJ for a 7B model, per
    request or item. For scale, a measured 256-token generation with Mistral-7B in fp16 at batch size 1 on an A800
    takes about 1.1 kJ (4,402 J per 1,000 tokens, row 67): the repeated load can cost more than the generation it
    serves. The model is the same every time; loading it once and reusing it removes the cost entirely.

    ## Example
    ```python
    @app.post("/generate")
    def generate(req: Request):
        model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-Instruct-v0.2", device_map="auto")
        return model.generate(**tok(req.prompt, return_tensors="pt").to("cuda"))
    ```

    Use instead:
    ```python
    model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-Instruct-v0.2", device_map="auto")

    @app.post("/generate")
    def generate(req: Request):
        return model.generate(**tok(req.prompt, return_tensors="pt").to("cuda"))
    ```

    Not flagged: a load that a cache or singleton guards (`@functools.cache`/`lru_cache`, `@st.cache_resource`,
    `if _model is None:`, a dict of loaded models, `if "llm" not in st.session_state:`), a loop that changes what
    it loads (a benchmark sweep `for name in MODELS: AutoModel.from_pretrained(name)`, one replica per device), a
    retry loop that stops at the first load that works, a handler that loads the model its request names (a
    model-switch endpoint), tokenizers, processors and configs, models loaded only for their weights (merged,
    converted, saved), a loop in training code (each run it compares needs fresh weights, since training changes
    them), and tests. `while` loops and functions of other modules are not followed.

    Severity: yellow when the model's size is known from its id (the cost is estimated from its bytes), info when
    it is not or in a measurement script (where loading may be what is measured).

    ## Fix safety
    No automatic fix: moving a load to start-up changes when memory is taken and which process holds it.

    ## Evidence
    Estimated, not measured: the checkpoint's bytes (parameters x 2 bytes, or the pre-quantized width) at an
    assumed 2 GB/s storage read, times an assumed 300 W for the server while it loads (see
    `ecolint/knowledge/loading.py`). No source in ecolint's data measured model loading. Streamlit documents that
    it reruns the script on every interaction and that `st.cache_resource` is for ML models.
    """

    code = "ECO204"
    name = "model-load-per-call"
    severity = Severity.YELLOW
    severity_note = "info when the model size is unknown"
    summary = "model loaded once per request, per loop item or per call"
    tags = ("energy", "serving", "loading")
    reads = ("model_loads",)

    VALID = (
        # a sweep over different models: the loop item is the model id
        Example(
            "from transformers import AutoModelForCausalLM\nMODELS = ['gpt2', 'facebook/opt-125m']\n"
            "for name in MODELS:\n    model = AutoModelForCausalLM.from_pretrained(name)\n    evaluate(model)\n"
        ),
        # a module-level singleton
        Example(
            "from transformers import AutoModelForCausalLM\n_model = None\n\ndef get_model():\n    global _model\n"
            "    if _model is None:\n        _model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1')\n"
            "    return _model\n\nfor p in prompts:\n    get_model().generate(**tok(p, return_tensors='pt'))\n"
        ),
        # functools.lru_cache on the loader, called per request
        Example(
            "import functools\nfrom fastapi import FastAPI\nfrom transformers import AutoModelForCausalLM\napp = FastAPI()\n\n"
            "@functools.lru_cache(maxsize=1)\ndef load():\n    return AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1')\n\n"
            "@app.post('/generate')\ndef generate(req: dict):\n    return load().generate(**req)\n"
        ),
        # Streamlit with st.cache_resource
        Example(
            "import streamlit as st\nfrom transformers import pipeline\n\n@st.cache_resource\ndef load():\n"
            "    return pipeline('text-generation', model='Qwen/Qwen2.5-0.5B-Instruct')\n\n"
            "pipe = load()\nst.write(pipe(st.text_input('Prompt'))[0]['generated_text'])\n"
        ),
        # Streamlit with a session-state guard
        Example(
            "import streamlit as st\nfrom vllm import LLM\nif 'llm' not in st.session_state:\n"
            "    st.session_state.llm = LLM(model='Qwen/Qwen2.5-7B-Instruct')\n"
        ),
        # tokenizer and config loads only
        Example(
            "from fastapi import FastAPI\nfrom transformers import AutoConfig, AutoTokenizer\napp = FastAPI()\n\n"
            "@app.post('/count')\ndef count(req: dict):\n    tok = AutoTokenizer.from_pretrained('gpt2')\n"
            "    cfg = AutoConfig.from_pretrained('gpt2')\n    return len(tok(req['text'])['input_ids'])\n"
        ),
        # loaded once at module level, used by the handler
        Example(
            "from fastapi import FastAPI\nfrom transformers import pipeline\napp = FastAPI()\n"
            "pipe = pipeline('text-generation', model='gpt2')\n\n@app.post('/generate')\ndef generate(req: dict):\n"
            "    return pipe(req['prompt'])\n"
        ),
        # a model-switch endpoint loads what the request names
        Example(
            "from fastapi import FastAPI\nfrom transformers import AutoModelForCausalLM\napp = FastAPI()\nmodel = None\n\n"
            "@app.post('/load')\ndef switch(name: str):\n    global model\n    model = AutoModelForCausalLM.from_pretrained(name)\n"
        ),
        # a retry loop
        Example(
            "from vllm import LLM\nfor attempt in range(3):\n    try:\n        llm = LLM(model='Qwen/Qwen2.5-7B-Instruct')\n"
            "        break\n    except RuntimeError:\n        pass\n"
        ),
        # one replica per device
        Example(
            "from transformers import AutoModelForCausalLM\nreplicas = [AutoModelForCausalLM.from_pretrained('gpt2').to(f'cuda:{i}') "
            "for i in range(4)]\n"
        ),
        # training code: each optimizer it compares starts from fresh weights
        Example(
            "import torch\nfrom transformers import AutoModelForCausalLM\nfor opt in ['adamw', 'sgd']:\n"
            "    model = AutoModelForCausalLM.from_pretrained('gpt2')\n    optimizer = make(opt, model)\n"
            "    loss = model(**batch).loss\n    loss.backward()\n    optimizer.step()\n"
        ),
        # a test
        Example(
            "from transformers import AutoModelForCausalLM\nfor _ in range(2):\n    m = AutoModelForCausalLM.from_pretrained('gpt2')\n",
            filename="tests/test_loading.py",
        ),
    )
    INVALID = (
        Example(
            "from fastapi import FastAPI\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\napp = FastAPI()\n\n"
            "@app.post('/generate')\ndef generate(req: dict):\n"
            "    model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-Instruct-v0.2', device_map='auto')\n"
            "    tok = AutoTokenizer.from_pretrained('mistralai/Mistral-7B-Instruct-v0.2')\n"
            "    return model.generate(**tok(req['prompt'], return_tensors='pt'))\n",
            line=7, col=13, message="in the POST /generate handler `generate`, once per request", count=1,
            severity=Severity.YELLOW,
        ),
        Example(
            "from transformers import pipeline\nfor prompt in prompts:\n"
            "    pipe = pipeline('text-generation', model='Qwen/Qwen2.5-1.5B-Instruct')\n    print(pipe(prompt))\n",
            line=3, message="once per item of `for prompt in prompts`",
        ),
        # a factory called for every dialog: reported at the call
        Example(
            "from transformers import AutoModelForCausalLM\n\ndef get_safety_checker():\n"
            "    return AutoModelForCausalLM.from_pretrained('meta-llama/Llama-Guard-3-8B', device_map='auto')\n\n"
            "for dialog in dialogs:\n    checker = get_safety_checker()\n    checker.generate(**dialog)\n",
            line=7, col=15, message="`get_safety_checker()` loads `meta-llama/Llama-Guard-3-8B` (line 4)",
        ),
        Example(
            "import streamlit as st\nfrom transformers import pipeline\n"
            "pipe = pipeline('text-generation', model='Qwen/Qwen2.5-0.5B-Instruct')\nst.write(pipe(st.text_input('Prompt')))\n",
            line=3, message="Streamlit",
        ),
        Example(
            "import gradio as gr\nfrom vllm import LLM\n\ndef respond(message, history):\n"
            "    llm = LLM(model='Qwen/Qwen2.5-7B-Instruct')\n    return llm.generate(message)[0].outputs[0].text\n\n"
            "gr.ChatInterface(respond).launch()\n",
            line=5, message="Gradio callback `respond`",
        ),
        Example(
            "from transformers import AutoModelForCausalLM\nclass Responder:\n    def __call__(self, prompt):\n"
            "        model = AutoModelForCausalLM.from_pretrained(self.path)\n        return model.generate(prompt)\n",
            line=4, severity=Severity.INFO, message="its size is not known",
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        for load in facts.model_loads:
            if not load.causal_lm:
                continue
            seen = set()
            for rep in load.repeats:
                if rep.where == "loop" and facts.training:
                    continue  # training code loads fresh weights for each run it compares (the run changes them)
                span = rep.at or load.span
                if span in seen:
                    continue
                seen.add(span)
                yield self._finding(facts, load, rep)

    def _finding(self, facts: FileFacts, load: ModelLoad, rep: Repetition):
        model = f"`{load.model.id}`" if load.model and load.model.id else "the model"
        est = load_estimate(load.model.params_b, load.model.id or "", load.prequantized) if load.model else None
        place = _place(rep)
        subject = f"`{rep.via}()` loads {model} (line {load.span.line})" if rep.via else f"{model} is loaded"
        severity = self.severity if est is not None else Severity.INFO
        message = f"{subject} {place}: every load {_cost(est)}"
        if facts.role == "benchmark":
            severity = Severity.INFO
            message += f" (a measurement script, {facts.role_reason}: loading may be what it measures)"
        finding = self.finding(
            facts,
            rep.at or load.span,
            message,
            severity=severity,
            advice=_advice(rep),
        )
        if rep.at is not None:
            finding.related.append((facts.path, load.span, f"{model} is loaded here"))
        if rep.context is not None:
            finding.related.append((facts.path, rep.context, rep.detail))
        return finding


def _place(rep: Repetition) -> str:
    if rep.where == "loop":
        line = f" (line {rep.context.line})" if rep.context else ""
        return f"once per item of `{rep.detail}`{line}"
    if rep.where == "rerun":
        return f"in {rep.detail} without `st.cache_resource` (Streamlit runs the script again on every interaction)"
    if rep.where == "call":
        return f"in {rep.detail}, once per call"
    return f"in the {rep.detail}, {_PLACES.get(rep.where, 'once per request')}"


def _cost(est: LoadEstimate | None) -> str:
    if est is None:
        return ("re-reads all of its weights and initialises the model again (its size is not known from the id, so "
                "ecolint gives no estimate; no measured rows)")
    return (f"re-reads ~{est.gb:.1f} GB of weights and initialises the model again: ~{_num(est.seconds)} s and "
            f"~{_num(est.kj)} kJ per load (estimated from {est.bytes_per_param:g} bytes per parameter, {est.assumptions}; "
            "no measured rows)")


def _num(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def _advice(rep: Repetition) -> str:
    if rep.where == "rerun":
        return "Load the model in a function decorated with @st.cache_resource (once per server process)."
    if rep.where == "loop":
        return "Load the model once before the loop and reuse it for every item."
    return ("Load the model once at start-up (module level, a startup hook, __init__ or setup) or cache the loader "
            "(functools.cache), and reuse it for every request.")
