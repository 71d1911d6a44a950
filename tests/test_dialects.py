"""Config dialects: explicit recognition, combination of overlapping dialects, and tokens that cover every
spelling a dialect turns into facts (what the prefilter relies on)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from ecolint.facts import FileFacts
from ecolint.registry import builtin_rules
from ecolint.sources import dialects, launch, toml_frontend, yaml_frontend
from ecolint.sources.config_tokens import TOKENS
from ecolint.sources.dialects import axolotl, base, compose, engines, fly, generic, k8s, llamafactory, sagemaker, vllm_config
from ecolint.sources.dialects.base import Ctx

ROOT = Path(__file__).resolve().parent.parent
FACT_LISTS = ("model_loads", "quant_specs", "generations", "batch_settings", "dtype_uses", "servings", "gpu_hints", "cache_flushes")


def _facts(text: str, path: str = "config.yaml") -> FileFacts:
    frontend = toml_frontend if path.endswith(".toml") else yaml_frontend
    return frontend.extract(path, text, None)


def _recognised(text: str, path: str = "config.yaml", stage: int = base.SPECIFIC) -> list[str]:
    """The dialects of ``stage`` that recognise the (first) document once the earlier stages have run."""
    frontend = toml_frontend if path.endswith(".toml") else yaml_frontend
    tree = frontend.parse(text)
    ctx = Ctx(tree, FileFacts(path=path, kind="yaml"), path, {})
    doc = tree.docs[0]
    for earlier in base.STAGES[:stage]:
        for d in dialects.DIALECTS:
            if d.stage == earlier and d.recognise(doc, ctx):
                d.extract(doc, ctx)
    return [d.name for d in dialects.DIALECTS if d.stage == stage and d.recognise(doc, ctx)]


# -- recognition, one dialect at a time ------------------------------------------------------------------

K8S = """apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.0
          args: ["--model-id", "mistralai/Mistral-7B-v0.1", "--quantize", "bitsandbytes"]
"""
COMPOSE = """services:
  llm:
    image: vllm/vllm-openai:latest
    command: --model Qwen/Qwen2.5-7B-Instruct --max-num-seqs 1
"""
FLY = """app = "llm"
primary_region = "ord"
[build]
  image = "ghcr.io/huggingface/text-generation-inference:2.0"
[env]
  MODEL_ID = "mistralai/Mistral-7B-v0.1"
  QUANTIZE = "bitsandbytes"
"""
AXOLOTL = "base_model: NousResearch/Llama-2-7b-hf\nload_in_8bit: true\nmicro_batch_size: 2\nbf16: true\n"
LLAMAFACTORY = "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\ntemplate: qwen\nquantization_bit: 4\ninfer_dtype: float32\n"
VLLM = "model: Qwen/Qwen2.5-7B-Instruct\ndtype: float32\nmax-num-seqs: 1\n"
SAGEMAKER = """Resources:
  Model:
    Properties:
      PrimaryContainer:
        Environment:
          HF_MODEL_ID: mistralai/Mistral-7B-v0.1
          HF_MODEL_QUANTIZE: bitsandbytes
