"""ECO301 kv-cache-disabled."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


class KvCacheDisabled(Rule):
    """
    ## What it does
    Flags `use_cache=False` on a generation call or generation config (`generate(...)`, `GenerationConfig(...)`,
    a pipeline call, `model.generation_config.use_cache = False`) that produces more than one token at
    inference time.

    ## Why is this bad?
    Without the key/value cache every new token re-runs attention over the whole prefix, so the work per
    token grows with the sequence length and generating *n* tokens costs O(n²) instead of O(n). The flag is
    usually left over from training, where gradient checkpointing needs it off. ecolint has **no measurement
    rows** for this setting: the cost is analytic, and grows with output length.

    ## Example
    ```python
    out = model.generate(**inputs, max_new_tokens=256, use_cache=False)
    ```

    Use instead:
    ```python
    out = model.generate(**inputs, max_new_tokens=256)
    ```

    ## Fix safety
    The fix removes `use_cache=False`. It is **unsafe**: greedy outputs are the same in exact arithmetic, but
    cached attention uses other kernels (small numeric differences) and the cache needs GPU memory that a
    large batch may not have. A flag or default (`use_cache=args.use_cache`) is reported one level lower and
    never rewritten.

    ## Evidence
    None measured; not flagged in training scripts or with `max_new_tokens=1` (nothing to cache).
    """

    code = "ECO301"
    name = "kv-cache-disabled"
    severity = Severity.YELLOW
    fix_applicability = Applicability.UNSAFE
    summary = "use_cache=False at generation (quadratic recomputation per token)"
    tags = ("energy", "decoding")
    reads = ("generations",)

    VALID = (
        Example("out = model.generate(**inputs, max_new_tokens=1, use_cache=False)\n"),
        Example(
            "from transformers import Trainer\nmodel.gradient_checkpointing_enable()\nmodel.config.use_cache = False\n"
            "out = model.generate(**inputs, use_cache=False)\ntrainer = Trainer(model=model)\ntrainer.train()\n"
        ),
        Example("out = model.generate(**inputs, max_new_tokens=64)\n"),
    )
    INVALID = (
        Example(
            "out = model.generate(**inputs, max_new_tokens=64, use_cache=False)\n",
            line=1, col=51, message='`use_cache=False` on `model.generate`', count=1,
            fixed="out = model.generate(**inputs, max_new_tokens=64)\n",
        ),
        Example("from transformers import GenerationConfig\ncfg = GenerationConfig(max_new_tokens=200, use_cache=False)\n", line=2),
        Example("gen_kwargs = {'max_new_tokens': 128, 'use_cache': False}\nmodel.generate(**inputs, **gen_kwargs)\n", line=1),
        Example(
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('--use-cache', action='store_true')\nargs = p.parse_args()\n"
            "out = model.generate(**inputs, max_new_tokens=64, use_cache=args.use_cache)\n",
            line=5,
            severity=Severity.INFO,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        if facts.training:
            return
        for gen in facts.generations:
            uc = gen.use_cache
            if uc is None or not uc.is_false(or_default=True):
                continue
            mnt = gen.max_new_tokens
            if mnt is not None and mnt.known and isinstance(mnt.value, int) and mnt.value <= 1:
                continue
            tokens = f" for {mnt.value} new tokens" if mnt is not None and mnt.known else ""
            if uc.certain:
                written, severity = "`use_cache=False`", self.severity
                fix = self.make_fix(gen.remove_use_cache() if gen.remove_use_cache else None, "Remove `use_cache=False` (the KV cache is on by default)")
            else:  # a flag or default the user may change at run time: one level lower, and never rewritten
                written, severity, fix = f"`use_cache={uc.source}` (false unless overridden)", self.severity.lower(), None
            yield self.finding(
                facts,
                uc.span or gen.span,
                f"{written} on `{gen.api}`{tokens}: without the KV cache each new token recomputes attention over "
                "the whole prefix (O(n^2) work for n tokens); not measured in ecolint's data, the cost grows with output length",
                severity=severity,
                fix=fix,
                advice="Remove use_cache=False for inference; it is only needed with gradient checkpointing during training.",
            )
