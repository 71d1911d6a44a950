"""ECO103 conflicting-8bit-4bit."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


class Conflicting8bit4bit(Rule):
    """
    ## What it does
    Flags a quantization config that asks for 8-bit and 4-bit at the same time (`load_in_8bit=True` and
    `load_in_4bit=True`, `--quantize` plus `load_in_4bit`, both keys true in a YAML config).

    ## Why is this bad?
    The two modes exclude each other. transformers rejects the config with a `ValueError` when the model
    loads, so a job can queue for a GPU, download the weights and only then fail, burning the energy of the
    whole start-up for nothing. Some wrappers silently pick one of the two, so the deployed precision is not
    the one the reader of the config expects.

    ## Example
    ```python
    bnb = BitsAndBytesConfig(load_in_8bit=True, load_in_4bit=True)
    ```

    Use instead, for a model of ~6B parameters or more:
    ```python
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
    ```

    ## Fix safety
    No automatic fix: which of the two precisions was meant is a decision only the author can make.

    ## Evidence
    Not an energy measurement: transformers' `BitsAndBytesConfig` validation refuses the combination.
    """

    code = "ECO103"
    name = "conflicting-8bit-4bit"
    severity = Severity.RED
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "8-bit and 4-bit quantization requested together"
    tags = ("correctness", "quantization", "bitsandbytes")
    reads = ("quant_specs",)

    VALID = (
        Example(
            "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--bits', type=int, default=4)\nargs = p.parse_args()\n"
            "if args.bits == 8:\n    bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"
            "else:\n    bnb = BitsAndBytesConfig(load_in_4bit=True)\n"
        ),
        Example("from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=False, load_in_4bit=True)\n"),
    )
    INVALID = (
        Example(
            "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True, load_in_4bit=True)\n",
            line=2, col=45, message='8-bit and 4-bit quantization are both enabled', count=1,
            severity=Severity.RED,
        ),
        Example(
            'from transformers import AutoModelForCausalLM\nkw = dict(load_in_8bit=True, load_in_4bit=True)\n'
            'm = AutoModelForCausalLM.from_pretrained("gpt2", **kw)\n',
            line=2,
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        for spec in facts.quant_specs:
            eight, four = spec.eight_bit, spec.four_bit
            if eight is None or four is None or not eight.is_true(or_default=True) or not four.is_true(or_default=True):
                continue
            # a default that a flag or caller may change is reported one level lower
            severity = self.severity if eight.certain and four.certain else self.severity.lower()
            later = max((eight, four), key=lambda v: (v.span.line, v.span.col) if v.span else (0, 0))
            yield self.finding(
                facts,
                later.span or spec.span,
                "8-bit and 4-bit quantization are both enabled: transformers refuses this config when the model loads "
                "(ValueError), after the job has started; keep exactly one",
                severity=severity,
                advice="Keep `load_in_4bit=True` (NF4) for models of ~6B+ on memory-bound GPUs, or drop quantization (FP16) for smaller models. Avoid default INT8 (ECO101).",
            )
