"""A fix may change only what its message names: run-time values, shared containers, side effects, opaque
``**kwargs`` and YAML anchors never get a fix that changes what the program does (issue 11, A1-A4, C5, E6, E7)."""

from __future__ import annotations

import pytest
from helpers import lint_snippet

from ecolint.fix import applicable, apply_fixes
from ecolint.rule import Applicability, Severity


def _codes(findings, code):
    return [f for f in findings if f.code == code]


def _fixed(code: str, filename: str = "example.py", unsafe: bool = False) -> str:
    return apply_fixes(code, lint_snippet(code, filename), unsafe=unsafe)[0]


def _no_applicable_fix(findings, unsafe: bool = True) -> bool:
    return not any(applicable(f.fix, unsafe) for f in findings)


# -- A1: DEFAULT certainty (argparse defaults, parameter defaults, globals) is not "false" ----------------

R8 = (
    "import argparse, torch\n"
    "from transformers import BitsAndBytesConfig\n"
    "p = argparse.ArgumentParser()\n"
    'p.add_argument("--load-in-4bit", action="store_true")\n'
    "args = p.parse_args()\n"
    'bnb = BitsAndBytesConfig(load_in_4bit=args.load_in_4bit, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)\n'
)
R10 = (
    "import torch\n"
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "def load_model(name, load_in_4bit=False):\n"
    "    bnb = BitsAndBytesConfig(\n"
    "        load_in_4bit=load_in_4bit,\n"
    '        bnb_4bit_quant_type="nf4",\n'
    "        bnb_4bit_compute_dtype=torch.bfloat16,\n"
    "    )\n"
    "    return AutoModelForCausalLM.from_pretrained(name, quantization_config=bnb)\n"
    'model = load_model("mistralai/Mistral-7B-v0.1", load_in_4bit=True)\n'
)
R5 = (
    "from transformers import BitsAndBytesConfig\n"
    "FOUR = False\n"
    "def enable():\n"
    "    global FOUR\n"
    "    FOUR = True\n"
    'def make():\n    return BitsAndBytesConfig(load_in_4bit=FOUR, bnb_4bit_quant_type="nf4")\n'
)
R7 = (
    "from transformers import BitsAndBytesConfig\n"
    "def make(four=False):\n"
    '    return BitsAndBytesConfig(load_in_4bit=four, bnb_4bit_quant_type="nf4")\n'
    "cfg = make(True)\n"
)


@pytest.mark.parametrize("code", [R8, R10, R5, R7], ids=["argparse", "param-default", "global", "caller-passes-true"])
def test_eco104_run_time_flag_is_not_false(code):
    findings = lint_snippet(code)
    assert not _codes(findings, "ECO104")
    assert _fixed(code) == code
    assert _fixed(code, unsafe=True) == code


def test_value_default_is_not_certain():
    from ecolint.facts import DEFAULT, Value

    v = Value(False, DEFAULT)
    assert not v.is_false() and not v.is_true()
    assert v.is_false(or_default=True)


def test_eco104_certain_false_still_fixed():
    code = 'from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=False, bnb_4bit_quant_type="nf4")\n'
    assert _fixed(code) == "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=False)\n"


def test_eco101_run_time_threshold_gets_no_fix():
    code = (
        "import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
        "p.add_argument('--thr', type=float, default=6.0)\nargs = p.parse_args()\n"
        "bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=args.thr)\n"
    )
    [f] = _codes(lint_snippet(code), "ECO101")
    assert f.severity == Severity.YELLOW
    assert "args.thr" in f.message
    assert not applicable(f.fix, True)


def test_eco301_run_time_flag_message_and_severity():
    code = (
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--use-cache', action='store_true')\n"
        "args = p.parse_args()\nout = model.generate(**inputs, max_new_tokens=64, use_cache=args.use_cache)\n"
    )
    [f] = _codes(lint_snippet(code), "ECO301")
    assert "use_cache=args.use_cache" in f.message and "use_cache=False`" not in f.message
    assert f.severity == Severity.INFO
    assert not applicable(f.fix, True)


def test_dtype_from_argparse_is_not_rewritten():
    code = (
        "import argparse, torch\nfrom transformers import AutoModelForCausalLM\np = argparse.ArgumentParser()\n"
        "p.add_argument('--dtype', default='bfloat16')\nargs = p.parse_args()\n"
        "# runs on a T4\nm = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=args.dtype, device_map='cuda')\n"
    )
    findings = lint_snippet(code)
    assert _no_applicable_fix(findings)


# -- A2: shared containers and later mutation ------------------------------------------------------------

