"""Code that runs once per request or per item: web request handlers (FastAPI/Starlette/Flask routes), Gradio
callbacks, ``__call__`` methods, a Streamlit script (run again from the top on every interaction), loop bodies, and
the local functions and classes such places call; and what makes a model load run once instead (a cache
decorator such as ``functools.cache`` or ``st.cache_resource``, an ``if _model is None:`` guard, a dict of loaded
models).

The extraction pass records a :class:`Site` for every model load, every local call and every generation that
sets a number of beams; :func:`place` turns them, once the whole module is known, into
:attr:`ecolint.facts.ModelLoad.repeats` and :attr:`ecolint.facts.Generation.served`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

import libcst as cst

from ecolint.facts import Generation, ModelLoad, Repetition, Span
from ecolint.sources.cst_walk import children
from ecolint.sources.python.vocab import MEMO_TEST

if TYPE_CHECKING:
    from ecolint.sources.python.recognise import Analyzer

# Decorator methods that register a web route (FastAPI/Starlette routers, Flask apps and blueprints, Quart, Sanic).
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "websocket"})
# Gradio: the app classes whose ``fn`` runs per request, and the event listeners of its components.
GRADIO_APPS = frozenset({"Interface", "ChatInterface"})
GRADIO_EVENTS = frozenset({"click", "submit", "change", "input", "select", "upload", "release", "then", "success",
                           "stream", "like", "edit", "retry", "undo"})
# Decorators that run a function once per set of arguments and keep the result (functools, cachetools, Streamlit).
CACHE_DECORATORS = frozenset({"cache", "lru_cache", "cached", "cachedmethod", "cached_property", "cache_resource",
                              "cache_data", "experimental_singleton", "experimental_memo", "singleton", "memoize",
                              "memoized", "alru_cache"})
# What the front end records as a model load for this purpose (lm-eval model_args and config launches are not code).
LOAD_APIS = ("from_pretrained", "transformers.pipeline", "vllm.LLM")


@dataclass(eq=False)
class Site:
    """A model load, a call of a local function or class, or a generation that sets its beams, with what encloses
    it: the loops of its function (innermost last), the functions (innermost last), the names its statement reads,
    an enclosing ``if`` that caches, and how its result is stored. Its span is worked out when first read (most
    sites are never reported)."""

    where: Callable[[], Span]
    loops: list[Any]
    used: set[str]
    args: set[str]  # names in the call's arguments
    defs: list[cst.FunctionDef]
    memo: str
    stored: str  # "attribute" | "subscript" | "name" | "global" | "returned" | ""
    load: Optional[ModelLoad] = None
    callee: str = ""  # a local function or class called here
    generation: Optional[Generation] = None
    keywords: frozenset[str] = frozenset()  # keywords the call passes
    positional: int = 0  # positional arguments it passes
    _span: Optional[Span] = None

    @property
    def span(self) -> Span:
        if self._span is None:
            self._span = self.where()
        return self._span


@dataclass
class Requests:
    """What the extraction pass collects for :func:`place`."""

    loads: list[Site] = field(default_factory=list)
    calls: list[Site] = field(default_factory=list)
    generations: list[Site] = field(default_factory=list)
    method_of: dict[int, str] = field(default_factory=dict)  # id(def) -> its class name
    handlers: list[tuple[str, cst.FunctionDef, str]] = field(default_factory=list)  # (where, def, detail), in order


def route(a: Analyzer, decorator: cst.Decorator) -> str:
    """``POST /generate`` for ``@app.post("/generate")``; "" when the decorator registers no web route."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return ""
    method = call.func.attr.value
    if method not in ROUTE_METHODS:
        return ""
    path = ""
    if call.args and isinstance(call.args[0].value, cst.SimpleString):
        path = " " + call.args[0].value.evaluated_value if isinstance(call.args[0].value.evaluated_value, str) else ""
    verb = method.upper() if method not in ("route", "api_route") else "route"
    return f"{verb}{path}"


def note_callback(a: Analyzer, node: cst.Call) -> None:
    """``gr.Interface(fn=respond)``, ``gr.ChatInterface(respond)``, ``button.click(respond, ...)`` in a module
    that imports Gradio: ``respond`` runs once per request."""
    if not a.gradio:
        return
    func = node.func
    q = a.qualify(func) or ""
    if q.startswith("gradio.") and q.rsplit(".", 1)[-1] in GRADIO_APPS:
        how = q.rsplit(".", 1)[-1]
    elif isinstance(func, cst.Attribute) and func.attr.value in GRADIO_EVENTS:
        how = f".{func.attr.value}"
    else:
        return
    fn = next((arg.value for arg in node.args if arg.keyword is not None and arg.keyword.value == "fn"), None)
    if fn is None and node.args and node.args[0].keyword is None:
        fn = node.args[0].value
    if isinstance(fn, cst.Name) and fn.value in a.functions:
        a.callbacks.setdefault(fn.value, f"Gradio callback `{fn.value}` ({how}, line {a.span(node).line})")


