"""ECO104 dead-bnb-4bit-options."""

from __future__ import annotations

from ecolint.facts import FileFacts, QuantSpec
from ecolint.rule import Applicability, Example, Rule, RuleContext, Severity


class DeadBnb4bitOptions(Rule):
    """
    ## What it does
    Flags `bnb_4bit_*` options (`bnb_4bit_quant_type`, `bnb_4bit_compute_dtype`, `bnb_4bit_use_double_quant`,
    `bnb_4bit_quant_storage`) in a config where 4-bit loading is not enabled — Python kwargs, or keys in a
    YAML/TOML config (axolotl top level or `bnb_config_kwargs`, any mapping of bitsandbytes keys). In a config
    file the fix deletes the whole `key: value` lines.

    ## Why is this bad?
    bitsandbytes ignores them unless `load_in_4bit=True`. A reader sees `bnb_4bit_quant_type="nf4"` and
    believes the model runs in NF4 when it runs in 8-bit or full precision; energy and memory estimates built
    on that belief are wrong. Often the 4-bit flag was lost in a copy-paste.

    ## Example
    ```python
    bnb = BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)
    ```

    Use instead:
    ```python
    bnb = BitsAndBytesConfig(load_in_8bit=True)
    ```

    Only a `load_in_4bit` written as false (or absent, with every option visible) counts: a flag, a parameter
    default or a global may turn 4-bit on at run time, and options that also feed a 4-bit config (a shared
    dict, a YAML anchor or merge key) or a config changed after it is built (`kw["load_in_4bit"] = True`,
    `kw.update(...)`, `bnb.load_in_4bit = True`) are live, so none of these is flagged.

    ## Fix safety
    Removing the options is **safe**: they have no effect without 4-bit loading. When a removed option
    carries a comment or may do something (a call such as `opts.pop(...)`), the fix is downgraded to unsafe.
    When the options sit in a dict or YAML anchor that other places also use, or a removed value binds a name
    (`(dt := torch.float16)`), the fix is advice only: removing them would change more than this config.

    ## Evidence
    Behavioural, not an energy measurement: transformers' `BitsAndBytesConfig` reads these keys only in the
    4-bit path.
    """

    code = "ECO104"
    name = "dead-bnb-4bit-options"
    severity = Severity.INFO
    fix_applicability = Applicability.SAFE
    summary = "bnb_4bit_* options without 4-bit loading have no effect"
    tags = ("clarity", "quantization", "bitsandbytes")
    reads = ("quant_specs",)

    VALID = (
        Example('from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")\n'),
        Example('from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=flag, bnb_4bit_quant_type="nf4")\n'),
        Example('from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(bnb_4bit_quant_type="nf4", **extra)\n'),
        Example(
            "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--load-in-4bit', action='store_true')\nargs = p.parse_args()\n"
            'bnb = BitsAndBytesConfig(load_in_4bit=args.load_in_4bit, bnb_4bit_quant_type="nf4")\n'
        ),
        Example(
            "from transformers import BitsAndBytesConfig\ndef make(four=False):\n"
            '    return BitsAndBytesConfig(load_in_4bit=four, bnb_4bit_quant_type="nf4")\ncfg = make(True)\n'
        ),
        Example(
            'from transformers import BitsAndBytesConfig\ncommon = dict(bnb_4bit_quant_type="nf4")\n'
            "eight = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, **common)\n"
            "four = BitsAndBytesConfig(load_in_4bit=True, **common)\n"
        ),
        Example(
            'from transformers import BitsAndBytesConfig\nkw = {"bnb_4bit_quant_type": "nf4"}\nkw["load_in_4bit"] = True\n'
            "bnb = BitsAndBytesConfig(**kw)\n"
        ),
        Example(
            'import sys\nfrom transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=False, bnb_4bit_quant_type="nf4")\n'
            'if "--four" in sys.argv:\n    bnb.load_in_4bit = True\n'
        ),
        Example(
            "base: &base\n  load_in_8bit: true\n  llm_int8_threshold: 0.0\n  bnb_4bit_quant_type: nf4\n"
            "a:\n  <<: *base\nb:\n  <<: *base\n  load_in_8bit: false\n  load_in_4bit: true\n",
            filename="quant.yaml",
        ),
        Example("base_model: NousResearch/Llama-2-7b-hf\nload_in_4bit: true\nbnb_4bit_quant_type: nf4\nmicro_batch_size: 1\n", filename="qlora.yml"),
    )
    INVALID = (
        Example(
            'from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n',
            line=2, col=69, message='bnb_4bit_quant_type has no effect', count=1,
            severity=Severity.INFO,
            fixed="from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n",
        ),
        Example(
            "from transformers import BitsAndBytesConfig\nimport torch\nbnb = BitsAndBytesConfig(\n"
            '    load_in_4bit=False,\n    bnb_4bit_compute_dtype=torch.float16,\n    bnb_4bit_use_double_quant=True,\n)\n',
            line=5,
            fixed="from transformers import BitsAndBytesConfig\nimport torch\nbnb = BitsAndBytesConfig(\n    load_in_4bit=False,\n)\n",
        ),
        Example(
            "base_model: NousResearch/Llama-2-7b-hf\nload_in_8bit: true\nbnb_4bit_quant_type: nf4\nbnb_4bit_use_double_quant: true\nadapter: lora\n",
            filename="lora.yml",
            line=3,
            fixed="base_model: NousResearch/Llama-2-7b-hf\nload_in_8bit: true\nadapter: lora\n",
        ),
    )

    def check(self, facts: FileFacts, ctx: RuleContext):
        if facts.is_test:
            return  # test code exercises the APIs; it deploys nothing
        live = {v.span for spec in facts.quant_specs if not _four_bit_off(spec) for v in spec.options.values() if v.span}
        for spec in facts.quant_specs:
            dead = sorted(name for name in spec.options if name.startswith("bnb_4bit_"))
            if not dead or not _four_bit_off(spec):
                continue
            if any(spec.options[n].span in live for n in dead):
                continue  # the same written option (a shared dict, a YAML anchor) feeds a config that may be 4-bit
            first = min((spec.options[n] for n in dead), key=lambda v: (v.span.line, v.span.col) if v.span else (0, 0))
            state = "`load_in_4bit` is false" if spec.four_bit is not None else "4-bit loading is not enabled"
            fix = None
            if spec.remove_options is not None:
                fix = self.make_fix(spec.remove_options(dead), f"Remove {', '.join(dead)}")
            yield self.finding(
                facts,
                first.span or spec.span,
                f"{', '.join(dead)} ha{'s' if len(dead) == 1 else 've'} no effect because {state}: the model does not run in 4-bit",
                fix=fix,
                advice="Remove the options, or enable `load_in_4bit=True` if 4-bit was intended (and the model is larger than ~3B, see ECO102).",
            )


def _four_bit_off(spec: QuantSpec) -> bool:
    """4-bit loading is certainly off: ``load_in_4bit`` written false, or absent with every option visible.
    A default (a flag, a parameter default, a global) may be switched on at run time."""
    four = spec.four_bit
    if four is not None:
        return four.is_false()
    return not spec.opaque
