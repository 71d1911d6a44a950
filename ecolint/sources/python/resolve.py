"""Names, values and scopes of a Python module: what an expression evaluates to, as far as the file says.

* an import-alias map (``import transformers as tf``, ``from transformers import BitsAndBytesConfig as BNB``);
* per-scope assignment tables (module, each function) so a config built in one place and passed in another
  resolves, as do dict literals, ``**kwargs`` unpacking, module constants, function defaults, ``argparse``
  ``default=`` and ``os.environ.get(key, default)``; anything assigned more than once with different values,
  or computed at run time, is ``unknown``;
* which names are read, rebound or changed in place after they are built (what a fix needs to stay local).

:class:`ScopeCollector` fills a :class:`Resolver` in one pass over the tree; :meth:`Resolver.resolve` then
answers for any expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from ecolint.dtypes import dtype_name
from ecolint.facts import (
    CERTAIN,
    DEFAULT,
    UNKNOWN,
    Certainty,
    QuantSpec,
    Ref,
    Span,
    Value,
    unknown,
)
from ecolint.sources.cst_walk import names_in
from ecolint.sources.python.configs import config_use
from ecolint.sources.python.item import Item
from ecolint.sources.python.vocab import MUTATORS

MAX_DEPTH = 12  # resolution depth (names referring to names ...)


@dataclass
class Scope:
    node: Optional[cst.CSTNode]
    parent: Optional[Scope]
    assigns: dict[str, list[Optional[cst.BaseExpression]]] = field(default_factory=dict)
    params: dict[str, Optional[cst.BaseExpression]] = field(default_factory=dict)
    name: str = "<module>"
    returns: list[Optional[cst.BaseExpression]] = field(default_factory=list)


class Resolver:
    """What the names of one module stand for (filled by :class:`ScopeCollector`)."""

    def __init__(self, module: cst.Module, positions):
        self.module = module
        self.pos = positions
        self.aliases: dict[str, str] = {}
        self.module_scope = Scope(None, None)
        self.scopes: dict[Optional[cst.CSTNode], Scope] = {None: self.module_scope}
        self.functions: dict[str, Scope] = {}
        self.argparse_defaults: dict[str, Value] = {}
        self.namespaces: set[str] = set()  # names bound to parser.parse_args()
        self.assigned_to: dict[int, str] = {}  # id(call node) -> simple target name
        # What a fix needs to know to stay local (see Edits.guarded):
        self.bound_to: dict[int, str] = {}  # id(dict literal / call) -> the simple name it is assigned to
        self.name_uses: dict[str, int] = {}  # every Name in the file, by identifier (bindings included)
        self.mutated: set[str] = set()  # names whose container is changed after it is built (kw[k] = v, kw.update())
        # Other modules of the project (see :mod:`ecolint.project`): every imported name -> its dotted target
        # (relative imports keep their dots), and the hook that reads values from them (None: project model off).
        self.imported: dict[str, str] = {}
        self.imports = import_hook()
        self.with_items: dict[str, list[cst.BaseExpression]] = {}  # name -> what ``with <item> as name`` opens
        # Each node's span and code, computed once: resolving a name reads every value assigned to it, so the
        # same expressions are asked for again and again (code generation is most of what that costs).
        self._spans: dict[cst.CSTNode, Span] = {}
        self._codes: dict[cst.CSTNode, str] = {}

    # -- positions and names ------------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        s = self._spans.get(node)
        if s is None:
            r = self.pos[node]
            s = self._spans[node] = Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
        return s

    def line(self, node: cst.CSTNode) -> int:
        """The line ``node`` starts on (``span(node).line``, cheaper for a class statement)."""
        s = self._spans.get(node)
        return s.line if s is not None else self.pos.start_line(node)

    def code(self, node: cst.CSTNode) -> str:
        c = self._codes.get(node)
        if c is None:
            c = self._codes[node] = self.module.code_for_node(node)
        return c

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

    # -- value resolution ------------------------------------------------------------------------------
    def scope_of_name(self, scope: Scope, name: str) -> Optional[Scope]:
        s: Optional[Scope] = scope
        while s is not None:
            if name in s.assigns or name in s.params:
                return s
            s = s.parent
        return None

    def holds_nothing_built(self, node: cst.Name, scope: Scope) -> bool:
        """True when :meth:`resolve` of the name ``node`` cannot give an object built by a call (a quantization
        config): the steps of its ``Name`` branch that end without resolving anything further -- a constant, an
        import alias, a name bound nowhere, a parameter without a default (``self``). Asked before resolving the
        owner of every attribute assignment, most of which are ``self.x = ...``."""
        name = node.value
        if name in ("True", "False", "None"):
            return True
        owner = self.scope_of_name(scope, name)
        if owner is None:
            return not (self.imports is not None and name in self.imported)  # (else: an alias or unknown)
        return name not in owner.assigns and owner.params.get(name) is None

    def resolve(self, node: Optional[cst.BaseExpression], scope: Scope, depth: int = 0) -> Value:
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
                return Value(left.value + right.value, weakest(left, right), span, src)
            return unknown(span, src)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self.resolve(node.expression, scope, depth + 1)
            if inner.known and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return Value(-inner.value, inner.certainty, span, src)
            return unknown(span, src)
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Value({"True": True, "False": False, "None": None}[node.value], CERTAIN, span, src)
            owner = self.scope_of_name(scope, node.value)
            if owner is None and self.imports is not None and node.value in self.imported:
                found = self.imports.value(self, self.imported[node.value], node)
                if found is not None:
                    return found
            if node.value in self.aliases:
                return Value(Ref(self.aliases[node.value]), CERTAIN, span, src)
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
                if all(same(r.value, first.value) for r in resolved[1:]):
                    value = first.value
                    if isinstance(value, dict) and node.value in self.mutated:
                        # kw["x"] = ... / kw.update(...) later: keys we cannot see may arrive
                        value = {**value, "**": Item(unknown(span), node, node)}
                    return Value(value, first.certainty, first.span, src)
                return unknown(span, src)
            default = owner.params.get(node.value)
            if default is None:
                return unknown(span, src)
            inner = self.resolve(default, owner.parent or self.module_scope, depth + 1)
            return Value(inner.value, DEFAULT if inner.known else UNKNOWN, inner.span, src)
        if isinstance(node, (cst.Attribute, cst.Subscript)) and self.imports is not None:
            found = config_use(self, node, scope)  # a key of a YAML config the file loads
            if found is not None:
                return found
        if isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and base.value in self.namespaces:
                dest = node.attr.value
                if dest in self.argparse_defaults:
                    d = self.argparse_defaults[dest]
                    return Value(d.value, DEFAULT if d.known else UNKNOWN, d.span, src)
                return unknown(span, src)
            target = self.imported_target(node, scope)
            if target is not None and self.imports is not None:
                found = self.imports.value(self, target, node)
                if found is not None:
                    return found
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
                        entry: Value = base.value[key.value].value
                        return Value(entry.value, weakest(base, key, entry), entry.span, src)
            return unknown(span, src)
        if isinstance(node, cst.IfExp):
            a = self.resolve(node.body, scope, depth + 1)
            b = self.resolve(node.orelse, scope, depth + 1)
            if a.known and b.known and same(a.value, b.value):
                return Value(a.value, weakest(a, b), span, src)
            return self.dtype_by_flag(node, a, b, scope, depth) or unknown(span, src)
        return unknown(span, src)

    def dtype_by_flag(self, node: cst.IfExp, a: Value, b: Value, scope: Scope, depth: int) -> Value | None:
        """``torch.float16 if args.fp16 else torch.float32`` with ``--fp16`` a flag that is off by default: the
        default branch's dtype, as a DEFAULT (the flag changes it at run time); its source says which flag.
        Only dtypes: other values chosen by a flag stay unknown."""
        if not (a.known and b.known and isinstance(a.value, str) and isinstance(b.value, str)):
            return None
        if dtype_name(a.value) == "other" or dtype_name(b.value) == "other":
            return None
        test = self.resolve(node.test, scope, depth + 1)
        if test.certainty != DEFAULT or not isinstance(test.value, bool):
            return None
        chosen = a if test.value else b
        flag = self.code(node.test).strip()
        attr = re.fullmatch(r"[A-Za-z_]\w*\.([A-Za-z_]\w*)", flag)
        source = f"without --{attr.group(1).replace('_', '-')}" if attr and not test.value else self.code(node).strip()
        return Value(chosen.value, DEFAULT, self.span(node), source)

    def dict_items(self, node: cst.Dict, scope: Scope, depth: int) -> dict[str, Item]:
        out: dict[str, Item] = {}
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                key = self.resolve(el.key, scope, depth + 1)
                if key.known and isinstance(key.value, str):
                    v = self.resolve(el.value, scope, depth + 1)
                    v.span = v.span or self.span(el.value)
                    out[key.value] = Item(v, el, node)
            elif isinstance(el, cst.StarredDictElement):
                inner = self.resolve(el.value, scope, depth + 1)
                if inner.known and isinstance(inner.value, dict):
                    out.update(inner.value)
                else:
                    out["**"] = Item(unknown(self.span(el)), el, node)
        return out

    def resolve_call(self, node: cst.Call, scope: Scope, depth: int, span: Span, src: str) -> Value:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and self.imports is not None:
            found = config_use(self, node, scope)  # cfg.get("key") of a YAML config the file loads
            if found is not None:
                return found
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
                    out[arg.keyword.value] = Item(self.resolve(arg.value, scope, depth + 1), arg, node)
                elif arg.star == "**":
                    inner = self.resolve(arg.value, scope, depth + 1)
                    if inner.known and isinstance(inner.value, dict):
                        out.update(inner.value)
                    else:
                        out["**"] = Item(unknown(self.span(arg)), arg, node)
            return Value(out, CERTAIN, span, src)
        known = self.call_value(node, q, scope)
        if known is not None:
            return Value(known, CERTAIN, span, src)
        target = self.imported_target(node.func, scope)
        if target is not None and self.imports is not None:
            found = self.imports.call(self, target, node)
            if found is not None:
                return found
        if isinstance(node.func, cst.Name) and node.func.value in self.functions:
            fn = self.functions[node.func.value]
            if len(fn.returns) == 1 and fn.returns[0] is not None:
                inner = self.resolve(fn.returns[0], fn, depth + 1)
                if inner.known:
                    return inner
        if q in ("torch.device",) and node.args:
            return self.resolve(node.args[0].value, scope, depth + 1)
        return unknown(span, src)

    def imported_target(self, node: cst.BaseExpression, scope: Optional[Scope] = None) -> Optional[str]:
        """``config.MODEL_ID`` for ``MODEL_ID`` after ``from config import MODEL_ID`` (or ``cfg.MODEL_ID`` after
        ``import config as cfg``): the dotted name an expression refers to in another module; None for a name
        bound in this file or not imported."""
        name = self.dotted(node)
        if not name:
            return None
        root, _, rest = name.partition(".")
        if root not in self.imported or self.scope_of_name(scope or self.module_scope, root) is not None:
            return None
        base = self.imported[root]
        return f"{base}.{rest}" if rest else base

    # -- facts -------------------------------------------------------------------------------------------
    def kwargs_of(self, call: cst.Call, scope: Scope) -> tuple[dict[str, Item], bool]:
        """Keyword arguments of a call, ``**dict`` unpacking resolved; second value: an unresolved ``**``."""
        out: dict[str, Item] = {}
        opaque = False
        for arg in call.args:
            if arg.keyword is not None:
                out[arg.keyword.value] = Item(self.resolve(arg.value, scope), arg, call)
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

    def call_value(self, node: cst.Call, q: str, scope: Scope) -> Optional[Any]:
        """The object that the call ``node`` (to the qualified name ``q``) builds, when a subclass recognises the API
        (a quantization config); None otherwise."""
        return None

    def shared_container(self, container: cst.CSTNode) -> bool:
        """A dict (or dict() call) bound to a name that is read more than once or changed after it is built."""
        name = self.bound_to.get(id(container))
        if name is None:
            return False
        return name in self.mutated or self.name_uses.get(name, 0) > 2  # the binding and one use


def import_hook():
    """The hook that reads values from the project's other modules, when the project model is on for the file
    being analysed (see :mod:`ecolint.project.bridge`)."""
    from ecolint.project.bridge import hook

    return hook()


_STRENGTH = {CERTAIN: 0, DEFAULT: 1, UNKNOWN: 2}


def weakest(*values: Value) -> Certainty:
    """The least certain of the values' certainties."""
    return max((v.certainty for v in values), key=_STRENGTH.__getitem__)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, (dict, QuantSpec)) or isinstance(b, (dict, QuantSpec)):
        return a is b
    return type(a) is type(b) and a == b


