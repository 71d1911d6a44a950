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
from typing import Callable, Optional

from ecolint.dtypes import canonical_dtype
from ecolint.facts import CERTAIN, DEFAULT, UNKNOWN, BatchSetting, DtypeUse, FileFacts, FixCandidate, ModelLoad, ModelRef, QuantSpec, Serving, Span, Value
from ecolint.sources.words import Word

TGI_IMAGE = re.compile(r"(^|/)text-generation-inference(:|@|$)|(^|/)tgi(-[a-z0-9]+)?(:|$)", re.IGNORECASE)
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
    "MODEL_ID": "model",
    "HF_MODEL_ID": "model",
    "DTYPE": "dtype",
}
# Names that identify a TGI container on their own (SageMaker / HF endpoint containers run TGI).
TGI_ENV_MARKERS = {"HF_MODEL_ID", "HF_MODEL_QUANTIZE", "SM_NUM_GPUS"}

# The flags read as settings (``--max_num_seqs`` is read as ``--max-num-seqs``).
FLAG_SETTINGS = {
    "vllm": {"--model": "model", "--quantization": "quantize", "-q": "quantize", "--dtype": "dtype",
             "--max-num-seqs": "max_batch", "--load-format": "load_format"},
    "tgi": {"--model-id": "model", "--quantize": "quantize", "--dtype": "dtype", "--max-batch-size": "max_batch"},
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


def find_launch(words: list[Word], image: Optional[str] = None, image_span: Optional[Span] = None) -> Optional[tuple[str, str, Span, list[Word]]]:
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
        key = names.get(norm)
        if key and k + 1 < len(words):
            out[key] = _setting(words[k + 1], 0, len(words[k + 1].text), w, variables, norm)
            k += 2
            continue
        k += 2 if norm in valued and k + 1 < len(words) and not words[k + 1].text.startswith("--") else 1
    return out


def _setting(value_word: Word, i: int, j: int, flag_word: Word, variables, how: str) -> Setting:
    v = word_value(value_word, i, j, variables)
    start = flag_word.begin
    end = value_word.ends[j - 1] if j > i and value_word.ends else value_word.end
    span = value_word.source.span(start, max(end, start))
    v.span = span

    def replace(new: str, _w=value_word, _i=i, _j=j) -> Optional[FixCandidate]:
        if not v.known or v.certainty != CERTAIN:
            return None
        edit = _w.replace(_i, _j, new)
        return FixCandidate([edit]) if edit else None

    return Setting(v, span, replace, how)


def env_settings(env: dict[str, Setting]) -> dict[str, Setting]:
    """TGI settings from a container's environment (name -> setting of its value)."""
    out: dict[str, Setting] = {}
    for name, s in env.items():
        key = TGI_ENV.get(name)
        if key and key not in out:
            out[key] = s
    return out


def is_tgi_env(env: dict[str, Setting]) -> bool:
    if any(n in env for n in TGI_ENV_MARKERS):
        return True
    q = env.get("QUANTIZE")
    return q is not None and q.value.known and isinstance(q.value.value, str) and q.value.value.lower().startswith("bitsandbytes")


def emit(facts: FileFacts, engine: str, api: str, span: Span, settings: dict[str, Setting], overrides: Optional[dict] = None) -> ModelLoad:
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
    facts.model_loads.append(load)
    facts.servings.append(Serving(span, engine, load.model))
    return load


def quant_spec(engine: str, method: str, setting: Setting) -> Optional[QuantSpec]:
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
    return QuantSpec(span=setting.span, origin=engine, options=opts, engine=engine)


_SHELLS = {"sh", "bash", "dash", "zsh", "ash"}


def launch_from_words(facts: FileFacts, words: list[Word], overrides=None, image: Optional[str] = None, image_span: Optional[Span] = None,
                      env: Optional[dict[str, Setting]] = None, variables: Optional[dict[str, str]] = None) -> Optional[ModelLoad]:
    """Recognise and record a launch in ``words`` (``sh -c "script"`` included: each command of the script);
    environment settings apply to TGI under the flags. Returns the (last) model load recorded."""
    from ecolint.sources.words import split_shell

    i = _skip_prefix(words)
    if i < len(words) and basename(words[i].text) in _SHELLS:
        for k in range(i + 1, len(words)):
            t = words[k].text
            if t.startswith("-") and not t.startswith("--") and "c" in t[1:]:
                last = None
                if k + 1 < len(words):
                    for cmd in split_shell(words[k + 1].source, chars=words[k + 1]):
                        last = launch_from_words(facts, cmd.words, overrides, env=env, variables=variables) or last
                return last
        return None
    found = find_launch(words, image, image_span)
    if found is None:
        return None
    engine, api, span, args = found
    settings = parse_args(engine, args, variables)
    if engine == "tgi" and env:
        for key, s in env_settings(env).items():
            settings.setdefault(key, s)
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
    quant = list(TGI_BNB8 + TGI_BNB4 + VLLM_BNB4)
    tokens = {
        "model_loads": launch,
        "servings": launch,
        "quant_specs": quant,
        "batch_settings": flags("max_batch"),
        "dtype_uses": flags("dtype"),
        "generations": [],
        "training": [],
    }
    return {fact: tuple(dict.fromkeys(t)) for fact, t in tokens.items()}


#: Fact list -> tokens, for every front end that reads launches (shell, Dockerfile; YAML and TOML add theirs).
TOKENS: dict[str, tuple[str, ...]] = _launch_tokens()
