"""Recognition of the APIs that load, quantize, place and run models: Hugging Face transformers
(``from_pretrained``, ``BitsAndBytesConfig``, ``generate``, ``GenerationConfig``), ``pipeline``, vLLM (``LLM``,
``SamplingParams``), training code (``Trainer``, ``SFTTrainer``, optimizer steps ...), device placement and dtype
calls, and the GPU a file's comments and strings name.

:class:`Analyzer` is the :class:`~ecolint.sources.python.resolve.Resolver` of one module that also knows these
APIs: each method turns one recognised call into facts on ``self.facts``. The passes that walk the tree and
decide which call is which are in :mod:`ecolint.sources.python.passes`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import libcst as cst

from ecolint.dtypes import dtype_name, torch_dtype_name
from ecolint.facts import (
    UNKNOWN,
    BatchSetting,
    Certainty,
    DtypeUse,
    Engine,
    FileFacts,
    FixCandidate,
    Generation,
    GpuHint,
    ModelLoad,
    ModelRef,
    Origin,
    QuantSpec,
    Ref,
    Serving,
    Span,
    Value,
    unknown,
)
from ecolint.sources.python.edits import Edits
from ecolint.sources.python.resolve import Item, Resolver, Scope, same
from ecolint.sources.python.vocab import (
    BNB_OPTIONS,
    CAUSAL,
    CLAUSE_END,
    FOREIGN_ROOTS,
    GENERATIVE_TASKS,
    GPU_WORDS,
    INPUT_NAMES,
    MODEL_NAMES,
    PASS_THROUGH,
    PREQUANTIZED,
    SEQ2SEQ,
    SEQ2SEQ_TASKS,
    TARGET_WORDS,
    TRAIN_CALLS,
    TRAINER_CLASSES,
    has_gpu_stem,
)


class Analyzer(Resolver):
    """One module's resolver, its facts and the APIs it recognises."""

    def __init__(self, module: cst.Module, positions, path: str, text: str, overrides: Optional[dict] = None):
        super().__init__(module, positions)
        self.path = path
        self.overrides = overrides or {}
        self.facts = FileFacts(path=path, kind="python")
        self.edits = Edits(text, self)
        self.quant_by_node: dict[int, QuantSpec] = {}
        self.model_targets: dict[str, ModelLoad] = {}  # variable -> the model load assigned to it
        self.dataloaders: dict[str, BatchSetting] = {}  # variable -> its DataLoader batch size
        self.generating_functions: dict[str, Generation] = {}
        self.gpu_mentions: list[tuple[GpuHint, bool]] = []  # (hint, stated as the target: "runs on", "targets")
        self.kinds: dict[str, str] = {}  # variable -> "hf-model" | "pipeline" | "vllm" | "dataloader" | "tokenizer" | "foreign"
        self.chained: dict[int, tuple[cst.Call, str]] = {}  # id(inner call) -> (outer call, method)
        self.test_definitions = 0  # test_* functions and TestCase classes
        self.loads_by_target: list[tuple[ModelLoad, str, Scope]] = []  # (load, variable, scope) for its purpose
        self.callbacks: dict[str, str] = {}  # local function -> the Gradio app or event that calls it per request
        self.classes: set[str] = set()  # classes the module defines
        self.seq2seq: dict[str, str] = {}  # variable -> why its model is an encoder-decoder translation/summarisation model
        self.seq2seq_loads: set[int] = set()  # id() of those loads

    def release(self) -> None:
        """Forget the module: its tree, positions and tables (the facts' fix builders refer to this object, and it
        to them; emptied, nothing holds the tree in a cycle). Fixes cannot be built afterwards."""
        self.__dict__.clear()

    def _imports(self, root: str) -> bool:
        return any(v == root or v.startswith(root + ".") for v in self.aliases.values())

    @property
    def gradio(self) -> bool:
        return self._imports("gradio")

    @property
    def streamlit(self) -> bool:
        """A Streamlit script: it runs again from the top on every interaction."""
        return self._imports("streamlit")

    # -- quantization configs -------------------------------------------------------------------------------
    def call_value(self, node: cst.Call, q: str, scope: Scope) -> Optional[Any]:
        if q.rsplit(".", 1)[-1] == "BitsAndBytesConfig" or q.endswith("BitsAndBytesConfig.from_dict"):
            return self.quant_spec_for_call(node, scope)
        return None

    def quant_spec_for_call(self, call: cst.Call, scope: Scope) -> QuantSpec:
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
            origin: Origin = "from_dict"
        else:
            items, opaque = self.kwargs_of(call, scope)
            origin = "BitsAndBytesConfig"
        spec = self.make_spec(call, origin, items)
        spec.opaque = opaque
        self.quant_by_node[key] = spec
        self.facts.quant_specs.append(spec)
        return spec

    def make_spec(self, call: cst.Call, origin: Origin, items: dict) -> QuantSpec:
        options = {k: it.value for k, it in items.items() if k in BNB_OPTIONS}
        for name, it in items.items():
            if name in BNB_OPTIONS:
                it.value.span = self.span(it.element)
        spec = QuantSpec(span=self.span(call), origin=origin, options=options)

        def set_option(name: str, literal: str, _c=call, _items=items, _spec=spec) -> Optional[FixCandidate]:
            touched = [_items[name]] if name in _items else [it for k, it in _items.items() if k in BNB_OPTIONS][:1]
            return self.edits.guarded(self.edits.set_option_edit(_c, _items, name, literal), touched, _spec)

        def remove_options(names: Sequence[str], _items=items, _spec=spec) -> Optional[FixCandidate]:
            return self.edits.guarded(self.edits.remove_items_edit(_items, names), [_items[n] for n in names if n in _items], _spec)

        spec.set_option = set_option
        spec.remove_options = remove_options
        item = items.get("bnb_4bit_compute_dtype")
        if item is not None:
            self.note_dtype(item.value, "bnb_4bit_compute_dtype", item)
        return spec

    def note_dtype(self, value: Value, where: str, item: Optional[Item] = None, node: Optional[cst.CSTNode] = None) -> Optional[str]:
        dtype = dtype_of(value.value) if value.known else None
        if dtype is None:
            return None
        target = item.expression if item is not None else node
        span = self.span(target) if target is not None else value.span
        use = DtypeUse(span=span, dtype=dtype, where=where)
        if target is not None and value.certain:  # a flag or default the user may change is never rewritten
            touched = [item] if item is not None else []
            use.replace_with = lambda new, _n=target, _t=touched: self.edits.guarded(self.edits.replace_dtype_edit(_n, new), _t)
        self.facts.dtype_uses.append(use)
        return dtype

    def model_ref(self, node: Optional[cst.BaseExpression], scope: Scope) -> Optional[ModelRef]:
        from ecolint.knowledge.models import lookup_model

        if node is None:
            return None
        v = self.resolve(node, scope)
        if not v.known or not isinstance(v.value, str) or isinstance(v.value, Ref):
            return ModelRef(None, UNKNOWN, self.span(node))
        info = lookup_model(v.value, self.overrides)
        return ModelRef(v.value, v.certainty, self.span(node), info.params_b if info else None, info.how if info else "")

    # -- calls ------------------------------------------------------------------------------------------
    def model_load(self, node: cst.Call, q: str, owner: str, target: Optional[str], scope: Scope) -> ModelLoad:
        kw, opaque = self.kwargs_of(node, scope)
        named = kw["pretrained_model_name_or_path"].expression if "pretrained_model_name_or_path" in kw else None
        model_node = node.args[0].value if node.args and node.args[0].keyword is None else named
        load = ModelLoad(span=self.span(node), api=q if "." in q else f"transformers.{owner}.from_pretrained", engine="transformers")
        load.model = self.model_ref(model_node, scope)
        load.causal_lm = bool(CAUSAL.search(owner))
        load.quant = self.quant_from_kwargs(node, kw, opaque)
        self.dtype_and_device(load, node, kw, opaque, scope)
        remote = kw.get("trust_remote_code")
        if remote is not None and remote.value.is_true(or_default=True):
            # Qwen-7B's modeling code, for one, picks bf16/fp16 itself when no dtype is given
            load.own_dtype = "trust_remote_code=True: the model's own code may choose its dtype"
        self.facts.model_loads.append(load)
        inner = node
        while id(inner) in self.chained:  # from_pretrained(...).eval().half(): every method of the chain
            outer, method = self.chained[id(inner)]
            self.place(load, outer, method, scope)
            target = self.assigned_to.get(id(inner), target)
            inner = outer
        if SEQ2SEQ.search(owner):
            self.seq2seq_loads.add(id(load))
        if target:
            self.kinds[target] = "hf-model"
            self.model_targets[target] = load
            self.loads_by_target.append((load, target, scope))
            if SEQ2SEQ.search(owner):
                self.seq2seq[target] = owner
        if load.model is not None and load.model.id and PREQUANTIZED.search(load.model.id):
            load.prequantized = True
        return load

    def quant_from_kwargs(self, node: cst.Call, kw: dict, opaque: bool = False) -> Optional[QuantSpec]:
        qc = kw.get("quantization_config")
        if qc is not None:
            v = qc.value
            if v.known and isinstance(v.value, QuantSpec):
                return v.value
            if v.known and isinstance(v.value, dict):
                return self.dict_spec(node, v.value)
            return None
        direct = {k: it for k, it in kw.items() if k in ("load_in_8bit", "load_in_4bit", "llm_int8_threshold") or k.startswith("bnb_4bit_")}
        if direct:
            key = id(node)
            if key not in self.quant_by_node:
                spec = self.make_spec(node, "from_pretrained", direct)
                spec.opaque = opaque
                self.quant_by_node[key] = spec
                self.facts.quant_specs.append(spec)
            return self.quant_by_node[key]
        mk = kw.get("model_kwargs")
        if mk is not None and mk.value.known and isinstance(mk.value.value, dict):
            inner = mk.value.value
            if "quantization_config" in inner:
                v = inner["quantization_config"].value
                if v.known and isinstance(v.value, QuantSpec):
                    return v.value
            sub = {k: it for k, it in inner.items() if k in ("load_in_8bit", "load_in_4bit", "llm_int8_threshold") or k.startswith("bnb_4bit_")}
            if sub:
                return self.dict_spec(node, sub)
        return None

    def dict_spec(self, node: cst.CSTNode, items: dict) -> QuantSpec:
        first = next(iter(items.values()))
        container = first.container
        key = id(container)
        if key not in self.quant_by_node:
            spec = self.make_spec(container if isinstance(container, cst.Call) else node, "dict", items)
            spec.span = self.span(container)
            spec.opaque = "**" in items
            self.quant_by_node[key] = spec
            self.facts.quant_specs.append(spec)
        return self.quant_by_node[key]

    def dtype_and_device(self, load: ModelLoad, node: cst.Call, kw: dict, opaque: bool, scope: Scope) -> None:
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
            written = self.span(dt.expression)
            constant = self.constant_of(dt.expression, scope) if dt.value.certain else None
            if not dt.value.certain or constant is not None:
                # point at the argument, not at the default or constant it comes from (that is a related place)
                load.dtype = Value(dt.value.value, dt.value.certainty, written, dt.value.source)
                if constant is not None:
                    load.dtype_origin = self.span(constant)
            self.note_dtype(dt.value, load.api.rsplit(".", 1)[-1], dt)
            if constant is not None:  # TORCH_DTYPE = torch.float32 used by several loads: the fix edits the constant
                load.set_dtype = lambda new, _c=constant: self.edits.replace_dtype_edit(_c, new)
            elif dt.value.certain:  # a flag or default the user may change is never rewritten
                load.set_dtype = lambda new, _it=dt: self.edits.guarded(self.edits.replace_dtype_edit(_it.expression, new), [_it])
        elif opaque:
            # the dtype may arrive through a **kwargs we cannot see: unknown, and no keyword is ever added
            # (a second torch_dtype would be a TypeError at run time)
            load.dtype = unknown(self.span(node))
        else:
            load.add_dtype = lambda literal, _n=node: self.edits.set_option_edit_call(_n, "torch_dtype", literal)
        dm = kw.get("device_map")
        if dm is not None:
            if _cpu_map(dm.value):
                load.cpu = f"device_map={self.code(dm.expression).strip()}"
            elif not (dm.value.known and dm.value.value is None):
                load.on_gpu = True
        dev = kw.get("device")
        if dev is not None and self.cuda(dev.expression, scope, dev.value):
            load.on_gpu = True

    def constant_of(self, node: cst.BaseExpression, scope: Scope) -> Optional[cst.BaseExpression]:
        """The one expression a name is bound to (``TORCH_DTYPE = torch.float32``) when ``node`` is that name."""
        if not isinstance(node, cst.Name):
            return None
        owner = self.scope_of_name(scope, node.value)
        values = owner.assigns.get(node.value, []) if owner is not None else []
        if len(values) != 1 or values[0] is None or node.value in (owner.params if owner else {}):
            return None
        return values[0] if isinstance(values[0], (cst.Attribute, cst.SimpleString)) else None

    def cuda(self, node: cst.BaseExpression, scope: Scope, value: Optional[Value] = None) -> bool:
        v = value or self.resolve(node, scope)
        if v.known:
            if isinstance(v.value, int) and not isinstance(v.value, bool):
                return v.value >= 0
            if isinstance(v.value, str):
                return "cuda" in v.value.lower() or v.value in ("auto", "balanced", "sequential") or v.value.isdigit()
            return False
        # runtime choice: "cuda" if torch.cuda.is_available() else "cpu" -> the GPU path exists
        text = self.code(node)
        if "cuda" in text:
            return True
        if isinstance(node, cst.Name):
            owner = self.scope_of_name(scope, node.value)
            if owner is not None:
                for val in owner.assigns.get(node.value, []):
                    if val is not None and "cuda" in self.code(val):
                        return True
        return False

    def placement(self, node: cst.Call, receiver: str, method: str, scope: Scope) -> None:
        load = self.model_targets.get(receiver)
        if load is not None:
            self.place(load, node, method, scope)

    def place(self, load: ModelLoad, node: cst.Call, method: str, scope: Scope) -> None:
        if method == "cuda":
            load.on_gpu = True
        elif method == "to" and node.args:
            arg = node.args[0].value
            v = self.resolve(arg, scope)
            if self.cuda(arg, scope, v):
                load.on_gpu = True
            elif v.known and isinstance(v.value, str) and v.value.lower() == "cpu":
                load.cpu, load.on_gpu = '.to("cpu")', False
            dtype = dtype_of(v.value) if v.known else None
            if dtype in ("fp16", "bf16"):
                load.converted = True
            for extra in node.args[1:]:
                ev = self.resolve(extra.value, scope)
                if ev.known and dtype_of(ev.value) in ("fp16", "bf16"):
                    load.converted = True
        elif method in ("half", "bfloat16"):
            load.converted = True

    def dtype_call(self, node: cst.Call, q: str, method: str, scope: Scope) -> None:
        if isinstance(node.func, cst.Attribute) and input_tensor(node.func.value, self.dotted(node.func.value)):
            return  # ``batch["pixel_values"].to(torch.bfloat16)``: the inputs' dtype, not the model's compute dtype
        if method == "bfloat16" and not node.args:
            use = DtypeUse(self.span(node), "bf16", ".bfloat16()")
            self.facts.dtype_uses.append(use)
            return
        if method == "to" or q == "torch.set_default_dtype":
            for arg in node.args:
                v = self.resolve(arg.value, scope)
                if v.known and isinstance(v.value, Ref) and dtype_of(v.value) in ("bf16", "fp16", "fp32"):
                    self.note_dtype(v, ".to()" if method == "to" else "set_default_dtype", node=arg.value)
            return
        if method == "autocast" or q.startswith("torch.autocast") or q.endswith("amp.autocast"):
            enabled = next((a for a in node.args if a.keyword is not None and a.keyword.value == "enabled"), None)
            if enabled is not None and self.resolve(enabled.value, scope).is_false():
                return  # torch.autocast(..., enabled=False): no precision is chosen
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "dtype":
                    v = self.resolve(arg.value, scope)
                    self.note_dtype(v, "autocast", node=arg.value)

    def pipeline(self, node: cst.Call, q: str, target: Optional[str], scope: Scope) -> None:
        kw, opaque = self.kwargs_of(node, scope)
        task_node = node.args[0].value if node.args and node.args[0].keyword is None else (kw["task"].expression if "task" in kw else None)
        task = self.resolve(task_node, scope).value if task_node is not None else None
        model_node = kw["model"].expression if "model" in kw else (node.args[1].value if len(node.args) > 1 and node.args[1].keyword is None else None)
        generative = not isinstance(task, str) or task in GENERATIVE_TASKS  # a task resolved to a non-string (a dict, a list) is unknown
        if target and generative:
            self.kinds[target] = "pipeline"
        load = ModelLoad(span=self.span(node), api="transformers.pipeline", engine="transformers")
        load.model = self.model_ref(model_node, scope)
        load.causal_lm = isinstance(task, str) and task in ("text-generation", "text2text-generation")
        load.quant = self.quant_from_kwargs(node, kw, opaque)
        self.dtype_and_device(load, node, kw, opaque, scope)
        if model_node is not None and isinstance(model_node, cst.Name) and self.model_targets.get(model_node.value):
            # pipeline(model=<already loaded model>): the load is reported where it happened
            load = None  # type: ignore[assignment]
        seq2seq = isinstance(task, str) and (task in SEQ2SEQ_TASKS or task.startswith("translation_"))
        if seq2seq and target:
            self.seq2seq[target] = f"a {task} pipeline"
        if load is not None:
            if seq2seq:
                self.seq2seq_loads.add(id(load))
            self.facts.model_loads.append(load)
            if target:
                self.model_targets[target] = load
        bs = kw.get("batch_size")
        if bs is not None and generative and bs.value.known and bs.value.value == 1 and not self.facts.training:
            self.facts.batch_settings.append(BatchSetting(self.span(bs.element), bs.value, "pipeline"))

    def vllm(self, node: cst.Call, q: str, target: Optional[str], scope: Scope) -> None:
        kw, _ = self.kwargs_of(node, scope)
        if target:
            self.kinds[target] = "vllm"
        model_node = kw["model"].expression if "model" in kw else (node.args[0].value if node.args and node.args[0].keyword is None else None)
        load = ModelLoad(span=self.span(node), api="vllm.LLM", engine="vllm", causal_lm=True, on_gpu=True)
        load.model = self.model_ref(model_node, scope)
        quant = kw.get("quantization")
        if quant is not None and quant.value.known and isinstance(quant.value.value, str) and quant.value.value.lower() in ("bitsandbytes", "bnb"):
            spec = QuantSpec(span=self.span(quant.element), origin="vllm", engine="vllm",
                             options={"load_in_4bit": Value(True, quant.value.certainty, self.span(quant.element), quant.value.source)})
            self.facts.quant_specs.append(spec)
            load.quant = spec
        dt = kw.get("dtype")
        if dt is not None:
            load.dtype = dt.value
            self.note_dtype(dt.value, "vllm dtype", dt)
            if dt.value.certain:
                load.set_dtype = lambda new, _it=dt: self.edits.guarded(self.edits.replace_dtype_edit(_it.expression, new), [_it])
        mns = kw.get("max_num_seqs")
        if mns is not None and mns.value.known and mns.value.value == 1:
            self.facts.batch_settings.append(BatchSetting(self.span(mns.element), mns.value, "vllm max_num_seqs"))
        self.facts.model_loads.append(load)
        self.facts.servings.append(self.vllm_switches(Serving(self.span(node), "vllm", load.model), kw))

    def vllm_switches(self, serving: Serving, kw: dict) -> Serving:
        """``LLM(enforce_eager=..., enable_prefix_caching=...)`` on the serving, each with the span of its argument."""
        for arg, name in (("enforce_eager", "enforce_eager"), ("enable_prefix_caching", "prefix_caching")):
            it = kw.get(arg)
            if it is not None:
                setattr(serving, name, Value(it.value.value, it.value.certainty, self.span(it.element), it.value.source))
        return serving

    def generation(self, node: cst.Call, engine: Engine, api: str, kw: dict) -> Generation:
        """A generation call (or config) with its options; the caller places it among the loops and records it."""
        gen = Generation(span=self.span(node), engine=engine, api=api)
        uc = kw.get("use_cache")
        if uc is not None:
            gen.use_cache = Value(uc.value.value, uc.value.certainty, self.span(uc.element), uc.value.source)
            gen.remove_use_cache = lambda _it=uc: self.edits.guarded(self.edits.remove_items_edit({"use_cache": _it}, ["use_cache"]), [_it])
        mnt = kw.get("max_new_tokens")
        if mnt is not None:
            gen.max_new_tokens = mnt.value
        beams = kw.get("num_beams")
        if beams is not None:
            gen.num_beams = Value(beams.value.value, beams.value.certainty, self.span(beams.element), beams.value.source)
        return gen

    def beam_params(self, node: cst.Call, q: str, scope: Scope) -> Optional[Generation]:
        """vLLM ``BeamSearchParams(beam_width=4)`` and (before vLLM 0.6.3) ``SamplingParams(use_beam_search=True,
        best_of=4)``: a generation setting with its number of beams, or None when it sets none."""
        kw, _ = self.kwargs_of(node, scope)
        if q.endswith("BeamSearchParams"):
            width = kw.get("beam_width")
            if width is None and node.args and node.args[0].keyword is None:
                width = Item(self.resolve(node.args[0].value, scope), node.args[0], node)
        else:
            flag = kw.get("use_beam_search")
            if flag is None or not flag.value.is_true(or_default=True):
                return None
            width = kw.get("best_of") or kw.get("n")
            if width is None:
                return None
        if width is None:
            return None
        v = width.value
        return Generation(self.span(node), "vllm", q, num_beams=Value(v.value, v.certainty, self.span(width.element), v.source))

    def config_attribute(self, obj: cst.Name, attr: str, value: cst.BaseExpression, scope: Scope) -> None:
        """``bnb.llm_int8_threshold = 0.0`` after ``bnb = BitsAndBytesConfig(...)`` updates the options; a
        value that differs from the one passed at construction may hold either way (unknown). Either way the
        object changes after it is built, so no fix edits its construction."""
        if self.holds_nothing_built(obj, scope):
            return
        spec = self.resolve(obj, scope).value
        if not isinstance(spec, QuantSpec):
            return
        self.edits.changed_specs.add(id(spec))
        if attr not in BNB_OPTIONS:
            return
        new = self.resolve(value, scope)
        new = Value(new.value, new.certainty, self.span(value), new.source)
        old = spec.options.get(attr)
        if old is None:
            spec.options[attr] = new
        elif not (old.known and new.known and same(old.value, new.value)):
            spec.options[attr] = unknown(old.span, old.source)

    def foreign_object(self, node: cst.BaseExpression) -> bool:
        """Was ``node`` built by a library whose ``generate`` is not a model's (a call into it, a method call on
        what it built, or a variable holding either)?"""
        if isinstance(node, cst.Call):
            func = node.func
            return foreign(self.qualify(func) or "") or (isinstance(func, cst.Attribute) and self.foreign_object(func.value))
        name = self.dotted(node)
        return bool(name) and (self.kinds.get(name) == "foreign" or foreign(self.qualify(node) or ""))


    # -- deploy settings written in Python: lm-eval model_args, serving environments --------------------------
    def serving_call(self, node: cst.Call, q: str, scope: Scope) -> None:
        """``simple_evaluate(model_args="pretrained=...,load_in_8bit=True")`` and
        ``parser.add_argument("--model_args", default="...")`` (a default: overridable) are lm-eval model
        loads; ``HuggingFaceModel(env={...})`` with SageMaker's TGI variables is a TGI launch."""
        from ecolint.sources import launch

        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else (node.func.value if isinstance(node.func, cst.Name) else "")
        last = q.rsplit(".", 1)[-1] if q else method
        if last in launch.PY_MODEL_ARGS_CALLS or method in launch.PY_MODEL_ARGS_CALLS:
            self._model_args(node, method or last)
        if last in launch.PY_ENV_CALLS:
            kw, _ = self.kwargs_of(node, scope)
            env = kw.get("env")
            if env is not None and env.value.known and isinstance(env.value.value, dict):
                self._serving_env(env.value.value)

    def _model_args(self, node: cst.Call, name: str) -> None:
        from ecolint.sources import launch

        kws = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        certainty: Optional[Certainty] = None
        if name == "add_argument":
            first = node.args[0].value if node.args and node.args[0].keyword is None else None
            if not isinstance(first, cst.SimpleString) or first.evaluated_value not in ("--model_args", "--model-args"):
                return
            string = kws.get("default")
            certainty = "default"
        else:
            string = kws.get("model_args")
            model = kws.get("model")
            if isinstance(model, cst.SimpleString) and str(model.evaluated_value).lower() not in launch.LM_EVAL_HF:
                return
        word = self._string_word(string) if isinstance(string, cst.SimpleString) else None
        if word is None:
            return
        args = launch.model_args(word)
        if launch.model_args_loads(args):
            launch.model_args_load(self.facts, args, self.span(node), f"lm_eval {name}(model_args=...)", self.overrides, certainty)

    def _string_word(self, node: cst.SimpleString):
        """The characters of a string literal mapped to their source offsets (escapes aligned greedily)."""
        from ecolint.sources.words import Source, literal_word

        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - odd literal
            return None
        if not isinstance(value, str):
            return None
        source = getattr(self, "_source", None)
        if source is None:
            source = self._source = Source(self.edits.text)
        sp = self.span(node)
        start = source.offset(sp.line, sp.col)
        raw = node.value
        prefix = len(raw) - len(raw.lstrip("rRbBuUfF"))
        quote = 3 if raw[prefix:prefix + 3] in ('"""', "\'\'\'") else 1
        return literal_word(source, start + prefix + quote, start + len(raw) - quote, value)

    def _serving_env(self, items: dict) -> None:
        from ecolint.sources import launch
        from ecolint.sources.launch import Setting

        env: dict[str, Setting] = {}
        for name, item in items.items():
            key = getattr(item.element, "key", None)
            if not isinstance(name, str) or not isinstance(key, cst.SimpleString):
                continue
            ks, vs = self.span(key), item.value.span or self.span(key)
            span = Span(ks.line, ks.col + 1, vs.end_line, vs.end_col)  # from the name inside its quotes
            v = Value(str(item.value.value) if item.value.known and isinstance(item.value.value, (int, str)) else item.value.value,
                      item.value.certainty, span, name)
            env[name] = Setting(v, span, None, name)
        if launch.is_tgi_env(env) or launch.is_djl(None, env):
            marker = next((env[k].span for k in ("HF_MODEL_ID", "HF_MODEL_QUANTIZE", "SM_NUM_GPUS") if k in env), None)
            launch.env_launch(self.facts, env, None, marker or next(iter(env.values())).span, self.overrides)


