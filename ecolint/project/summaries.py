"""Module summaries: what one Python module of the project says, read with the standard ``ast`` module.

A summary keeps the module's top-level bindings, functions and imports; :func:`evaluate` turns an expression
of it into an :class:`SValue` on demand (constants, dotted references such as ``torch.float16``, dicts,
``dict(...)`` calls, ``BitsAndBytesConfig(...)`` calls, the single return value of a local or imported function,
``os.environ.get(key, default)`` defaults). A name bound more than once, a value computed at run time, a parameter,
anything deeper than :data:`MAX_DEPTH` steps or on an import cycle is unknown. Each value keeps the file and the
position where it is written.

Generating functions: a function whose body calls ``<x>.generate(...)`` / ``<x>.chat(...)`` (or a generating
function of the project) with an argument that comes from one of its parameters generates once per call; the
summary says where (:meth:`ModuleSummary.generation`).
"""

from __future__ import annotations

import ast
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Optional

from ecolint.facts import CERTAIN, DEFAULT, Certainty

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.project.model import Project

MAX_DEPTH = 8  # evaluation steps across names, calls and modules
QUANT_CALLS = ("BitsAndBytesConfig",)
GENERATE_METHODS = ("generate", "chat")
_FOREIGN_RECEIVERS = ("template", "tmpl", "jinja")


@dataclass
class SValue:
    """A value written in a module: ``kind`` is ``const`` (``value`` a Python constant), ``ref`` (a dotted name),
    ``dict`` (``value``: key -> SValue; ``opaque`` when ``**`` unpacking could not be resolved), ``quant`` (a
    ``BitsAndBytesConfig(...)`` call; ``value`` its keyword arguments) or ``unknown``."""

    kind: str
    value: Any
    path: str
    line: int
    col: int  # 1-based
    end_line: int
    end_col: int
    source: str = ""
    certainty: Certainty = CERTAIN
    opaque: bool = False

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


@dataclass
class Generating:
    """A function that generates once per call: where the generation is and how it is called."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    api: str
    engine: str = "transformers"


@dataclass
class ModuleSummary:
    """What one module binds at its top level. Only the nodes of its functions and bound values are kept (not the
    whole tree: a summary lives as long as the run), and whether a function generates is worked out the first
    time it is asked (:meth:`generation`)."""

    path: str
    digest: str  # content hash (the results cache keys users on it)
    text: str
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted target (relative: leading dots)
    assigns: dict[str, list[ast.expr]] = field(default_factory=dict)  # module-level bindings (None: not a value)
    functions: "Functions" = field(init=False)
    reparsable: bool = True  # ``text`` is what the parser read (lines of it parse as they did in the module)
    _generation: dict[str, tuple[Optional[Generating], list[str]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.functions = Functions(self)

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""  # type: ignore[arg-type]

    def generation(self, name: str) -> Optional[Generating]:
        """Where the module's function ``name`` generates once per call with its parameters as input (None when
        it does not, or is no function of the module)."""
        return self._generation_of(name)[0]

    def callees(self, name: str) -> list[str]:
        """The dotted callees the function ``name`` feeds its parameters to, when it does not generate itself."""
        return self._generation_of(name)[1]

    def _generation_of(self, name: str) -> tuple[Optional[Generating], list[str]]:
        found = self._generation.get(name)
        if found is None:
            fn = self.functions.get(name)
            found = self._generation[name] = _find_generation(self.path, fn) if fn is not None else (None, [])
        return found


def summarise(path: str, data: bytes) -> Optional[ModuleSummary]:
    """The summary of a module's bytes; None when it is not valid Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    text = data.decode("utf-8", "replace")
    s = ModuleSummary(path, hashlib.blake2b(data, digest_size=16).hexdigest(), text)
    s.reparsable = _same_text(data)
    for node in tree.body:
        _top_level(s, node)
    return s