SHARED_DICT2 = (
    "import torch\n"
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    'common = dict(bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)\n'
    "eight = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, **common)\n"
    "four = BitsAndBytesConfig(load_in_4bit=True, **common)\n"
)
SHARED_DICT = (
    "from transformers import BitsAndBytesConfig\n"
    'kw = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}\n'
    'kw["load_in_4bit"] = True\n'
    "bnb = BitsAndBytesConfig(**kw)\n"
)
UPDATE = (
    "from transformers import BitsAndBytesConfig\n"
    'kw = dict(bnb_4bit_quant_type="nf4")\n'
    "kw.update(load_in_4bit=True)\n"
    "bnb = BitsAndBytesConfig(**kw)\n"
)
MUTATE = (
    "import sys\n"
    "from transformers import BitsAndBytesConfig\n"
    'bnb = BitsAndBytesConfig(load_in_4bit=False, bnb_4bit_quant_type="nf4")\n'
    'if "--four" in sys.argv:\n'
    "    bnb.load_in_4bit = True\n"
)
MERGE = (
    "base: &base\n"
    "  load_in_8bit: true\n"
    "  llm_int8_threshold: 0.0\n"
    "  bnb_4bit_quant_type: nf4\n"
    "a:\n"
    "  <<: *base\n"
    "b:\n"
    "  <<: *base\n"
    "  load_in_8bit: false\n"
    "  load_in_4bit: true\n"
)


@pytest.mark.parametrize(
    "code,filename",
    [(SHARED_DICT2, "x.py"), (SHARED_DICT, "x.py"), (UPDATE, "x.py"), (MUTATE, "x.py"), (MERGE, "merge.yaml")],
    ids=["shared-dict", "subscript-assign", "update", "attribute-assign", "yaml-merge"],
)
def test_live_options_are_not_dead(code, filename):
    findings = lint_snippet(code, filename)
    assert not _codes(findings, "ECO104")
    fixed = _fixed(code, filename, unsafe=True)
    assert all(line in fixed.splitlines() for line in code.splitlines())  # nothing live is removed (ECO105 may add a compute dtype)


def test_shared_dict_of_two_8bit_configs_is_advice_only():
    code = (
        "from transformers import BitsAndBytesConfig\n"
        'common = dict(bnb_4bit_quant_type="nf4")\n'
        "a = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, **common)\n"
        "b = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, **common)\n"
    )
    found = _codes(lint_snippet(code), "ECO104")
    assert found
    assert all(f.fix is None or f.fix.applicability == Applicability.DISPLAY_ONLY for f in found)
    assert _fixed(code, unsafe=True) == code


def test_eco101_fix_never_edits_a_shared_dict():
    code = (
        "from transformers import BitsAndBytesConfig\n"
        "common = dict(load_in_8bit=True)\n"
        "a = BitsAndBytesConfig(**common)\n"
        "b = BitsAndBytesConfig(**common)\n"
    )
    findings = _codes(lint_snippet(code), "ECO101")
    assert findings
    assert _no_applicable_fix(findings)


def test_attribute_assignment_after_construction_sets_the_threshold():
    code = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\nbnb.llm_int8_threshold = 0.0\n"
    assert not _codes(lint_snippet(code), "ECO101")


# -- A3: side effects ------------------------------------------------------------------------------------

def test_walrus_is_never_removed():
    code = (
        "from transformers import BitsAndBytesConfig\nimport torch\n"
        "bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_compute_dtype=(dt := torch.float16))\n"
        "print(dt)\n"
    )
    [f] = _codes(lint_snippet(code), "ECO104")
    assert f.fix is None or f.fix.applicability == Applicability.DISPLAY_ONLY
    assert _fixed(code, unsafe=True) == code


def test_call_removal_is_unsafe_not_safe():
    code = (
        "from transformers import BitsAndBytesConfig\nopts = {'quant_type': 'nf4'}\n"
        'bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type=opts.pop("quant_type"))\n'
        "print(opts)\n"
    )
    [f] = _codes(lint_snippet(code), "ECO104")
    assert f.fix is None or f.fix.applicability != Applicability.SAFE
    assert _fixed(code) == code


def test_literals_and_dotted_names_stay_safe():
    code = (
        "from transformers import BitsAndBytesConfig\nimport torch\n"
        'bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)\n'
    )
    [f] = _codes(lint_snippet(code), "ECO104")
    assert f.fix.applicability == Applicability.SAFE


# -- A4: opaque **kwargs may carry the dtype --------------------------------------------------------------

D2 = (
    "import torch\n"
    "from transformers import AutoModelForCausalLM\n"
    "def load(name, **kwargs):\n"
    '    return AutoModelForCausalLM.from_pretrained(name, device_map="cuda", **kwargs)\n'
    'm = load("mistralai/Mistral-7B-v0.1", torch_dtype=torch.float16)\n'
)
D1 = (
    "import json\n"
    "from transformers import AutoModelForCausalLM\n"
    'm = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", device_map="cuda", **json.load(open("kw.json")))\n'
)


