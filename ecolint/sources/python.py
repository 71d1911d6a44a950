"""Python front end: a libcst syntax tree -> :class:`~ecolint.facts.FileFacts`.

Everything comes from the tree, never from raw text: a ``load_in_8bit=True`` inside a comment, docstring or
string is not a fact. The analysis is deliberately small and local:

* an import-alias map (``import transformers as tf``, ``from transformers import BitsAndBytesConfig as BNB``);
* per-scope assignment tables (module, each function) so a config built in one place and passed in another
  resolves, as do dict literals, ``**kwargs`` unpacking, module constants, function defaults, ``argparse``
  ``default=`` and ``os.environ.get(key, default)``; anything assigned more than once with different values,
  or computed at run time, is ``unknown``;
* a loop stack with a little taint tracking to tell "one ``generate`` per prompt" from "one per batch".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import libcst as cst

from ecolint.facts import (
    CERTAIN,
    DEFAULT,
    UNKNOWN,
    BatchSetting,
    DtypeUse,
    FileFacts,
    FixCandidate,
    Generation,
    GpuHint,
    ModelLoad,
    ModelRef,
    QuantSpec,
    Ref,
    Serving,
    Span,
    Value,
    unknown,
)
from ecolint.prefilter import (  # one vocabulary for the prefilter and the front end
    GPU_WORDS,
    MODEL_CLASS,
    NOT_MODEL,
)
from ecolint.sources.bracket_edits import Items, SourceText, append, comment_in, format_off_lines, removal
from ecolint.sources.cst_positions import Positions
from ecolint.sources.cst_walk import children, names_in, walk

MAX_DEPTH = 12  # resolution depth (names referring to names ...)

BNB_OPTIONS = (
    "load_in_8bit",
    "load_in_4bit",
    "llm_int8_threshold",
    "llm_int8_skip_modules",
    "llm_int8_enable_fp32_cpu_offload",
    "llm_int8_has_fp16_weight",
    "bnb_4bit_compute_dtype",
    "bnb_4bit_quant_type",
    "bnb_4bit_use_double_quant",
    "bnb_4bit_quant_storage",
)

_CAUSAL = re.compile(r"(CausalLM|LMHeadModel|ForConditionalGeneration|Seq2SeqLM)$")
_GENERATIVE_TASKS = {None, "text-generation", "text2text-generation", "summarization", "translation", "conversational", "image-text-to-text"}
_TRAINER_CLASSES = {"Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "PPOTrainer", "ORPOTrainer", "KTOTrainer", "RewardTrainer", "GRPOTrainer"}
_TRAIN_CALLS = {"gradient_checkpointing_enable", "prepare_model_for_kbit_training", "backward", "zero_grad"}
_BATCHING_CALLS = {"chunked", "batched", "batch", "chunks", "ichunked", "array_split", "grouper", "sliced", "batchify", "iter_batches", "make_batches", "get_batches"}
_DTYPE_NAMES = {
    "float32": "fp32",
    "float": "fp32",
    "fp32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "fp16": "fp16",
    "bfloat16": "bf16",
    "bf16": "bf16",
    "auto": "auto",
}


def _dtype_of(value: Any) -> Optional[str]:
    """``torch.float16`` / ``"float16"`` / ``torch.half`` -> canonical name."""
    if isinstance(value, str):
        last = value.rsplit(".", 1)[-1].lower()
        if isinstance(value, Ref) and not value.startswith("torch."):
            return None
        return _DTYPE_NAMES.get(last, "other")
    return None


@dataclass
class _Scope:
    node: Optional[cst.CSTNode]
    parent: Optional["_Scope"]
    assigns: dict[str, list[Optional[cst.BaseExpression]]] = field(default_factory=dict)
    params: dict[str, Optional[cst.BaseExpression]] = field(default_factory=dict)
    name: str = "<module>"
    returns: list[Optional[cst.BaseExpression]] = field(default_factory=list)


class _Loop:
    """A loop being traversed. ``header`` and ``desc`` are computed on first use (most loops never end up in
    a fact); either may be given as a callable."""

    __slots__ = ("_header", "targets", "tainted", "batched", "scope", "_desc", "marked")

    def __init__(self, header, targets: set[str], tainted: set[str], batched: bool, scope: _Scope, desc):
        self._header = header
        self.targets = targets
        self.tainted = tainted
        self.batched = batched
        self.scope = scope
        self._desc = desc
        self.marked = False  # "::dataloader:<name>" was appended to desc

    @property
    def header(self) -> Span:
        if callable(self._header):
            self._header = self._header()
        return self._header

    @property
    def desc(self) -> str:
        if callable(self._desc):
            self._desc = self._desc()
        return self._desc

    @desc.setter
    def desc(self, value: str) -> None:
        self._desc = value


@dataclass
class _Pending:
    """A call to a local function inside a per-item loop: a generation if that function generates."""

    func: str
    span: Span
    loop: _Loop


class _Analyzer:
    def __init__(self, module: cst.Module, positions, path: str):
        self.module = module
        self.pos = positions
        self.path = path
        self.facts = FileFacts(path=path, kind="python")
        self.aliases: dict[str, str] = {}
        self.module_scope = _Scope(None, None)
        self.scopes: dict[cst.CSTNode, _Scope] = {}
        self.functions: dict[str, _Scope] = {}
        self.argparse_defaults: dict[str, Value] = {}
        self.namespaces: set[str] = set()  # names bound to parser.parse_args()
        self.quant_by_node: dict[int, QuantSpec] = {}
        self.model_targets: dict[str, ModelLoad] = {}  # variable -> the model load assigned to it
        self.dataloaders: dict[str, BatchSetting] = {}  # variable -> its DataLoader batch size
        self.generating_functions: dict[str, Generation] = {}
        self.pending: list[_Pending] = []
        self.assigned_to: dict[int, str] = {}  # id(call node) -> simple target name
        # What a fix needs to know to stay local (see _guarded):
        self.bound_to: dict[int, str] = {}  # id(dict literal / call) -> the simple name it is assigned to
        self.name_uses: dict[str, int] = {}  # every Name in the file, by identifier (bindings included)
        self.mutated: set[str] = set()  # names whose container is changed after it is built (kw[k] = v, kw.update())
        self.changed_specs: set[int] = set()  # id(QuantSpec) whose object gets attribute assignments later
        self.gpu_mentions: list[tuple[GpuHint, bool]] = []  # (hint, stated as the target: "runs on", "targets")

    # -- helpers -----------------------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        r = self.pos[node]
        return Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def dotted(self, node: cst.BaseExpression) -> Optional[str]:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr.value}" if base else None
        return None

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        name = self.dotted(node)
        if not name:
            return None
        root, _, rest = name.partition(".")
        if root in self.aliases:
            full = self.aliases[root]
            return f"{full}.{rest}" if rest else full
        return name

    # -- pass 1: imports, scopes, assignments, argparse, training markers ---------------------------------
    def collect(self) -> None:
        walk(self.module, _Collector(self), observer=self.pos)
        self.facts.gpu_hints = _deployment_gpu(self.gpu_mentions)

    # -- value resolution ------------------------------------------------------------------------------
    def scope_of_name(self, scope: _Scope, name: str) -> Optional[_Scope]:
        s: Optional[_Scope] = scope
        while s is not None:
            if name in s.assigns or name in s.params:
                return s
            s = s.parent
        return None

    def resolve(self, node: Optional[cst.BaseExpression], scope: _Scope, depth: int = 0) -> Value:
        if node is None:
            return unknown()
        span = self.span(node)
        src = self.code(node).strip()
        if depth > MAX_DEPTH:
            return unknown(span, src)
        if isinstance(node, (cst.Integer, cst.Float)):
            try:
                return Value(node.evaluated_value, CERTAIN, span, src)
            except Exception:  # noqa: BLE001 - odd literal
                return unknown(span, src)
        if isinstance(node, cst.SimpleString):
            try:
                return Value(node.evaluated_value, CERTAIN, span, src)
            except Exception:  # noqa: BLE001
                return unknown(span, src)
        if isinstance(node, cst.ConcatenatedString):
            left = self.resolve(node.left, scope, depth + 1)
            right = self.resolve(node.right, scope, depth + 1)
            if left.known and right.known and isinstance(left.value, str) and isinstance(right.value, str):
                return Value(left.value + right.value, _weakest(left, right), span, src)
            return unknown(span, src)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self.resolve(node.expression, scope, depth + 1)
            if inner.known and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return Value(-inner.value, inner.certainty, span, src)
            return unknown(span, src)
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Value({"True": True, "False": False, "None": None}[node.value], CERTAIN, span, src)
            if node.value in self.aliases:
                return Value(Ref(self.aliases[node.value]), CERTAIN, span, src)
            owner = self.scope_of_name(scope, node.value)
            if owner is None:
                return unknown(span, src)
            if node.value in owner.assigns:
                values = owner.assigns[node.value]
                if owner.node is not None and node.value in owner.params:
                    values = values + [owner.params[node.value]]
                resolved = [self.resolve(v, owner, depth + 1) if v is not None else unknown() for v in values]
                if not resolved or not all(r.known for r in resolved):
                    return unknown(span, src)
                first = resolved[0]
                if all(_same(r.value, first.value) for r in resolved[1:]):
                    value = first.value
                    if isinstance(value, dict) and node.value in self.mutated:
                        # kw["x"] = ... / kw.update(...) later: keys we cannot see may arrive
                        value = {**value, "**": _Item(unknown(span), node, node)}
                    return Value(value, first.certainty, first.span, src)
                return unknown(span, src)
            default = owner.params.get(node.value)
            if default is None:
                return unknown(span, src)
            inner = self.resolve(default, owner.parent or self.module_scope, depth + 1)
            return Value(inner.value, DEFAULT if inner.known else UNKNOWN, inner.span, src)
        if isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and base.value in self.namespaces:
                dest = node.attr.value
                if dest in self.argparse_defaults:
                    d = self.argparse_defaults[dest]
                    return Value(d.value, DEFAULT if d.known else UNKNOWN, d.span, src)
                return unknown(span, src)
            q = self.qualify(node)
            if q and q.split(".", 1)[0] in self.aliases.values() or (q and q.startswith("torch.")):
                return Value(Ref(q), CERTAIN, span, src)
            if q and q.split(".", 1)[0] in {v.split(".", 1)[0] for v in self.aliases.values()}:
                return Value(Ref(q), CERTAIN, span, src)
            return unknown(span, src)
        if isinstance(node, cst.Dict):
            return Value(self.dict_items(node, scope, depth), CERTAIN, span, src)
        if isinstance(node, cst.Call):
            return self.resolve_call(node, scope, depth, span, src)
        if isinstance(node, cst.Subscript):
            base = self.resolve(node.value, scope, depth + 1)
            if base.known and isinstance(base.value, dict) and len(node.slice) == 1:
                idx = node.slice[0].slice
                if isinstance(idx, cst.Index):
                    key = self.resolve(idx.value, scope, depth + 1)
                    if key.known and isinstance(key.value, str) and key.value in base.value:
                        item = base.value[key.value].value
                        return Value(item.value, _weakest(base, key, item), item.span, src)
            return unknown(span, src)
        if isinstance(node, cst.IfExp):
            a = self.resolve(node.body, scope, depth + 1)
            b = self.resolve(node.orelse, scope, depth + 1)
            if a.known and b.known and _same(a.value, b.value):
                return Value(a.value, _weakest(a, b), span, src)
            return unknown(span, src)
        return unknown(span, src)

    def dict_items(self, node: cst.Dict, scope: _Scope, depth: int) -> dict:
        out: dict[str, Value] = {}
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                key = self.resolve(el.key, scope, depth + 1)
                if key.known and isinstance(key.value, str):
                    v = self.resolve(el.value, scope, depth + 1)
                    v.span = v.span or self.span(el.value)
                    out[key.value] = _Item(v, el, node)
            elif isinstance(el, cst.StarredDictElement):
                inner = self.resolve(el.value, scope, depth + 1)
                if inner.known and isinstance(inner.value, dict):
                    out.update(inner.value)
                else:
                    out["**"] = _Item(unknown(self.span(el)), el, node)
        return out

    def resolve_call(self, node: cst.Call, scope: _Scope, depth: int, span: Span, src: str) -> Value:
        q = self.qualify(node.func) or ""
        last = q.rsplit(".", 1)[-1]
        if q in ("os.environ.get", "os.getenv") or q.endswith("environ.get"):
            if len(node.args) >= 2:
                d = self.resolve(node.args[1].value, scope, depth + 1)
                return Value(d.value, DEFAULT if d.known else UNKNOWN, d.span, src)
            return unknown(span, src)
        if last == "dict" and q == "dict":
            out = {}
            for arg in node.args:
                if arg.keyword is not None:
                    out[arg.keyword.value] = _Item(self.resolve(arg.value, scope, depth + 1), arg, node)
                elif arg.star == "**":
                    inner = self.resolve(arg.value, scope, depth + 1)
                    if inner.known and isinstance(inner.value, dict):
                        out.update(inner.value)
                    else:
                        out["**"] = _Item(unknown(self.span(arg)), arg, node)
            return Value(out, CERTAIN, span, src)
        if last == "BitsAndBytesConfig" or q.endswith("BitsAndBytesConfig.from_dict"):
            spec = self.quant_spec_for_call(node, scope)
            return Value(spec, CERTAIN, span, src)
        if isinstance(node.func, cst.Name) and node.func.value in self.functions:
            fn = self.functions[node.func.value]
            if len(fn.returns) == 1 and fn.returns[0] is not None:
                inner = self.resolve(fn.returns[0], fn, depth + 1)
                if inner.known:
                    return inner
        if q in ("torch.device",) and node.args:
            return self.resolve(node.args[0].value, scope, depth + 1)
        return unknown(span, src)

    # -- facts -------------------------------------------------------------------------------------------
    def kwargs_of(self, call: cst.Call, scope: _Scope) -> tuple[dict[str, "_Item"], bool]:
        """Keyword arguments of a call, ``**dict`` unpacking resolved; second value: an unresolved ``**``."""
        out: dict[str, _Item] = {}
        opaque = False
        for arg in call.args:
            if arg.keyword is not None:
                out[arg.keyword.value] = _Item(self.resolve(arg.value, scope), arg, call)
            elif arg.star == "**":
                inner = self.resolve(arg.value, scope)
                if inner.known and isinstance(inner.value, dict):
                    for k, item in inner.value.items():
                        if k == "**":
                            opaque = True
                        else:
                            out.setdefault(k, item)
                else:
                    opaque = True
        return out, opaque

    def quant_spec_for_call(self, call: cst.Call, scope: _Scope) -> QuantSpec:
        key = id(call)
        if key in self.quant_by_node:
            return self.quant_by_node[key]
        q = self.qualify(call.func) or ""
        if q.endswith("from_dict"):
            items: dict = {}
            if call.args:
                d = self.resolve(call.args[0].value, scope)
                if d.known and isinstance(d.value, dict):
                    items = d.value
            kw, opaque = self.kwargs_of(call, scope)
            opaque = opaque or "**" in items or not call.args
            items = {**items, **{k: v for k, v in kw.items() if k != "return_unused_kwargs"}}
            origin = "from_dict"
        else:
            items, opaque = self.kwargs_of(call, scope)
            origin = "BitsAndBytesConfig"
        spec = self.make_spec(call, origin, items)
        spec.opaque = opaque
        self.quant_by_node[key] = spec
        self.facts.quant_specs.append(spec)
        return spec

    def make_spec(self, call: cst.Call, origin: str, items: dict) -> QuantSpec:
        options = {k: it.value for k, it in items.items() if k in BNB_OPTIONS}
        for name, it in items.items():
            if name in BNB_OPTIONS:
                it.value.span = self.span(it.element)
        spec = QuantSpec(span=self.span(call), origin=origin, options=options)

        def set_option(name: str, literal: str, _c=call, _items=items, _spec=spec) -> Optional[FixCandidate]:
            touched = [_items[name]] if name in _items else [it for k, it in _items.items() if k in BNB_OPTIONS][:1]
            return self.guarded(self.set_option_edit(_c, _items, name, literal), touched, _spec)

        def remove_options(names: Sequence[str], _items=items, _spec=spec) -> Optional[FixCandidate]:
            return self.guarded(self.remove_items_edit(_items, names), [_items[n] for n in names if n in _items], _spec)

        spec.set_option = set_option
        spec.remove_options = remove_options
        item = items.get("bnb_4bit_compute_dtype")
        if item is not None:
            self.note_dtype(item.value, "bnb_4bit_compute_dtype", item)
        return spec

    # -- fix edits ---------------------------------------------------------------------------------------
    # Minimal text edits (see ecolint.sources.bracket_edits): an option is added or removed with its comma and
    # its own comment, and nothing else of the call or dict is rewritten.
    @property
    def source(self) -> SourceText:
        src = self.__dict__.get("_source")
        if src is None:
            src = self.__dict__["_source"] = SourceText(self.text)
        return src

    def offer(self, ranges: Sequence[tuple[int, int, str]], comment_loss: bool = False) -> Optional[FixCandidate]:
        """A fix from (start, end, replacement) offset ranges, or None when one of them reaches into a region the
        user keeps out of formatting (``# fmt: off`` ... ``# fmt: on``, a ``# fmt: skip`` line): an edit there
        could not follow the user's layout, so such a finding is advice only."""
        src = self.source
        regions = self.__dict__.get("_format_off")
        if regions is None:
            regions = self.__dict__["_format_off"] = format_off_lines(src.text)
        if regions:
            for start, end, _ in ranges:
                first, last = src.position(start)[0], src.position(end)[0]
                if any(a <= last and first <= b for a, b in regions):
                    return None
        return FixCandidate([src.edit(*r) for r in ranges], comment_loss=comment_loss)

    def replace_edit(self, node: cst.CSTNode, content: str) -> Optional[FixCandidate]:
        r = self.span(node)
        src = self.source
        return self.offer([(src.offset(r.line, r.col), src.offset(r.end_line, r.end_col), content)])

    def measure(self, container: cst.CSTNode) -> Items:
        """Where the brackets and the items of a call's arguments or a dict's items are in the text."""
        src = self.source
        seq = container.args if isinstance(container, cst.Call) else container.elements
        r = self.span(container)
        close = src.offset(r.end_line, r.end_col) - 1  # (the span ends after the closing bracket)
        starts, ends, after = [], [], []
        for el in seq:
            sp = self.span(el)
            starts.append(src.offset(sp.line, sp.col))
            ends.append(src.offset(sp.end_line, sp.end_col))
            if isinstance(el.comma, cst.Comma):
                c = self.span(el.comma)
                after.append(src.offset(c.end_line, c.end_col))
            else:
                after.append(ends[-1])
        if isinstance(container, cst.Call):
            ws = container.whitespace_before_args  # between "(" and the first argument
            if isinstance(ws, cst.SimpleWhitespace):
                opening = (starts[0] if starts else close) - len(ws.value)
            else:  # a line break: its text depends on the indentation around it, its position does not
                w = self.span(ws)
                opening = src.offset(w.line, w.col)
        else:
            opening = src.offset(r.line, r.col) + 1
        return Items(opening, close, starts, ends, after)

    def comments_in(self, node: cst.CSTNode) -> list[int]:
        """Offsets of the comments inside ``node``."""
        from libcst import matchers

        src = self.source
        return [src.offset(self.span(c).line, self.span(c).col) for c in matchers.findall(node, matchers.Comment())]

    def set_option_edit(self, call: cst.Call, items: dict, name: str, literal: str) -> Optional[FixCandidate]:
        item = items.get(name)
        if item is not None:
            return self.replace_edit(item.element.value, literal)
        # Add the option where the other options were written: the call itself or a dict literal.
        others = [it for k, it in items.items() if k in BNB_OPTIONS]
        if not others:
            return None
        container = others[0].container
        if any(it.container is not container for it in others):
            return None
        if isinstance(container, cst.Call):
            return self.set_option_edit_call(container, name, literal)
        if isinstance(container, cst.Dict):
            quote = next((k.key.quote for k in container.elements if isinstance(getattr(k, "key", None), cst.SimpleString)), '"')
            if len(quote) != 1:
                quote = '"'
            return self.offer(append(self.source, self.measure(container), f"{quote}{name}{quote}: {literal}"))
        return None

    def remove_items_edit(self, items: dict, names: Sequence[str]) -> Optional[FixCandidate]:
        doomed = [items[n] for n in names if n in items]
        if not doomed:
            return None
        ranges: list[tuple[int, int, str]] = []
        loss = False
        by_container: dict[int, list[_Item]] = {}
        for it in doomed:
            by_container.setdefault(id(it.container), []).append(it)
        for group in by_container.values():
            container = group[0].container
            if isinstance(container, cst.Call):
                seq = container.args
            elif isinstance(container, cst.Dict):
                seq = container.elements
            else:
                return None
            remove = {id(it.element) for it in group}
            removed = removal(self.source, self.measure(container), [k for k, el in enumerate(seq) if id(el) in remove])
            loss = loss or comment_in(removed, self.comments_in(container))
            ranges.extend(removed)
        return self.offer(ranges, comment_loss=loss)

    def guarded(self, candidate: Optional[FixCandidate], touched: Sequence["_Item"], spec: Optional[QuantSpec] = None) -> Optional[FixCandidate]:
        """Mark an edit that could change more than its message names: a container that another call site
        reads or that is changed after it is built, a config object assigned to later, a binding (walrus) that
        later code reads -> advice only; a replaced or deleted expression that may do something -> unsafe."""
        if candidate is None:
            return None
        if spec is not None and id(spec) in self.changed_specs:
            candidate.advice_only = "the config object is changed after it is built"
        for it in touched:
            if self.shared_container(it.container):
                candidate.advice_only = f"`{self.bound_to[id(it.container)]}` is also used elsewhere or changed later"
            value = getattr(it.element, "value", None)
            if value is None:
                continue
            if _binds(value):
                candidate.advice_only = "it would delete a name that later code may read"
            elif not _inert(value):
                candidate.side_effects = True
        return candidate

    def shared_container(self, container: cst.CSTNode) -> bool:
        """A dict (or dict() call) bound to a name that is read more than once or changed after it is built."""
        name = self.bound_to.get(id(container))
        if name is None:
            return False
        return name in self.mutated or self.name_uses.get(name, 0) > 2  # the binding and one use

    def note_dtype(self, value: Value, where: str, item: Optional["_Item"] = None, node: Optional[cst.CSTNode] = None) -> Optional[str]:
        dtype = _dtype_of(value.value) if value.known else None
        if dtype is None:
            return None
        target = item.element.value if item is not None else node
        span = self.span(target) if target is not None else value.span
        use = DtypeUse(span=span, dtype=dtype, where=where)
        if target is not None and value.certain:  # a flag or default the user may change is never rewritten
            touched = [item] if item is not None else []
            use.replace_with = lambda new, _n=target, _t=touched: self.guarded(self.replace_dtype_edit(_n, new), _t)
        self.facts.dtype_uses.append(use)
        return dtype

    def replace_dtype_edit(self, node: cst.CSTNode, new: str) -> Optional[FixCandidate]:
        """``torch.bfloat16`` -> ``torch.float16`` (only the attribute name changes) or ``"bfloat16"`` ->
        ``"float16"``."""
        if isinstance(node, cst.Attribute):
            return self.replace_edit(node.attr, new)
        if isinstance(node, cst.SimpleString):
            quote = node.quote
            return self.replace_edit(node, f"{node.prefix}{quote}{new}{quote}")
        return None

    def model_ref(self, node: Optional[cst.BaseExpression], scope: _Scope, overrides: dict) -> Optional[ModelRef]:
        from ecolint.knowledge.models import lookup_model

        if node is None:
            return None
        v = self.resolve(node, scope)
        if not v.known or not isinstance(v.value, str) or isinstance(v.value, Ref):
            return ModelRef(None, UNKNOWN, self.span(node))
        info = lookup_model(v.value, overrides)
        return ModelRef(v.value, v.certainty, self.span(node), info.params_b if info else None, info.how if info else "")


class _Item:
    """A resolved option: its value, the syntax element (Arg or DictElement) and its container."""

    __slots__ = ("value", "element", "container", "certainty", "span")

    def __init__(self, value: Value, element: cst.CSTNode, container: cst.CSTNode):
        self.value = value
        self.element = element
        self.container = container
        # behave like a Value for dict lookups through Subscript
        self.certainty = value.certainty
        self.span = value.span

    @property
    def known(self) -> bool:
        return self.value.known


def _weakest(*values) -> str:
    order = {CERTAIN: 0, DEFAULT: 1, UNKNOWN: 2}
    return max((getattr(v, "certainty", CERTAIN) for v in values), key=lambda c: order[c])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (dict, QuantSpec)) or isinstance(b, (dict, QuantSpec)):
        return a is b
    return type(a) is type(b) and a == b


_MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


def _inert(node: cst.CSTNode) -> bool:
    """Deleting or replacing ``node`` cannot change what the program does: a literal, a name, a dotted name,
    a negative number, or a tuple/list of those. Anything else (a call, ``opts.pop(...)``, a subscript that
    may raise, an f-string) may have an effect."""
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Name, cst.Ellipsis)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _inert(node.left) and _inert(node.right)
    if isinstance(node, cst.Attribute):
        return _inert(node.value)
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, (cst.Minus, cst.Plus)) and isinstance(node.expression, (cst.Integer, cst.Float))
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(not isinstance(el, cst.StarredElement) and _inert(el.value) for el in node.elements)
    return False


def _binds(node: cst.CSTNode) -> bool:
    """Does ``node`` bind a name (``(dt := torch.float16)``) that later code may read?"""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.NamedExpr):
            return True
        if not isinstance(n, cst.Lambda):  # (a walrus in a comprehension binds in the enclosing scope)
            stack.extend(children(n))
    return False


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for el in target.elements:
            out |= _target_names(el.value)
        return out
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return set()


class _Collector(cst.CSTVisitor):
    """Pass 1: imports, scopes and assignments, argparse defaults, training markers, GPU mentions."""

    def __init__(self, a: _Analyzer):
        self.a = a
        self.stack: list[_Scope] = [a.module_scope]
        a.scopes[None] = a.module_scope  # type: ignore[index]

    @property
    def scope(self) -> _Scope:
        return self.stack[-1]

    def _bind(self, name: str, value: Optional[cst.BaseExpression]) -> None:
        self.scope.assigns.setdefault(name, []).append(value)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = self.a.dotted(alias.name)
            if not full:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.a.aliases[alias.asname.name.value] = full
            else:
                root = full.split(".", 1)[0]
                self.a.aliases[root] = root

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        base = self.a.dotted(node.module)
        if not base:
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else alias.name.value
            self.a.aliases[local] = f"{base}.{alias.name.value}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = _Scope(node, self.scope, name=node.name.value)
        for p in list(node.params.params) + list(node.params.kwonly_params) + list(node.params.posonly_params):
            scope.params[p.name.value] = p.default
        for p in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(p, cst.Param):
                scope.params[p.name.value] = None
        self.a.scopes[node] = scope
        self.a.functions.setdefault(node.name.value, scope)
        self.stack.append(scope)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> Optional[bool]:
        for name in names_in(node):  # the body is not walked, but its uses count
            self.a.name_uses[name] = self.a.name_uses.get(name, 0) + 1
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.a.name_uses[node.value] = self.a.name_uses.get(node.value, 0) + 1

    def _mutation(self, target: cst.BaseExpression) -> None:
        """``kw["x"] = ...`` / ``del kw["x"]``: the container bound to ``kw`` changes after it is built."""
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.a.mutated.add(target.value.value)

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, (cst.Tuple, cst.List)) else [node.target]
        for t in targets:
            self._mutation(getattr(t, "value", t))

    def visit_Return(self, node: cst.Return) -> None:
        self.scope.returns.append(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self._bind(t.target.value, node.value)
                if isinstance(node.value, cst.Call):
                    self.a.assigned_to[id(node.value)] = t.target.value
                if isinstance(node.value, (cst.Call, cst.Dict)):
                    self.a.bound_to[id(node.value)] = t.target.value
                self._note_namespace(t.target.value, node.value)
            else:
                self._mutation(t.target)
                for n in _target_names(t.target):
                    self._bind(n, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self._bind(node.target.value, node.value)
            if isinstance(node.value, cst.Call):
                self.a.assigned_to[id(node.value)] = node.target.value
            if isinstance(node.value, (cst.Call, cst.Dict)):
                self.a.bound_to[id(node.value)] = node.target.value

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, None)
            self.a.mutated.add(node.target.value)  # kw |= {...} changes the dict in place
        self._mutation(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, None)

    def visit_For(self, node: cst.For) -> None:
        for n in _target_names(node.target):
            self._bind(n, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            for n in _target_names(node.asname.name):
                self._bind(n, None)

    def visit_Global(self, node: cst.Global) -> None:
        # ``global X`` in a function: X at module level may be rebound by whoever calls the function
        for n in node.names:
            self._bind(n.name.value, None)
            self.a.module_scope.assigns.setdefault(n.name.value, []).append(None)

    def _note_namespace(self, name: str, value: cst.BaseExpression) -> None:
        call = value
        if isinstance(call, cst.Subscript):
            call = call.value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in ("parse_args", "parse_known_args"):
            self.a.namespaces.add(name)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name == "add_argument":
            self._argparse(node)
        if name in _MUTATORS and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.a.mutated.add(func.value.value)
        q = self.a.qualify(func) or ""
        last = q.rsplit(".", 1)[-1]
        if not self.a.facts.training:
            reason = ""
            if last in _TRAINER_CLASSES and (q.startswith(("transformers.", "trl.")) or q == last):
                reason = f"{last}(...)"
            elif isinstance(func, cst.Attribute) and name == "train" and not node.args:
                receiver = self.a.dotted(func.value) or ""
                if "trainer" in receiver.lower() or receiver.lower().endswith("model"):
                    reason = f"{receiver}.train()"
            elif name in _TRAIN_CALLS:
                reason = f"{name}()"
            elif isinstance(func, cst.Attribute) and name == "step":
                receiver = (self.a.dotted(func.value) or "").lower()
                if "optim" in receiver or receiver.endswith("opt"):
                    reason = f"{receiver}.step()"
            if reason:
                self.a.facts.training = True
                self.a.facts.training_reason = f"{reason} on line {self.a.span(node).line}"

    def _argparse(self, node: cst.Call) -> None:
        options = []
        dest = None
        default: Optional[cst.BaseExpression] = None
        action = None
        has_default = False
        for arg in node.args:
            if arg.keyword is None:
                if isinstance(arg.value, cst.SimpleString):
                    try:
                        options.append(arg.value.evaluated_value)
                    except Exception:  # noqa: BLE001
                        pass
            elif arg.keyword.value == "dest" and isinstance(arg.value, cst.SimpleString):
                dest = arg.value.evaluated_value
            elif arg.keyword.value == "default":
                default = arg.value
                has_default = True
            elif arg.keyword.value == "action" and isinstance(arg.value, cst.SimpleString):
                action = arg.value.evaluated_value
        if dest is None:
            longs = [o for o in options if isinstance(o, str) and o.startswith("--")]
            pick = longs[0] if longs else (options[0] if options else None)
            if not isinstance(pick, str):
                return
            dest = pick.lstrip("-").replace("-", "_")
        span = self.a.span(node)
        if has_default:
            v = self.a.resolve(default, self.a.module_scope)
            self.a.argparse_defaults[dest] = Value(v.value, v.certainty, v.span or span, self.a.code(default))
        elif action == "store_true":
            self.a.argparse_defaults[dest] = Value(False, DEFAULT, span, "store_true")
        elif action == "store_false":
            self.a.argparse_defaults[dest] = Value(True, DEFAULT, span, "store_false")
        else:
            self.a.argparse_defaults[dest] = Value(None, DEFAULT, span, "no default")

    def visit_Comment(self, node: cst.Comment) -> None:
        self._gpu_mention(node.value, node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if len(node.value) < 200:
            self._gpu_mention(node.value, node)

    def _gpu_mention(self, text: str, node: cst.CSTNode) -> None:
        from ecolint.knowledge.gpus import resolve_gpu

        for m in GPU_WORDS.finditer(text):
            info = resolve_gpu(m.group(0))
            if info is None:
                continue
            clause = _CLAUSE_END.split(text[: m.start()])[-1]  # the clause that names this GPU, up to it
            targeted = bool(_TARGET_WORDS.search(clause))
            source = "comment" if isinstance(node, cst.Comment) else "string"
            self.a.gpu_mentions.append((GpuHint(info.id, self.a.span(node), source), targeted))


class _Extractor(cst.CSTVisitor):
    """Pass 2: model loads, quantization specs, generation calls, batch sizes, dtypes, loops."""

    def __init__(self, a: _Analyzer, overrides: dict):
        self.a = a
        self.overrides = overrides
        self.scope_stack: list[_Scope] = [a.module_scope]
        self.loops: list[_Loop] = []
        self.saved_loops: list[list[_Loop]] = []  # loops of the enclosing functions (a def starts afresh)
        self.func_stack: list[str] = []
        self.kinds: dict[str, str] = {}  # variable -> "hf-model" | "pipeline" | "vllm" | "dataloader" | "tokenizer"
        self.loop_generations: dict[int, list[Generation]] = {}
        self.chained: dict[int, tuple[cst.Call, str]] = {}  # id(inner call) -> (outer call, method)

    @property
    def scope(self) -> _Scope:
        return self.scope_stack[-1]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope_stack.append(self.a.scopes.get(node, self.scope))
        self.func_stack.append(node.name.value)
        self.saved_loops.append(self.loops)
        self.loops = []

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope_stack.pop()
        self.func_stack.pop()
        self.loops = self.saved_loops.pop()

    def visit_Lambda(self, node: cst.Lambda) -> Optional[bool]:
        return False

    # -- loops ---------------------------------------------------------------------------------------
    def _loop_batched(self, targets: set[str], iter_node: cst.BaseExpression) -> bool:
        if any(w in t.lower() for t in targets for w in _BATCH_WORDS):
            return True
        node = iter_node
        while isinstance(node, cst.Call) and (self.a.dotted(node.func) or "").rsplit(".", 1)[-1] in ("enumerate", "zip", "tqdm", "list", "iter", "sorted", "reversed") and node.args:
            node = node.args[0].value
        if isinstance(node, cst.Call):
            last = (self.a.dotted(node.func) or "").rsplit(".", 1)[-1]
            if last in _BATCHING_CALLS:
                return True
            if last == "range" and len(node.args) >= 3:
                return True
        name = self.a.dotted(node) or ""
        if any(w in name.lower() for w in _BATCH_WORDS):
            return True
        if isinstance(node, cst.Name):  # shards = [prompts[i:i + 64] for i in ...]: each item is a slice
            values = self.a.module_scope.assigns.get(node.value, []) + self.scope.assigns.get(node.value, [])
            if values and all(isinstance(v, (cst.ListComp, cst.GeneratorExp)) and _slice(v.elt) for v in values):
                return True
        if isinstance(node, cst.Name) and self.kinds.get(node.value) == "dataloader":
            return True
        return False

    def visit_For(self, node: cst.For) -> None:
        targets = _target_names(node.target)
        a = self.a

        def header() -> Span:
            start = a.span(node)
            return Span(start.line, start.col, a.span(node.iter).end_line, a.span(node.iter).end_col)

        def desc() -> str:
            return f"for {a.code(node.target).strip()} in {a.code(node.iter).strip()}"

        loop = _Loop(header, targets, set(targets), self._loop_batched(targets, node.iter), self.scope, desc)
        self.loops.append(loop)
        if isinstance(node.iter, cst.Name) and self.kinds.get(node.iter.value) == "dataloader":
            loop.desc += "::dataloader:" + node.iter.value
            loop.marked = True

    def leave_For(self, node: cst.For) -> None:
        loop = self.loops.pop()
        # (the loop's own code can only hold the marker when the file's text does)
        if (loop.marked or "::dataloader:" in getattr(self.a, "text", "::dataloader:")) and "::dataloader:" in loop.desc:
            name = loop.desc.split("::dataloader:", 1)[1]
            gens = self.loop_generations.get(id(loop), [])
            if gens and name in self.a.dataloaders:
                setting = self.a.dataloaders[name]
                if setting not in self.a.facts.batch_settings and setting.value.known and setting.value.value == 1:
                    setting.feeds_generation = True
                    self.a.facts.batch_settings.append(setting)

    def _visit_comp(self, node) -> None:
        targets: set[str] = set()
        batched = False
        for_in = node.for_in
        first = for_in
        while for_in is not None:
            t = _target_names(for_in.target)
            targets |= t
            batched = batched or self._loop_batched(t, for_in.iter)
            for_in = for_in.inner_for_in
        a = self.a
        loop = _Loop(lambda: a.span(first), targets, set(targets), batched, self.scope, lambda: a.code(first).strip())
        self.loops.append(loop)

    def _leave_comp(self, node) -> None:
        self.loops.pop()

    visit_ListComp = _visit_comp
    visit_SetComp = _visit_comp
    visit_GeneratorExp = _visit_comp
    visit_DictComp = _visit_comp
    leave_ListComp = _leave_comp
    leave_SetComp = _leave_comp
    leave_GeneratorExp = _leave_comp
    leave_DictComp = _leave_comp

    def visit_Assign(self, node: cst.Assign) -> None:
        used = names_in(node.value)
        targets: set[str] = set()
        for t in node.targets:
            targets |= _target_names(t.target)
        for loop in self.loops:
            if used & loop.tainted:
                loop.tainted |= targets
                if isinstance(node.value, cst.Call) and used & loop.targets:
                    # tokenizer(prompts_chunk, padding=True): the loop item is itself a batch
                    for arg in node.value.args:
                        if arg.keyword is not None and arg.keyword.value == "padding":
                            pv = self.a.resolve(arg.value, self.scope)
                            if not pv.is_false(or_default=True):
                                loop.batched = True
        # attribute assignments: generation_config.use_cache = False / model.config.use_cache = False
        for t in node.targets:
            target = t.target
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                self._config_attribute(target.value, target.attr.value, node.value)
            if isinstance(target, cst.Attribute) and target.attr.value == "use_cache":
                base = self.a.dotted(target.value) or ""
                if base.endswith("generation_config"):
                    v = self.a.resolve(node.value, self.scope)
                    gen = Generation(self.a.span(node), "transformers", f"{base}.use_cache", use_cache=Value(v.value, v.certainty, self.a.span(node), v.source))
                    self.a.facts.generations.append(gen)

    def _config_attribute(self, obj: cst.Name, attr: str, value: cst.BaseExpression) -> None:
        """``bnb.llm_int8_threshold = 0.0`` after ``bnb = BitsAndBytesConfig(...)`` updates the options; a
        value that differs from the one passed at construction may hold either way (unknown). Either way the
        object changes after it is built, so no fix edits its construction."""
        a = self.a
        spec = a.resolve(obj, self.scope).value
        if not isinstance(spec, QuantSpec):
            return
        a.changed_specs.add(id(spec))
        if attr not in BNB_OPTIONS:
            return
        new = a.resolve(value, self.scope)
        new = Value(new.value, new.certainty, a.span(value), new.source)
        old = spec.options.get(attr)
        if old is None:
            spec.options[attr] = new
        elif not (old.known and new.known and _same(old.value, new.value)):
            spec.options[attr] = unknown(old.span, old.source)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        used = names_in(node.value)
        targets = _target_names(node.target)
        for loop in self.loops:
            if used & loop.tainted:
                loop.tainted |= targets

    # -- calls ---------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        a = self.a
        q = a.qualify(node.func) or ""
        parts = q.split(".")
        last = parts[-1]
        owner = parts[-2] if len(parts) >= 2 else ""
        target = a.assigned_to.get(id(node))
        if target and self._foreign_object(node):
            self.kinds[target] = "foreign"  # jinja2.Environment(...), env.from_string(...): nothing of it generates
        if last == "BitsAndBytesConfig" or (last == "from_dict" and owner == "BitsAndBytesConfig"):
            a.quant_spec_for_call(node, self.scope)
            return
        if last == "from_pretrained" and MODEL_CLASS.match(owner) and not NOT_MODEL.search(owner) and not _foreign(q):
            self._model_load(node, q, owner, target)
            return
        if last == "from_pretrained" and "Tokenizer" in owner and target:
            self.kinds[target] = "tokenizer"
        if q in ("transformers.pipeline", "pipeline") or (last == "pipeline" and q.startswith("transformers")):
            self._pipeline(node, q, target)
            return
        if q in ("vllm.LLM", "vllm.entrypoints.llm.LLM") or (last == "LLM" and q.startswith("vllm")):
            self._vllm(node, q, target)
            return
        if last == "GenerationConfig" and (q.startswith("transformers") or q == "GenerationConfig"):
            kw, _ = a.kwargs_of(node, self.scope)
            self._generation(node, "transformers", q, kw, in_loop=False)
            return
        if last == "DataLoader":
            kw, _ = a.kwargs_of(node, self.scope)
            bs = kw.get("batch_size")
            if len(node.args) >= 2 and node.args[1].keyword is None:
                bs = _Item(a.resolve(node.args[1].value, self.scope), node.args[1], node)
            if target:
                self.kinds[target] = "dataloader"
                if bs is not None:
                    setting = BatchSetting(a.span(bs.element), bs.value, "dataloader", feeds_generation=False)
                    a.dataloaders[target] = setting
            return
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            # AutoModel...from_pretrained(...).to("cuda") / .half() / .eval(): applies to the inner load
            method = node.func.attr.value
            if method in ("to", "cuda", "half", "bfloat16", "eval", "float"):
                self.chained[id(node.func.value)] = (node, method)
                if target:
                    a.assigned_to[id(node.func.value)] = target
        if isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            receiver = a.dotted(node.func.value)
            if method == "generate" and not _foreign(q) and not self._foreign_object(node.func.value) and not _template(receiver):
                engine = "vllm" if receiver and self.kinds.get(receiver) == "vllm" else "transformers"
                kw, _ = a.kwargs_of(node, self.scope)
                self._generation(node, engine, f"{receiver or '<expr>'}.generate", kw, in_loop=True)
                return
            if method in ("chat",) and receiver and self.kinds.get(receiver) == "vllm":
                kw, _ = a.kwargs_of(node, self.scope)
                self._generation(node, "vllm", f"{receiver}.chat", kw, in_loop=True)
                return
            root = _chain_root(node.func.value)
            if root is not None and self.kinds.get(a.dotted(root) or "") in ("hf-model", "pipeline"):
                self._placement(node, a.dotted(root), method)  # model.to(...) / model.eval().half()
            if method in ("to", "bfloat16", "half", "float") or (method == "autocast") or q.startswith("torch.autocast") or q == "torch.set_default_dtype":
                self._dtype_call(node, q, method)
            self._maybe_local_call(node, method)
            return
        if isinstance(node.func, cst.Name):
            name = node.func.value
            if self.kinds.get(name) == "pipeline":
                kw, _ = a.kwargs_of(node, self.scope)
                self._generation(node, "pipeline", f"{name}(...)", kw, in_loop=True)
                bs = kw.get("batch_size")
                if bs is not None and bs.value.known and bs.value.value == 1 and not a.facts.training:
                    a.facts.batch_settings.append(BatchSetting(a.span(bs.element), bs.value, "pipeline call"))
                return
            if q.startswith("torch.autocast") or q == "torch.set_default_dtype" or name == "autocast":
                self._dtype_call(node, q, name)
            self._maybe_local_call(node, name)

    def _foreign_object(self, node: cst.BaseExpression) -> bool:
        """Was ``node`` built by a library whose ``generate`` is not a model's (a call into it, a method call on
        what it built, or a variable holding either)?"""
        if isinstance(node, cst.Call):
            func = node.func
            return _foreign(self.a.qualify(func) or "") or (isinstance(func, cst.Attribute) and self._foreign_object(func.value))
        name = self.a.dotted(node)
        return bool(name) and (self.kinds.get(name) == "foreign" or _foreign(self.a.qualify(node) or ""))

    def _maybe_local_call(self, node: cst.Call, name: str) -> None:
        if not self.loops or name not in self.a.functions:
            return
        loop = self._per_item_loop(node)
        if loop is not None:
            self.a.pending.append(_Pending(name, self.a.span(node), loop))

    def _per_item_loop(self, node: cst.Call, inputs_only: bool = False) -> Optional[_Loop]:
        """The innermost loop whose item reaches the call's arguments (with ``inputs_only``, only the arguments
        that carry prompts: the first positional one, ``*``/``**`` unpacking and input keywords, so a loop
        over temperatures or seeds around one batch is not a per-prompt loop)."""
        used = set()
        for i, arg in enumerate(node.args):
            if inputs_only and not (arg.star or (arg.keyword is None and i == 0) or (arg.keyword is not None and arg.keyword.value in _INPUT_KEYWORDS)):
                continue
            used |= names_in(arg.value)
        for loop in reversed(self.loops):
            if loop.scope is not self.scope:
                continue
            if used & loop.tainted:
                return None if loop.batched else loop
        return None

    def _model_load(self, node: cst.Call, q: str, owner: str, target: Optional[str]) -> None:
        a = self.a
        kw, opaque = a.kwargs_of(node, self.scope)
        model_node = node.args[0].value if node.args and node.args[0].keyword is None else (kw["pretrained_model_name_or_path"].element.value if "pretrained_model_name_or_path" in kw else None)
        load = ModelLoad(span=a.span(node), api=q if "." in q else f"transformers.{owner}.from_pretrained", engine="transformers")
        load.model = a.model_ref(model_node, self.scope, self.overrides)
        load.causal_lm = bool(_CAUSAL.search(owner))
        load.quant = self._quant_from_kwargs(node, kw, opaque)
        self._dtype_and_device(load, node, kw, opaque)
        a.facts.model_loads.append(load)
        inner = node
        while id(inner) in self.chained:  # from_pretrained(...).eval().half(): every method of the chain
            outer, method = self.chained[id(inner)]
            self._place(load, outer, method)
            target = a.assigned_to.get(id(inner), target)
            inner = outer
        if target:
            self.kinds[target] = "hf-model"
            a.model_targets[target] = load

    def _quant_from_kwargs(self, node: cst.Call, kw: dict, opaque: bool = False) -> Optional[QuantSpec]:
        a = self.a
        qc = kw.get("quantization_config")
        if qc is not None:
            v = qc.value
            if v.known and isinstance(v.value, QuantSpec):
                return v.value
            if v.known and isinstance(v.value, dict):
                return self._dict_spec(node, v.value)
            return None
        direct = {k: it for k, it in kw.items() if k in ("load_in_8bit", "load_in_4bit", "llm_int8_threshold") or k.startswith("bnb_4bit_")}
        if direct:
            key = id(node)
            if key not in a.quant_by_node:
                spec = a.make_spec(node, "from_pretrained", direct)
                spec.opaque = opaque
                a.quant_by_node[key] = spec
                a.facts.quant_specs.append(spec)
            return a.quant_by_node[key]
        mk = kw.get("model_kwargs")
        if mk is not None and mk.value.known and isinstance(mk.value.value, dict):
            inner = mk.value.value
            if "quantization_config" in inner:
                v = inner["quantization_config"].value
                if v.known and isinstance(v.value, QuantSpec):
                    return v.value
            sub = {k: it for k, it in inner.items() if k in ("load_in_8bit", "load_in_4bit", "llm_int8_threshold") or k.startswith("bnb_4bit_")}
            if sub:
                return self._dict_spec(node, sub)
        return None

    def _dict_spec(self, node: cst.CSTNode, items: dict) -> QuantSpec:
        first = next(iter(items.values()))
        container = first.container
        key = id(container)
        if key not in self.a.quant_by_node:
            spec = self.a.make_spec(container if isinstance(container, cst.Call) else node, "dict", items)
            spec.span = self.a.span(container)
            spec.opaque = "**" in items
            self.a.quant_by_node[key] = spec
            self.a.facts.quant_specs.append(spec)
        return self.a.quant_by_node[key]

    def _dtype_and_device(self, load: ModelLoad, node: cst.Call, kw: dict, opaque: bool) -> None:
        a = self.a
        dt = kw.get("torch_dtype") or kw.get("dtype")
        if dt is None and "model_kwargs" in kw:
            mk = kw["model_kwargs"].value
            if mk.known and isinstance(mk.value, dict):
                dt = mk.value.get("torch_dtype") or mk.value.get("dtype")
                opaque = opaque or "**" in mk.value
            else:
                opaque = True
        if dt is not None:
            load.dtype = dt.value
            if not dt.value.certain:  # point at the argument, not at the default it falls back to
                load.dtype = Value(dt.value.value, dt.value.certainty, a.span(dt.element.value), dt.value.source)
            a.note_dtype(dt.value, load.api.rsplit(".", 1)[-1], dt)
            if dt.value.certain:  # a flag or default the user may change is never rewritten
                load.set_dtype = lambda new, _it=dt: a.guarded(a.replace_dtype_edit(_it.element.value, new), [_it])
        elif opaque:
            # the dtype may arrive through a **kwargs we cannot see: unknown, and no keyword is ever added
            # (a second torch_dtype would be a TypeError at run time)
            load.dtype = unknown(a.span(node))
        else:
            load.add_dtype = lambda literal, _n=node: a.set_option_edit_call(_n, "torch_dtype", literal)
        dm = kw.get("device_map")
        if dm is not None:
            if not (dm.value.known and isinstance(dm.value.value, str) and dm.value.value == "cpu"):
                load.on_gpu = True
        dev = kw.get("device")
        if dev is not None and self._cuda(dev.element.value, dev.value):
            load.on_gpu = True

    def _cuda(self, node: cst.BaseExpression, value: Optional[Value] = None) -> bool:
        v = value or self.a.resolve(node, self.scope)
        if v.known:
            if isinstance(v.value, int) and not isinstance(v.value, bool):
                return v.value >= 0
            if isinstance(v.value, str):
                return "cuda" in v.value.lower() or v.value in ("auto", "balanced", "sequential") or v.value.isdigit()
            return False
        # runtime choice: "cuda" if torch.cuda.is_available() else "cpu" -> the GPU path exists
        text = self.a.code(node)
        if "cuda" in text:
            return True
        if isinstance(node, cst.Name):
            owner = self.a.scope_of_name(self.scope, node.value)
            if owner is not None:
                for val in owner.assigns.get(node.value, []):
                    if val is not None and "cuda" in self.a.code(val):
                        return True
        return False

    def _placement(self, node: cst.Call, receiver: str, method: str) -> None:
        load = self.a.model_targets.get(receiver)
        if load is not None:
            self._place(load, node, method)

    def _place(self, load: ModelLoad, node: cst.Call, method: str) -> None:
        if method == "cuda":
            load.on_gpu = True
        elif method == "to" and node.args:
            arg = node.args[0].value
            v = self.a.resolve(arg, self.scope)
            if self._cuda(arg, v):
                load.on_gpu = True
            dtype = _dtype_of(v.value) if v.known else None
            if dtype in ("fp16", "bf16"):
                load.converted = True
            for extra in node.args[1:]:
                ev = self.a.resolve(extra.value, self.scope)
                if ev.known and _dtype_of(ev.value) in ("fp16", "bf16"):
                    load.converted = True
        elif method in ("half", "bfloat16"):
            load.converted = True

    def _dtype_call(self, node: cst.Call, q: str, method: str) -> None:
        a = self.a
        if method == "bfloat16" and not node.args:
            use = DtypeUse(a.span(node), "bf16", ".bfloat16()")
            a.facts.dtype_uses.append(use)
            return
        if method == "to" or q == "torch.set_default_dtype":
            for arg in node.args:
                v = a.resolve(arg.value, self.scope)
                if v.known and isinstance(v.value, Ref) and _dtype_of(v.value) in ("bf16", "fp16", "fp32"):
                    a.note_dtype(v, ".to()" if method == "to" else "set_default_dtype", node=arg.value)
            return
        if method == "autocast" or q.startswith("torch.autocast") or q.endswith("amp.autocast"):
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "dtype":
                    v = a.resolve(arg.value, self.scope)
                    a.note_dtype(v, "autocast", node=arg.value)

    def _pipeline(self, node: cst.Call, q: str, target: Optional[str]) -> None:
        a = self.a
        kw, opaque = a.kwargs_of(node, self.scope)
        task_node = node.args[0].value if node.args and node.args[0].keyword is None else (kw["task"].element.value if "task" in kw else None)
        task = a.resolve(task_node, self.scope).value if task_node is not None else None
        model_node = kw["model"].element.value if "model" in kw else (node.args[1].value if len(node.args) > 1 and node.args[1].keyword is None else None)
        generative = task in _GENERATIVE_TASKS or not isinstance(task, str)
        if target and generative:
            self.kinds[target] = "pipeline"
        load = ModelLoad(span=a.span(node), api="transformers.pipeline", engine="transformers")
        load.model = a.model_ref(model_node, self.scope, self.overrides)
        load.causal_lm = isinstance(task, str) and task in ("text-generation", "text2text-generation")
        load.quant = self._quant_from_kwargs(node, kw, opaque)
        self._dtype_and_device(load, node, kw, opaque)
        if model_node is not None and isinstance(model_node, cst.Name) and a.model_targets.get(model_node.value):
            # pipeline(model=<already loaded model>): the load is reported where it happened
            load = None  # type: ignore[assignment]
        if load is not None:
            a.facts.model_loads.append(load)
            if target:
                a.model_targets[target] = load
        bs = kw.get("batch_size")
        if bs is not None and generative and bs.value.known and bs.value.value == 1 and not a.facts.training:
            a.facts.batch_settings.append(BatchSetting(a.span(bs.element), bs.value, "pipeline"))

    def _vllm(self, node: cst.Call, q: str, target: Optional[str]) -> None:
        a = self.a
        kw, _ = a.kwargs_of(node, self.scope)
        if target:
            self.kinds[target] = "vllm"
        model_node = kw["model"].element.value if "model" in kw else (node.args[0].value if node.args and node.args[0].keyword is None else None)
        load = ModelLoad(span=a.span(node), api="vllm.LLM", engine="vllm", causal_lm=True, on_gpu=True)
        load.model = a.model_ref(model_node, self.scope, self.overrides)
        quant = kw.get("quantization")
        if quant is not None and quant.value.known and isinstance(quant.value.value, str) and quant.value.value.lower() in ("bitsandbytes", "bnb"):
            spec = QuantSpec(span=a.span(quant.element), origin="vllm", engine="vllm",
                             options={"load_in_4bit": Value(True, quant.value.certainty, a.span(quant.element), quant.value.source)})
            a.facts.quant_specs.append(spec)
            load.quant = spec
        dt = kw.get("dtype")
        if dt is not None:
            load.dtype = dt.value
            a.note_dtype(dt.value, "vllm dtype", dt)
            if dt.value.certain:
                load.set_dtype = lambda new, _it=dt: a.guarded(a.replace_dtype_edit(_it.element.value, new), [_it])
        mns = kw.get("max_num_seqs")
        if mns is not None and mns.value.known and mns.value.value == 1:
            a.facts.batch_settings.append(BatchSetting(a.span(mns.element), mns.value, "vllm max_num_seqs"))
        a.facts.model_loads.append(load)
        a.facts.servings.append(Serving(a.span(node), "vllm", load.model))

    def _generation(self, node: cst.Call, engine: str, api: str, kw: dict, in_loop: bool) -> None:
        a = self.a
        gen = Generation(span=a.span(node), engine=engine, api=api)
        uc = kw.get("use_cache")
        if uc is not None:
            gen.use_cache = Value(uc.value.value, uc.value.certainty, a.span(uc.element), uc.value.source)
            gen.remove_use_cache = lambda _it=uc: a.guarded(a.remove_items_edit({"use_cache": _it}, ["use_cache"]), [_it])
        mnt = kw.get("max_new_tokens")
        if mnt is not None:
            gen.max_new_tokens = mnt.value
        if in_loop and self.loops:
            loop = self._per_item_loop(node, inputs_only=True)
            if loop is not None:
                gen.per_item_loop = loop.header
                gen.loop_detail = loop.desc.split("::", 1)[0]
        for loop in self.loops:
            self.loop_generations.setdefault(id(loop), []).append(gen)
        if in_loop and self.func_stack:
            a.generating_functions.setdefault(self.func_stack[-1], gen)
        a.facts.generations.append(gen)


_BATCH_WORDS = ("batch", "chunk", "shard", "bucket", "partition")
_INPUT_KEYWORDS = {"input_ids", "inputs", "attention_mask", "inputs_embeds", "pixel_values", "input_features", "prompts",
                   "prompt", "prompt_token_ids", "messages", "text_inputs", "text", "images", "conversations"}


def _slice(node: Optional[cst.BaseExpression]) -> bool:
    """``prompts[i:i + 64]``: a subscript with a slice."""
    return isinstance(node, cst.Subscript) and any(isinstance(el.slice, cst.Slice) for el in node.slice)


_PASS_THROUGH = {"to", "cuda", "half", "bfloat16", "float", "eval", "train", "requires_grad_"}


def _chain_root(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``model`` for ``model`` and ``model.eval().to("cuda")`` (methods that return the model itself)."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _PASS_THROUGH:
        node = node.func.value
    return node if isinstance(node, (cst.Name, cst.Attribute)) else None


_CLAUSE_END = re.compile(r"[.;!?]\s|\n")
_TARGET_WORDS = re.compile(
    r"\b(?:targets?|targeting|targeted|runs? on|running on|deploy(?:ed|s|ing)?(?: on| to)?|tested on|served on|"
    r"designed for|built for|meant for|intended for|made for|requires?)\b",
    re.IGNORECASE,
)


def _deployment_gpu(mentions: list[tuple[GpuHint, bool]]) -> list[GpuHint]:
    """The GPU the file's comments and strings say it runs on: the one a sentence states as the target
    ("runs on", "targets"), else the only one named. Two different candidates are a guess: none."""
    targeted = [h for h, t in mentions if t]
    pool = targeted or [h for h, _ in mentions]
    if len({h.gpu for h in pool}) != 1:
        return []
    return [pool[0]]


def _foreign(q: str) -> bool:
    """Qualified names from libraries whose ``from_pretrained``/``generate`` are not LLM inference."""
    root = q.split(".", 1)[0]
    return root in {"peft", "sentence_transformers", "diffusers", "openai", "anthropic", "random", "numpy", "np", "uuid", "secrets", "jinja2"}


def _template(receiver: Optional[str]) -> bool:
    """``compiled_template.generate(...)``: Jinja2 rendering a template piece by piece (the template passed in
    as a parameter, so its origin is unknown here), not a model."""
    return bool(receiver) and "template" in receiver.rsplit(".", 1)[-1].lower()


def _set_option_edit_call(self: "_Analyzer", call: cst.Call, name: str, literal: str) -> Optional[FixCandidate]:
    args = call.args
    if len(args) == 1 and isinstance(args[0].value, cst.GeneratorExp) and not args[0].value.lpar:
        return None  # `f(x for x in y)` takes no second argument
    return self.offer(append(self.source, self.measure(call), f"{name}={literal}"))


_Analyzer.set_option_edit_call = _set_option_edit_call  # type: ignore[attr-defined]


def parse(text: str) -> cst.Module:
    return cst.parse_module(text)


def extract(path: str, text: str, overrides: Optional[dict] = None) -> FileFacts:
    """Parse ``text`` and return its facts. Raises ``libcst.ParserSyntaxError`` on invalid Python."""
    module = cst.parse_module(text)
    analyzer = _Analyzer(module, Positions(module, text), path)
    analyzer.text = text
    analyzer.collect()
    extractor = _Extractor(analyzer, overrides or {})
    walk(module, extractor)
    for pending in analyzer.pending:
        inner = analyzer.generating_functions.get(pending.func)
        if inner is None:
            continue
        gen = Generation(
            span=pending.span,
            engine=inner.engine,
            api=f"{pending.func}() -> {inner.api}",
            per_item_loop=pending.loop.header,
            loop_detail=pending.loop.desc.split("::", 1)[0],
        )
        analyzer.facts.generations.append(gen)
    return analyzer.facts
