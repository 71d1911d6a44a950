"""vLLM and TGI launch settings -> facts, shared by the YAML, TOML, shell and Dockerfile front ends.

A server launch is read from command words (``vllm serve MODEL --max-num-seqs 1``,
``text-generation-launcher --quantize bitsandbytes``, ``python -m vllm.entrypoints.openai.api_server``,
``docker run … ghcr.io/huggingface/text-generation-inference … --model-id …``) and, for TGI, from the
environment variables its launcher reads (``QUANTIZE``, ``MAX_BATCH_SIZE``, ``MODEL_ID``, ``DTYPE``; on
SageMaker ``HF_MODEL_ID`` / ``HF_MODEL_QUANTIZE``). A flag on the command line wins over the environment.

The mapping, in the terms the rules understand:

* TGI ``--quantize bitsandbytes`` is LLM.int8() with the default outlier threshold, which TGI does not let
  you change: a :class:`QuantSpec` with ``load_in_8bit`` and no threshold (ECO101, no fix).
  ``bitsandbytes-nf4`` / ``bitsandbytes-fp4`` are 4-bit (ECO102 on small models).
* vLLM ``--quantization bitsandbytes`` (or ``--load-format bitsandbytes``) quantizes in flight to 4-bit.
* ``--max-num-seqs 1`` / ``--max-batch-size 1`` / ``MAX_BATCH_SIZE=1`` -> a batch setting of 1 (ECO202).
* ``--dtype float32`` -> a float32 model load on the GPU (ECO401); ``--dtype bfloat16`` -> a bf16 dtype use
  (ECO402 when the config names a pre-Ampere GPU). Both carry a span-exact fix replacing the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, cast

from ecolint.dtypes import canonical_dtype
from ecolint.facts import (
    CERTAIN,
    DEFAULT,
    UNKNOWN,
    BatchSetting,
    Certainty,
    DtypeUse,
    Engine,
    FileFacts,
    FixCandidate,
    ModelLoad,
    ModelRef,
    Origin,
    QuantSpec,
    Serving,
    Span,
    Value,
)
from ecolint.sources.words import Word

# Any image whose name holds ``text-generation-inference`` or the word ``tgi`` (GHCR, Google's and AWS's
# deep-learning containers: ``huggingface-text-generation-inference-cu124``, ``huggingface-pytorch-tgi-inference``).
TGI_IMAGE = re.compile(r"text-generation-inference|(?<![a-z0-9])tgi(?![a-z])", re.IGNORECASE)
# DJL Serving / LMI containers (SageMaker large-model inference).
DJL_IMAGE = re.compile(r"djl-(inference|serving)|(?<![a-z0-9])lmi(?![a-z])", re.IGNORECASE)
VLLM_IMAGE = re.compile(r"(^|/)vllm(-openai)?(:|@|$)|(^|/)vllm/vllm-openai", re.IGNORECASE)
_VLLM_MODULES = {"vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server", "vllm.entrypoints.cli.main"}
_WRAPPERS = {"exec", "nohup", "sudo", "time", "nice", "stdbuf", "setsid", "taskset", "numactl", "command", "builtin", "dumb-init", "tini", "--"}
_RUNNERS = {"uv", "poetry", "pipenv", "pdm", "hatch", "rye", "conda", "mamba", "micromamba", "pixi"}
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

# Options whose value follows them as the next word (everything else is treated as a switch).
_VALUE_FLAGS = {
    "vllm": {
        "--model", "--quantization", "-q", "--dtype", "--max-num-seqs", "--load-format", "--tensor-parallel-size", "-tp",
        "--pipeline-parallel-size", "-pp", "--max-model-len", "--gpu-memory-utilization", "--served-model-name", "--port",
        "--host", "--kv-cache-dtype", "--tokenizer", "--revision", "--download-dir", "--config", "--max-num-batched-tokens",
        "--swap-space", "--block-size", "--seed", "--chat-template", "--api-key", "--uvicorn-log-level", "--max-loras",
        "--lora-modules", "--trust-request-chat-template", "--generation-config",
    },
    "tgi": {
        "--model-id", "--quantize", "--dtype", "--max-batch-size", "--num-shard", "--port", "--hostname", "--revision",
        "--max-concurrent-requests", "--max-input-length", "--max-input-tokens", "--max-total-tokens",
        "--max-batch-prefill-tokens", "--max-batch-total-tokens", "--sharded", "--shard-uds-path", "--huggingface-hub-cache",
        "--weights-cache-override", "--cuda-memory-fraction", "--rope-scaling", "--rope-factor", "--json-output",
        "--otlp-endpoint", "--cors-allow-origin", "--watermark-gamma", "--watermark-delta", "--tokenizer-config-path",
        "--max-best-of", "--max-stop-sequences", "--max-top-n-tokens", "--waiting-served-ratio", "--max-waiting-tokens",
        "--speculate", "--kv-cache-dtype", "--lora-adapters", "--payload-limit",
    },
}

# TGI launcher environment variables (clap reads every flag from its upper-case name).
TGI_ENV = {
    "QUANTIZE": "quantize",
    "HF_MODEL_QUANTIZE": "quantize",
    "MAX_BATCH_SIZE": "max_batch",
    "MAX_CONCURRENT_REQUESTS": "max_concurrent",
    "MODEL_ID": "model",
    "HF_MODEL_ID": "model",
    "DTYPE": "dtype",
}
# DJL Serving / LMI settings, as environment variables and as ``serving.properties`` keys (ECO202 at 1).
DJL_ENV = {"OPTION_MAX_ROLLING_BATCH_SIZE": "max_batch"}
DJL_PROPERTIES = {"option.max_rolling_batch_size": "max_batch"}
# Names that identify a TGI container on their own (SageMaker / HF endpoint containers run TGI).
TGI_ENV_MARKERS = {"HF_MODEL_ID", "HF_MODEL_QUANTIZE", "SM_NUM_GPUS"}

# The flags read as settings (``--max_num_seqs`` is read as ``--max-num-seqs``).
FLAG_SETTINGS = {
    "vllm": {"--model": "model", "--model-id": "model", "--quantization": "quantize", "-q": "quantize", "--dtype": "dtype",
             "--max-num-seqs": "max_batch", "--load-format": "load_format"},
    "tgi": {"--model-id": "model", "--quantize": "quantize", "--dtype": "dtype", "--max-batch-size": "max_batch",
            "--max-concurrent-requests": "max_concurrent"},
}
# Valueless vLLM switches -> (setting, value): CUDA graphs off, prefix caching on or off.
SWITCHES = {
    "vllm": {"--enforce-eager": ("enforce_eager", True), "--no-enforce-eager": ("enforce_eager", False),
             "--enable-prefix-caching": ("prefix_caching", True), "--no-enable-prefix-caching": ("prefix_caching", False)},
    "tgi": {},
}
# Quantization methods that are bitsandbytes, per engine and width (TGI: 8-bit unless nf4/fp4; vLLM: 4-bit).
TGI_BNB8 = ("bitsandbytes", "bnb", "bitsandbytes-8bit")
TGI_BNB4 = ("bitsandbytes-nf4", "bitsandbytes-fp4")
VLLM_BNB4 = ("bitsandbytes", "bnb")
# What names a launch: programs, modules and images (see find_launch; the image patterns ignore case).
LAUNCH_WORDS = ("vllm", "text-generation-launcher", "text-generation-inference", "tgi")

@dataclass
class Setting:
    """One launch option as written: its value, where it is, and how to replace the value (if we can)."""

    value: Value
    span: Span
    replace: Optional[Callable[[str], Optional[FixCandidate]]] = None
    how: str = ""  # "--quantize", "QUANTIZE", ...
    related: Optional[tuple[Span, str]] = None  # where its value was set (a script variable's assignment)


class Variables(dict):
    """A script's variables (name -> value) that also remember where each was assigned."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spans: dict[str, Span] = {}


def basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _skip_prefix(words: list[Word]) -> int:
    """Index of the program word: skip ``VAR=value`` assignments and wrappers like ``exec``, ``env -u X``,
    ``uv run``, ``conda run -n env``."""
    i = 0
    n = len(words)
    while i < n:
        t = words[i].text
        b = basename(t)
        if _ASSIGN.match(t):
            i += 1
        elif b in _WRAPPERS:
            i += 1
        elif b == "env":
            i += 1
            while i < n and (words[i].text.startswith("-") or _ASSIGN.match(words[i].text)):
                i += 2 if words[i].text in ("-u", "--unset", "-C", "--chdir") else 1
        elif b in _RUNNERS and i + 1 < n and words[i + 1].text in ("run", "exec"):
            i += 2
            while i < n and words[i].text.startswith("-"):
                i += 2 if words[i].text in ("-n", "--name", "-p", "--prefix", "-e", "--environment", "--with") else 1
        else:
            break
    return i


def find_launch(words: list[Word], image: Optional[str] = None, image_span: Optional[Span] = None) -> Optional[tuple[Engine, str, Span, list[Word]]]:
    """Recognise a vLLM/TGI server start: (engine, api, span of the program, argument words after it).

    ``image`` is the container image whose entrypoint runs when ``words`` are only arguments (Kubernetes
    ``args`` without ``command``, compose ``command`` on a TGI image, a Dockerfile ``CMD`` after ``FROM``)."""
    if not words:
        if image and image_span is not None:
            if TGI_IMAGE.search(image):
                return "tgi", "text-generation-launcher", image_span, []
            if VLLM_IMAGE.search(image):
                return "vllm", "vllm.entrypoints.openai.api_server", image_span, []
        return None
    if image and words[0].text.startswith("-"):
        if TGI_IMAGE.search(image):
            return "tgi", "text-generation-launcher", image_span or words[0].span, words
        if VLLM_IMAGE.search(image):
            return "vllm", "vllm.entrypoints.openai.api_server", image_span or words[0].span, words
    i = _skip_prefix(words)
    if i >= len(words):
        return None
    prog = words[i]
    b = basename(prog.text)
    rest = words[i + 1:]
    if b == "text-generation-launcher":
        return "tgi", "text-generation-launcher", prog.span, rest
    if b == "vllm" and rest and rest[0].text == "serve":
        return "vllm", "vllm serve", prog.span, rest
    if re.fullmatch(r"python[0-9.]*|pypy[0-9.]*", b):
        j = 0
        while j < len(rest) and rest[j].text.startswith("-") and rest[j].text != "-m":
            j += 1
        if j + 1 < len(rest) and rest[j].text == "-m" and rest[j + 1].text in _VLLM_MODULES:
            return "vllm", rest[j + 1].text, prog.span, rest[j + 2:]
        return None
    if b in ("docker", "podman", "nvidia-docker") and rest and rest[0].text == "run":
        for k, w in enumerate(rest[1:], 1):
            if w.expands or w.text.startswith("-"):
                continue
            if TGI_IMAGE.search(w.text):
                return "tgi", "text-generation-launcher", w.span, _docker_env(rest[1:k]) + rest[k + 1:]
            if VLLM_IMAGE.search(w.text):
                return "vllm", "vllm.entrypoints.openai.api_server", w.span, rest[k + 1:]
    return None