@pytest.mark.parametrize("code", [D2, D1], ids=["kwargs-param", "json-load"])
def test_eco401_opaque_kwargs(code):
    findings = lint_snippet(code, transformers_version="4.44.0")
    assert not _codes(findings, "ECO401")
    assert _fixed(code, unsafe=True) == code


def test_eco401_still_fires_without_kwargs():
    code = 'from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", device_map="cuda")\n'
    assert _codes(lint_snippet(code, transformers_version="4.44.0"), "ECO401")


# -- C5: YAML anchors ------------------------------------------------------------------------------------

ANCHOR = (
    "model_id: mistralai/Mistral-7B-v0.1\n"
    "quantization_config:\n"
    "  load_in_8bit: true\n"
    "  llm_int8_threshold: 0.0\n"
    "  bnb_4bit_quant_type: &qt nf4\n"
    "notes:\n"
    "  quant: *qt\n"
)


def test_yaml_anchor_is_advice_only(tmp_path, capsys):
    from ecolint import cli

    [f] = _codes(lint_snippet(ANCHOR, "model.yaml"), "ECO104")
    assert f.fix is None or f.fix.applicability == Applicability.DISPLAY_ONLY
    path = tmp_path / "model.yaml"
    path.write_text(ANCHOR)
    cli.main(["check", "--no-cache", "--fix", str(path)])
    out = capsys.readouterr()
    assert "bug" not in out.out + out.err
    assert "fixable" not in out.out + out.err
    assert path.read_text() == ANCHOR


# -- E6: heuristic false positives -----------------------------------------------------------------------

def test_chained_conversion_counts():
    code = (
        "from transformers import AutoModelForCausalLM\n"
        "model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', device_map='cuda')\n"
        "model = model.eval().half()\n"
    )
    assert not _codes(lint_snippet(code, transformers_version="4.44.0"), "ECO401")
    code2 = "from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', device_map='cuda').eval().half()\n"
    assert not _codes(lint_snippet(code2, transformers_version="4.44.0"), "ECO401")


def test_incidental_gpu_word_does_not_win():
    code = (
        "# T4 users should run fp16 instead; this script targets the A100\n"
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16, device_map='cuda')\n"
    )
    assert not _codes(lint_snippet(code), "ECO402")


def test_conflicting_gpu_hints_stay_silent():
    code = (
        "# benchmarked on a T4\n# also tried an A100\n"
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16, device_map='cuda')\n"
    )
    assert not _codes(lint_snippet(code), "ECO402")


def test_loop_over_decoding_parameters_is_not_per_prompt():
    code = (
        "enc = tok(prompts, return_tensors='pt', padding=True).to('cuda')\n"
        "for temperature in [0.1, 0.5, 1.0]:\n"
        "    out = model.generate(**enc, do_sample=True, temperature=temperature)\n"
    )
    assert not _codes(lint_snippet(code), "ECO201")


def test_vllm_loop_over_shards_is_batched():
    code = (
        "from vllm import LLM\nllm = LLM(model='mistralai/Mistral-7B-v0.1')\n"
        "shards = [prompts[i:i + 64] for i in range(0, len(prompts), 64)]\n"
        "for shard in shards:\n    outs = llm.generate(shard)\n"
    )
    assert not _codes(lint_snippet(code), "ECO201")


# -- E7: config messages show the value ------------------------------------------------------------------

@pytest.mark.parametrize(
    "code,filename",
    [
        ("model_id: m/x-7b\nquantization_config:\n  load_in_8bit: true\n  llm_int8_threshold: 6.0\n", "model.yaml"),
        ('[quant]\nload_in_8bit = true\nllm_int8_threshold = 6.0\n', "model.toml"),
    ],
)
def test_config_threshold_message_shows_the_value(code, filename):
    [f] = _codes(lint_snippet(code, filename), "ECO101")
    assert "llm_int8_threshold=6.0" in f.message
    assert "llm_int8_threshold=llm_int8_threshold" not in f.message


def test_a_torch_attribute_is_a_dtype_only_when_spelled_exactly():
    """``torch.Bfloat16`` is no dtype (attributes are case-sensitive): no ECO402 and no fix rewriting it (found by
    bench/fuzz.py, seed 31337)."""
    wrong = (
        "import torch\nfrom transformers import AutoModelForCausalLM\n# Colab T4\n"
        "m = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.Bfloat16)\n"
    )
    assert not _codes(lint_snippet(wrong), "ECO402")
    assert _fixed(wrong, unsafe=True) == wrong
    right = wrong.replace("Bfloat16", "bfloat16")
    assert _codes(lint_snippet(right), "ECO402")