"""
GENERIC = "model_id: mistralai/Mistral-7B-v0.1\nquantization_config:\n  load_in_8bit: true\n"

POSITIVE = [
    (k8s.DIALECT, K8S, "deploy.yaml"),
    (compose.DIALECT, COMPOSE, "docker-compose.yml"),
    (fly.DIALECT, FLY, "app.toml"),
    (fly.DIALECT, "[env]\n  MODEL_ID = 'x'\n", "fly.toml"),  # by file name
    (axolotl.DIALECT, AXOLOTL, "lora.yml"),
    (llamafactory.DIALECT, LLAMAFACTORY, "sft.yaml"),
    (vllm_config.DIALECT, VLLM, "serve.yaml"),
    (vllm_config.DIALECT, "model: m\nmax_num_seqs: 4\n", "serve.yaml"),
    (vllm_config.DIALECT, "model: m\nquantization: awq\n", "vllm.yaml"),  # underscore-free keys: the path says vLLM
    (sagemaker.DIALECT, SAGEMAKER, "endpoint.yaml"),
    (generic.DIALECT, GENERIC, "model.yaml"),
]
NEGATIVE = [
    (k8s.DIALECT, "spec:\n  containers: []\n", "deploy.yaml"),
    (k8s.DIALECT, COMPOSE, "docker-compose.yml"),
    (compose.DIALECT, "services: [web, db]\n", "docker-compose.yml"),  # a list, not compose's mapping
    (compose.DIALECT, K8S, "deploy.yaml"),
    (fly.DIALECT, "app: llm\nreplicas: 2\n", "app.yaml"),
    (axolotl.DIALECT, "base_model: x\ndescription: a base model\n", "notes.yaml"),  # no axolotl key beside it
    (axolotl.DIALECT, LLAMAFACTORY, "sft.yaml"),
    (llamafactory.DIALECT, "model_name_or_path: x\nrevision: main\n", "model.yaml"),
    (llamafactory.DIALECT, AXOLOTL, "lora.yml"),
    (vllm_config.DIALECT, "model: m\ndtype: float16\n", "serve.yaml"),  # dtype alone is no sign of vLLM
    (vllm_config.DIALECT, "model: m\nquantization: awq\n", "serve.yaml"),  # nor an undashed key off a vLLM path
    (vllm_config.DIALECT, "apiVersion: v1\nkind: ConfigMap\nmodel: m\nmax-num-seqs: 1\n", "cm.yaml"),
    (sagemaker.DIALECT, "Environment:\n  MODEL_ID: x\n", "endpoint.yaml"),
]


@pytest.mark.parametrize("dialect,text,path", POSITIVE, ids=[f"{d.name}-{i}" for i, (d, _, _) in enumerate(POSITIVE)])
def test_recognises_its_documents(dialect, text, path):
    assert dialect.name in _recognised(text, path, dialect.stage)


@pytest.mark.parametrize("dialect,text,path", NEGATIVE, ids=[f"{d.name}-{i}" for i, (d, _, _) in enumerate(NEGATIVE)])
def test_does_not_recognise_others(dialect, text, path):
    assert dialect.name not in _recognised(text, path, dialect.stage)


def test_each_specific_document_is_recognised_by_exactly_its_dialect():
    for dialect, text, path in POSITIVE:
        if dialect.stage == base.SPECIFIC and path != "fly.toml":
            assert _recognised(text, path) == [dialect.name], (dialect.name, text)


def test_endpoint_env_inside_a_container_is_read_once_as_the_containers():
    text = K8S.replace("          args:", "          env:\n            - name: HF_MODEL_ID\n              value: mistralai/Mistral-7B-v0.1\n          args:")
    assert _recognised(text, "deploy.yaml") == ["k8s"]
    assert _recognised(text, "deploy.yaml", base.ENV_BLOCK) == []  # the k8s dialect claimed the env list
    facts = _facts(text, "deploy.yaml")
    assert len(facts.servings) == 1 and len(facts.quant_specs) == 1


def test_claimed_mappings_are_not_scanned_again():
    facts = _facts(AXOLOTL, "lora.yml")  # load_in_8bit is axolotl's, not a second (generic) quantization config
    assert [s.origin for s in facts.quant_specs] == ["axolotl"]


# -- a document that two dialects recognise ------------------------------------------------------------

BOTH = """base_model: NousResearch/Llama-2-7b-hf
micro_batch_size: 2
model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct
template: qwen
bf16: true
"""


def test_a_document_of_two_dialects_is_read_by_both_without_double_facts():
    assert _recognised(BOTH, "both.yaml") == ["axolotl", "llamafactory"]
    facts = _facts(BOTH, "both.yaml")
    assert sorted(m.api for m in facts.model_loads) == ["axolotl base_model", "llamafactory model_name_or_path"]
    assert len(facts.dtype_uses) == 1  # ``bf16: true`` is one setting, whichever dialect recorded it
    assert len(facts.batch_settings) == 1


def test_compose_and_fly_on_one_document():
    text = "app: llm\nprimary_region: ord\nenv:\n  QUANTIZE: bitsandbytes\n" + COMPOSE
    assert _recognised(text, "deploy.yaml") == ["compose", "fly"]
    facts = _facts(text, "deploy.yaml")
    assert sorted(s.engine for s in facts.servings) == ["tgi", "vllm"]


def _summary(facts: FileFacts) -> dict:
    out = {}
    for name in FACT_LISTS:
        out[name] = sorted(repr((type(f).__name__, f.span, getattr(f, "api", ""), getattr(f, "dtype", ""), getattr(f, "gpu", ""),
                                 sorted(getattr(f, "options", {}) or {}))) for f in getattr(facts, name))
    out["training"] = facts.training
    return out


def _corpus() -> list[tuple[str, str]]:
    """(path, text) of every YAML/TOML fixture, rule example and generated document."""
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "fixtures").rglob("*"))
           if p.suffix in (".yaml", ".yml", ".toml") and p.is_file()]
    for rule in builtin_rules():
        for ex in list(rule.VALID) + list(rule.INVALID):
            if ex.filename.endswith((".yaml", ".yml", ".toml")):
                out.append((ex.filename, ex.code))
    out += [(path, text) for _, text, path in POSITIVE + NEGATIVE]
    out += [("both.yaml", BOTH)] + [(f"syn-{i}.yaml", text) for i, (_, _, text) in enumerate(_synonym_documents())]
    return out


def _parsable(path: str, text: str):
    try:
        return _facts(text, path)
    except Exception:  # noqa: BLE001 - templated or broken fixtures are other tests' business
        return None


def test_findings_do_not_depend_on_the_order_of_the_dialects(monkeypatch):
    corpus = [(p, t) for p, t in _corpus() if _parsable(p, t) is not None]
    forward = [_summary(_facts(t, p)) for p, t in corpus]
    monkeypatch.setattr(dialects, "DIALECTS", tuple(reversed(dialects.DIALECTS)))
    backward = [_summary(_facts(t, p)) for p, t in corpus]
    for (path, _), a, b in zip(corpus, forward, backward):
        assert a == b, path


# -- tokens ---------------------------------------------------------------------------------------------

def _synonym_documents() -> list[tuple[str, str, str]]:
    """(fact list, synonym, document) for every spelling a dialect maps to a fact."""
    docs = []
    model = "model_id: mistralai/Mistral-7B-v0.1\n"
    for key in generic.QUANT_METHOD_KEYS:
        for name in sorted(generic.BNB8_NAMES | generic.BNB4_NAMES):
            docs.append(("quant_specs", name, f"{model}{key}: {name}\n"))
            docs.append(("quant_specs", name, f"{model}{key}: {name.upper()}\n"))  # method names ignore case
    for key in sorted(base.BNB_KEYS) + ["bnb_4bit_quant_type"]:
        docs.append(("quant_specs", key, f"{model}{key}: true\n"))
    for key in generic.DTYPE_KEYS:
        docs.append(("dtype_uses", key, f"{model}{key}: float32\n"))
        docs.append(("model_loads", key, f"{model}{key}: float32\n"))
    for key in generic.MODEL_KEYS:
        docs.append(("model_loads", "load_in_8bit", f"{key}: mistralai/Mistral-7B-v0.1\nload_in_8bit: true\n"))
    for label in generic.GPU_LABELS:
        docs.append(("gpu_hints", label, f"nodeSelector:\n  {label}: Tesla-T4\n"))
    for key in ("InstanceType", "instance_type", "machineType", "MACHINE_TYPE", "vm_size", "gpuKind", "accelerator-type", "gpu_type"):
        docs.append(("gpu_hints", key, f"{key}: ml.g4dn.xlarge\n"))
    for key, setting in vllm_config.SETTINGS.items():
        value = {"model": "m", "dtype": "float32", "max_batch": "1", "quantize": "bitsandbytes", "load_format": "bitsandbytes",
                 "max_concurrent": "1", "enforce_eager": "true", "prefix_caching": "false"}[setting]
        fact = {"model": "servings", "dtype": "dtype_uses", "max_batch": "batch_settings", "quantize": "quant_specs", "load_format": "quant_specs",
                "max_concurrent": "batch_settings", "enforce_eager": "servings", "prefix_caching": "servings"}[setting]
        docs.append((fact, key, f"model: m\nmax-num-seqs: 8\n{key}: {value}\n" if key != "model" else "model: m\nmax-num-seqs: 8\n"))
    for name, setting in launch.TGI_ENV.items():
        value = {"model": "m", "dtype": "bfloat16", "max_batch": "1", "quantize": "bitsandbytes", "max_concurrent": "1"}[setting]
        fact = {"model": "model_loads", "dtype": "dtype_uses", "max_batch": "batch_settings", "quantize": "quant_specs",
                "max_concurrent": "batch_settings"}[setting]
        docs.append((fact, name, f"Environment:\n  SM_NUM_GPUS: 1\n  {name}: {value}\n"))
    for marker in sorted(launch.TGI_ENV_MARKERS):
        docs.append(("servings", marker, f"Environment:\n  {marker}: '1'\n"))
    lf = "model_name_or_path: m\ntemplate: qwen\n"
    docs += [("quant_specs", llamafactory.BITS_KEY, f"{lf}{llamafactory.BITS_KEY}: 8\n"),
             ("dtype_uses", llamafactory.DTYPE_KEY, f"{lf}{llamafactory.DTYPE_KEY}: float32\n"),
             ("batch_settings", llamafactory.BATCH_KEY, f"{lf}{llamafactory.BATCH_KEY}: 1\n")]
    docs += [("dtype_uses", key, f"{lf}{key}: true\n") for key in llamafactory.BF16_KEYS]
    ax = "base_model: m\nmicro_batch_size: 1\n"
    docs += [("quant_specs", key, f"{ax}{key}: true\n") for key in axolotl.QUANT_KEYS]
    docs += [("quant_specs", key, f"{ax}{axolotl.BNB_KWARGS}:\n  {key}: true\n") for key in sorted(base.BNB_KEYS) + ["bnb_4bit_quant_type"]]
    docs += [("batch_settings", axolotl.BATCH_KEY, ax), ("dtype_uses", axolotl.BF16_KEY, f"{ax}{axolotl.BF16_KEY}: true\n")]
    for image in ("ghcr.io/huggingface/text-generation-inference:2.0", "vllm/vllm-openai:latest"):
        docs.append(("servings", image, f"services:\n  llm:\n    image: {image}\n    command: --max_num-seqs 1 --max-batch_size 1\n"))
    docs.append(("batch_settings", "num-seqs", "services:\n  llm:\n    image: vllm/vllm-openai\n    command: --max_num-seqs 1\n"))
    docs.append(("quant_specs", "-q", "services:\n  llm:\n    command: vllm serve m -q bitsandbytes\n"))
    docs.append(("dtype_uses", "--dtype", "services:\n  llm:\n    command: [python, -m, vllm.entrypoints.openai.api_server, --dtype, float32]\n"))
    return docs


ISSUE_SPELLINGS = ["quant: llm.int8", "quant_method: int8_bnb", "quant: bnb4"]


@pytest.mark.parametrize("line", ISSUE_SPELLINGS)
def test_issue_spellings_are_quantization_tokens(line):
    text = f"model_id: mistralai/Mistral-7B-v0.1\n{line}\n"
    assert _facts(text).quant_specs
    assert line.split(": ")[1] in TOKENS["quant_specs"]


@pytest.mark.parametrize("fact,synonym,text", _synonym_documents(), ids=lambda v: v if isinstance(v, str) and "\n" not in v else None)
def test_every_synonym_makes_its_fact_and_is_a_token(fact, synonym, text):
    facts = _facts(text, "vllm-config.yaml" if "max-num-seqs: 8" in text else "config.yaml")
    assert getattr(facts, fact), f"{synonym!r} gave no {fact}"
    assert any(synonym in t or t in synonym for t in TOKENS[fact]), f"{synonym!r} is not among the {fact} tokens"


def test_tokens_hold_for_every_fact_of_every_document():
    """Soundness: whenever a dialect adds to a fact list, one of that list's tokens is in the text."""
    for path, text in _corpus():
        facts = _parsable(path, text)
        if facts is None:
            continue
        for name in FACT_LISTS:
            if getattr(facts, name):
                assert any(t in text for t in TOKENS.get(name, ())), f"{path}: {name} from a text without any of its tokens"