def _docker_env(opts: list[Word]) -> list[Word]:
    """``docker run -e QUANTIZE=bitsandbytes``: kept as pseudo-words ``@env``, value words the launcher reads."""
    out = []
    for k, w in enumerate(opts):
        if w.text in ("-e", "--env") and k + 1 < len(opts):
            out.append(opts[k + 1])
        elif w.text.startswith("--env="):
            out.append(w)
    return [_EnvWord(w) for w in out]


class _EnvWord(Word):
    """Marks a ``NAME=value`` word that came from ``docker run -e``."""

    def __init__(self, w: Word):
        text = w.text[len("--env="):] if w.text.startswith("--env=") else w.text
        cut = len(w.text) - len(text)
        super().__init__(text, w.source, w.starts[cut:], w.ends[cut:], w.begin, w.end, w.expands)


_DEFAULTED = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=])([^}$`]*)\}$")
_PLAIN_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def word_value(word: Word, i: int, j: int, variables: Optional[dict[str, str]] = None) -> Value:
    """The value of characters ``i:j`` of ``word``: certain when literal, a default for ``${X:-v}``, the
    script's own assignment for ``$X``, else unknown."""
    text = word.text[i:j]
    span = word.sub_span(i, j)
    if not word.expands or "$" not in text and "`" not in text:
        return Value(text, CERTAIN, span, text)
    m = _DEFAULTED.match(text)
    if m:
        return Value(m.group(3), DEFAULT, span, text)
    m = _PLAIN_VAR.match(text)
    if m and variables and m.group(1) in variables:
        return Value(variables[m.group(1)], DEFAULT, span, text)
    return Value(None, UNKNOWN, span, text)


def parse_args(engine: str, words: list[Word], variables: Optional[dict[str, str]] = None) -> dict[str, Setting]:
    """Flags of a vLLM / TGI command line -> settings (``model``, ``quantize``, ``load_format``, ``max_batch``, ``dtype``)."""
    names = FLAG_SETTINGS[engine]
    valued = _VALUE_FLAGS[engine]
    out: dict[str, Setting] = {}
    k = 0
    if engine == "vllm" and words and words[0].text == "serve":
        k = 1
        if len(words) > 1 and not words[1].text.startswith("-"):
            out["model"] = _setting(words[1], 0, len(words[1].text), words[1], variables, "model")
            k = 2
    while k < len(words):
        w = words[k]
        t = w.text
        if isinstance(w, _EnvWord):
            name, _, _ = t.partition("=")
            key = TGI_ENV.get(name)
            if key and engine == "tgi" and key not in out:
                out[key] = _setting(w, len(name) + 1, len(t), w, variables, name)
            k += 1
            continue
        if t.startswith("--") and "=" in t:
            flag, _, _ = t.partition("=")
            key = names.get(flag.replace("_", "-"))
            if key:
                out[key] = _setting(w, len(flag) + 1, len(t), w, variables, flag)
            k += 1
            continue
        norm = t.replace("_", "-") if t.startswith("--") else t
        if norm in SWITCHES[engine]:
            out[SWITCHES[engine][norm][0]] = _switch(w, engine, norm)
            k += 1
            continue
        key = names.get(norm)
        if key and k + 1 < len(words):
            out[key] = _setting(words[k + 1], 0, len(words[k + 1].text), w, variables, norm)
            k += 2
            continue
        k += 2 if norm in valued and k + 1 < len(words) and not words[k + 1].text.startswith("--") else 1
    return out


def _switch(word: Word, engine: str, norm: str) -> Setting:
    """A valueless switch (``--enforce-eager``) as the setting it turns on or off."""
    span = word.source.span(word.begin, word.end)
    return Setting(Value(SWITCHES[engine][norm][1], CERTAIN, span, word.text), span, None, norm)


def _setting(value_word: Word, i: int, j: int, flag_word: Word, variables, how: str) -> Setting:
    v = word_value(value_word, i, j, variables)
    # From the flag to the value; the value alone when another file writes the flag (a kustomize JSON patch
    # that replaces only the value of a base's flag).
    start = flag_word.begin if flag_word.source is value_word.source else value_word.begin
    end = value_word.ends[j - 1] if j > i and value_word.ends else value_word.end
    span = value_word.source.span(start, max(end, start))
    v.span = span

    def replace(new: str, _w=value_word, _i=i, _j=j) -> Optional[FixCandidate]:
        if not v.known or v.certainty != CERTAIN:
            return None
        edit = _w.replace(_i, _j, new)
        return FixCandidate([edit]) if edit else None

    related = None
    m = _PLAIN_VAR.match(value_word.text[i:j]) or _DEFAULTED.match(value_word.text[i:j])
    name = m.group(1) if m else ""
    where = getattr(variables, "spans", {}).get(name) if name else None
    if where is not None:
        related = (where, f"`{name}` is set here")
    return Setting(v, span, replace, how, related)


def env_settings(env: dict[str, Setting]) -> dict[str, Setting]:
    """TGI settings from a container's environment (name -> setting of its value)."""
    out: dict[str, Setting] = {}
    for name, s in env.items():
        key = TGI_ENV.get(name)
        if key and key not in out:
            out[key] = s
    return out


def is_djl(image: Optional[str], env: dict[str, Setting]) -> bool:
    """A DJL Serving / LMI container: its image, or ``OPTION_*`` variables (which only DJL reads)."""
    return bool(image and DJL_IMAGE.search(image)) or any(n.startswith("OPTION_") for n in env)


def is_tgi_env(env: dict[str, Setting]) -> bool:
    if any(n.startswith("OPTION_") for n in env):
        return False  # DJL/LMI reads HF_MODEL_ID too
    if any(n in env for n in TGI_ENV_MARKERS):
        return True
    q = env.get("QUANTIZE")
    return q is not None and q.value.known and isinstance(q.value.value, str) and q.value.value.lower().startswith("bitsandbytes")


def emit(facts: FileFacts, engine: Engine, api: str, span: Span, settings: dict[str, Setting], overrides: Optional[dict] = None) -> ModelLoad:
    """Record one server launch as a model load, a serving, and its quantization, batch and dtype facts."""
    from ecolint.knowledge.models import lookup_model

    load = ModelLoad(span=span, api=api, engine=engine, causal_lm=True, on_gpu=True)
    m = settings.get("model")
    if m is not None:
        if m.value.known and isinstance(m.value.value, str) and m.value.value:
            info = lookup_model(m.value.value, overrides)
            load.model = ModelRef(m.value.value, m.value.certainty, m.span, info.params_b if info else None, info.how if info else "")
        else:
            load.model = ModelRef(None, UNKNOWN, m.span)
    q = settings.get("quantize")
    lf = settings.get("load_format")
    spec = None
    if q is not None and q.value.known and isinstance(q.value.value, str):
        spec = quant_spec(engine, q.value.value, q)
    elif engine == "vllm" and lf is not None and lf.value.known and str(lf.value.value).lower() == "bitsandbytes":
        spec = quant_spec(engine, "bitsandbytes", lf)
    if spec is not None:
        facts.quant_specs.append(spec)
        load.quant = spec
    d = settings.get("dtype")
    if d is not None:
        load.dtype = d.value
        load.set_dtype = d.replace
        dt = canonical_dtype(d.value.value) if d.value.known else None
        if dt is not None:
            facts.dtype_uses.append(DtypeUse(d.span, dt, f"{engine} {d.how}", replace_with=d.replace))
    b = settings.get("max_batch")
    if b is not None:
        val = b.value
        if val.known and isinstance(val.value, str):
            try:
                val = Value(int(val.value), val.certainty, val.span, val.source)
            except ValueError:
                pass
        where = "vllm max_num_seqs" if engine == "vllm" else "tgi max_batch_size"
        facts.batch_settings.append(BatchSetting(b.span, val, where))
    c = settings.get("max_concurrent")
    if c is not None and engine == "tgi":
        facts.batch_settings.append(BatchSetting(c.span, int_value(c.value), "tgi max_concurrent_requests"))
    for s in settings.values():
        if s.related is not None:
            facts.note(s.span, "", s.related)
    facts.model_loads.append(load)
    facts.servings.append(with_switches(Serving(span, engine, load.model), settings))
    return load


def with_switches(serving: Serving, settings: dict[str, Setting]) -> Serving:
    """The serving with the vLLM switches its settings write (``enforce_eager``, ``prefix_caching``)."""
    for name in ("enforce_eager", "prefix_caching"):
        s = settings.get(name)
        if s is not None:
            setattr(serving, name, switch_value(s.value))
    return serving


def switch_value(v: Value) -> Value:
    """A switch's value as a bool when written as one in text (``"true"``, ``"False"``)."""
    if v.known and isinstance(v.value, str) and v.value.strip().lower() in ("true", "false"):
        return Value(v.value.strip().lower() == "true", v.certainty, v.span, v.source)
    return v


def int_value(val: Value) -> Value:
    """A setting's value as an int when it is one written as text (``"1"``)."""
    if val.known and isinstance(val.value, str):
        try:
            return Value(int(val.value.strip()), val.certainty, val.span, val.source)
        except ValueError:
            pass
    return val


def env_launch(facts: FileFacts, env: dict[str, Setting], image: Optional[str], span: Optional[Span], overrides=None) -> bool:
    """A container known by its image or environment only (no command words): DJL/LMI or TGI settings."""
    if span is None:
        return False
    if is_djl(image, env):
        djl(facts, {DJL_ENV[n]: s for n, s in env.items() if n in DJL_ENV}, span)
        return True
    if is_tgi_env(env) or (image is not None and TGI_IMAGE.search(image) is not None):
        emit(facts, "tgi", "text-generation-launcher", span, env_settings(env), overrides)
        return True
    return False


def djl(facts: FileFacts, settings: dict[str, Setting], span: Span) -> None:
    """DJL Serving / LMI: the rolling-batch limit (``option.max_rolling_batch_size``)."""
    facts.servings.append(Serving(span, "djl"))
    b = settings.get("max_batch")
    if b is not None:
        facts.batch_settings.append(BatchSetting(b.span, int_value(b.value), "djl max_rolling_batch_size"))


def quant_spec(engine: Engine, method: str, setting: Setting) -> Optional[QuantSpec]:
    method = method.strip().lower()
    v = setting.value
    opts: dict[str, Value] = {}
    if engine == "tgi":
        if method in TGI_BNB8:
            opts["load_in_8bit"] = Value(True, v.certainty, setting.span, setting.how)
        elif method in TGI_BNB4:
            opts["load_in_4bit"] = Value(True, v.certainty, setting.span, setting.how)
        else:
            return None
    else:
        if method not in VLLM_BNB4:
            return None
        opts["load_in_4bit"] = Value(True, v.certainty, setting.span, setting.how)
    return QuantSpec(span=setting.span, origin=cast(Origin, engine), options=opts, engine=engine)  # a server names its spec


# -- evaluation and export tools that load a model with bitsandbytes -------------------------------------

# lm-evaluation-harness model types that load through transformers (``--model hf``; the pre-0.4 names too).
LM_EVAL_HF = ("hf", "hf-auto", "hf-causal", "hf-causal-experimental", "huggingface", "hf-multimodal")
# ms-swift subcommands whose quantization serves or is served (``sft``/``pt``/``rlhf`` train: not read).
SWIFT_SERVE = ("export", "infer", "deploy", "app", "eval")
_BOOLS = {"true": True, "false": False}


def _options(words: list[Word]) -> dict[str, tuple[Word, Word, int]]:
    """``--flag value`` / ``--flag=value`` -> normalised flag (``--model-args``) -> (flag word, value word,
    index of the value in the value word)."""
    out: dict[str, tuple[Word, Word, int]] = {}
    for k, w in enumerate(words):
        t = w.text
        if not t.startswith("--"):
            continue
        if "=" in t:
            flag = t.split("=", 1)[0]
            out[flag.replace("_", "-")] = (w, w, len(flag) + 1)
        elif k + 1 < len(words) and not words[k + 1].text.startswith("--"):
            out[t.replace("_", "-")] = (w, words[k + 1], 0)
    return out


def _option_setting(opt: tuple[Word, Word, int], variables: Optional[dict[str, str]], how: str) -> Setting:
    flag_word, value_word, i = opt
    return _setting(value_word, i, len(value_word.text), flag_word, variables, how)


def _model_ref(text: object, certainty: Certainty, span: Span, overrides) -> ModelRef:
    from ecolint.knowledge.models import lookup_model

    if not isinstance(text, str) or not text:
        return ModelRef(None, UNKNOWN, span)
    info = lookup_model(text, overrides)
    return ModelRef(text, certainty, span, info.params_b if info else None, info.how if info else "")


def _tool_load(facts: FileFacts, span: Span, api: str, model: Optional[ModelRef], spec: Optional[QuantSpec], dtype: Optional[Value]) -> ModelLoad:
    if spec is not None:
        facts.quant_specs.append(spec)
    load = ModelLoad(span=span, api=api, engine="transformers", model=model, quant=spec, causal_lm=True, on_gpu=True)
    # both tools load in the checkpoint's precision unless told otherwise (never the transformers fp32 default)
    load.dtype = dtype if dtype is not None else Value("auto", DEFAULT, None, "default")
    facts.model_loads.append(load)
    return load


def model_args(word: Word, i: int = 0) -> dict[str, Value]:
    """lm-evaluation-harness ``--model_args`` (``pretrained=X,load_in_8bit=True,dtype=float16``) from
    character ``i`` of ``word``: option -> value, each with the span of its ``key=value`` inside the string
    (``True``/``False`` as booleans; a part holding ``$`` is unknown)."""
    out: dict[str, Value] = {}
    text = word.text
    k = i
    while k <= len(text):
        j = text.find(",", k)
        j = len(text) if j == -1 else j
        part = text[k:j]
        key, eq, raw = part.partition("=")
        key = key.strip()
        if eq and key:
            span = word.sub_span(k + (len(part) - len(part.lstrip())), j)
            if word.expands and ("$" in part or "`" in part):
                out[key] = Value(None, UNKNOWN, span, part)
            else:
                val = raw.strip()
                out[key] = Value(_BOOLS.get(val.lower(), val), CERTAIN, span, part.strip())
        k = j + 1
    return out


def lm_eval(facts: FileFacts, words: list[Word], variables: Optional[dict[str, str]] = None, overrides=None) -> Optional[ModelLoad]:
    """``lm_eval --model hf --model_args pretrained=...,load_in_8bit=True`` (also ``python -m lm_eval``,
    ``accelerate launch -m lm_eval``, the pre-0.4 ``main.py --model hf-causal-experimental``): every command
    with a ``--model_args`` holding ``pretrained=`` is one."""
    opts = _options(words)
    ma = opts.get("--model-args")
    if ma is None:
        return None
    kind = opts.get("--model")
    if kind is not None and kind[1].text[kind[2]:].strip().lower() not in LM_EVAL_HF:
        return None
    flag_word, value_word, i = ma
    args = model_args(value_word, i)
    if not model_args_loads(args):
        return None
    return model_args_load(facts, args, flag_word.span, "lm_eval --model_args", overrides)


def model_args_loads(args: dict[str, Value]) -> bool:
    """Model args that load a model: they name it, or they carry its bitsandbytes options (the model comes
    from elsewhere, as in ``f"pretrained={model},{args.model_args}"``)."""
    return "pretrained" in args or "load_in_8bit" in args or "load_in_4bit" in args


def model_args_load(facts: FileFacts, args: dict[str, Value], span: Span, api: str, overrides=None, certainty: Optional[Certainty] = None) -> ModelLoad:
    """A model load from parsed lm-eval model args (``certainty`` overrides each value's, for a default)."""
    def value(v: Value) -> Value:
        return Value(v.value, certainty, v.span, v.source) if certainty and v.known else v

    bnb = {k: value(v) for k, v in args.items() if k in ("load_in_8bit", "load_in_4bit", "llm_int8_threshold") or k.startswith("bnb_4bit_")}
    if "llm_int8_threshold" in bnb and bnb["llm_int8_threshold"].known:
        try:
            bnb["llm_int8_threshold"].value = float(bnb["llm_int8_threshold"].value)
        except (TypeError, ValueError):
            pass
    spec = None
    if any(k in bnb for k in ("load_in_8bit", "load_in_4bit")):
        anchor = bnb.get("load_in_8bit") or bnb["load_in_4bit"]
        spec = QuantSpec(span=anchor.span or span, origin="lm_eval", options=bnb, engine="transformers")
    p = args.get("pretrained")
    model = None
    if p is not None:
        p = value(p)
        model = _model_ref(p.value, p.certainty, p.span or span, overrides) if p.known else ModelRef(None, UNKNOWN, p.span)
    dtype = args.get("dtype")
    if dtype is not None:
        dtype = value(dtype)
        dt = canonical_dtype(dtype.value) if dtype.known else None
        if dt is not None and dtype.span is not None:
            facts.dtype_uses.append(DtypeUse(dtype.span, dt, f"{api} dtype"))
    return _tool_load(facts, span, api, model, spec, dtype)


def swift(facts: FileFacts, words: list[Word], variables: Optional[dict[str, str]] = None, overrides=None) -> Optional[ModelLoad]:
    """ms-swift ``swift export|infer|deploy ... --quant_method bnb --quant_bits 8|4`` (8 -> ``load_in_8bit``
    with the default threshold, 4 -> NF4), the model from ``--model`` / ``--model_type``."""
    i = _skip_prefix(words)
    if i + 1 >= len(words) or basename(words[i].text) != "swift" or words[i + 1].text not in SWIFT_SERVE:
        return None
    opts = _options(words[i + 2:])
    method = opts.get("--quant-method")
    bits = opts.get("--quant-bits")
    spec = None
    if method is not None and bits is not None:
        m = _option_setting(method, variables, "--quant_method")
        b = _option_setting(bits, variables, "--quant_bits")
        if m.value.known and str(m.value.value).lower() in ("bnb", "bitsandbytes") and b.value.known:
            name = {"8": "load_in_8bit", "4": "load_in_4bit"}.get(str(b.value.value).strip())
            if name:
                v = Value(True, b.value.certainty if b.value.certainty != CERTAIN else m.value.certainty, b.span, f"--quant_bits {b.value.value}")
                spec = QuantSpec(span=b.span, origin="swift", options={name: v}, engine="transformers")
    if spec is None:
        return None
    model = None
    for flag in ("--model", "--model-id-or-path", "--model-type"):
        if flag in opts:
            s = _option_setting(opts[flag], variables, flag)
            model = _model_ref(s.value.value, s.value.certainty, s.span, overrides) if s.value.known else ModelRef(None, UNKNOWN, s.span)
            break
    return _tool_load(facts, words[i].span, f"swift {words[i + 1].text}", model, spec, None)


TOOLS = (lm_eval, swift)
# Python calls that carry an lm-eval model_args string, and those whose ``env=`` is a serving container's
# environment (SageMaker model classes); the Python front end and its prefilter read both.
PY_MODEL_ARGS_CALLS = frozenset({"simple_evaluate", "evaluate", "add_argument"})
PY_ENV_CALLS = frozenset({"HuggingFaceModel", "Model", "DJLModel", "JumpStartModel"})

# -- the GPU a script names ---------------------------------------------------------------------------------

# Variables that name the GPU of a deployment (``GPU_TYPE=nvidia-l4`` in a script or a ``.env`` file).
GPU_VARIABLE = re.compile(r"^(?:gpu|accelerator|(?:gpu|accelerator|instance|machine|node)[_-]?type|vm[_-]?size|gpu[_-]?kind)$", re.IGNORECASE)
# Provisioning commands -> the options whose value is a GPU, an accelerator spec or an instance type:
# ``gcloud container node-pools create --accelerator type=nvidia-tesla-t4,count=1``, ``gcloud compute instances
# create --machine-type a2-highgpu-1g``, ``eksctl create nodegroup --node-type g5.xlarge``, ``aws ec2
# run-instances --instance-type g4dn.xlarge``, ``az vm create --size Standard_NC4as_T4_v3``, ``sky launch --gpus
# T4:1``.
PROVISIONERS: dict[str, frozenset[str]] = {
    "gcloud": frozenset({"--accelerator", "--machine-type"}),
    "eksctl": frozenset({"--node-type", "--instance-types"}),
    "aws": frozenset({"--instance-type"}),
    "az": frozenset({"--size", "--node-vm-size"}),
    "sky": frozenset({"--gpus", "--instance-type"}),
}


def gpu_hint(facts: FileFacts, text: object, span: Optional[Span], source: str) -> None:
    """Record the GPU ``text`` names (a GPU, a cloud label or an instance type), once per GPU."""
    from ecolint.facts import GpuHint
    from ecolint.knowledge.gpus import resolve_gpu

    if not isinstance(text, str) or not text:
        return
    info = resolve_gpu(text)
    if info is not None and not any(h.gpu == info.id for h in facts.gpu_hints):
        facts.gpu_hints.append(GpuHint(info.id, span, source))


def provisioned_gpu(facts: FileFacts, words: list[Word], variables: Optional[dict[str, str]] = None) -> None:
    """The GPU a provisioning command (see :data:`PROVISIONERS`) asks for; a list of instance types or
    accelerators that are different GPUs names none."""
    from ecolint.knowledge.gpus import resolve_gpu

    i = _skip_prefix(words)
    if i >= len(words):
        return
    program = basename(words[i].text)
    flags = PROVISIONERS.get(program)
    if flags is None:
        return
    for flag, opt in _options(words[i + 1:]).items():
        if flag not in flags:
            continue
        s = _option_setting(opt, variables, flag)
        if not s.value.known or not isinstance(s.value.value, str):
            continue
        text = s.value.value
        if flag == "--accelerator":  # ``type=nvidia-tesla-t4,count=1``
            text = next((p[5:] for p in text.split(",") if p.startswith("type=")), "")
        names = [n.split(":", 1)[0].strip() for n in text.split(",") if n.strip()]
        gpus = {getattr(resolve_gpu(n), "id", None) for n in names}
        if len(gpus) == 1 and None not in gpus:
            gpu_hint(facts, names[0], s.span, f"{program} {flag}")


# -- shell scripts as written ------------------------------------------------------------------------------

_DECLARE = {"export", "readonly", "declare", "local", "typeset"}
_ASSIGN_PARTS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)$", re.DOTALL)
_ARRAY_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}$|^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
# Environment variables a launched server reads (TGI's launcher, DJL/LMI).
SERVER_ENV = frozenset(TGI_ENV) | frozenset(DJL_ENV)