def _bind(s: ModuleSummary, name: str, value: Any) -> None:
    s.assigns.setdefault(name, []).append(value)


def _top_level(s: ModuleSummary, node: ast.stmt) -> None:
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                s.imports[a.asname] = a.name
            else:
                root = a.name.split(".", 1)[0]
                s.imports[root] = root
    elif isinstance(node, ast.ImportFrom):
        base = "." * node.level + (node.module or "")
        for a in node.names:
            if a.name == "*":
                continue
            sep = "" if base.endswith(".") or not base else "."
            s.imports[a.asname or a.name] = f"{base}{sep}{a.name}"
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if node.name in s.functions or node.name in s.assigns:
            _bind(s, node.name, None)
        s.functions.add(node, keep=not s.reparsable)
    elif isinstance(node, ast.Assign):
        for t in node.targets:
            if isinstance(t, ast.Name):
                _bind(s, t.id, node.value)
            else:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        _bind(s, n.id, None)
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        _bind(s, node.target.id, node.value)
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        _bind(s, node.target.id, None)
    elif isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
        # bindings under a condition or in a loop: any name bound there is not one value
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                _bind(s, n.id, None)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                _bind(s, n.name, None)
    elif isinstance(node, ast.ClassDef):
        _bind(s, node.name, None)
    # a later ``X["k"] = v`` or ``X.update(...)`` changes a dict: it is no longer one value
    for n in ast.walk(node) if isinstance(node, (ast.Assign, ast.Expr, ast.AugAssign)) else ():
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name):
            _bind(s, n.value.id, None)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("update", "pop", "setdefault", "clear") and isinstance(n.func.value, ast.Name):
            _bind(s, n.func.value.id, None)


class Functions(Mapping[str, ast.FunctionDef]):
    """The top-level functions of a summary by name (the last ``def`` of a name), each parsed again from its own
    lines the first time it is asked for: a summary lives as long as the run, and the bodies of the functions
    nobody asks about (generated bindings hold thousands) would be most of what it keeps alive."""

    def __init__(self, summary: "ModuleSummary"):
        self._summary = summary
        self._lines: dict[str, tuple[int, int, int]] = {}  # name -> first line (decorators), def line, last line
        self._parsed: dict[str, ast.FunctionDef] = {}
        self._starts: Optional[list[int]] = None  # where each line of the text starts (on first use)

    def add(self, node: ast.FunctionDef, keep: bool) -> None:
        """``keep``: hold on to ``node`` itself (a module whose text is not the one its parser read)."""
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        self._lines[node.name] = (first, node.lineno, node.end_lineno or node.lineno)
        if keep:
            self._parsed[node.name] = _without_annotations(node)
        else:
            self._parsed.pop(node.name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, name: str) -> ast.FunctionDef:
        fn = self._parsed.get(name)
        if fn is None:
            fn = self._parsed[name] = _without_annotations(self._parse(name))
        return fn

    def _parse(self, name: str) -> ast.FunctionDef:
        """The ``def`` of ``name`` with the positions it has in the module: its lines start at column 0 (a top-level
        statement), and the lines before it are given as empty lines."""
        first, line, last = self._lines[name]
        text = self._summary.text
        if self._starts is None:
            self._starts = _line_starts(text)
        starts = self._starts
        # (the lines before it left empty: the parser numbers the lines as in the module)
        source = "\n" * (first - 1) + text[starts[first - 1] : starts[last] if last < len(starts) else len(text)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source)
            fn = tree.body[0] if len(tree.body) == 1 else None
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            fn = None
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == name and fn.lineno == line:
            return fn  # type: ignore[return-value]
        for node in ast.parse(text).body:  # (never seen: the lines alone did not give the same def)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and node.lineno == line:
                return node  # type: ignore[return-value]
        raise KeyError(name)