def test_vocabulary_tables_are_in_the_tokens():
    """Every table a dialect maps from is part of that dialect's own tokens."""
    own = {d.name: {t for words in d.tokens.values() for t in words} for d in dialects.DIALECTS}
    tables = {
        "generic": set(generic.QUANT_METHOD_KEYS) | generic.BNB8_NAMES | generic.BNB4_NAMES | base.BNB_KEYS | set(generic.DTYPE_KEYS) | set(generic.GPU_LABELS),
        "axolotl": set(axolotl.QUANT_KEYS) | base.BNB_KEYS | {base.BNB_4BIT_PREFIX, axolotl.BATCH_KEY, axolotl.BF16_KEY, "base_model"},
        "llamafactory": {llamafactory.MODEL_KEY, llamafactory.BITS_KEY, llamafactory.DTYPE_KEY, llamafactory.BATCH_KEY, *llamafactory.BF16_KEYS},
        "vllm_config": set(vllm_config.SETTINGS) - {"model"},
        "sagemaker": set(launch.TGI_ENV) - {"MODEL_ID"} | launch.TGI_ENV_MARKERS,
        "fly": set(fly.VM_GPU_KEYS) | {"vm_size"},
        "engines": set(engines.KEY_SETTINGS),
    }
    for name, table in tables.items():
        assert table <= own[name], (name, table - own[name])
    assert set(TOKENS) <= set(FACT_LISTS)
    for fact, words in dialects.tokens().items():  # the front end's tokens: every dialect's, plus the launch words
        assert set(words) <= set(TOKENS[fact]), fact