@dataclass
class Script:
    """What a script has set so far: variables (for ``$NAME``), exported server settings, arrays."""

    variables: Variables
    env: dict[str, Setting]
    arrays: dict[str, list[Word]]


def new_script(variables: Optional[dict[str, str]] = None, env: Optional[dict[str, Setting]] = None) -> Script:
    own = Variables(variables or {})
    own.spans.update(getattr(variables, "spans", {}))
    return Script(own, dict(env or {}), {})


def assignment(word: Word, name_len: int, variables: dict[str, str]) -> Setting:
    """``NAME=value``: the setting of its value, spanning the whole assignment (reported there)."""
    i = name_len + 1
    v = word_value(word, i, len(word.text), variables) if len(word.text) > i else Value("", CERTAIN, word.span, "")
    span = word.span
    v.span = span

    def replace(new: str, _w=word, _i=i) -> Optional[FixCandidate]:
        if v.certainty != CERTAIN or len(_w.text) <= _i:
            return None
        edit = _w.replace(_i, len(_w.text), new)
        return FixCandidate([edit]) if edit else None

    return Setting(v, span, replace, word.text[:name_len])


def run_script(facts: FileFacts, commands, overrides=None, state: Optional[Script] = None,
               bodies: Optional[Callable[[], list]] = None) -> Optional[ModelLoad]:
    """Read a script's simple commands in order: assignments (``export``ed server variables become the
    environment of later launches), arrays, then every launch or tool command. Returns the last load."""
    st = state or new_script()
    last = None
    for cmd in commands:
        words = cmd.words
        if not words:
            continue
        if cmd.array is not None:
            st.arrays[words[0].text.rstrip("+=")] = list(cmd.array)
            continue
        first = words[0].text
        declared = first in _DECLARE
        rest = words[1:] if declared else words
        if rest and all(_ASSIGN_PARTS.match(w.text) for w in rest) and (declared or _ASSIGN_PARTS.match(first)):
            for w in rest:
                name = w.text.split("=", 1)[0].rstrip("+")
                setting = assignment(w, len(name), st.variables)
                if setting.value.known and isinstance(setting.value.value, str):
                    st.variables[name] = setting.value.value
                    st.variables.spans[name] = w.span
                else:
                    st.variables.pop(name, None)
                if first == "export" and name in SERVER_ENV:
                    st.env[name] = setting
                if GPU_VARIABLE.match(name) and setting.value.known:
                    gpu_hint(facts, setting.value.value, w.span, name)
            continue
        if declared and first == "export":  # ``export NAME`` of an earlier assignment: nothing new to read
            continue
        provisioned_gpu(facts, words, st.variables)
        words = _splice_arrays(words, st.arrays)
        env = dict(st.env)
        for w in words[:_skip_prefix(words)]:  # ``MAX_BATCH_SIZE=1 text-generation-launcher``
            m = _ASSIGN_PARTS.match(w.text)
            if m and m.group(1) in SERVER_ENV:
                env[m.group(1)] = assignment(w, len(m.group(1)), st.variables)
        found = None
        for tool in TOOLS:
            found = tool(facts, words, st.variables, overrides)
            if found is not None:
                break
        if found is None:
            found = launch_from_words(facts, words, overrides, env=env, variables=st.variables)
        last = found or last
    return last


