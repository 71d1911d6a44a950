"""The two passes over a module's tree and :func:`extract`.

Pass 1 (:class:`_Collector`) fills the resolver (imports, scopes, assignments, argparse defaults) and notes
training markers and GPU mentions; pass 2 (:class:`_Extractor`) decides which call is which API, hands it to the
:class:`~ecolint.sources.python.recognise.Analyzer`, and keeps a loop stack with a little taint tracking to tell
"one ``generate`` per prompt" from "one per batch".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import libcst as cst

from ecolint.facts import BatchSetting, Engine, FileFacts, Generation, Span, Value
from ecolint.sources.cst_positions import Positions
from ecolint.sources.cst_walk import names_in, walk
from ecolint.sources.python.context import Guards, file_role, model_purpose, receiver_kind
from ecolint.sources.python.flushes import FLUSH_CALL, PendingFlush, place_flushes
from ecolint.sources.python.per_request import LOAD_APIS, Requests, Site, handler, note_callback, stored
from ecolint.sources.python.per_request import place as place_requests
from ecolint.sources.python.recognise import (
    Analyzer,
    chain_root,
    deployment_gpu,
    foreign,
    gpu_mentions,
    template,
    training_reason,
)
from ecolint.sources.python.resolve import Item, Scope, ScopeCollector, target_names
from ecolint.sources.python.vocab import (
    BATCH_WORDS,
    BATCHING_CALLS,
    INPUT_KEYWORDS,
    MODEL_CLASS,
    NON_LLM_CLASS,
    NOT_MODEL,
    OWN_DTYPE_LOADERS,
)


class _Loop:
    """A loop being traversed. ``header`` and ``desc`` are computed on first use (most loops never end up in
    a fact); either may be given as a callable. ``dataloader`` names the DataLoader a ``for`` loop iterates
    over directly (``for batch in loader``), if any."""

    __slots__ = ("_desc", "_header", "batched", "breaks", "dataloader", "scope", "tainted", "targets")

    def __init__(self, header: Union[Span, Callable[[], Span]], targets: set[str], tainted: set[str], batched: bool,
                 scope: Scope, desc: Union[str, Callable[[], str]], dataloader: Optional[str] = None):
        self._header = header
        self.targets = targets
        self.tainted = tainted
        self.batched = batched
        self.scope = scope
        self._desc = desc
        self.dataloader = dataloader
        self.breaks = False  # the body has a `break` (a retry loop ends after the first attempt that works)

    @property
    def header(self) -> Span:
        if callable(self._header):
            self._header = self._header()
        return self._header

    @property
    def desc(self) -> str:
        """The loop as written (``for p in prompts``), for messages."""
        if callable(self._desc):
            self._desc = self._desc()
        return self._desc


@dataclass
class _Pending:
    """A call to a local function inside a per-item loop: a generation if that function generates."""

    func: str
    span: Span
    loop: _Loop


def _slice(node: Optional[cst.BaseExpression]) -> bool:
    """``prompts[i:i + 64]``: a subscript with a slice."""
    return isinstance(node, cst.Subscript) and any(isinstance(el.slice, cst.Slice) for el in node.slice)


class _Collector(ScopeCollector):
    """Pass 1: the resolver's tables, training markers, GPU mentions."""

    a: Analyzer

    def __init__(self, a: Analyzer):
        super().__init__(a)

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        note_callback(self.a, node)
        if not self.a.facts.training:
            reason = training_reason(self.a, node)
            if reason:
                self.a.facts.training = True
                self.a.facts.training_reason = f"{reason} on line {self.a.span(node).line}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        if node.name.value.startswith("test"):
            self.a.test_definitions += 1

    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        bases = [(self.a.dotted(b.value) or "").rsplit(".", 1)[-1] for b in node.bases]
        if "TestCase" in bases or node.name.value.startswith("Test"):
            self.a.test_definitions += 1
        name = node.name.value
        self.a.classes.add(name)
        if not self.a.facts.training and (name.endswith("Trainer") or any(b.endswith("Trainer") for b in bases)):
            self.a.facts.training = True
            self.a.facts.training_reason = f"class {name} on line {self.a.line(node)}"
        return None

    def visit_Comment(self, node: cst.Comment) -> None:
        self._mentions(gpu_mentions(node.value, lambda: self.a.span(node), "comment"))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if len(node.value) < 200:
            self._mentions(gpu_mentions(node.value, lambda: self.a.span(node), "string"))

    def _mentions(self, found) -> None:
        """Inside a function only a sentence that states the target ("runs on a T4") speaks for the file; an
        incidental mention there (a docstring about one case) is scoped to that function and not a hint."""
        if len(self.stack) > 1:
            found = [m for m in found if m[1]]
        self.a.gpu_mentions += found


