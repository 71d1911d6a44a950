"""Issue 13: know what the code is before judging it (fixtures/precision/ and the context facts behind them).

Every class of wrong finding measured on real repositories has a fixture of its own; the findings of the whole
folder are pinned here (the Python ones are also in tests/test_fixtures.py, which pins every fixture file).
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import lint_snippet

from ecolint.config import Settings
from ecolint.fix import apply_fixes
from ecolint.runner import Engine, lint_paths
from ecolint.sources import SourceError
from ecolint.sources.python import extract
from ecolint.sources.yaml_frontend import parse_untemplated
from ecolint.versions import install_pin

ROOT = Path(__file__).resolve().parent.parent
PRECISION = ROOT / "fixtures" / "precision"

EXPECTED = [
    ("finetune_job.json", 6, 8, "ECO101", "yellow"),  # an axolotl payload nested in a job request: training
    ("generate_receivers.py", 51, 13, "ECO201", "info"),  # backend.generate: receiver unknown
    ("generate_receivers.py", 56, 22, "ECO201", "yellow"),  # a causal LM, one prompt at a time
    ("helm/templates/deployment.yaml", 1, 1, "ECO905", "info"),  # a real Helm template that does not parse
    ("input_cast.py", 18, 87, "ECO402", "yellow"),  # the model cast, not the pixel_values casts
    ("quant_factory.py", 11, 35, "ECO101", "info"),  # built only when the caller asks
    ("quant_factory.py", 13, 35, "ECO105", "info"),  # 4-bit without its compute dtype (issue 18)
    ("shared_dtype.py", 11, 89, "ECO401", "yellow"),  # at each load, not on the constant
    ("shared_dtype.py", 12, 92, "ECO401", "yellow"),
    ("vllm-config.yaml", 3, 1, "ECO401", "yellow"),  # {{ }} inside a string: the file is still analysed
]


def _findings(path: Path = PRECISION):
    settings = replace(Settings(root=ROOT), select=("ALL",), transformers_version="4.44.0")
    return lint_paths([path], Engine.create(settings)).findings


def test_precision_fixture_findings_are_pinned():
    got = sorted(
        (Path(f.filename).resolve().relative_to(PRECISION).as_posix(), f.span.line, f.span.col, f.code, f.severity.value)
        for f in _findings()
    )
    assert got == EXPECTED


def test_dtype_constant_is_a_related_location_and_fixed_once():
    path = PRECISION / "shared_dtype.py"
    found = [f for f in _findings(path) if f.code == "ECO401"]
    assert [f.span.line for f in found] == [11, 12]
    for f in found:
        assert [(r[1].line, r[2]) for r in f.related] == [(7, "the dtype `TORCH_DTYPE` is set here")]
        assert f.fix is not None and [e.span.line for e in f.fix.edits] == [7]
    text = path.read_text(encoding="utf-8")
    fixed = apply_fixes(text, found, unsafe=True)
    fixed_text = fixed[0] if isinstance(fixed, tuple) else fixed
    assert "TORCH_DTYPE = torch.float16\n" in fixed_text
    assert fixed_text.count("float16") == 1


def facts(code: str, path: str = "t.py"):
    return extract(path, textwrap.dedent(code))


def test_file_role_from_path_and_test_framework():
    assert facts("x = 1\n", "pkg/tests/training/training.py").role == "test"
    assert facts("x = 1\n", "test_quant.py").role == "test"
    assert facts("import pytest\ndef test_a():\n    pass\n", "check_layers.py").role == "test"
    assert facts("x = 1\n", "benchmarking/int8/run.py").role == "benchmark"
    assert facts("import pytest\n", "serve.py").role == ""  # pytest imported, no tests defined


def test_quantization_opt_in_guard_and_helper():
    f = facts("""
        from transformers import BitsAndBytesConfig
        def get_quantization_config(model_args):
            if model_args.quantization_bit == 8:
                return BitsAndBytesConfig(load_in_8bit=True)
        bnb = BitsAndBytesConfig(load_in_8bit=True)
    """)
    guarded, plain = f.quant_specs
    assert (guarded.guard, guarded.helper) == ("if model_args.quantization_bit == 8", "get_quantization_config")
    assert (plain.guard, plain.helper) == ("", "")


def test_module_level_opt_in_is_one_level_lower():
    found = lint_snippet(textwrap.dedent("""
        import argparse
        from transformers import BitsAndBytesConfig
        p = argparse.ArgumentParser()
        p.add_argument("--load-in-8bit", action="store_true")
        args = p.parse_args()
        if args.load_in_8bit:
            bnb = BitsAndBytesConfig(load_in_8bit=True)
    """))
    assert [(f.code, f.severity.value) for f in found] == [("ECO101", "yellow")]
    assert found[0].message.startswith("when `args.load_in_8bit`")


def test_cpu_branch_and_cpu_device_map():
    f = facts("""
        from transformers import AutoModelForCausalLM
        if use_cpu:
            m = AutoModelForCausalLM.from_pretrained("gpt2", device_map="auto")
        else:
            m = AutoModelForCausalLM.from_pretrained("gpt2", device_map="auto")
        c = AutoModelForCausalLM.from_pretrained("gpt2", device_map={"": "cpu"})
        n = AutoModelForCausalLM.from_pretrained("gpt2", device_map=None)
    """)
    cpu, gpu, mapped, none = f.model_loads
    assert (cpu.cpu, cpu.on_gpu) == ("`if use_cpu`", False)
    assert (gpu.cpu, gpu.on_gpu) == ("", True)
    assert mapped.cpu and not mapped.on_gpu
    assert not none.on_gpu


def test_weights_purpose_and_prequantized():
    f = facts("""
        from transformers import AutoModelForCausalLM
        a = AutoModelForCausalLM.from_pretrained("x/base")
        sd = a.state_dict()
        b = AutoModelForCausalLM.from_pretrained("x/tuned")
        out = b.generate(max_new_tokens=4)
        c = AutoModelForCausalLM.from_pretrained("TheBloke/Llama-2-7B-AWQ")
    """)
    a, b, c = f.model_loads
    assert (a.purpose, b.purpose) == ("weights", "")
    assert c.prequantized and not a.prequantized


def test_generate_receivers():
    f = facts("""
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        model.generate(x)
        pipe.generate(prompt=p, num_inference_steps=20)
        client.generate(p)
        self.model.generate(x)
        engine.generate(x)
    """)
    assert [g.receiver for g in f.generations] == ["causal-lm", "non-llm", "api", "unknown-model", "unknown"]


def test_slice_of_the_loop_index_is_a_batch():
    f = facts("""
        for i, replica in enumerate(replicas):
            part = requests[i * n:(i + 1) * n]
            replica_model.generate(part)
    """)
    assert f.generations[0].per_item_loop is None


def test_trainer_class_marks_training():
    f = facts("class MyTrainer:\n    pass\n")
    assert f.training and "MyTrainer" in f.training_reason


def test_autocast_disabled_chooses_no_dtype():
    f = facts("""
        import torch
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=False):
            pass
        with torch.autocast("cuda", dtype=torch.bfloat16):
            pass
    """)
    assert [u.where for u in f.dtype_uses] == ["autocast"]


def test_templates_in_yaml_strings_are_text():
    parse_untemplated('chat_template: "{{ bos_token }}{% for m in messages %}"\ndoc_to_text: |\n  Q: {{input}}\n')
    for structural, line in (
        ("metadata:\n  name: {{ .Release.Name }}\n", 2),  # parses as a mapping: the tag is structure
        ("{{- if .Values.enabled }}\na: 1\n{{- end }}\n", 1),  # does not parse
    ):
        try:
            parse_untemplated(structural)
        except SourceError as err:
            assert (err.code, err.line) == ("ECO905", line)
        else:
            raise AssertionError(structural)


# -- a notebook's own `pip install transformers...` decides the default dtype (ECO401 without a dtype) --------------

@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("!pip install -q -U transformers accelerate", ("", "auto")),  # unpinned: the newest release (5.x)
        ("%pip install transformers==4.44.2", ("==4.44.2", "fp32")),
        ('!pip install "transformers>=4.40,<5" peft', (">=4.40,<5", "fp32")),
        ("!pip install transformers>=4.40", (">=4.40", "auto")),  # pip takes the newest the specifier allows
        ("!cd repo && pip install -qU transformers[torch]~=4.46.0", ("~=4.46.0", "fp32")),
        ("!pip install git+https://github.com/huggingface/transformers", (" from its main branch", "auto")),
        ("!pip install git+https://github.com/huggingface/transformers.git@v4.37.2", ("@v4.37.2", "fp32")),
        ("!uv pip install transformers==5.1.0", ("==5.1.0", "auto")),
    ],
)
def test_install_pin_reads_the_install_line(line, expected):
    assert install_pin([(3, line)]) == (*expected, 3)


@pytest.mark.parametrize("line", ["!pip install sentence-transformers", "!pip install transformers-stream-generator", "import transformers",
                                  "# pip install transformers==4.30 (see the README)"])
def test_install_pin_ignores_other_packages_and_prose(line):
    assert install_pin([(1, line)]) is None


def test_the_last_install_wins():
    assert install_pin([(1, "!pip install transformers==4.44.2"), (4, "!pip install -U transformers")]) == ("", "auto", 4)
