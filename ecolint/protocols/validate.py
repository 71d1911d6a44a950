"""Parameter validation shared by the four advisor commands.

Every problem is collected before anything is reported, so a user sees all errors at once. Errors stop the
command (exit 2); warnings and notes are printed and the command goes on. Ranges and cross-checks use our own
tables (GPU specs, model registry, measured batch range), not the EcoCompute guide's example numbers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Optional

from ecolint.dtypes import DTYPE_NAMES
from ecolint.knowledge.estimator import MAX_BATCH, vram_estimate
from ecolint.knowledge.gpus import GpuInfo, resolve_gpu, suggest_gpu
from ecolint.knowledge.models import ModelInfo, lookup_model
from ecolint.knowledge.specs import TransferSpec, transfer_spec

ERROR, WARNING, NOTE = "error", "warning", "note"

QUANT_CHOICES = ("fp16", "bf16", "fp32", "nf4", "nf4_dq", "int8_default", "int8_pure", "fp8", "mxfp4")
COMPARE_QUANTS = ("fp16", "nf4", "nf4_dq", "int8_default", "int8_pure")
SERVING_COMPARE_QUANTS = ("bf16", "fp8")
SERVING_QUANTS = ("bf16", "fp16", "fp8", "mxfp4")
SERVING_MAX_BATCH = 2048  # the largest max_num_seqs in the serving rows

# Every dtype spelling (bare or ``torch.``-qualified) names its precision; then the quantization spellings.
_QUANT_ALIASES = {
    **{f"{prefix}{spelling}": name for spelling, name in DTYPE_NAMES.items() if name != "auto" for prefix in ("", "torch.")},
    "nf4": "nf4", "bnb_nf4": "nf4", "load_in_4bit": "nf4",
    "nf4_dq": "nf4_dq", "nf4-dq": "nf4_dq", "nf4dq": "nf4_dq", "nf4_double_quant": "nf4_dq",
    "int8_default": "int8_default", "int8-default": "int8_default", "llm.int8": "int8_default",
    "load_in_8bit": "int8_default",
    "int8_pure": "int8_pure", "int8-pure": "int8_pure", "pure_int8": "int8_pure",
    "fp8": "fp8", "float8": "fp8", "fp8_e4m3": "fp8", "mxfp4": "mxfp4",
}

# Spellings that are not accepted but have an obvious nearest measured method.
_QUANT_HINTS = {
    "int4": ("nf4", "4-bit bitsandbytes NF4 is the 4-bit method with measurements"),
    "4bit": ("nf4", "4-bit bitsandbytes NF4 is the 4-bit method with measurements"),
    "4-bit": ("nf4", "4-bit bitsandbytes NF4 is the 4-bit method with measurements"),
    "fp4": ("nf4", "no FP4 rows exist; NF4 is the measured 4-bit format"),
    "q4": ("nf4", "4-bit bitsandbytes NF4 is the 4-bit method with measurements"),
    "int8": ("int8_default", "ambiguous: int8_default is load_in_8bit=True (threshold 6.0), int8_pure is "
             "llm_int8_threshold=0.0 — say which"),
    "8bit": ("int8_default", "ambiguous: int8_default (threshold 6.0) or int8_pure (threshold 0.0)"),
}
_QUANT_UNMEASURED = {
    "gptq": "only bitsandbytes quantization was measured; GPTQ has no rows",
    "awq": "only bitsandbytes quantization was measured; AWQ has no rows",
    "gguf": "only bitsandbytes quantization was measured; GGUF/llama.cpp has no rows",
    "exl2": "only bitsandbytes quantization was measured; EXL2 has no rows",
}

REGIONS = {"us": "us_avg", "cn": "china", "eu": "eu_avg", "fr": "france", "no": "norway", "in": "india"}

REQUIRED = {
    "estimate": ("quant", "batch_size", "requests_per_month"),
    "diagnose": ("quant", "batch_size", "throughput"),
}


@dataclass(frozen=True)
class Issue:
    level: str
    param: str
    message: str

    def line(self) -> str:
        return f"{self.level}: --{self.param}: {self.message}" if self.param else f"{self.level}: {self.message}"


@dataclass
class Params:
    """Validated, normalised parameters (fields a command did not ask for stay None)."""

    model: str = ""
    model_info: Optional[ModelInfo] = None
    params_b: float = 0.0
    gpu: Optional[GpuInfo] = None
    spec: Optional[TransferSpec] = None
    quant: Optional[str] = None
    batch_size: Optional[int] = None
    seq_len: int = 256
    gen_len: int = 256
    use_case: str = "api"
    requests_per_month: Optional[int] = None
    region: str = "us_avg"
    pue: Optional[float] = None
    usd_per_kwh: Optional[float] = None
    gco2_per_kwh: Optional[float] = None
    throughput: Optional[float] = None
    power: Optional[float] = None
    energy: Optional[float] = None
    engine: str = "hf"
    num_gpus: Optional[int] = None
    active_params_b: Optional[float] = None
    usd_per_gpu_hour: Optional[float] = None
    max_latency_s: Optional[float] = None
    verbose: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def serving(self) -> bool:
        return self.engine in ("vllm", "tgi")

    # The commands run only on parameters without errors, and those always have a GPU and its spec.
    @property
    def gpu_info(self) -> GpuInfo:
        assert self.gpu is not None, "no GPU: parameters with errors reached a command"
        return self.gpu

    @property
    def gpu_spec(self) -> TransferSpec:
        assert self.spec is not None, "no GPU spec: parameters with errors reached a command"
        return self.spec

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level != ERROR]


def normalise_quant(text: str) -> tuple[Optional[str], Optional[str]]:
    """``(canonical, None)`` or ``(None, error message with a did-you-mean)``."""
    key = text.strip().lower().replace(" ", "")
    if key in _QUANT_ALIASES:
        return _QUANT_ALIASES[key], None
    if key in _QUANT_HINTS:
        best, why = _QUANT_HINTS[key]
        return None, f"unknown quantization {text!r}; did you mean {best!r}? ({why})"
    if key in _QUANT_UNMEASURED:
        return None, f"{text!r} cannot be estimated: {_QUANT_UNMEASURED[key]}"
    close = difflib.get_close_matches(key, list(QUANT_CHOICES), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return None, f"unknown quantization {text!r}{hint} (choose from {', '.join(QUANT_CHOICES)})"


def _int_in(p: Params, name: str, value, lo: int, hi: int, why: str = "") -> Optional[int]:
    if value is None:
        return None
    try:
        number = int(value)
        if float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        p.issues.append(Issue(ERROR, name, f"expected a whole number, got {value!r}"))
        return None
    if not lo <= number <= hi:
        p.issues.append(Issue(ERROR, name, f"{number} is out of range [{lo:,}, {hi:,}]" + (f"; {why}" if why else "")))
        return None
    return number


def _float_in(p: Params, name: str, value, lo: float, hi: float, why: str = "") -> Optional[float]:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        p.issues.append(Issue(ERROR, name, f"expected a number, got {value!r}"))
        return None
    if not (lo <= number <= hi) or number != number:
        p.issues.append(Issue(ERROR, name, f"{value} is out of range [{lo:g}, {hi:g}]" + (f"; {why}" if why else "")))
        return None
    return number


def validate(ns, command: str, default_gpu: Optional[str] = None, measured_gpus: tuple[str, ...] = (),
             model_overrides: Optional[dict] = None) -> Params:
    """Validate an argparse namespace for ``command`` (compare, optimize, estimate, diagnose)."""
    p = Params()
    get = lambda name: getattr(ns, name, None)  # noqa: E731
    engine = (get("engine") or "hf").strip().lower()
    if engine not in ("hf", "vllm", "tgi"):
        p.issues.append(Issue(ERROR, "engine", f"unknown engine {engine!r} (choose from hf, vllm, tgi)"))
    else:
        p.engine = engine
        if engine == "tgi":
            from ecolint.knowledge.serving import TGI_CAVEAT

            p.issues.append(Issue(NOTE, "engine", TGI_CAVEAT))
    p.num_gpus = _int_in(p, "num-gpus", get("num_gpus"), 1, 64)
    p.active_params_b = _float_in(p, "active-params-b", get("active_params_b"), 0.01, 2000.0)
    for name in REQUIRED.get(command, ()):
        if get(name) is None:
            p.issues.append(Issue(ERROR, name.replace("_", "-"), "required for " + command))

    # model
    model = (get("model") or "").strip()
    params_override = _float_in(p, "params-b", get("params_b"), 0.01, 2000.0)
    if not model:
        p.issues.append(Issue(ERROR, "model", "a model is required (a Hugging Face id such as "
                                              "mistralai/Mistral-7B-v0.1, or a short name such as Qwen2-7B)"))
    else:
        p.model = model
        info = lookup_model(model, model_overrides or None)
        p.model_info = info
        if params_override is not None:
            p.params_b = params_override
        elif info is not None:
            p.params_b = info.params_b
            if info.how == "size-token":
                p.issues.append(Issue(NOTE, "model", f"{model}: size {info.params_b:g}B read from its name "
                                                     "(pass --params-b to override)"))
        else:
            p.issues.append(Issue(ERROR, "model", f"cannot tell the parameter count of {model!r} from its name; "
                                                  "pass --params-b N (billions)"))

    # GPU
    gpu_text = get("gpu") or default_gpu
    if not gpu_text:
        if command == "optimize":
            gpu_text = "rtx4090d"
            p.issues.append(Issue(WARNING, "gpu", "no GPU given (and none in the configuration); assuming rtx4090d"))
        else:
            p.issues.append(Issue(ERROR, "gpu", "a GPU is required (e.g. a800, rtx4090d, a100, t4)"))
    if gpu_text:
        gpu = resolve_gpu(gpu_text)
        if gpu is None:
            sugg = suggest_gpu(gpu_text)
            hint = f"; did you mean {' or '.join(repr(s) for s in sugg)}?" if sugg else ""
            p.issues.append(Issue(ERROR, "gpu", f"unknown GPU {gpu_text!r}{hint}"))
        else:
            spec = transfer_spec(gpu.id)
            if spec is None:
                p.issues.append(Issue(ERROR, "gpu", f"{gpu.name} is known but ecolint has no memory-bandwidth and "
                                                    "power figures for it, so nothing can be estimated; measured "
                                                    f"GPUs: {', '.join(measured_gpus)}"))
            else:
                p.gpu, p.spec = gpu, spec
                if p.serving and gpu.id not in ("h100", "b200"):
                    p.issues.append(Issue(NOTE, "gpu", f"{gpu.id} has no serving rows: figures are carried from the "
                                                       "H100/B200 rows by specs (low confidence)"))
                elif p.serving:
                    pass
                elif measured_gpus and gpu.id not in measured_gpus:
                    p.issues.append(Issue(NOTE, "gpu", f"{gpu.id} has no measurements: its figures are transferred "
                                                       "from the most similar measured GPU (low confidence unless "
                                                       "the specs match)"))
                if gpu.id == "t4":
                    p.issues.append(Issue(NOTE, "gpu", "the T4 rows report throughputs far below what a T4 usually "
                                                       "reaches; treat T4 figures with caution"))

    # quantization
    q_text = get("quant")
    if q_text is not None:
        q, msg = normalise_quant(q_text)
        if msg:
            p.issues.append(Issue(ERROR, "quant", msg))
        elif p.serving and q not in SERVING_QUANTS:
            p.issues.append(Issue(ERROR, "quant", f"{q} is a bitsandbytes (Hugging Face) method; the serving rows "
                                                  f"measure {', '.join(SERVING_QUANTS)} (use --engine hf for {q})"))
        elif not p.serving and q in ("fp8", "mxfp4"):
            p.issues.append(Issue(ERROR, "quant", f"{q} is measured only in serving (--engine vllm); no Hugging Face "
                                                  "eager row exists (the FP8 figures in the source repositories come "
                                                  "from a generated table, not a measurement)"))
        else:
            p.quant = q
            if p.serving:
                pass
            elif q == "fp32" and command in ("estimate",):
                p.issues.append(Issue(ERROR, "quant", "no fp32 row exists and no method reaches fp32; estimate fp16 "
                                                      "instead (fp32 reads twice the weight bytes per token)"))
            elif q == "fp32":
                p.issues.append(Issue(WARNING, "quant", "fp32 has no measurement; ecolint cannot put a number on it. "
                                                        "fp32 weights double the bytes read per token vs fp16"))
            if q == "bf16" and p.gpu is not None and not p.gpu.bf16:
                p.issues.append(Issue(WARNING, "quant", f"{p.gpu.name} ({p.gpu.arch}) has no native bf16: PyTorch "
                                                        "emulates it, much slower than fp16; use fp16. Estimated "
                                                        "as fp16, which understates the cost"))
            elif q == "bf16" and not p.serving:
                p.issues.append(Issue(NOTE, "quant", "no bf16 row exists; bf16 is estimated as fp16 (same bytes "
                                                     "per parameter)"))

    # batch size and lengths
    if p.serving:
        bs = _int_in(p, "batch-size", get("batch_size"), 1, SERVING_MAX_BATCH,
                     f"in serving the batch is vLLM's max_num_seqs, measured from 8 to {SERVING_MAX_BATCH}")
    else:
        bs = _int_in(p, "batch-size", get("batch_size"), 1, MAX_BATCH,
                     f"batch sizes were measured from 1 to {MAX_BATCH} (A800 sweep); ecolint does not extrapolate "
                     "beyond that")
    p.batch_size = bs
    seq = _int_in(p, "seq-len", get("seq_len"), 1, 1_048_576)
    gen = _int_in(p, "gen-len", get("gen_len"), 1, 65_536)
    if seq is not None:
        p.seq_len = seq
    if gen is not None:
        p.gen_len = gen
        if gen > 512:
            p.issues.append(Issue(NOTE, "gen-len", f"{gen} generated tokens: energy is scaled linearly per token; "
                                                   "our rows generate 128-512 tokens"))
    ctx = p.model_info.context_length if p.model_info else None
    if ctx and (p.seq_len + p.gen_len) > ctx:
        p.issues.append(Issue(WARNING, "seq-len", f"{p.seq_len} + {p.gen_len} tokens exceed the context length of "
                                                  f"{p.model} ({ctx:,})"))

    # monthly-estimate parameters
    p.requests_per_month = _int_in(p, "requests-per-month", get("requests_per_month"), 1, 10**13)
    region = get("region")
    if region is not None:
        key = region.strip().lower()
        from ecolint.knowledge.data import grid

        if key in REGIONS:
            p.region = REGIONS[key]
        elif key in grid():
            p.region = key
        else:
            close = difflib.get_close_matches(key, list(REGIONS) + sorted(grid()), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            p.issues.append(Issue(ERROR, "region", f"unknown region {region!r}{hint} (choose from "
                                                   f"{', '.join(REGIONS)})"))
    p.pue = _float_in(p, "pue", get("pue"), 1.0, 3.0, "power usage effectiveness is 1.0 (no overhead) or more")
    p.usd_per_kwh = _float_in(p, "usd-per-kwh", get("usd_per_kwh"), 0.0, 5.0)
    p.gco2_per_kwh = _float_in(p, "gco2-per-kwh", get("gco2_per_kwh"), 0.0, 2000.0)
    p.usd_per_gpu_hour = _float_in(p, "usd-per-gpu-hour", get("usd_per_gpu_hour"), 0.0, 1000.0)
    p.max_latency_s = _float_in(p, "max-latency-s", get("max_latency_s"), 1e-3, 1e6, "seconds per request, above 0")
    p.verbose = bool(get("verbose"))
    uc = get("use_case")
    if uc is not None:
        p.use_case = uc

    # diagnose observations
    p.throughput = _float_in(p, "throughput", get("throughput"), 1e-6, 1e6, "tokens per second, above 0")
    p.power = _float_in(p, "power", get("power"), 1.0, 5000.0)
    p.energy = _float_in(p, "energy", get("energy"), 1e-3, 1e8)
    if p.power is not None and p.spec is not None and p.power > p.spec.tdp_w * 1.1:
        p.issues.append(Issue(WARNING, "power", f"{p.power:g} W is above the {p.spec.name} board power "
                                                f"({p.spec.tdp_w:g} W); check the reading"))

    # cross-check: does it fit?
    if p.spec is not None and p.params_b and p.quant and p.quant in QUANT_CHOICES and not p.serving:
        bs_ = p.batch_size or 1
        v = vram_estimate(p.model, p.params_b, p.quant, bs_, p.seq_len, p.gen_len)
        if v.weights_gb + v.overhead_gb > p.spec.vram_gb:
            level = WARNING if command == "optimize" else ERROR
            p.issues.append(Issue(level, "quant", f"{p.model} in {p.quant} needs about {v.weights_gb:.1f} GB for "
                                                  f"weights alone; {p.spec.name} has {p.spec.vram_gb:g} GB"))
        elif v.total_gb > p.spec.vram_gb:
            bound = "" if v.kv_exact else " (KV size is an upper bound: architecture unknown)"
            p.issues.append(Issue(WARNING, "batch-size", f"weights {v.weights_gb:.1f} GB + KV cache "
                                                         f"{v.kv_cache_gb:.1f} GB{bound} for BS={bs_} × "
                                                         f"{p.seq_len + p.gen_len} tokens exceed "
                                                         f"{p.spec.vram_gb:g} GB on {p.spec.name}; lower the batch "
                                                         "size or sequence length, or quantize"))
    return p