def cached_def(a: Analyzer, node: cst.FunctionDef) -> str:
    """The decorator that caches ``node`` (``@functools.lru_cache``, ``@st.cache_resource``), or an ``if`` at the
    top of its body that returns what was loaded before; "" when neither."""
    for d in node.decorators:
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        name = (a.dotted(expr) or "").rsplit(".", 1)[-1]
        if name in CACHE_DECORATORS:
            return f"@{a.dotted(expr)}"
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.If) and MEMO_TEST.search(a.code(stmt.test)) and _returns(stmt.body):
            return f"if {a.code(stmt.test).strip()}: return"
    return ""


def _returns(block: cst.BaseSuite) -> bool:
    stmts = block.body if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
    for stmt in stmts:
        small = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
        if any(isinstance(s, cst.Return) for s in small):
            return True
    return False


def _globals_of(node: cst.FunctionDef, memo: dict[int, set[str]]) -> set[str]:
    found = memo.get(id(node))
    if found is None:
        found = memo[id(node)] = _globals(node)
    return found


def _globals(node: cst.FunctionDef) -> set[str]:
    """The names a ``global``/``nonlocal`` statement of ``node``'s own body declares."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.Global, cst.Nonlocal)):
            out |= {name.name.value for name in n.names}
        elif not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.BaseExpression)):
            stack.extend(children(n))
    return out


def stored(statement: Optional[cst.CSTNode], defs: list[cst.FunctionDef], memo: dict[int, set[str]]) -> str:
    """How the value of the call a statement holds is kept: on an object, in a container, in a module global, in a
    local name or returned. ``memo``: the ``global`` names of each def seen so far, by ``id`` (for one pass over
    one tree)."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
    targets: list[cst.BaseExpression] = []
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        targets = [small.target]
    elif isinstance(small, cst.Return):
        return "returned"
    kinds = set()
    for t in targets:
        if isinstance(t, cst.Attribute):
            kinds.add("attribute")
        elif isinstance(t, cst.Subscript):
            kinds.add("subscript")
        elif isinstance(t, cst.Name):
            kinds.add("global" if defs and t.value in _globals_of(defs[-1], memo) else "name")
    for kind in ("subscript", "attribute", "global", "name"):
        if kind in kinds:
            return kind
    return ""


def _params(node: cst.FunctionDef) -> set[str]:
    p = node.params
    names = {x.name.value for x in [*p.params, *p.kwonly_params, *p.posonly_params]}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names - {"self", "cls"}


def _context(a: Analyzer, defs: list[cst.FunctionDef], requests: Requests, with_call: bool = True) -> Optional[tuple[str, cst.FunctionDef, str]]:
    """The innermost enclosing function that runs once per request: (where, the def, detail)."""
    for node in reversed(defs):
        r = next((r for r in (route(a, d) for d in node.decorators) if r), "")
        if r:
            return "handler", node, f"{r} handler `{node.name.value}`"
        if node.name.value in a.callbacks:
            return "callback", node, a.callbacks[node.name.value]
        if with_call and node.name.value == "__call__":
            owner = requests.method_of.get(id(node))
            return "call", node, f"`{owner}.__call__`" if owner else "`__call__`"
    return None


def _header(a: Analyzer, node: cst.FunctionDef) -> Span:
    """The ``def name`` of a function."""
    name = a.span(node.name)
    return Span(name.line, max(1, name.col - 4), name.line, name.end_col)


def handler(a: Analyzer, node: cst.FunctionDef, requests: Requests) -> None:
    """Note ``node`` when it is a request handler or a UI callback (the extraction pass calls this for every def)."""
    ctx = _context(a, [node], requests, with_call=False)
    if ctx is not None:
        requests.handlers.append(ctx)


def _cached(a: Analyzer, site: Site) -> bool:
    return bool(site.memo) or site.stored == "subscript" or any(cached_def(a, d) for d in site.defs)


def _repetition(a: Analyzer, site: Site, requests: Requests, depends_on_params: bool, streamlit: bool) -> Optional[Repetition]:
    """Where ``site`` (a load, or a call of a function that loads) runs again, or None. ``depends_on_params``: the
    load's arguments come from the parameters of the function that holds it (only for calls)."""
    if _cached(a, site):
        return None
    for loop in reversed(site.loops):
        if getattr(loop, "breaks", False):
            return None  # a retry loop: it stops after the first load that works
        changes = (site.used if site.load is not None else site.args) & loop.tainted
        if changes and (site.load is not None or depends_on_params):
            return None  # the loop changes what is loaded (a sweep over models, one replica per device)
    if site.loops:
        loop = site.loops[-1]
        return Repetition("loop", loop.header, loop.desc)
    ctx = _context(a, site.defs, requests)
    if ctx is not None:
        where, node, detail = ctx
        params = _params(node)
        picked = (site.used if site.load is not None else site.args) & params
        if picked and (site.load is not None or depends_on_params):
            return None  # the request names the model to load (a model-switch endpoint)
        return Repetition(where, _header(a, node), detail)
    if streamlit:
        return Repetition("rerun", None, "a Streamlit script")
    return None


