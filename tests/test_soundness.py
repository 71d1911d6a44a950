"""Soundness of every shortcut: the same findings with the prefilter on and off (``Engine.prefilter = False``),
over every fixture, every rule example and a corpus generated per config dialect from the dialects' own
vocabulary tables (every synonym they map, the three spellings of issue 12 included)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ecolint.config import Settings
from ecolint.registry import all_rules
from ecolint.runner import Engine, lint_bytes
from ecolint.sources import kind_for, launch
from ecolint.sources.dialects import base as dialect_base
from ecolint.sources.dialects import generic
from ecolint.sources.dialects import vllm_config as vllm_dialect

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = Path("/nonexistent")
MODEL = "mistralai/Mistral-7B-v0.1"
SMALL = "Qwen/Qwen2.5-0.5B"


@pytest.fixture(scope="module")
def engines():
    """(prefilter on, prefilter off) pairs, with and without a GPU: all rules, and each rule alone (another live
    rule must not hide a file the prefilter drops for this one)."""
    out = {}
    for gpu in (None, "t4"):
        fast = Engine.create(replace(Settings(root=ROOT), gpu=gpu, transformers_version="4.44.0"))
        out[(gpu, "all")] = (fast, replace(fast, prefilter=False))
        for rule in fast.rules:
            alone = replace(fast, rules=[rule])
            out[(gpu, rule.code)] = (alone, replace(alone, prefilter=False))
    return out


def _keys(result):
    return [(f.code, f.span, f.message) for f in result.findings]


def _agree(name: str, text: str, engines) -> list:
    """Findings with the prefilter off; asserts the prefiltered run gives the same ones."""
    kind = kind_for(Path(name))
    assert kind is not None, name
    data = text.encode("utf-8", "surrogateescape")
    found = []
    for fast, full in engines.values():
        on = lint_bytes(name, data, kind, fast, project_dir=NOWHERE)
        off = lint_bytes(name, data, kind, full, project_dir=NOWHERE)
        expected = _keys(off)
        if not on.parsed:  # a file that is not parsed has no syntax verdict (ECO900/ECO905), as documented,
            # unless its front end gives one while decoding it (a file that is not a notebook at all)
            expected = [k for k in expected if k[0] not in ("ECO900", "ECO905") or k in _keys(on)]
        assert _keys(on) == expected, (name, text)
        found.extend(off.findings)
    return found


# -- fixtures and rule examples -------------------------------------------------------------------------------
FIXTURE_FILES = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.is_file() and kind_for(p))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[str(p.relative_to(ROOT / "fixtures")) for p in FIXTURE_FILES])
def test_fixtures(path, engines):
    _agree(path.name, path.read_text(encoding="utf-8", errors="surrogateescape"), engines)


def _examples():
    for rule in all_rules():
        for i, ex in enumerate(tuple(rule.VALID) + tuple(rule.INVALID)):
            yield pytest.param(ex, id=f"{rule.code}-{i}")


@pytest.mark.parametrize("example", list(_examples()))
def test_rule_examples(example, engines):
    name = example.filename if kind_for(Path(example.filename)) else "example.py"
    _agree(name, example.code, engines)


# -- a corpus per dialect, from the vocabulary tables ---------------------------------------------------------
QUANT_NAMES = sorted(generic.BNB8_NAMES | generic.BNB4_NAMES)
LAUNCH_QUANT = sorted(set(launch.TGI_BNB8 + launch.TGI_BNB4 + launch.VLLM_BNB4))


def generic_bnb():
    for key in generic.QUANT_METHOD_KEYS:
        for name in QUANT_NAMES:
            for model_key in ("model_id", "model"):
                yield f"{key}-{name}-{model_key}.yaml", f"{model_key}: {MODEL}\n{key}: {name}\n"
            yield f"{key}-{name}.toml", f'model_name_or_path = "{SMALL}"\n{key} = "{name}"\n'
            yield f"{key}-{name}-upper.yaml", f"model_id: {SMALL}\n{key}: {name.upper()}\n"
    for key in sorted(dialect_base.BNB_KEYS):
        yield f"bnb-{key}.yaml", f"model_id: {MODEL}\n{key}: true\nload_in_4bit: true\nbnb_4bit_quant_type: nf4\n"
        yield f"nested-{key}.yaml", f"model:\n  model_name_or_path: {SMALL}\n  quantization_config:\n    {key}: true\n"
    yield "escaped.yaml", 'model_id: x\n"load_in_\\x38bit": true\n'
    yield "escaped.toml", 'model_id = "x"\n"load_in_\\u0038bit" = true\n'


def k8s():
    for engine, program in (("vllm", ["vllm", "serve", MODEL]), ("tgi", ["text-generation-launcher", "--model-id", MODEL])):
        for flag, setting in launch.FLAG_SETTINGS[engine].items():
            value = {"quantize": LAUNCH_QUANT, "dtype": ["float32", "bfloat16"], "max_batch": ["1"], "model": [SMALL],
                     "load_format": ["bitsandbytes"], "max_concurrent": ["1"]}[setting]
            for v in value:
                args = ", ".join(f'"{w}"' for w in program + [flag, v])
                yield f"k8s-{engine}{flag}-{v}.yaml", (
                    "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
                    f"        - name: llm\n          image: vllm/vllm-openai:latest\n          command: [{args}]\n")
    for name in sorted(launch.TGI_ENV):
        for v in {"quantize": LAUNCH_QUANT, "max_batch": ["1"], "max_concurrent": ["1"], "model": [MODEL],
                  "dtype": ["float32", "bfloat16"]}[launch.TGI_ENV[name]]:
            yield f"k8s-env-{name}-{v}.yaml", (
                "kind: Pod\nspec:\n  containers:\n    - image: ghcr.io/huggingface/text-generation-inference:2.0\n"
                f"      env:\n        - name: MODEL_ID\n          value: {MODEL}\n        - name: {name}\n          value: \"{v}\"\n")


def compose():
    for name in sorted(launch.TGI_ENV):
        for v in ("bitsandbytes", "bitsandbytes-nf4", "1", "float32", MODEL):
            yield f"compose-{name}-{v.replace('/', '_')}.yaml", (
                f"services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:latest\n    environment:\n"
                f"      - MODEL_ID={MODEL}\n      - {name}={v}\n")
    yield "compose-cmd.yaml", "services:\n  llm:\n    image: vllm/vllm-openai\n    command: --model x --max-num-seqs 1 --dtype float32\n"


def axolotl():
    for key in ("load_in_8bit", "load_in_4bit", "bf16"):
        yield f"axolotl-{key}.yaml", f"base_model: {SMALL}\nmicro_batch_size: 1\n{key}: true\nbnb_4bit_use_double_quant: true\n"
    yield "axolotl-kwargs.yaml", f"base_model: {MODEL}\nadapter: qlora\nbnb_config_kwargs:\n  llm_int8_has_fp16_weight: false\n  bnb_4bit_quant_type: nf4\n"


def llamafactory():
    for bits in (4, 8):
        for extra in ("", "do_train: true\n", "do_predict: true\ninfer_dtype: float32\nper_device_eval_batch_size: 1\n", "pure_bf16: true\n"):
            yield f"lf-{bits}-{len(extra)}.yaml", f"model_name_or_path: {SMALL}\ntemplate: qwen\nquantization_bit: {bits}\n{extra}"


def vllm_config():
    for key in sorted(vllm_dialect.ENGINE_KEYS):
        for v in ("bitsandbytes", "1", "float32", "bfloat16"):
            yield f"vllm-{key}-{v}.yaml", f"model: {MODEL}\n{key}: {v}\nmax-num-seqs: 4\n"


def fly():
    for name in sorted(launch.TGI_ENV):
        for v in ("bitsandbytes", "1", "bfloat16"):
            yield f"fly-{name}-{v}.toml", (
                f'app = "llm"\n[build]\nimage = "ghcr.io/huggingface/text-generation-inference:2.0"\n[env]\nMODEL_ID = "{MODEL}"\n'
                f'{name} = "{v}"\n[[vm]]\ngpu_kind = "a10"\n')


def sagemaker():
    for marker in sorted(launch.TGI_ENV_MARKERS):
        for v in ("bitsandbytes", "bitsandbytes-nf4", MODEL):
            yield f"sm-{marker}-{v.replace('/', '_')}.yaml", f"Environment:\n  {marker}: {v}\n  HF_MODEL_ID: {SMALL}\n  MAX_BATCH_SIZE: '1'\nInstanceType: ml.g4dn.xlarge\n"


def shell():
    programs = {"vllm": ["vllm serve " + MODEL, "python -m vllm.entrypoints.openai.api_server --model " + MODEL,
                         "docker run --gpus all vllm/vllm-openai --model " + MODEL],
                "tgi": ["text-generation-launcher --model-id " + MODEL,
                        "docker run -e QUANTIZE=bitsandbytes ghcr.io/huggingface/text-generation-inference:2.0 --model-id " + MODEL]}
    for engine, starts in programs.items():
        for flag, setting in launch.FLAG_SETTINGS[engine].items():
            for v in {"quantize": LAUNCH_QUANT, "dtype": ["float32", "bfloat16"], "max_batch": ["1"], "model": [SMALL],
                      "load_format": ["bitsandbytes"], "max_concurrent": ["1"]}[setting]:
                for i, start in enumerate(starts):
                    yield f"launch-{engine}{flag}-{v}-{i}.sh", f"#!/bin/sh\nexec {start} {flag} {v}\n"
                    if flag.startswith("--"):
                        yield f"launch-{engine}{flag}-{v}-{i}-us.sh", f"Q={v}\n{start} {flag.replace('-', '_').replace('__', '--', 1)}=$Q\n"


def dockerfile():
    for name in sorted(launch.TGI_ENV):
        for v in ("bitsandbytes", "bitsandbytes-fp4", "1", "float32", MODEL):
            yield f"Dockerfile.{name}-{v.replace('/', '_')}", f"FROM ghcr.io/huggingface/text-generation-inference:2.0\nENV {name}={v}\n"
    yield "Dockerfile.vllm", 'FROM vllm/vllm-openai\nCMD ["--model", "x", "--dtype", "bfloat16", "--max-num-seqs", "1"]\n'


def _notebook(cells: list[str], metadata: dict | None = None) -> str:
    import json

    doc = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# notes"]}]
           + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c.splitlines(True)} for c in cells],
           "metadata": metadata or {"kernelspec": {"language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1)


def notebooks():
    """Every Python rule example as a notebook: whole in one cell, split across cells at blank lines, with
    IPython lines around it, with Colab GPU metadata, and with its letters written as JSON escapes."""
    for rule in all_rules():
        for i, ex in enumerate(tuple(rule.VALID) + tuple(rule.INVALID)):
            if kind_for(Path(ex.filename)) != "python":
                continue
            name = f"{rule.code}-{i}"
            yield f"{name}-one.ipynb", _notebook([ex.code])
            yield f"{name}-split.ipynb", _notebook([part for part in ex.code.split("\n\n") if part.strip()])
            yield f"{name}-magic.ipynb", _notebook(["!pip install -q transformers\n%time x = 1", "%%capture\n" + ex.code])
            yield f"{name}-colab.ipynb", _notebook([ex.code], {"accelerator": "GPU", "colab": {"gpuType": "T4"}})
            escaped = _notebook([ex.code]).replace("from_pretrained", "\\u0066rom_pretrained").replace("generate", "\\u0067enerate")
            yield f"{name}-escaped.ipynb", escaped


def engines_yaml():
    """kubeai Models and catalog entries, production-stack values, Ray Serve LLM configs, KServe predictors."""
    for flag in ("--max-num-seqs=1", "--max_num_seqs=1", "--dtype=bfloat16", "--dtype=float32", "--quantization=bitsandbytes"):
        yield f"kubeai{flag}.yaml", (f"apiVersion: kubeai.org/v1\nkind: Model\nspec:\n  url: hf://{SMALL}\n  engine: VLLM\n"
                                     f"  args:\n    - {flag}\n  resourceProfile: nvidia-gpu-t4:1\n")
        yield f"catalog{flag}.yaml", f"catalog:\n  m:\n    url: hf://{SMALL}\n    engine: VLLM\n    args: [\"{flag}\"]\n"
        yield f"stack{flag}.yaml", (f"servingEngineSpec:\n  modelSpec:\n    - name: m\n      modelURL: {SMALL}\n      vllmConfig:\n"
                                    f"        extraArgs: [\"{flag}\"]\n")
        yield f"kserve{flag}.yaml", (f"kind: InferenceService\nspec:\n  predictor:\n    nodeSelector:\n      cloud.google.com/gke-accelerator: nvidia-tesla-t4\n"
                                     f"    model:\n      modelFormat:\n        name: huggingface\n      args: [--model_id={SMALL}, \"{flag}\"]\n")
    for key, v in (("maxNumSeqs", 1), ("dtype", "bfloat16"), ("dtype", "float32"), ("quantization", "bitsandbytes")):
        yield f"stack-{key}-{v}.yaml", f"servingEngineSpec:\n  modelSpec:\n    - modelURL: {SMALL}\n      vllmConfig:\n        {key}: {v}\n"
    for key, v in (("max_num_seqs", 1), ("dtype", "float32"), ("quantization", "bitsandbytes"), ("load_format", "bitsandbytes")):
        yield f"ray-{key}-{v}.yaml", (f"llm_configs:\n  - model_loading_config:\n      model_source: {SMALL}\n    accelerator_type: T4\n"
                                      f"    engine_kwargs: {{{key}: {v}}}\n")
    yield "engine-config.yaml", "max-num-seqs: 1\ngpu-memory-utilization: 0.9\n"


def scripts_yaml():
    """Scripts in GitHub Actions steps, SkyPilot ``run``, dstack ``commands`` (the shell corpus's commands)."""
    commands = [text.split("\n")[1] for name, text in shell() if name.endswith("-0.sh")]
    commands += [f"lm_eval --model hf --model_args pretrained={SMALL},load_in_4bit=True", f"swift export --model {MODEL} --quant_method bnb --quant_bits 8"]
    for i, cmd in enumerate(commands):
        cmd = cmd.replace("exec ", "")
        yield f"gha-{i}.yml", f"jobs:\n  j:\n    steps:\n      - run: |\n          {cmd}\n"
        yield f"sky-{i}.yaml", f"resources:\n  accelerators: T4:1\nenvs:\n  MAX_BATCH_SIZE: 1\nrun: |\n  export MAX_CONCURRENT_REQUESTS=1\n  {cmd}\n"
        yield f"dstack-{i}.dstack.yml", f"type: service\nimage: ghcr.io/huggingface/text-generation-inference:2.0\ncommands:\n  - {cmd}\n"


def tools_shell():
    """lm-eval and ms-swift command lines, as scripts and behind variables, arrays and here-documents."""
    for opt in ("load_in_8bit=True", "load_in_4bit=True", "dtype=float32", "load_in_8bit=True,llm_int8_threshold=0.0"):
        for start in ("lm_eval --model hf", "python -m lm_eval --model hf-causal-experimental", "python main.py"):
            yield f"lm-{start[:6]}-{opt}.sh", f"{start} --model_args pretrained={SMALL},{opt} --tasks x\n"
            yield f"lm-var-{start[:6]}-{opt}.sh", f"A=pretrained={MODEL},{opt}\n{start} --model_args $A\n"
    for sub in launch.SWIFT_SERVE + ("sft",):
        for bits in ("4", "8"):
            yield f"swift-{sub}-{bits}.sh", f"CUDA_VISIBLE_DEVICES=0 swift {sub} --model {SMALL} --quant_method bnb --quant_bits {bits}\n"
    yield "array.sh", f"A=(\n  --model {SMALL}\n  --max-num-seqs 1\n)\nvllm serve \"${{A[@]}}\"\n"
    yield "heredoc.sh", f"cat > r.sh <<'E'\nvllm serve {SMALL} --dtype float32\nE\n"
    yield "exported.sh", f"export MAX_CONCURRENT_REQUESTS=1 MAX_BATCH_SIZE=1\ntext-generation-launcher --model-id {SMALL}\n"
    yield "Dockerfile.djl", "FROM deepjavalibrary/djl-serving:0.29.0-lmi\nENV OPTION_MAX_ROLLING_BATCH_SIZE=1\n"


def json_configs():
    for key in sorted(dialect_base.BNB_KEYS):
        yield f"bnb-{key}.json", f'{{"base_model": "{MODEL}", "{key}": true, "load_in_4bit": true}}\n'
    for name in sorted(launch.TGI_ENV):
        for v in ("bitsandbytes", "1", "bfloat16"):
            yield f"sm-{name}-{v}.json", (f'{{"PrimaryContainer": {{"Environment": {{"HF_MODEL_ID": "{SMALL}", "{name}": "{v}"}}}},\n'
                                          f' "InstanceType": "ml.g4dn.xlarge"}}\n')
    yield "vllm.json", '{"model": "x", "max-num-seqs": 1, "dtype": "float32"}\n'
    yield "escaped.json", '{"model_id": "x", "load_in_\\u0038bit": true}\n'
    yield "serving.properties", "engine=Python\noption.max_rolling_batch_size=1\n"


def python_serving():
    for opt in ("load_in_8bit=True", "load_in_4bit=True"):
        yield f"argp-{opt}.py", f'import argparse\np = argparse.ArgumentParser()\np.add_argument("--model_args", default="pretrained={SMALL},{opt}")\n'
        yield f"simple-{opt}.py", f'import lm_eval\nlm_eval.simple_evaluate(model="hf", model_args="pretrained={SMALL},{opt}")\n'
    for name in sorted(launch.TGI_ENV):
        for v in ("bitsandbytes", "1"):
            yield f"sm-{name}-{v}.py", (f'from sagemaker.huggingface import HuggingFaceModel\n'
                                        f'env = {{"HF_MODEL_ID": "{SMALL}", "{name}": "{v}"}}\nm = HuggingFaceModel(env=env, role="r")\n')


DIALECTS = {f.__name__: f for f in (generic_bnb, k8s, compose, axolotl, llamafactory, vllm_config, fly, sagemaker, shell, dockerfile,
                                    engines_yaml, scripts_yaml, tools_shell, json_configs, python_serving, notebooks)}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_dialect_corpus(dialect, engines):
    codes = set()
    for name, text in DIALECTS[dialect]():
        codes.update(f.code for f in _agree(name, text, engines))
    assert codes - {"ECO900", "ECO905"}, f"the {dialect} corpus produced no findings: it tests nothing"


@pytest.mark.parametrize("model,text,code", [(MODEL, "quant: llm.int8\n", "ECO101"), (MODEL, "quant_method: int8_bnb\n", "ECO101"),
                                             (SMALL, "quant: bnb4\n", "ECO102")])
def test_the_three_spellings(model, text, code, engines):
    codes = {f.code for f in _agree("m.yaml", f"model_id: {model}\n" + text, engines)}
    assert code in codes, codes


def test_issue_reproduction_from_the_command_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "m.yaml").write_text(f"model_id: {MODEL}\nquant: llm.int8\n")
    proc = run_cli("check", str(tmp_path / "m.yaml"), "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1 and "ECO101" in proc.stdout, proc.stdout + proc.stderr
