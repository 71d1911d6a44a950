"""Values a Python file reads from a YAML config of its project: ``cfg.model.model_id``, ``cfg["model"]["id"]``.

This module recognises the Python side -- which name holds a loaded config and which keys an expression reads;
:mod:`ecolint.project.configs` reads and composes the YAML. A name holds a config when it is

* the first parameter of a function decorated with ``@hydra.main(config_path="...", config_name="...")``;
* bound once to ``hydra.compose(config_name="...")`` (no ``overrides``) in a file that calls
  ``initialize(config_path="...")`` with one literal path;
* bound once to ``OmegaConf.load("x.yaml")``, or to ``yaml.safe_load(...)`` / ``yaml.load(...)`` of
  ``open("x.yaml")``, ``Path("x.yaml").read_text()`` or a file opened by ``with open("x.yaml") as f``.

Paths must be string literals (the results cache stamps the files such literals name). Attribute access
(``cfg.model``) is followed for Hydra and OmegaConf configs, subscripts (``cfg["model"]``) for all; ``.get("k")``
of a present key too. Everything else -- a config passed to another function, changed after loading, merged with
the command line -- is not a config here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from ecolint.facts import Value

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.sources.python.resolve import Resolver, Scope

_YAML_LOADS = ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load")
_MAX_KEYS = 12


def config_use(r: "Resolver", node: cst.BaseExpression, scope: "Scope") -> Optional[Value]:
    """The value of ``node`` when it reads a key of a loaded config; None otherwise (resolved as usual)."""
    if r.imports is None:
        return None
    chain = _chain(node)
    if chain is None:
        return None
    root, keys, attribute = chain
    source = config_source(r, root, scope)
    if source is None or (attribute and source[0] == "file" and not source[2]):
        return None  # a plain dict from yaml.safe_load has no attributes
    return r.imports.config(r, source, keys, node)


def _literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - an odd literal
            return None
        return value if isinstance(value, str) else None
    return None


def _chain(node: cst.BaseExpression) -> Optional[tuple[str, list[str], bool]]:
    """``cfg.a["b"].get("c")`` -> ("cfg", ["a", "b", "c"], True): the root name, the keys read and whether an
    attribute step is among them; None for anything else."""
    keys: list[str] = []
    attribute = False
    while len(keys) <= _MAX_KEYS:
        if isinstance(node, cst.Attribute):
            keys.append(node.attr.value)
            attribute = True
            node = node.value
        elif isinstance(node, cst.Subscript):
            if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
                return None
            key = _literal(node.slice[0].slice.value)
            if key is None:
                return None
            keys.append(key)
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and len(node.args) == 1:
            key = _literal(node.args[0].value)
            if key is None or node.args[0].keyword is not None:
                return None
            keys.append(key)
            node = node.func.value
        elif isinstance(node, cst.Name):
            return (node.value, list(reversed(keys)), attribute) if keys else None
        else:
            return None
    return None


def config_source(r: "Resolver", name: str, scope: "Scope", depth: int = 0) -> Optional[tuple]:
    """What the name ``name`` holds, as seen from ``scope``: ``("hydra", config_path, config_name, self_first)``,
    ``("file", literal path, omegaconf?)`` or None."""
    owner = r.scope_of_name(scope, name)
    if owner is None or depth > 4 or name in r.mutated:
        return None
    values = owner.assigns.get(name)
    if values is None:
        fn = owner.node
        if isinstance(fn, cst.FunctionDef) and name in owner.params and _first_param(fn) == name:
            return _hydra_main(r, fn)
        return None
    if len(values) != 1 or values[0] is None:
        return None
    value = values[0]
    if isinstance(value, cst.Name):
        return config_source(r, value.value, owner, depth + 1)
    if not isinstance(value, cst.Call):
        return None
    q = r.qualify(value.func) or ""
    if q.endswith("OmegaConf.load") and value.args:
        path = _literal(value.args[0].value)
        return ("file", path, True) if path else None
    if q in _YAML_LOADS and value.args:
        path = _opened(r, value.args[0].value, owner)
        return ("file", path, False) if path else None
    if q in ("hydra.compose", "hydra.experimental.compose"):
        return _compose(r, value)
    return None


def _first_param(fn: cst.FunctionDef) -> Optional[str]:
    params = list(fn.params.posonly_params) + list(fn.params.params)
    return params[0].name.value if params else None


def _keywords(call: cst.Call) -> dict[str, cst.BaseExpression]:
    return {a.keyword.value: a.value for a in call.args if a.keyword is not None}


def _hydra_main(r: "Resolver", fn: cst.FunctionDef) -> Optional[tuple]:
    for dec in fn.decorators:
        call = dec.decorator
        if not isinstance(call, cst.Call) or r.qualify(call.func) != "hydra.main":
            continue
        kw = _keywords(call)
        positional = [a.value for a in call.args if a.keyword is None]
        path = kw.get("config_path", positional[0] if positional else None)
        name = kw.get("config_name", positional[1] if len(positional) > 1 else None)
        config_path, config_name = _literal(path), _literal(name)
        if config_path is None or not config_name:
            return None
        version = _literal(kw.get("version_base"))
        return ("hydra", config_path, config_name, bool(version and version.startswith("1.0")))
    return None


def _compose(r: "Resolver", call: cst.Call) -> Optional[tuple]:
    kw = _keywords(call)
    name = _literal(kw.get("config_name", call.args[0].value if call.args and call.args[0].keyword is None else None))
    overrides = kw.get("overrides")
    if not name or (overrides is not None and not (isinstance(overrides, cst.List) and not overrides.elements)):
        return None
    paths = {p for p in _initialize_paths(r) if p is not None}
    if len(paths) != 1:
        return None
    return ("hydra", paths.pop(), name, False)


def _initialize_paths(r: "Resolver") -> list[Optional[str]]:
    """The ``config_path`` of every ``initialize(...)`` call of the module (None where it is not a literal)."""
    found: list[Optional[str]] = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if r.qualify(node.func) in ("hydra.initialize", "hydra.experimental.initialize"):
                found.append(_literal(_keywords(node).get("config_path")))

    r.module.visit(Visitor())
    return found


def _opened(r: "Resolver", node: cst.BaseExpression, scope: "Scope") -> Optional[str]:
    """The literal path of ``open("x.yaml")``, ``open("x.yaml").read()``, ``Path("x.yaml").read_text()`` or of a
    name bound by ``with open("x.yaml") as f``."""
    if isinstance(node, cst.Name):
        items = r.with_items.get(node.value, [])
        if len(items) != 1:
            return None  # not opened by a ``with``, or by several
        item = items[0]
        owner = r.scope_of_name(scope, node.value)
        if owner is None or len(owner.assigns.get(node.value, [])) != 1:
            return None  # bound more than once
        return _opened(r, item, scope)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("read", "read_text") and not node.args:
        node = node.func.value
    if not isinstance(node, cst.Call) or not node.args:
        return None
    q = r.qualify(node.func) or ""
    if q in ("open", "io.open", "builtins.open", "pathlib.Path", "Path"):
        mode = _literal(node.args[1].value) if len(node.args) > 1 and node.args[1].keyword is None else _literal(_keywords(node).get("mode"))
        if mode is not None and any(c in mode for c in "wa+x"):
            return None
        return _literal(node.args[0].value)
    return None