def _loads_per_call(a: Analyzer, site: Site) -> Optional[tuple[str, bool]]:
    """(function or class name, whether the load depends on that function's parameters) when ``site``'s load runs
    once per call of the function that holds it (no cache, no loop that changes it)."""
    if not site.defs or _cached(a, site) or site.loops:
        return None
    node = site.defs[-1]
    return node.name.value, bool(site.used & _params(node))


def place(a: Analyzer, requests: Requests) -> None:
    """Record the repetitions of each model load and where each beam setting is served."""
    streamlit = a.streamlit
    loaders: dict[str, tuple[ModelLoad, bool]] = {}
    for site in requests.loads:
        load = site.load
        if load is None or load.purpose == "weights":
            continue
        rep = _repetition(a, site, requests, False, streamlit)
        if rep is not None:
            load.repeats.append(rep)
        per_call = _loads_per_call(a, site)
        if per_call is not None and rep is None or per_call is not None and rep is not None and rep.where == "rerun":
            name, depends = per_call
            loaders.setdefault(name, (load, depends))
            owner = requests.method_of.get(id(site.defs[-1]))
            if name == "__init__" and owner:
                loaders.setdefault(owner, (load, depends))
    for site in requests.calls:
        found = loaders.get(site.callee)
        if found is None:
            continue
        load, depends = found
        if site.defs and site.defs[-1].name.value == site.callee:
            continue  # recursion
        rep = _repetition(a, site, requests, depends, streamlit)
        if rep is not None and rep.where != "rerun":
            rep.at, rep.via = site.span, site.callee
            load.repeats.append(rep)
    _served(a, requests)


def _served(a: Analyzer, requests: Requests) -> None:
    """Each beam setting in a request handler or callback, in a local function one of them calls, in a Streamlit
    app, or (a generation config) anywhere in a module that serves requests."""
    called: dict[str, tuple[Site, tuple[str, cst.FunctionDef, str]]] = {}
    for site in requests.calls:
        ctx = _context(a, site.defs, requests, with_call=False)
        if ctx is not None:
            called.setdefault(site.callee, (site, ctx))
    for site in requests.generations:
        gen = site.generation
        if gen is None:
            continue
        gen.seq2seq = _seq2seq(a, gen)
        ctx = _context(a, site.defs, requests, with_call=False)
        if ctx is not None:
            where, node, detail = ctx
            gen.served = Repetition(where, _header(a, node), detail)
        elif site.defs and site.defs[-1].name.value in called:
            call, (where, node, detail) = called[site.defs[-1].name.value]
            if _passed(gen, site.defs[-1], call):
                continue  # the handler passes the number of beams itself: the function's default does not serve
            gen.served = Repetition(where, _header(a, node), detail, at=call.span, via=site.defs[-1].name.value)
        elif a.streamlit:
            gen.served = Repetition("rerun", None, "a Streamlit app")
        elif requests.handlers and (gen.api.endswith(".num_beams") or gen.api.endswith("GenerationConfig") and not site.defs):
            # the model's default (`generation_config.num_beams = N`) or a module-level config the handlers use
            where, node, detail = requests.handlers[0]
            gen.served = Repetition("module", _header(a, node), f"{detail}, line {a.span(node).line}")


def _passed(gen: Generation, func: cst.FunctionDef, call: Site) -> bool:
    """Does ``call`` pass the parameter of ``func`` whose default gives ``gen`` its number of beams?"""
    beams = gen.num_beams
    if beams is None or beams.certain:
        return False
    names = [p.name.value for p in [*func.params.posonly_params, *func.params.params]]
    if beams.source in call.keywords:
        return True
    return beams.source in names and names.index(beams.source) - (names[:1] == ["self"]) < call.positional


def _seq2seq(a: Analyzer, gen: Generation) -> str:
    """Why the model a generation decodes with is an encoder-decoder translation/summarisation model: its receiver
    was loaded as one, or every language model the module loads is one."""
    for suffix in (".generate", "(...)"):
        if gen.api.endswith(suffix) and gen.api[: -len(suffix)] in a.seq2seq:
            return a.seq2seq[gen.api[: -len(suffix)]]
    models = [load for load in a.facts.model_loads if load.causal_lm]
    if models and all(id(load) in a.seq2seq_loads for load in models):
        return "every model the module loads is an encoder-decoder model"
    return ""