class _Extractor(cst.CSTVisitor):
    """Pass 2: model loads, quantization specs, generation calls, batch sizes, dtypes, loops."""

    def __init__(self, a: Analyzer):
        self.a = a
        self.scope_stack: list[Scope] = [a.module_scope]
        self.loops: list[_Loop] = []
        self.saved_loops: list[list[_Loop]] = []  # loops of the enclosing functions (a def starts afresh)
        self.func_stack: list[str] = []
        self.kinds = a.kinds  # (the analyzer's table: what each variable holds)
        self.loop_generations: dict[int, list[Generation]] = {}
        self.pending: list[_Pending] = []
        self.guards = Guards(a.code)  # the enclosing `if` branches
        self.foreign_calls: list[tuple[int, str]] = []  # enclosing calls into libraries whose models are not LLMs
        self.flushes: list[PendingFlush] = []  # torch.cuda.empty_cache() calls, placed once the generations are known
        self.requests = Requests()  # loads, local calls and beam settings, placed once the module is known
        self.defs: list[cst.FunctionDef] = []  # the enclosing functions, innermost last
        self.statements: list[cst.SimpleStatementLine] = []
        self.loads_seen = 0  # model loads already given their site
        self.globals_memo: dict[int, set[str]] = {}  # id(def) -> the names its ``global`` statements declare

    # -- branches ------------------------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        self.guards.enter(node)  # an `elif`: inside the else of the test above
        self.guards.visit_if(node)

    def leave_If(self, node: cst.If) -> None:
        self.guards.leave(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.guards.enter(node)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.guards.leave(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.guards.enter(node)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.guards.leave(node)

    @property
    def scope(self) -> Scope:
        return self.scope_stack[-1]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope_stack.append(self.a.scopes.get(node, self.scope))
        self.func_stack.append(node.name.value)
        self.saved_loops.append(self.loops)
        self.loops = []
        self.defs.append(node)
        handler(self.a, node, self.requests)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope_stack.pop()
        self.func_stack.pop()
        self.loops = self.saved_loops.pop()
        self.defs.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            if isinstance(stmt, cst.FunctionDef):
                self.requests.method_of[id(stmt)] = node.name.value

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.append(node)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.pop()

    def visit_Break(self, node: cst.Break) -> None:
        if self.loops:
            self.loops[-1].breaks = True

    def _site(self, node: Union[cst.Call, cst.Assign], used: set[str], **kw) -> Site:
        """Where a call is: its loops (of this function), functions, caching ``if`` and how its value is kept."""
        stmt = self.statements[-1] if self.statements else None
        args: set[str] = set()
        for arg in node.args if isinstance(node, cst.Call) else ():
            args |= names_in(arg.value)
        loops = [loop for loop in self.loops if loop.scope is self.scope]
        a = self.a  # (the span is read later, if at all; the analyzer, not this pass, is what the site keeps)
        return Site(lambda: a.span(node), loops, used | args, args, list(self.defs), self.guards.memo(), stored(stmt, self.defs, self.globals_memo), **kw)

    def visit_Lambda(self, node: cst.Lambda) -> Optional[bool]:
        return False

    # -- loops ---------------------------------------------------------------------------------------
    def _loop_batched(self, targets: set[str], iter_node: cst.BaseExpression) -> bool:
        if any(w in t.lower() for t in targets for w in BATCH_WORDS):
            return True
        node = iter_node
        wrappers = ("enumerate", "zip", "tqdm", "list", "iter", "sorted", "reversed")
        while isinstance(node, cst.Call) and (self.a.dotted(node.func) or "").rsplit(".", 1)[-1] in wrappers and node.args:
            node = node.args[0].value
        if isinstance(node, cst.Call):
            last = (self.a.dotted(node.func) or "").rsplit(".", 1)[-1]
            if last in BATCHING_CALLS:
                return True
            if last == "range" and len(node.args) >= 3:
                return True
        name = self.a.dotted(node) or ""
        if any(w in name.lower() for w in BATCH_WORDS):
            return True
        if isinstance(node, cst.Name):  # shards = [prompts[i:i + 64] for i in ...]: each item is a slice
            values = self.a.module_scope.assigns.get(node.value, []) + self.scope.assigns.get(node.value, [])
            if values and all(isinstance(v, (cst.ListComp, cst.GeneratorExp)) and _slice(v.elt) for v in values):
                return True
        if isinstance(node, cst.Name) and self.kinds.get(node.value) == "dataloader":
            return True
        return False

    def visit_For(self, node: cst.For) -> None:
        targets = target_names(node.target)
        a = self.a

        def header() -> Span:
            start = a.span(node)
            return Span(start.line, start.col, a.span(node.iter).end_line, a.span(node.iter).end_col)

        def desc() -> str:
            return f"for {a.code(node.target).strip()} in {a.code(node.iter).strip()}"

        loader = node.iter.value if isinstance(node.iter, cst.Name) and self.kinds.get(node.iter.value) == "dataloader" else None
        self.loops.append(_Loop(header, targets, set(targets), self._loop_batched(targets, node.iter), self.scope, desc, loader))

    def leave_For(self, node: cst.For) -> None:
        loop = self.loops.pop()
        if loop.dataloader is not None:
            gens = self.loop_generations.get(id(loop), [])
            if gens and loop.dataloader in self.a.dataloaders:
                setting = self.a.dataloaders[loop.dataloader]
                if setting not in self.a.facts.batch_settings and setting.value.known and setting.value.value == 1:
                    setting.feeds_generation = True
                    self.a.facts.batch_settings.append(setting)

    def _visit_comp(self, node) -> None:
        targets: set[str] = set()
        batched = False
        for_in = node.for_in
        first = for_in
        while for_in is not None:
            t = target_names(for_in.target)
            targets |= t
            batched = batched or self._loop_batched(t, for_in.iter)
            for_in = for_in.inner_for_in
        a = self.a
        loop = _Loop(lambda: a.span(first), targets, set(targets), batched, self.scope, lambda: a.code(first).strip())
        self.loops.append(loop)

    def _leave_comp(self, original_node) -> None:
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
            targets |= target_names(t.target)
        for loop in self.loops:
            if used & loop.tainted:
                loop.tainted |= targets
                if _slice(node.value):
                    loop.batched = True  # shard = prompts[i * n:(i + 1) * n]: each item is a slice of the inputs
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
                self.a.config_attribute(target.value, target.attr.value, node.value, self.scope)
            # generation_config.use_cache = False / generation_config.num_beams = 4: the model's generation defaults
            if isinstance(target, cst.Attribute) and target.attr.value in ("use_cache", "num_beams"):
                attr = target.attr.value
                base = self.a.dotted(target.value) or ""
                if base.endswith("generation_config"):
                    v = self.a.resolve(node.value, self.scope)
                    setting = {attr: Value(v.value, v.certainty, self.a.span(node), v.source)}
                    gen = Generation(self.a.span(node), "transformers", f"{base}.{attr}", **setting)
                    self.a.facts.generations.append(gen)
                    if attr == "num_beams":
                        self.requests.generations.append(self._site(node, set(), generation=gen))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        used = names_in(node.value)
        targets = target_names(node.target)
        for loop in self.loops:
            if used & loop.tainted:
                loop.tainted |= targets

    # -- calls ---------------------------------------------------------------------------------------
    def leave_Call(self, node: cst.Call) -> None:
        if self.foreign_calls and self.foreign_calls[-1][0] == id(node):
            self.foreign_calls.pop()
        loads = self.a.facts.model_loads
        if len(loads) > self.loads_seen:
            for load in loads[self.loads_seen:]:
                if load.api.endswith(LOAD_APIS):
                    used: set[str] = set()
                    inner = node
                    while id(inner) in self.a.chained:  # from_pretrained(...).to(device): the device counts too
                        outer, _ = self.a.chained[id(inner)]
                        for arg in outer.args:
                            used |= names_in(arg.value)
                        inner = outer
                    self.requests.loads.append(self._site(node, used, load=load))
            self.loads_seen = len(loads)

    def _context(self, spec) -> None:
        """Where a quantization config is built: the condition it is built under, the function, and what it
        quantizes when an enclosing call belongs to a library of non-LLM models."""
        spec.guard = spec.guard or self.guards.opt_in()
        spec.helper = spec.helper or (self.func_stack[-1] if self.func_stack else "")
        if self.foreign_calls and not spec.non_llm:
            spec.non_llm = self.foreign_calls[-1][1]

    def visit_Call(self, node: cst.Call) -> None:
        a = self.a
        q = a.qualify(node.func) or ""
        parts = q.split(".")
        last = parts[-1]
        owner = parts[-2] if len(parts) >= 2 else ""
        if foreign(q):
            self.foreign_calls.append((id(node), q))
        target = a.assigned_to.get(id(node))
        a.serving_call(node, q, self.scope)
        if q == FLUSH_CALL:
            self.flushes.append(PendingFlush(a.span(node), list(self.loops), self.scope))
        if target and self.a.foreign_object(node):
            self.kinds[target] = "foreign"  # jinja2.Environment(...), env.from_string(...): nothing of it generates
        if last == "BitsAndBytesConfig" or (last == "from_dict" and owner == "BitsAndBytesConfig"):
            if not foreign(q):  # diffusers.BitsAndBytesConfig quantizes an image model
                self._context(a.quant_spec_for_call(node, self.scope))
            return
        if last == "from_pretrained" and MODEL_CLASS.match(owner) and not NOT_MODEL.search(owner) and not foreign(q):
            load = a.model_load(node, q, owner, target, self.scope)
            if NON_LLM_CLASS.match(owner):
                load.causal_lm = False
                if load.quant is not None and not load.quant.non_llm:
                    load.quant.non_llm = owner
            library = q.split(".", 1)[0]
            if library in OWN_DTYPE_LOADERS:
                load.own_dtype = f"{library} loads in its own default dtype"
                if library == "unsloth" and load.quant is not None and load.quant.origin == "from_pretrained":
                    # unsloth builds the bitsandbytes config with its own dtype as the compute dtype
                    load.quant.origin = "unsloth"
            if load.quant is not None and load.quant.origin in ("from_pretrained", "dict"):
                self._context(load.quant)
            cpu = self.guards.cpu()
            if cpu and not load.cpu:
                load.cpu, load.on_gpu = cpu, False
            return
        if last == "from_pretrained" and "Tokenizer" in owner and target:
            self.kinds[target] = "tokenizer"
        if q in ("transformers.pipeline", "pipeline") or (last == "pipeline" and q.startswith("transformers")):
            a.pipeline(node, q, target, self.scope)
            return
        if q in ("vllm.LLM", "vllm.entrypoints.llm.LLM") or (last == "LLM" and q.startswith("vllm")):
            a.vllm(node, q, target, self.scope)
            return
        if last == "GenerationConfig" and (q.startswith("transformers") or q == "GenerationConfig"):
            kw, _ = a.kwargs_of(node, self.scope)
            self._generation(node, "transformers", q, kw, in_loop=False)
            return
        if last in ("BeamSearchParams", "SamplingParams") and q.startswith("vllm"):
            beams = a.beam_params(node, q, self.scope)
            if beams is not None:
                a.facts.generations.append(beams)
                self.requests.generations.append(self._site(node, set(), generation=beams))
            return
        if last == "DataLoader":
            kw, _ = a.kwargs_of(node, self.scope)
            bs = kw.get("batch_size")
            if len(node.args) >= 2 and node.args[1].keyword is None:
                bs = Item(a.resolve(node.args[1].value, self.scope), node.args[1], node)
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
                a.chained[id(node.func.value)] = (node, method)
                if target:
                    a.assigned_to[id(node.func.value)] = target
        if isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            receiver = a.dotted(node.func.value)
            if method == "generate" and not foreign(q) and not self.a.foreign_object(node.func.value) and not template(receiver):
                engine = "vllm" if receiver and self.kinds.get(receiver) == "vllm" else "transformers"
                kw, _ = a.kwargs_of(node, self.scope)
                gen = self._generation(node, engine, f"{receiver or '<expr>'}.generate", kw, in_loop=True)
                keywords = {arg.keyword.value for arg in node.args if arg.keyword is not None}
                gen.receiver = receiver_kind(receiver, self.kinds.get(receiver or ""), keywords)
                return
            if method in ("chat",) and receiver and self.kinds.get(receiver) == "vllm":
                kw, _ = a.kwargs_of(node, self.scope)
                self._generation(node, "vllm", f"{receiver}.chat", kw, in_loop=True).receiver = "vllm"
                return
            root = chain_root(node.func.value)
            if root is not None and self.kinds.get(a.dotted(root) or "") in ("hf-model", "pipeline"):
                a.placement(node, a.dotted(root), method, self.scope)  # model.to(...) / model.eval().half()
            if method in ("to", "bfloat16", "half", "float") or (method == "autocast") or q.startswith("torch.autocast") or q == "torch.set_default_dtype":
                a.dtype_call(node, q, method, self.scope)
            self._maybe_local_call(node, method)
            return
        if isinstance(node.func, cst.Name):
            name = node.func.value
            if self.kinds.get(name) == "pipeline":
                kw, _ = a.kwargs_of(node, self.scope)
                self._generation(node, "pipeline", f"{name}(...)", kw, in_loop=True).receiver = "pipeline"
                bs = kw.get("batch_size")
                if bs is not None and bs.value.known and bs.value.value == 1 and not a.facts.training:
                    a.facts.batch_settings.append(BatchSetting(a.span(bs.element), bs.value, "pipeline call"))
                return
            if q.startswith("torch.autocast") or q == "torch.set_default_dtype" or name == "autocast":
                a.dtype_call(node, q, name, self.scope)
            self._maybe_local_call(node, name)

    def _maybe_local_call(self, node: cst.Call, name: str) -> None:
        if name in self.a.functions or name in self.a.classes:
            func = node.func
            if isinstance(func, cst.Name) or isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
                keywords = frozenset(arg.keyword.value for arg in node.args if arg.keyword is not None)
                positional = sum(1 for arg in node.args if arg.keyword is None and not arg.star)
                self.requests.calls.append(self._site(node, set(), callee=name, keywords=keywords, positional=positional))
        if self.loops and name not in self.a.functions:
            name = self._imported_generating(node) or ""
        if not self.loops or name not in self.a.functions and name not in self.a.generating_functions:
            return
        loop = self._per_item_loop(node)
        if loop is not None:
            self.pending.append(_Pending(name, self.a.span(node), loop))

    def _imported_generating(self, node: cst.Call) -> Optional[str]:
        """``helpers.answer`` when ``node`` calls a function of another project module that generates once per
        call (recorded among the generating functions under that dotted name); None otherwise."""
        a = self.a
        target = a.imported_target(node.func, self.scope)
        if target is None or a.imports is None:
            return None
        name = a.dotted(node.func) or ""
        if name not in a.generating_functions:
            found = a.imports.generating(target)
            if found is None:
                return None
            a.generating_functions[name] = Generation(a.span(node), found.engine, found.api)
            a.imports.related_generation(a, a.span(node), found)
        return name

    def _per_item_loop(self, node: cst.Call, inputs_only: bool = False) -> Optional[_Loop]:
        """The innermost loop whose item reaches the call's arguments (with ``inputs_only``, only the arguments
        that carry prompts: the first positional one, ``*``/``**`` unpacking and input keywords, so a loop
        over temperatures or seeds around one batch is not a per-prompt loop)."""
        used = set()
        for i, arg in enumerate(node.args):
            if inputs_only and not (arg.star or (arg.keyword is None and i == 0) or (arg.keyword is not None and arg.keyword.value in INPUT_KEYWORDS)):
                continue
            used |= names_in(arg.value)
        for loop in reversed(self.loops):
            if loop.scope is not self.scope:
                continue
            if used & loop.tainted:
                return None if loop.batched else loop
        return None


    def _generation(self, node: cst.Call, engine: Engine, api: str, kw: dict, in_loop: bool) -> Generation:
        a = self.a
        gen = a.generation(node, engine, api, kw)
        if in_loop and self.loops:
            loop = self._per_item_loop(node, inputs_only=True)
            if loop is not None:
                gen.per_item_loop = loop.header
                gen.loop_detail = loop.desc
        for loop in self.loops:
            self.loop_generations.setdefault(id(loop), []).append(gen)
        if gen.num_beams is not None:
            self.requests.generations.append(self._site(node, set(), generation=gen))
        if in_loop and self.func_stack and not self.loops:
            # a function that generates once per call (one inside a loop of its own takes a list, not an item)
            a.generating_functions.setdefault(self.func_stack[-1], gen)
        a.facts.generations.append(gen)
        return gen


def extract(path: str, text: str, overrides: Optional[dict] = None) -> FileFacts:
    """Parse ``text`` and return its facts. Raises ``libcst.ParserSyntaxError`` on invalid Python."""
    module = cst.parse_module(text)
    analyzer = Analyzer(module, Positions(module, text), path, text, overrides)
    kids: dict[int, list[cst.CSTNode]] = {}  # (each node's children, found once for both passes)
    walk(module, _Collector(analyzer), observer=analyzer.pos, memo=kids)
    analyzer.facts.role, analyzer.facts.role_reason = file_role(path, analyzer.aliases.values(), analyzer.test_definitions)
    analyzer.facts.gpu_hints = deployment_gpu(analyzer.gpu_mentions)
    extractor = _Extractor(analyzer)
    walk(module, extractor, memo=kids)
    del kids
    for pending in extractor.pending:
        inner = analyzer.generating_functions.get(pending.func)
        if inner is None:
            continue
        gen = Generation(
            span=pending.span,
            engine=inner.engine,
            api=f"{pending.func}() -> {inner.api}",
            per_item_loop=pending.loop.header,
            loop_detail=pending.loop.desc,
            receiver=inner.receiver,
        )
        analyzer.facts.generations.append(gen)
    place_flushes(analyzer, extractor.flushes, extractor.loop_generations, extractor.pending)
    for load, name, scope in analyzer.loads_by_target:
        load.purpose = model_purpose(scope.node or module, name, analyzer.code)
    place_requests(analyzer, extractor.requests)
    extractor.__dict__.clear()  # (its loops and sites refer back to it: no cycle left to hold parts of the tree)
    facts = analyzer.facts
    facts.release = analyzer.release
    return facts
