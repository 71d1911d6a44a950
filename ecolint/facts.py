"""Deployment facts: what every front end (Python, YAML, TOML, shell) turns a file into.

Rules reason over these records, never over syntax. Each record carries a :class:`Span` so findings point at
the exact argument, key or flag. Values that are only known at run time are kept with ``certainty="unknown"``
so rules can stay silent or lower their severity instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

# How sure a value is; which engine loads, generates or serves; which kind of file the facts come from; where a
# quantization request was written (a Python API, a config dialect, a launch command's engine).
Certainty = Literal["certain", "default", "unknown"]
Engine = Literal["transformers", "pipeline", "vllm", "tgi", "djl"]
Kind = Literal["python", "yaml", "toml", "shell", "dockerfile", "notebook", "json", "properties"]
Origin = Literal["BitsAndBytesConfig", "from_dict", "from_pretrained", "dict", "axolotl", "llamafactory", "tgi", "vllm", "yaml", "lm_eval", "swift", "unsloth"]

CERTAIN: Certainty = "certain"  # written in the file
DEFAULT: Certainty = "default"  # a default that a user can override at run time (argparse default=, env var fallback)
UNKNOWN: Certainty = "unknown"  # only known at run time


@dataclass(frozen=True, order=True)
class Span:
    """1-based line and column of the first character, and 1-based line/column *after* the last one.

    ``cell``: in a notebook, the 1-based index of the cell (among all cells) the lines are counted in; None
    elsewhere. Front ends produce spans without it; a notebook's are given their cell once the findings are
    known (see :mod:`ecolint.sources.notebook_frontend`)."""

    line: int
    col: int
    end_line: int
    end_col: int
    cell: Optional[int] = None


class Ref(str):
    """A dotted reference such as ``torch.float16`` (as opposed to a string literal)."""

    __slots__ = ()


@dataclass
class Value:
    value: Any
    certainty: Certainty = CERTAIN
    span: Optional[Span] = None
    source: str = ""  # the expression as written, for messages ("args.eight_bit")

    @property
    def known(self) -> bool:
        return self.certainty != UNKNOWN

    @property
    def certain(self) -> bool:
        """Written in the file: no user, caller or flag can change it at run time."""
        return self.certainty == CERTAIN

    def is_true(self, *, or_default: bool = False) -> bool:
        """Certainly ``True``; with ``or_default``, also a DEFAULT that is ``True`` unless overridden. A default
        (argparse ``default=``/``store_true``, a parameter default, an env var fallback) is never certain."""
        return (self.certain or (or_default and self.known)) and self.value is True

    def is_false(self, *, or_default: bool = False) -> bool:
        return (self.certain or (or_default and self.known)) and self.value is False


def unknown(span: Optional[Span] = None, source: str = "") -> Value:
    return Value(None, UNKNOWN, span, source)


@dataclass
class Edit:
    """Replace the text between two 1-based positions (end exclusive) with ``content``."""

    span: Span
    content: str


@dataclass
class FixCandidate:
    """How a front end can change a fact; rules turn it into a :class:`ecolint.rule.Fix`."""

    edits: list[Edit]
    comment_loss: bool = False  # the edit would delete a comment -> never a safe fix
    side_effects: bool = False  # the edit deletes or replaces an expression that may do something (a call) -> never safe
    # Non-empty: why the edit must not be applied at all (a container shared with another call site or mutated
    # later, a binding later code reads, a YAML anchor): the rule offers advice only.
    advice_only: str = ""


@dataclass
class QuantSpec:
    """A bitsandbytes quantization request, wherever it was written."""

    span: Span
    origin: Origin
    options: dict[str, Value] = field(default_factory=dict)
    # Front-end callbacks producing edits: set_option(name, literal_source) and remove_options(names).
    set_option: Optional[Callable[[str, str], Optional[FixCandidate]]] = None
    remove_options: Optional[Callable[[list[str]], Optional[FixCandidate]]] = None
    engine: Engine = "transformers"
    opaque: bool = False  # options may also arrive through a **kwargs we cannot resolve
    # Context: the run-time condition the config is built under (``if args.load_in_8bit``), the function that
    # builds it (a helper or factory), and what it quantizes when that is not a language model.
    guard: str = ""
    helper: str = ""
    non_llm: str = ""

    def get(self, name: str) -> Optional[Value]:
        return self.options.get(name)

    @property
    def eight_bit(self) -> Optional[Value]:
        return self.options.get("load_in_8bit")

    @property
    def four_bit(self) -> Optional[Value]:
        return self.options.get("load_in_4bit")

    @property
    def threshold(self) -> Optional[Value]:
        return self.options.get("llm_int8_threshold")


@dataclass
class Repetition:
    """Where a piece of code runs again and again: ``where`` is "loop" (the body of a loop), "handler" (a web
    request handler), "callback" (a UI callback: Gradio), "call" (a ``__call__`` method) or "rerun" (a Streamlit
    script, run again from the top on every interaction). ``context`` is the loop header or the ``def`` line,
    ``detail`` says which ("for d in dialogs", "POST /chat handler `chat`"). ``at`` is set when the code runs
    through a local function or class that a loop or handler calls: the span of that call (``via`` names it)."""

    where: str
    context: Optional[Span]
    detail: str
    at: Optional[Span] = None
    via: str = ""


@dataclass
class ModelRef:
    id: Optional[str]
    certainty: Certainty
    span: Optional[Span]
    params_b: Optional[float] = None
    how: str = ""  # how the size was found (table, size-token, measurements, config)


@dataclass
class ModelLoad:
    span: Span
    api: str  # qualified callee, e.g. transformers.AutoModelForCausalLM.from_pretrained
    engine: Engine  # transformers | vllm | tgi
    model: Optional[ModelRef] = None
    quant: Optional[QuantSpec] = None
    dtype: Optional[Value] = None  # torch_dtype / dtype argument, None when absent
    causal_lm: bool = False
    on_gpu: bool = False  # device_map / .cuda() / .to("cuda") / pipeline device / a serving engine
    converted: bool = False  # .half() / .to(torch.float16) etc. after loading
    cpu: str = ""  # why the load is on the CPU on purpose (device_map={"": "cpu"}, an `if cpu:` branch); on_gpu is then False
    purpose: str = ""  # "weights" when the model is loaded only for its weights (diff, merge, save, push, send)
    prequantized: bool = False  # a GPTQ/AWQ/... checkpoint: quantized weights, loaded in half precision
    # Who picks the dtype when none is given, when it is not transformers' default (the model's own code with
    # ``trust_remote_code=True``, a quantization library's loader): why a missing dtype is not float32.
    own_dtype: str = ""
    dtype_origin: Optional[Span] = None  # where a dtype passed through a name (a module constant) is written
    # Where the load runs once per request or item (a loop body, a request handler, a callback, a function such a
    # place calls), when nothing caches it; a load whose arguments change with the loop item (a sweep over models)
    # or the request (a model-switch endpoint) is not repeated work and has none.
    repeats: list[Repetition] = field(default_factory=list)
    add_dtype: Optional[Callable[[str], Optional[FixCandidate]]] = None
    set_dtype: Optional[Callable[[str], Optional[FixCandidate]]] = None


@dataclass
class Generation:
    span: Span
    engine: Engine  # transformers | pipeline | vllm
    api: str
    per_item_loop: Optional[Span] = None  # the loop header when called once per item
    loop_detail: str = ""
    use_cache: Optional[Value] = None
    max_new_tokens: Optional[Value] = None
    remove_use_cache: Optional[Callable[[], Optional[FixCandidate]]] = None
    model: Optional[ModelRef] = None
    # What the receiver is: "causal-lm" (a from_pretrained load), "vllm", "pipeline", "non-llm" (image/audio
    # arguments such as num_inference_steps, a diffusers pipeline) or "unknown" (a parameter, an attribute).
    receiver: str = "unknown"
    # The number of beams (``num_beams=``; vLLM ``BeamSearchParams(beam_width=)``, ``SamplingParams(use_beam_search=True,
    # best_of=)``), None when not written.
    num_beams: Optional[Value] = None
    # Where the generation (or generation config) serves requests: a request handler or UI callback it is in, or
    # the module's first handler for a config set in a module that serves; None elsewhere.
    served: Optional[Repetition] = None
    seq2seq: str = ""  # why the model is an encoder-decoder translation/summarisation model ("AutoModelForSeq2SeqLM")


@dataclass
class BatchSetting:
    span: Span
    value: Value
    where: str  # pipeline | dataloader | vllm | tgi | ...
    feeds_generation: bool = True


@dataclass
class DtypeUse:
    """A precision choice anywhere (model load, compute dtype, autocast, .to(), serving flag)."""

    span: Span
    dtype: str  # canonical: fp32 | fp16 | bf16 | auto | other
    where: str
    replace_with: Optional[Callable[[str], Optional[FixCandidate]]] = None


@dataclass
class Serving:
    span: Span
    engine: Engine  # vllm | tgi
    model: Optional[ModelRef] = None
    # vLLM switches as written (`--enforce-eager`, `enable_prefix_caching=False`, `enforce-eager: true`); None when absent.
    enforce_eager: Optional[Value] = None
    prefix_caching: Optional[Value] = None


@dataclass
class CacheFlush:
    """``torch.cuda.empty_cache()`` where it runs once per generated batch: in a loop whose body also generates
    (``where="loop"``) or in a web request handler that generates (``where="handler"``)."""

    span: Span
    where: str
    context: Optional[Span] = None  # the loop header or the handler's ``def`` line
    detail: str = ""  # "for p in prompts", "POST /generate handler `chat`"


@dataclass
class GpuHint:
    gpu: str  # canonical id from the GPU registry
    span: Optional[Span]
    source: str  # "config", "--gpu", "comment", "node selector", ...
    # A GPU named by a companion file of the deployment (see :mod:`ecolint.project.companions`), not by this
    # file: (the companion as shown, where it names the GPU there, how); ``span`` is then None.
    elsewhere: Optional[tuple[str, Span, str]] = None
    reads: int = field(default=0, compare=False)  # how often a rule asked for it (companion hints name themselves)


@dataclass
class FileFacts:
    path: str
    kind: Kind
    model_loads: list[ModelLoad] = field(default_factory=list)
    quant_specs: list[QuantSpec] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    batch_settings: list[BatchSetting] = field(default_factory=list)
    dtype_uses: list[DtypeUse] = field(default_factory=list)
    servings: list[Serving] = field(default_factory=list)
    cache_flushes: list[CacheFlush] = field(default_factory=list)
    training: bool = False  # the file trains (Trainer, .train(), optimizer steps, training configs)
    training_reason: str = ""
    # What the file is, when it is not deployed code: "test" (a test module) or "benchmark" (a measurement
    # script); empty otherwise. ``role_reason`` says why, for messages.
    role: str = ""
    role_reason: str = ""
    gpu_hints: list[GpuHint] = field(default_factory=list)
    transformers_default_dtype: Optional[str] = None  # "fp32" | "auto" | None (unknown), from project pins
    transformers_pin: str = ""
    # The file's own install of transformers (a notebook's ``!pip install transformers==4.44.0`` cell):
    # (specifier as written, default dtype of what it installs, where), which the runner prefers to the
    # project's requirements files.
    transformers_install: Optional[tuple[str, str, str]] = None
    # Per span a finding may point at: what the reader should know about how it was inferred (appended to the
    # message: "TGI inferred from ...", "model size from a label"), and other places that explain it.
    notes: dict[Span, str] = field(default_factory=dict)
    related: dict[Span, list[tuple[Span, str]]] = field(default_factory=dict)

    def note(self, span: Optional[Span], text: str, related: Optional[tuple[Span, str]] = None) -> None:
        if span is None:
            return
        if text and text not in self.notes.get(span, ""):
            self.notes[span] = f"{self.notes[span]}; {text}" if span in self.notes else text
        if related is not None and related[0] != span and related not in self.related.get(span, []):
            self.related.setdefault(span, []).append(related)

    @property
    def is_test(self) -> bool:
        """A test module: its loads and generations exercise code (often quantization itself), they deploy nothing."""
        return self.role == "test"
    # Values this file reads from other files of the project (see :mod:`ecolint.project`): (span of the use in
    # this file, the other file, the span there, what is there). Findings at a use get them as related locations.
    imported_values: list[tuple[Span, str, Span, str]] = field(default_factory=list)
    # Drops what the front end keeps for the facts' lazy questions (the fix builders hold the syntax tree, in
    # reference cycles): the runner calls it once the file's findings are made, so the tree is freed at once
    # instead of by the cyclic collector walking it (see ecolint.heap). None: nothing to drop.
    release: Optional[Callable[[], None]] = field(default=None, repr=False, compare=False)

    def model_for(self, spec: QuantSpec) -> list[ModelLoad]:
        return [m for m in self.model_loads if m.quant is spec]