def target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for el in target.elements:
            out |= target_names(el.value)
        return out
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


class ScopeCollector(cst.CSTVisitor):
    """One pass that fills a :class:`Resolver`: imports, scopes and assignments, argparse defaults, name uses and
    in-place changes."""

    def __init__(self, resolver: Resolver):
        self.a = resolver
        self.stack: list[Scope] = [resolver.module_scope]

    @property
    def scope(self) -> Scope:
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
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else full.split(".", 1)[0]
            self.a.imported[local] = full if alias.asname is not None else local

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not isinstance(node.names, cst.ImportStar):
            module = "." * len(node.relative) + (self.a.dotted(node.module) or "" if node.module is not None else "")
            for alias in node.names:
                if isinstance(alias.name, cst.Name):
                    local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else alias.name.value
                    self.a.imported[local] = f"{module}{'' if module.endswith('.') or not module else '.'}{alias.name.value}"
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
        scope = Scope(node, self.scope, name=node.name.value)
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
                for n in target_names(t.target):
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
        for n in target_names(node.target):
            self._bind(n, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            for n in target_names(node.asname.name):
                self._bind(n, None)
            if isinstance(node.asname.name, cst.Name):
                self.a.with_items.setdefault(node.asname.name.value, []).append(node.item)

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
        if name in MUTATORS and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.a.mutated.add(func.value.value)

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