def _splice_arrays(words: list[Word], arrays: dict[str, list[Word]]) -> list[Word]:
    if not arrays:
        return words
    out: list[Word] = []
    for w in words:
        m = _ARRAY_REF.match(w.text)
        name = m and (m.group(1) or m.group(2))
        if name and name in arrays:
            out.extend(arrays[name])
        else:
            out.append(w)
    return out


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})


def launch_from_words(facts: FileFacts, words: list[Word], overrides=None, image: Optional[str] = None, image_span: Optional[Span] = None,
                      env: Optional[dict[str, Setting]] = None, variables: Optional[dict[str, str]] = None) -> Optional[ModelLoad]:
    """Recognise and record a launch in ``words`` (``sh -c "script"`` included: each command of the script);
    environment settings apply to TGI under the flags. Returns the (last) model load recorded."""
    from ecolint.sources.words import split_shell

    i = _skip_prefix(words)
    if i < len(words) and basename(words[i].text) in SHELLS:
        for k in range(i + 1, len(words)):
            t = words[k].text
            if t.startswith("-") and not t.startswith("--") and "c" in t[1:]:
                if k + 1 < len(words):
                    script = split_shell(words[k + 1].source, chars=words[k + 1])
                    return run_script(facts, script, overrides, new_script(variables, env))
                return None
        return None
    found = find_launch(words, image, image_span)
    if found is None:
        for tool in TOOLS:
            load = tool(facts, words, variables, overrides)
            if load is not None:
                return load
        return None
    engine, api, span, args = found
    settings = parse_args(engine, args, variables)
    if engine == "tgi" and env:
        for key, s in env_settings(env).items():
            if key not in settings:
                settings[key] = s
                if s.related is None:
                    s.related = (span, "read by this server launch")
    if engine == "vllm" and "model" not in settings and env:
        m = env.get("MODEL") or env.get("MODEL_ID") or env.get("MODEL_NAME")
        if m is not None:
            settings["model"] = m
    return emit(facts, engine, api, span, settings, overrides)


