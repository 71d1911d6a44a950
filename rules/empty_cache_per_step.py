"""ECO303 empty-cache-per-step."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.rule import Example, Rule, RuleContext, Severity


class EmptyCachePerStep(Rule):
    """
    ## What it does
    Flags `torch.cuda.empty_cache()` that runs once per generated batch: inside a loop whose body also generates
    (`model.generate`, a pipeline call, a local function that generates), or inside a web request handler
    (`@app.post(...)`, `@app.route(...)`, `@router.get(...)`) that generates.

    ## Why is this bad?
    PyTorch keeps freed GPU memory in its caching allocator so the next step can reuse it without asking the
    driver. `empty_cache()` synchronises with the GPU and hands every unused cached block back to the driver, so
    the next generation has to allocate it all again with `cudaMalloc`: time on every iteration, with the GPU idle
    while it waits. PyTorch's documentation says it "doesn't increase the amount of GPU memory available for
    PyTorch". ecolint has no measurement rows for it, so the finding is information.

    ## Example
    ```python
    for prompt in prompts:
        out = model.generate(**tok(prompt, return_tensors="pt"), max_new_tokens=64)
        torch.cuda.empty_cache()
    ```

    Use instead:
    ```python
    for prompt in prompts:
        out = model.generate(**tok(prompt, return_tensors="pt"), max_new_tokens=64)
    torch.cuda.empty_cache()  # once, if another process needs the memory afterwards
    ```

    Not flagged: a call between models in a sweep (a loop that loads and frees models without generating), a
    handler that does not generate (a health check), test modules.

    ## Fix safety
    No automatic fix: moving the call changes when memory is returned to other processes on the same GPU.

    ## Evidence
    Documented by PyTorch (CUDA semantics, memory management: `empty_cache()` releases unoccupied cached memory
    to other GPU applications and does not increase the memory available to PyTorch). Not measured in ecolint's
    data.
    """

    code = "ECO303"
    name = "empty-cache-per-step"
    severity = Severity.INFO
    summary = "torch.cuda.empty_cache() once per generated batch or request"
    tags = ("energy", "decoding", "memory")
    reads = ("cache_flushes",)

    VALID = (
        Example(
            "import torch\nfor name in ['a', 'b']:\n    model = load(name)\n    del model\n    torch.cuda.empty_cache()\n"
        ),
        Example(
            "import torch\nfor p in prompts:\n    out = model.generate(**tok(p, return_tensors='pt'))\ntorch.cuda.empty_cache()\n"
        ),
        Example(
            "import torch\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef health():\n"
            "    torch.cuda.empty_cache()\n    return 'ok'\n"
        ),
        Example(
            "import torch\ndef test_generate():\n    for p in prompts:\n        model.generate(**p)\n        torch.cuda.empty_cache()\n",
            filename="tests/test_gen.py",
        ),
    )
    INVALID = (
        Example(
            "import torch\nfor p in prompts:\n    out = model.generate(**tok(p, return_tensors='pt'), max_new_tokens=64)\n"
            "    torch.cuda.empty_cache()\n",
            line=4, col=5, message="`torch.cuda.empty_cache()` in a loop that generates (`for p in prompts`)", count=1,
            severity=Severity.INFO,
        ),
        Example(
            "import torch\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.post('/generate')\ndef gen(req):\n"
            "    out = model.generate(**tok(req.prompt, return_tensors='pt'))\n    torch.cuda.empty_cache()\n    return out\n",
            line=7, message="in the POST /generate handler `gen`",
        ),
        Example(
            "from torch.cuda import empty_cache\nfrom transformers import pipeline\npipe = pipeline('text-generation', model='gpt2')\n"
            "def answer(q):\n    return pipe(q)\nfor q in questions:\n    answer(q)\n    empty_cache()\n",
            line=8,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        for flush in facts.cache_flushes:
            place = f"in a loop that generates (`{flush.detail}`)" if flush.where == "loop" else f"in the {flush.detail}, once per request"
            yield self.finding(
                facts,
                flush.span,
                f"`torch.cuda.empty_cache()` {place}: every call synchronises the GPU and returns its cached blocks to the "
                "driver, so the next generation allocates them again while the GPU waits (documented by PyTorch: it does not "
                "increase the memory available to PyTorch; not measured in ecolint's data)",
                advice="Call it once after the loop (or not at all); to bound memory, cap the batch or sequence length instead.",
            )