def _same_text(data: bytes) -> bool:
    """Is ``data.decode("utf-8")`` the text CPython's parser reads from ``data``? (UTF-8 by PEP 263 -- no
    byte-order mark, no coding declaration of another encoding -- and valid UTF-8.)"""
    import io
    import tokenize

    try:
        if tokenize.detect_encoding(io.BytesIO(data).readline)[0] != "utf-8":
            return False
        data.decode("utf-8")
    except (SyntaxError, UnicodeDecodeError):
        return False
    return True


def _line_starts(text: str) -> list[int]:
    """Where each line of ``text`` starts, as CPython's parser counts lines (``\n``, ``\r\n`` or ``\r``)."""
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


def _without_annotations(fn: ast.FunctionDef) -> ast.FunctionDef:
    """``fn`` without its decorators and the annotations of its signature, which nothing here reads (in generated
    bindings -- ctypes stubs by the thousand -- they are most of what a summary would keep alive)."""
    fn.decorator_list = []
    fn.returns = None
    a = fn.args
    for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
        if p is not None:
            p.annotation = None
    return fn


def _param_names(fn: ast.FunctionDef) -> set[str]:
    a = fn.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    for p in (a.vararg, a.kwarg):
        if p is not None:
            names.add(p.arg)
    return names


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _own_nodes(fn: ast.FunctionDef):
    """The nodes of a function's body, nested functions, classes and lambdas left out."""
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _find_generation(path: str, fn: ast.FunctionDef) -> tuple[Optional[Generating], list[str]]:
    """Does ``fn`` generate once per call with its parameters as input? (assignments inside the function carry
    the parameters forward: ``ids = tok(p)`` then ``model.generate(**ids)``.) Where it does, or else the dotted
    callees it feeds its parameters to."""
    tainted = _param_names(fn)
    nodes = sorted(_own_nodes(fn), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _names(node.value) & tainted:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                tainted |= _names(t)
    callees: list[str] = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        used: set[str] = set()
        for arg in node.args:
            used |= _names(arg)
        for kw in node.keywords:
            used |= _names(kw.value)
        if not used & tainted:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in GENERATE_METHODS:
            receiver = _dotted(func.value) or "<expr>"
            if any(w in receiver.rsplit(".", 1)[-1].lower() for w in _FOREIGN_RECEIVERS):
                continue
            end_line = getattr(node, "end_lineno", None) or node.lineno
            end_col = getattr(node, "end_col_offset", None) or node.col_offset
            return Generating(path, node.lineno, node.col_offset + 1, end_line, end_col + 1, f"{receiver}.{func.attr}"), []
        dotted = _dotted(func)
        if dotted:
            callees.append(dotted)
    return None, callees


def _dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


# -- evaluation ---------------------------------------------------------------------------------------------
class Evaluator:
    """Evaluates expressions of the project's modules; ``stack`` breaks cycles, ``depth`` bounds the work."""

    def __init__(self, project: "Project"):
        self.project = project
        self._stack: set[tuple[str, str]] = set()

    def unknown(self, s: ModuleSummary, node: Optional[ast.AST]) -> SValue:
        line, col, end_line, end_col = _where(node)
        return SValue("unknown", None, s.path, line, col, end_line, end_col)

    def lookup(self, importer: str, target: str, depth: int = 0) -> Optional[tuple[ModuleSummary, str, list[str]]]:
        """(summary, name, rest) for ``module.NAME[.rest]`` seen from ``importer``; None when the module is not in
        the project or cannot be parsed."""
        found = self.project.split_target(importer, target)
        if found is None:
            return None
        path, attrs = found
        if not attrs:
            return None  # a module, not a name in one
        s = self.project.summary(path)
        if s is None:
            return None
        return s, attrs[0], attrs[1:]

    def name_value(self, importer: str, target: str, depth: int = 0) -> Optional[SValue]:
        """The value of the dotted ``target`` (``config.MODEL_ID``) as seen from ``importer``."""
        found = self.lookup(importer, target, depth)
        if found is None:
            return None
        s, name, rest = found
        if rest:
            return None
        return self.binding(s, name, depth + 1)

    def binding(self, s: ModuleSummary, name: str, depth: int) -> SValue:
        key = (s.path, name)
        if depth > MAX_DEPTH or key in self._stack:
            return self.unknown(s, None)
        self._stack.add(key)
        try:
            values = s.assigns.get(name)
            if values is not None:
                if len(values) != 1 or values[0] is None or name in s.functions:
                    return self.unknown(s, values[0] if values and values[0] is not None else None)
                return self.evaluate(s, values[0], {}, depth + 1)
            if name in s.imports:
                v = self.name_value(s.path, s.imports[name], depth + 1)
                return v if v is not None else self.unknown(s, None)
            return self.unknown(s, None)
        finally:
            self._stack.discard(key)

    def function(self, importer: str, target: str, depth: int = 0) -> Optional[tuple[ModuleSummary, ast.FunctionDef]]:
        """The function the dotted ``target`` names, following re-exports (``from .load import get_config``)."""
        found = self.lookup(importer, target, depth)
        if found is None or found[2] or depth > MAX_DEPTH:
            return None
        s, name, _ = found
        if name in s.functions and name not in s.assigns:
            return s, s.functions[name]
        if name in s.imports and (s.path, name) not in self._stack:
            self._stack.add((s.path, name))
            try:
                return self.function(s.path, s.imports[name], depth + 1)
            finally:
                self._stack.discard((s.path, name))
        return None

    def call_result(self, importer: str, target: str, depth: int = 0) -> Optional[SValue]:
        """What a call to the function ``target`` returns, when it is one value whatever the arguments."""
        found = self.function(importer, target, depth)
        if found is None:
            return None
        s, fn = found
        return self.returned(s, fn, depth + 1)

    def returned(self, s: ModuleSummary, fn: ast.FunctionDef, depth: int) -> SValue:
        key = (s.path, fn.name + "()")
        if depth > MAX_DEPTH or key in self._stack:
            return self.unknown(s, fn)
        returns = [n for n in _own_nodes(fn) if isinstance(n, ast.Return)]
        if len(returns) != 1 or returns[0].value is None:
            return self.unknown(s, fn)
        local: dict[str, list[Optional[ast.expr]]] = {p: [None] for p in _param_names(fn)}
        for n in _own_nodes(fn):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    for name in _names(t):
                        local.setdefault(name, []).append(n.value if isinstance(t, ast.Name) else None)
            elif isinstance(n, (ast.AnnAssign, ast.AugAssign, ast.For, ast.With, ast.NamedExpr)):
                target = getattr(n, "target", None) or n
                for name in _names(target) if not isinstance(n, ast.With) else {x.id for x in ast.walk(n) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)}:
                    local.setdefault(name, []).append(n.value if isinstance(n, ast.AnnAssign) else None)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.attr in ("update", "pop", "setdefault", "clear"):
                local.setdefault(n.func.value.id, []).append(None)
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name):
                local.setdefault(n.value.id, []).append(None)
        self._stack.add(key)
        try:
            return self.evaluate(s, returns[0].value, local, depth + 1)
        finally:
            self._stack.discard(key)

    def evaluate(self, s: ModuleSummary, node: ast.expr, local: dict, depth: int) -> SValue:
        line, col, end_line, end_col = _where(node)

        def make(kind: str, value: Any, certainty: Certainty = CERTAIN, opaque: bool = False) -> SValue:
            return SValue(kind, value, s.path, line, col, end_line, end_col, s.source(node), certainty, opaque)

        if depth > MAX_DEPTH:
            return make("unknown", None)
        if isinstance(node, ast.Constant):
            return make("const", node.value) if isinstance(node.value, (str, int, float, bool, type(None))) else make("unknown", None)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            num = node.operand.value
            return make("const", -num) if isinstance(num, (int, float)) and not isinstance(num, bool) else make("unknown", None)
        if isinstance(node, ast.Name):
            if node.id in local:
                values = local[node.id]
                if len(values) != 1 or values[0] is None:
                    return make("unknown", None)
                return self.evaluate(s, values[0], {k: v for k, v in local.items() if k != node.id}, depth + 1)
            if node.id in s.imports and node.id not in s.assigns:
                target = s.imports[node.id]
                found = self.name_value(s.path, target, depth + 1)
                if found is not None:
                    return found
                return make("ref", target) if not target.startswith(".") else make("unknown", None)
            return self.binding(s, node.id, depth + 1)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted:
                root, _, rest = dotted.partition(".")
                if root in s.imports and root not in s.assigns and root not in local:
                    target = f"{s.imports[root]}.{rest}"
                    found = self.name_value(s.path, target, depth + 1)
                    if found is not None:
                        return found
                    if self.project.split_target(s.path, target) is None:
                        return make("ref", target)
            return make("unknown", None)
        if isinstance(node, ast.Dict):
            out: dict[str, SValue] = {}
            opaque = False
            for k, item in zip(node.keys, node.values):
                if k is None:
                    inner = self.evaluate(s, item, local, depth + 1)
                    if inner.kind == "dict":
                        out.update(inner.value)
                        opaque = opaque or inner.opaque
                    else:
                        opaque = True
                    continue
                key = self.evaluate(s, k, local, depth + 1)
                if key.kind == "const" and isinstance(key.value, str):
                    out[key.value] = self.evaluate(s, item, local, depth + 1)
                else:
                    opaque = True
            return make("dict", out, opaque=opaque)
        if isinstance(node, ast.Call):
            return self.call(s, node, local, depth, make)
        if isinstance(node, ast.Subscript):
            base = self.evaluate(s, node.value, local, depth + 1)
            key = self.evaluate(s, node.slice, local, depth + 1) if isinstance(node.slice, ast.expr) else None
            if base.kind == "dict" and key is not None and key.kind == "const" and key.value in base.value:
                return base.value[key.value]
            return make("unknown", None)
        return make("unknown", None)

    def call(self, s: ModuleSummary, node: ast.Call, local: dict, depth: int, make) -> SValue:
        dotted = _dotted(node.func) or ""
        root, _, rest = dotted.partition(".")
        qualified = f"{s.imports[root]}.{rest}".rstrip(".") if root in s.imports else dotted
        last = qualified.rsplit(".", 1)[-1]
        if qualified in ("os.environ.get", "os.getenv") and len(node.args) >= 2:
            d = self.evaluate(s, node.args[1], local, depth + 1)
            if d.known:
                d.certainty = DEFAULT
            return d
        if last in QUANT_CALLS or last == "dict" and dotted == "dict":
            out: dict[str, SValue] = {}
            opaque = bool(node.args) and last == "dict"
            for kw in node.keywords:
                if kw.arg is None:
                    inner = self.evaluate(s, kw.value, local, depth + 1)
                    if inner.kind == "dict":
                        out.update(inner.value)
                        opaque = opaque or inner.opaque
                    else:
                        opaque = True
                else:
                    out[kw.arg] = self.evaluate(s, kw.value, local, depth + 1)
            if last in QUANT_CALLS and node.args:
                opaque = True
            return make("quant" if last in QUANT_CALLS else "dict", out, opaque=opaque)
        if isinstance(node.func, ast.Name) and node.func.id in s.functions and node.func.id not in local and node.func.id not in s.assigns:
            return self.returned(s, s.functions[node.func.id], depth + 1)
        if root in s.imports and root not in s.assigns and root not in local:
            v = self.call_result(s.path, qualified, depth + 1)
            if v is not None:
                return v
        return make("unknown", None)

    # -- generation -----------------------------------------------------------------------------------
    def generating(self, importer: str, target: str, depth: int = 0) -> Optional[Generating]:
        """Where the function ``target`` generates once per call (directly, or through a function of the project
        it calls with its parameters), or None."""
        found = self.function(importer, target, depth)
        if found is None or depth > MAX_DEPTH:
            return None
        s, fn = found
        found_here = s.generation(fn.name)
        if found_here is not None:
            return found_here
        key = (s.path, fn.name + "/gen")
        if key in self._stack:
            return None
        self._stack.add(key)
        try:
            for callee in s.callees(fn.name):
                root, _, rest = callee.partition(".")
                if root in s.functions and not rest:
                    inner = self.generating_local(s, root, depth + 1)
                elif root in s.imports:
                    inner = self.generating(s.path, f"{s.imports[root]}.{rest}".rstrip("."), depth + 1)
                else:
                    inner = None
                if inner is not None:
                    return inner
        finally:
            self._stack.discard(key)
        return None

    def may_generate(self, importer: str, targets: "Iterable[str]") -> bool:
        """Could :meth:`generating` find a generation for one of ``targets`` (as seen from ``importer``)? The same
        walk over functions, re-exports and callees without its step bound and with each function visited once,
        so False means :meth:`generating` answers None for every target, in time linear in the functions seen."""
        todo = [(importer, t) for t in targets]
        seen: set[tuple[str, str]] = set()
        while todo:
            where, target = todo.pop()
            place = self.project.split_target(where, target)
            if place is None or len(place[1]) != 1 or not self.project.may_define(place[0], place[1][0]):
                continue  # not a function of a project module (no module is parsed to say so)
            found = self.function(where, target)
            if found is None:
                continue
            s, fn = found
            if (s.path, fn.name) in seen:
                continue
            seen.add((s.path, fn.name))
            if s.generation(fn.name) is not None:
                return True
            for callee in s.callees(fn.name):
                root, _, rest = callee.partition(".")
                if root in s.functions and not rest:
                    if s.generation(root) is not None:
                        return True
                elif root in s.imports:
                    todo.append((s.path, f"{s.imports[root]}.{rest}".rstrip(".")))
        return False

    def generating_local(self, s: ModuleSummary, name: str, depth: int) -> Optional[Generating]:
        return s.generation(name)


