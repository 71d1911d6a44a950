"""The prefilter never drops a file that has findings: prefiltered and unfiltered runs agree on the fixtures,
on every rule example and on a generated corpus, with and without a GPU in the settings."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from ecolint import prefilter
from ecolint.config import Settings
from ecolint.registry import all_rules
from ecolint.runner import Engine, lint_bytes, lint_text
from ecolint.sources import kind_for

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
NOWHERE = Path("/nonexistent")


def _engine(gpu=None, **changes) -> Engine:
    settings = replace(Settings(root=ROOT), gpu=gpu, transformers_version="4.44.0", **changes)
    return Engine.create(settings)


@pytest.fixture(scope="module")
def engines():
    return {None: _engine(), "t4": _engine("t4"), "a100": _engine("a100")}


def _keys(findings):
    return [(f.code, f.span, f.message) for f in findings]


def _agree(path: str, text: str, kind: str, engine: Engine) -> None:
    full = lint_text(path, text, kind, engine, project_dir=NOWHERE).findings
    fast = lint_bytes(path, text.encode("utf-8"), kind, engine, project_dir=NOWHERE).findings
    # A file the prefilter drops is not parsed, so its syntax errors go unreported (like a file without
    # trigger tokens); everything else must be identical.
    if not fast:
        full = [f for f in full if f.code != "ECO900"]
    assert _keys(fast) == _keys(full), path


def test_every_builtin_rule_declares_the_facts_it_reads():
    for rule in all_rules():
        if rule.engine_emitted or not type(rule).__module__.startswith("ecolint.rules"):
            continue
        facts = prefilter.rule_facts(rule)
        assert facts is not None, f"{rule.code}: declare the facts it reads (Rule.reads)"
        for fact in facts:
            assert fact in prefilter._PY_CALLS or fact in prefilter._PY_ATTR_ASSIGN, (rule.code, fact)


FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and kind_for(p))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES])
@pytest.mark.parametrize("gpu", [None, "t4"])
def test_fixtures_agree(path, gpu, engines):
    if b"\x00" in path.read_bytes():
        pytest.skip("binary: refused before any text exists (no lint_text path to compare)")
    _agree(path.name, path.read_text(encoding="utf-8"), kind_for(path), engines[gpu])


def _examples():
    for rule in all_rules():
        for i, ex in enumerate(tuple(rule.VALID) + tuple(rule.INVALID)):
            yield pytest.param(ex, id=f"{rule.code}-{i}")


@pytest.mark.parametrize("example", list(_examples()))
def test_rule_examples_agree(example, engines):
    kind = kind_for(Path(example.filename)) or "python"
    for gpu in {example.gpu, None, "t4"}:
        engine = engines.get(gpu) or _engine(gpu)
        _agree(example.filename, example.code, kind, engine)


# -- a generated corpus: real call sites mixed with the same words in docstrings, comments, doctests and strings
IMPORTS = [
    "import torch\n",
    "import transformers\n",
    "import transformers as tf\n",
    "from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, pipeline\n",
    "from transformers import AutoModelForCausalLM as LM\n",
    "from transformers import pipeline as make_pipe\n",
    "from transformers import BitsAndBytesConfig as BNB, GenerationConfig\n",
    "from transformers import *\n",
    "from vllm import LLM, SamplingParams\n",
    "import vllm as v\n",
    "from torch.utils.data import DataLoader\n",
    "from transformers import AutoModelForCausalLM as Loader\n",
    "from transformers import BitsAndBytesConfig as Thing\n",
    "import transformers.models as models\n",
]
SITES = [
    'model = AutoModelForCausalLM.from_pretrained("facebook/opt-1.3b", device_map="auto")\n',
    'model = LM.from_pretrained("mistralai/Mistral-7B-v0.1", load_in_8bit=True, device_map="auto")\n',
    'model = tf.AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf", torch_dtype=torch.float32).to("cuda")\n',
    'cfg = BitsAndBytesConfig(load_in_8bit=True)\n',
    'cfg = BNB(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)\n',
    'cfg = BitsAndBytesConfig.from_dict({"load_in_8bit": True})\n',
    'q = {"load_in_8bit": True}\nmodel = AutoModelForCausalLM.from_pretrained("gpt2", quantization_config=q, device_map="auto")\n',
    'pipe = pipeline("text-generation", model="gpt2", device=0, batch_size=1)\n',
    'pipe = make_pipe("text-generation", model="Qwen/Qwen2.5-0.5B", device_map="auto")\n',
    'llm = LLM(model="Qwen/Qwen2.5-7B", max_num_seqs=1, quantization="bitsandbytes")\n',
    'llm = v.LLM("Qwen/Qwen2.5-7B", dtype="float32")\n',
    'for p in prompts:\n    out = model.generate(**tok(p, return_tensors="pt"), use_cache=False)\n',
    'for p in prompts:\n    out = pipe(p)\n',
    'for p in prompts:\n    out = llm.chat([p])\n',
    'model.generation_config.use_cache = False\n',
    'gen = GenerationConfig(use_cache=False, max_new_tokens=64)\n',
    'x = model.to(torch.bfloat16)\n',
    'y = model.bfloat16()\n',
    'torch.set_default_dtype(torch.float32)\n',
    'dl = DataLoader(ds, batch_size=1)\nfor batch in dl:\n    model.generate(batch)\n',
    'def run(p):\n    return model.generate(p)\n\nfor p in prompts:\n    run(p)\n',
    'config = AutoConfig.from_pretrained("gpt2")\n',
    'tok = AutoTokenizer.from_pretrained("gpt2", use_fast=True)\n',
    'obj = Thing.from_dict({"load_in_8bit": True})\n',
    'model = Loader.from_pretrained("facebook/opt-1.3b", load_in_8bit=True)\n',
    'model = (AutoModelForCausalLM).from_pretrained("gpt2", torch_dtype=torch.float32)\n',
    'model = models.AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)\n',
    'model = AutoModelForCausalLM \\\n    .from_pretrained("gpt2", load_in_8bit=True)\n',
    'class Wrapper:\n    @classmethod\n    def from_pretrained(cls, name):\n        return cls.from_pretrained(name, load_in_8bit=True)\n',
    'def generate(ids):\n    return ids\n\nfor p in prompts:\n    generate(p)\n',
]
NOISE = [
    '"""Load with ``AutoModelForCausalLM.from_pretrained(name, load_in_8bit=True)`` then call ``model.generate(x, use_cache=False)``."""\n',
    'def helper():\n    """\n    Example:\n\n    >>> model = AutoModelForCausalLM.from_pretrained("gpt2", torch_dtype=torch.float32)\n    >>> model.generate(ids, use_cache=False)\n    """\n    return 1\n',  # noqa: E501
    '# model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)  # runs on a T4\n',
    'MSG = "call pipeline(task) with batch_size=1 or BitsAndBytesConfig(load_in_8bit=True)"\n',
    'label = f"{name}: generate({n}) bfloat16"\n',
    'text = f"{model.generate(ids, use_cache=False)}"\n',
    'x = 1  # noqa: ECO101\n',
    'y = 2  # NOQA: eco301\n',
    'values = [\n    ..., model.generate(ids, use_cache=False)]\n',
    'def generate(self, ids):\n    return ids\n',
    'class Trainer:\n    pass\n',
    '# GPU: V100\n',
    'use_cache = False\nbatch_size = 1\nfor i in range(3):\n    pass\n',
]


def _programs(n: int, seed: int = 20240611):
    rng = random.Random(seed)
    for i in range(n):
        parts = rng.sample(IMPORTS, rng.randint(0, 3))
        parts += ["prompts = ['a', 'b']\n"]
        body = rng.sample(SITES, rng.randint(0, 3)) + rng.sample(NOISE, rng.randint(1, 4))
        rng.shuffle(body)
        yield i, "".join(parts + body)


@pytest.mark.parametrize("gpu", [None, "t4"])
def test_generated_corpus_agrees(gpu, engines):
    engine = engines[gpu]
    for i, code in _programs(120):
        _agree(f"gen_{i}.py", code, "python", engine)


# -- what the call-site check keeps and drops
def _wants(code: str, gpu=None, engines=None) -> bool:
    return prefilter.wants_parse(code, "python", (engines or {}).get(gpu) or _engine(gpu))


@pytest.mark.parametrize(
    "code,expected",
    [
        ('"""Use AutoModelForCausalLM.from_pretrained(x) and model.generate(ids)."""\n', False),
        ('def f():\n    """\n    >>> out = model.generate(ids, use_cache=False)\n    """\n', False),
        ('# model.generate(ids, use_cache=False)\nx = 1\n', False),
        ('cfg = AutoConfig.from_pretrained("gpt2")\ncfg.use_cache = False\n', False),
        ("self.config.use_cache = False\nout = self.model(ids, use_cache=use_cache)\n", False),
        ('from transformers import pipeline as mk\np = mk("text-generation")\nfor x in xs:\n    p(x)\n', True),
        ('import transformers as t\nm = t.AutoModelForCausalLM.from_pretrained("gpt2", torch_dtype="float32")\n', True),
        ("model.generation_config.use_cache = False\n", True),
        ('out = model.generate(ids, use_cache=False)\n', True),
        ('x = f"{model.generate(ids, use_cache=False)}"\n', True),
        ("x = 1  # noqa: ECO301\n", True),
        ("this is not python (\n    model.generate(", True),  # unparsable: the front end reports it
        ('def generate(self, ids):\n    return ids\n', False),
        ('cfg = AutoConfig.from_pretrained("gpt2", use_cache=False)\nm = cls.from_pretrained(x)\n', False),
        ('c = Thing.from_dict({"load_in_8bit": True})\n', False),
        ('from transformers import BitsAndBytesConfig as Thing\nc = Thing.from_dict({"load_in_8bit": True})\n', True),
        ('from transformers import AutoModelForCausalLM as Cfg\nm = Cfg.from_pretrained("gpt2", load_in_8bit=True)\n', True),
    ],
)
def test_call_site_check(code, expected, engines):
    assert _wants(code, engines=engines) is expected


def test_gpu_only_rule_needs_a_gpu(engines):
    code = "import torch\nx = model.to(torch.bfloat16)\n"
    assert not _wants(code, None, engines)
    assert _wants(code, "t4", engines)
    assert _wants("# deployed on a T4\n" + code, None, engines)


def test_disabled_prefilter_parses_everything():
    engine = _engine()
    engine.prefilter = False
    r = lint_bytes("x.py", b"def broken(:\n", "python", engine, project_dir=NOWHERE)
    assert [f.code for f in r.findings] == ["ECO900"]


def test_unknown_rule_switches_the_site_check_off(engines):
    class Custom:
        code = "ECO999"
        kinds = ("python",)
        triggers = ("magic",)

    engine = _engine()
    engine.rules = list(engine.rules) + [Custom()]
    assert prefilter.wants_parse('"""magic words in a docstring"""\n', "python", engine)


# -- text scans that stand in for slower regular expressions ---------------------------------------------------
def _corpus_texts() -> list[str]:
    paths = sorted((ROOT / "ecolint").rglob("*.py")) + sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths]


_WORD_TRAPS = [
    "xfrom a import b\nfrom c import d\n",
    "from_a import b\n_import os\nimport_x = 1\nximport y\nimport z\n",
    "éfrom x import y\n2import q\nfrom . import (a,\n  b as c)\n",
    "if x:from m import n\n(from) import\nfromfrom a import b\n",
    "",
    "from",
    "import",
]


def test_import_scans_find_what_a_word_boundary_regex_finds():
    import re

    from ecolint.project import summaries

    for text in _WORD_TRAPS + _corpus_texts():
        for pattern in (summaries._FROM, summaries._IMPORT):
            bounded = re.compile(r"\b" + pattern.pattern)
            assert [m.span() for m in summaries._word_matches(pattern, text)] == [m.span() for m in bounded.finditer(text)]


def test_gpu_stems_test_agrees_with_the_gpu_regex():
    from ecolint.sources.python.vocab import GPU_STEMS, GPU_WORDS, names_gpu

    named = ["T4", "Tesla V100", "NVIDIA-P100", "P40", "K80", "A100", "A800", "H100", "H200", "L4", "L40", "L40S",
             "A10", "A10G", "RTX 2080 Ti", "RTX3090", "RTX-4090D", "RTX 5090", "NVIDIA A100"]
    for name in named:
        m = GPU_WORDS.search(f"runs on an {name} here")
        assert m is not None, name
        assert any(stem in m.group(0) for stem in GPU_STEMS), name
    rng = random.Random(7)
    pieces = ["T", "4", "A", "10", "0", "G", "L", "S", "H", "RTX", " ", "-", "Tesla ", "NVIDIA", "x", "_", "P", "K8", "V1", "\n"]
    generated = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for text in generated + [f"a {n} b" for n in named] + _corpus_texts():
        assert names_gpu(text) == (GPU_WORDS.search(text) is not None), text