def _launch_tokens() -> dict[str, tuple[str, ...]]:
    """Fact list -> the text tokens without which no launch produces it (for the prefilter; the flag, environment
    and method tables above are the vocabulary). Every fact needs a launch; the settings need their flag or
    variable as well."""
    def flags(setting: str) -> list[str]:
        out = [f.lstrip("-") for names in FLAG_SETTINGS.values() for f, s in names.items() if s == setting]
        out += [f.replace("-", "_") for f in out] + [n for n, s in TGI_ENV.items() if s == setting]
        return out

    launch = list(LAUNCH_WORDS) + sorted(TGI_ENV_MARKERS) + ["QUANTIZE"]  # QUANTIZE=bitsandbytes marks a TGI env
    djl_words = ["djl", "lmi", "OPTION_"]  # a DJL/LMI container: its image or an OPTION_* variable
    tools = ["model_args", "model-args", "swift"]  # lm-eval and ms-swift commands
    quant = list(TGI_BNB8 + TGI_BNB4 + VLLM_BNB4) + ["load_in_8bit", "load_in_4bit", "quant_bits", "quant-bits"]
    tokens = {
        "model_loads": launch + tools,
        "servings": launch + djl_words,
        "quant_specs": quant,
        "batch_settings": flags("max_batch") + flags("max_concurrent") + [*DJL_ENV, *DJL_PROPERTIES],
        "dtype_uses": flags("dtype") + ["model_args", "model-args"],
        "generations": [],
        "cache_flushes": [],
        "training": [],
    }
    return {fact: tuple(dict.fromkeys(t)) for fact, t in tokens.items()}


#: Fact list -> tokens, for every front end that reads launches (shell, Dockerfile; YAML and TOML add theirs).
TOKENS: dict[str, tuple[str, ...]] = _launch_tokens()