def test_every_dialect_module_is_registered():
    names = [m.name for m in pkgutil.iter_modules(dialects.__path__) if m.name != "base"]
    registered = {type(d).__module__ for d in dialects.DIALECTS}
    for name in names:
        module = importlib.import_module(f"ecolint.sources.dialects.{name}")
        assert module.__name__ in registered and module.DIALECT in dialects.DIALECTS, name
    assert len({d.name for d in dialects.DIALECTS}) == len(dialects.DIALECTS)


# -- what the prefilter can rely on --------------------------------------------------------------------

def _engine():
    from dataclasses import replace

    from ecolint.config import Settings
    from ecolint.runner import Engine

    return Engine.create(replace(Settings(root=ROOT), transformers_version="4.44.0", select=("ALL",)))


def test_every_finding_is_kept_by_the_tokens_of_the_facts_its_rule_reads():
    """A prefilter that parses a config when it holds a token of a fact list some enabled rule reads (stage 1
    of the prefilter, taken from the dialects instead of the rules' triggers) keeps every file with findings."""
    from ecolint.registry import rule_by_code
    from ecolint.runner import lint_text
    from ecolint.sources import kind_for

    engine = _engine()
    for path, text in _corpus():
        kind = kind_for(Path(path)) or "yaml"
        for finding in lint_text(path, text, kind, engine, project_dir=Path("/nonexistent")).findings:
            rule = rule_by_code(finding.code)
            if rule is None or rule.engine_emitted:
                continue
            words = {t for facts in rule.reads for t in TOKENS.get(facts, ())}
            assert any(t in text for t in words), (path, finding.code)


def test_prefilter_agrees_on_every_dialect_document():
    from ecolint.runner import lint_bytes, lint_text
    from ecolint.sources import kind_for

    engine = _engine()
    for path, text in _corpus():
        kind = kind_for(Path(path)) or "yaml"
        full = [(f.code, f.span) for f in lint_text(path, text, kind, engine, project_dir=Path("/nonexistent")).findings]
        fast = [(f.code, f.span) for f in lint_bytes(path, text.encode("utf-8"), kind, engine, project_dir=Path("/nonexistent")).findings]
        if not fast:
            full = [f for f in full if f[0] != "ECO900"]
        assert fast == full, (path, text)


def test_endpoint_markers_have_an_order():
    assert set(sagemaker.MARKER_ORDER) == launch.TGI_ENV_MARKERS