def _where(node: Optional[ast.AST]) -> tuple[int, int, int, int]:
    if node is None or not hasattr(node, "lineno"):
        return 1, 1, 1, 1
    end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
    end_col = getattr(node, "end_col_offset", None)
    return node.lineno, node.col_offset + 1, end_line, (end_col if end_col is not None else node.col_offset) + 1  # type: ignore[attr-defined]


# -- imports and call chains in a file's text (no parse) -----------------------------------------------------
# What may stand between the tokens of one statement outside brackets (spaces, line continuations) and inside
# them (any white space, comments).
_G = r"(?:[ \t\f]|\\\r?\n)*"
_GB = r"(?:\s|\\\r?\n|#[^\n]*(?![^\n]))*"
# (No leading ``\b``: a pattern that starts with a literal is searched for fast; see _word_matches.)
_FROM = re.compile(r"from(?P<mod>(?:" + _G + r"[.\w])*?)" + _G + r"\bimport\b")
_IMPORT = re.compile(r"import\b" + _G + r"(?:\((?P<paren>(?:[^)#]|#[^\n]*(?![^\n]))*)\)|(?P<line>(?:[^\n\\;#]|\\\r?\n|\\)*))")
_ITEM = re.compile(r"\s*(?P<name>\.*\s*\w+(?:\s*\.\s*\w+)*?)(?:\s+as\s+(?P<alias>\w+))?\s*")
_SPACE = re.compile(r"\s|\\\r?\n|#[^\n]*")
_CLOSERS = r"(?:" + _GB + r"\))*"  # ``(helpers.run)(p)``, ``(helpers).run(p)``
_CALLED = re.compile(r"((?:" + _CLOSERS + _GB + r"\." + _GB + r"\w+)*)" + _CLOSERS + _GB + r"\(")  # after a name: called


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _word_matches(pattern: "re.Pattern[str]", text: str) -> Iterator["re.Match[str]"]:
    """``re.finditer`` of ``\b`` + ``pattern`` (which starts with a word character): the same matches, found
    about ten times faster (a leading ``\b`` keeps the regex engine from searching for the literal)."""
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return
        at = m.start()
        if at and _is_word_char(text[at - 1]):
            pos = at + 1  # not a word start: look again from the next character, as \b would
            continue
        yield m
        pos = m.end()