def dtype_of(value: Any) -> Optional[str]:
    """``torch.float16`` / ``"float16"`` / ``torch.half`` -> canonical name (see :mod:`ecolint.dtypes`); None
    for what is not a string or a dotted name outside ``torch``."""
    if isinstance(value, Ref):
        return torch_dtype_name(value) if value.startswith("torch.") else None
    if isinstance(value, str):
        return dtype_name(value)
    return None


def _cpu_map(value: Value) -> bool:
    """``device_map="cpu"`` or ``{"": "cpu"}`` (every module on the CPU)."""
    if not value.known:
        return False
    v = value.value
    if isinstance(v, str):
        return v.lower() == "cpu"
    if isinstance(v, dict) and v:
        return all(isinstance(it, Item) and it.value.known and isinstance(it.value.value, str) and it.value.value.lower() == "cpu" for it in v.values())
    return False


def chain_root(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``model`` for ``model`` and ``model.eval().to("cuda")`` (methods that return the model itself)."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in PASS_THROUGH:
        node = node.func.value
    return node if isinstance(node, (cst.Name, cst.Attribute)) else None


def deployment_gpu(mentions: list[tuple[GpuHint, bool]]) -> list[GpuHint]:
    """The GPU the file's comments and strings say it runs on: the one a sentence states as the target
    ("runs on", "targets"), else the only one named. Two different candidates are a guess: none."""
    targeted = [h for h, t in mentions if t]
    pool = targeted or [h for h, _ in mentions]
    if len({h.gpu for h in pool}) != 1:
        return []
    return [pool[0]]


def foreign(q: str) -> bool:
    """Qualified names from libraries whose ``from_pretrained``/``generate`` are not LLM inference."""
    return q.split(".", 1)[0] in FOREIGN_ROOTS


def template(receiver: Optional[str]) -> bool:
    """``compiled_template.generate(...)``: Jinja2 rendering a template piece by piece (the template passed in
    as a parameter, so its origin is unknown here), not a model."""
    return receiver is not None and "template" in receiver.rsplit(".", 1)[-1].lower()


def input_tensor(receiver: cst.BaseExpression, dotted: Optional[str]) -> bool:
    """Is ``receiver`` (of ``.to(...)``/``.bfloat16()``) a model input rather than a model: an item of a batch
    or encoding (``inputs["pixel_values"]``) or a name that says so (``pixel_values``, ``input_ids``)?"""
    if isinstance(receiver, cst.Subscript):
        return True
    last = (dotted or "").rsplit(".", 1)[-1]
    return bool(last) and not MODEL_NAMES.search(last) and bool(INPUT_NAMES.search(last))


def training_reason(a: Resolver, node: cst.Call) -> str:
    """Why the call ``node`` marks the file as training code (``"SFTTrainer(...)"``, ``"optimizer.step()"``), or
    an empty string."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    q = a.qualify(func) or ""
    last = q.rsplit(".", 1)[-1]
    if last in TRAINER_CLASSES and (q.startswith(("transformers.", "trl.")) or q == last):
        return f"{last}(...)"
    if isinstance(func, cst.Attribute) and name == "train" and not node.args:
        receiver = a.dotted(func.value) or ""
        if "trainer" in receiver.lower() or receiver.lower().endswith("model"):
            return f"{receiver}.train()"
    elif name in TRAIN_CALLS:
        return f"{name}()"
    elif isinstance(func, cst.Attribute) and name == "step":
        receiver = (a.dotted(func.value) or "").lower()
        if "optim" in receiver or receiver.endswith("opt"):
            return f"{receiver}.step()"
    return ""


def gpu_mentions(text: str, span_of: Callable[[], Span], source: str) -> list[tuple[GpuHint, bool]]:
    """The GPUs a comment or string names, each with whether its sentence states it as the target
    (``span_of`` gives the comment's or string's span, asked for only when a GPU is named)."""
    from ecolint.knowledge.gpus import resolve_gpu

    out: list[tuple[GpuHint, bool]] = []
    if not has_gpu_stem(text):  # (most comments and strings: no search needed)
        return out
    for m in GPU_WORDS.finditer(text):
        info = resolve_gpu(m.group(0))
        if info is None:
            continue
        clause = CLAUSE_END.split(text[: m.start()])[-1]  # the clause that names this GPU, up to it
        out.append((GpuHint(info.id, span_of(), source), bool(TARGET_WORDS.search(clause))))
    return out