def imported_names(text: str) -> dict[str, set[str]]:
    """Every name a file may bind with an import statement (anywhere in it), and the dotted targets it may stand
    for (``from .utils import ask as a`` -> ``{"a": {".utils.ask"}}``, ``import pkg.mod`` -> ``{"pkg": {"pkg"}}``),
    found without parsing. An over-approximation of what the Python front end records (``Resolver.imported``): the
    words of comments and strings that read like imports count too."""
    out: dict[str, set[str]] = {}
    bases: dict[int, list[str]] = {}  # end of a ``from X import`` -> X
    plain_too: set[int] = set()  # ... also read as a plain import: the clause spans lines (a comment may end in it)
    for m in _word_matches(_FROM, text):
        mod = _SPACE.sub("", m.group("mod"))
        if re.fullmatch(r"\.*(?:\w+(?:\.\w+)*)?", mod) and mod:
            bases.setdefault(m.end(), []).append(mod)
            if "\\" in m.group(0):
                plain_too.add(m.end())
    for m in _word_matches(_IMPORT, text):
        body = _SPACE.sub(" ", m.group("paren") if m.group("paren") is not None else m.group("line") or "")
        end = m.start() + len("import")
        plain = end not in bases or end in plain_too
        for item in body.split(","):
            found = _ITEM.fullmatch(item)
            if found is None:
                continue
            name, alias = re.sub(r"\s+", "", found.group("name")), found.group("alias")
            if plain and not name.startswith("."):  # read as ``import name [as alias]``
                if alias:
                    out.setdefault(alias, set()).add(name)
                else:
                    root = name.split(".", 1)[0]
                    out.setdefault(root, set()).add(root)
            for base in bases.get(end, ()):  # ``from base import name [as alias]``
                if "." not in name:
                    out.setdefault(alias or name, set()).add(f"{base}{'' if base.endswith('.') else '.'}{name}")
    return out


_DEF = re.compile(r"\bdef(?:[ \t\f]|\\\r?\n)+(\w+)")


def defined_names(text: str) -> frozenset[str]:
    """Every name a module's text may bind with ``def`` or an import statement (anywhere in it): a superset of
    the functions and imports of its summary, found without parsing."""
    return frozenset(_DEF.findall(text)) | frozenset(imported_names(text))


def call_targets(text: str, names: dict[str, set[str]]) -> set[str]:
    """The dotted targets the file may call through an imported name: for each call of a name of ``names``, with
    or without attributes (``helpers.run(p)`` after ``from pkg import helpers``: ``pkg.helpers.run``). An
    over-approximation of the callees the Python front end asks the project about (a call in a comment or a string
    counts too)."""
    out: set[str] = set()
    for name, bases in names.items():
        at = text.find(name)
        while at >= 0:
            end = at + len(name)
            m = None
            if (at == 0 or not _is_word_char(text[at - 1])) and (end == len(text) or not _is_word_char(text[end])):
                m = _CALLED.match(text, end)
            if m is not None:
                attrs = _SPACE.sub("", m.group(1)).replace(")", "")
                out.update(base + attrs for base in bases)
            at = text.find(name, end)
    return out
