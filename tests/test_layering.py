"""The import contract of the package, checked on the source with ``ast`` (function-level imports count too;
``if TYPE_CHECKING:`` imports do not, they never run).

* Layers, lowest first: facts < knowledge < sources < rules < settings < protocols < runner < cli. That is the
  contract facts < sources < rules < runner < cli with knowledge < {rules, protocols}, made total: front ends
  consult the GPU and model registries (knowledge < sources), settings validate rule selectors (rules <
  settings), and the advisor reads settings (settings < protocols). A module may import its own layer and the
  layers below it, never one above.
* No module imports another package's private name (``from ecolint.x import _y`` across packages).
* No import cycles among ecolint modules, except the edges in :data:`LAZY`, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ecolint"

# Layer of each module, by the longest matching dotted prefix. Lower numbers are lower layers.
FACTS, KNOWLEDGE, SOURCES, RULES, SETTINGS, PROTOCOLS, RUNNER, CLI = range(8)
LAYERS = {
    "ecolint": FACTS,  # the package root (__version__)
    "ecolint.facts": FACTS,
    "ecolint.text": FACTS,
    "ecolint.files": FACTS,
    "ecolint.errors": FACTS,
    "ecolint.dtypes": FACTS,
    "ecolint.bnb": FACTS,
    "ecolint.pins": SETTINGS,
    "ecolint.versions": FACTS,
    "ecolint.knowledge": KNOWLEDGE,
    "ecolint.sources": SOURCES,
    "ecolint.project": SOURCES,  # the Python front end's view of the other modules of a file's project
    "ecolint.config": SETTINGS,
    "ecolint.rule": RULES,
    "ecolint.registry": RULES,
    "ecolint.rules": RULES,
    "ecolint.protocols": PROTOCOLS,
    "ecolint.noqa": RUNNER,
    "ecolint.prefilter": RUNNER,
    "ecolint.discovery": RUNNER,
    "ecolint.cache": RUNNER,
    "ecolint.runner": RUNNER,
    "ecolint.fix": RUNNER,
    "ecolint.baseline": CLI,
    "ecolint.add_noqa": RUNNER,
    "ecolint.report": CLI,
    "ecolint.api": CLI,
    "ecolint.docs": CLI,
    "ecolint.cli": CLI,
    "ecolint.protocols.cli": CLI,
    "ecolint.__main__": CLI,
}
# (importer layer, imported layer) pairs refused although the imported layer is lower: the advisor works from
# knowledge and settings, never from a front end's facts.
UNRELATED = {(PROTOCOLS, SOURCES)}

# Edges allowed to close a cycle or cross a layer: lazy (function-level) imports that are so by design.
# (importer, imported): reason.
LAZY = {
    ("ecolint.sources.python_frontend", "ecolint.prefilter"): (
        "the Python front end's stage-1 tokens and stage-2 call-site check still live in the prefilter "
        "(python_tokens, python_sites); they move into ecolint.sources.python once the concurrent precision "
        "work on that vocabulary has landed"),
    ("ecolint.report.sarif", "ecolint.report.fingerprint"): (
        "fingerprint reuses sarif's location helpers at import time; sarif needs the fingerprint only while "
        "rendering, so the back edge stays inside the function"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skip.update(id(n) for n in ast.walk(inner))
    return skip


def _imports(name: str) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for every ecolint import of module ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.extend((a.name, "", node.lineno) for a in node.names if a.name.startswith("ecolint"))
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module or ""
            if base.startswith("ecolint"):
                out.extend((base, a.name, node.lineno) for a in node.names)
    return out


def _target(module: str, attr: str) -> str:
    """The ecolint module an import names (``from ecolint.sources import words`` names ecolint.sources.words)."""
    if attr and f"{module}.{attr}" in MODULES:
        return f"{module}.{attr}"
    while module not in MODULES and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {name: {} for name in MODULES}
    for name in MODULES:
        for module, attr, line in _imports(name):
            target = _target(module, attr)
            if target != name and target in MODULES:
                graph[name].setdefault(target, line)
    return graph


def _layer(name: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{name} has no layer: add it to LAYERS in tests/test_layering.py")


def test_every_module_has_a_layer():
    for name in MODULES:
        _layer(name)


def test_layers_only_import_downwards():
    bad = []
    for name, targets in _graph().items():
        for target, line in targets.items():
            low, high = _layer(target), _layer(name)
            if (name, target) in LAZY:
                continue
            if low > high or (high, low) in UNRELATED:
                bad.append(f"{MODULES[name].relative_to(PACKAGE.parent)}:{line}: {name} imports {target} (a layer it may not see)")
    assert not bad, "\n".join(bad)


def test_no_private_names_across_packages():
    bad = []
    for name in MODULES:
        package = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
        for module, attr, line in _imports(name):
            private = attr.startswith("_") and not attr.startswith("__")
            owner = _target(module, "")
            owner_package = owner if MODULES.get(owner, Path()).name == "__init__.py" else owner.rsplit(".", 1)[0]
            if private and owner_package != package:
                bad.append(f"{MODULES[name].relative_to(PACKAGE.parent)}:{line}: {name} imports {module}.{attr}")
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    graph = _graph()
    for importer, imported in LAZY:
        graph.get(importer, {}).pop(imported, None)
    cycles = _cycles(graph)
    described = []
    for component in cycles:
        inside = set(component)
        edges = [f"    {a} -> {b} (line {graph[a][b]})" for a in component for b in graph[a] if b in inside]
        described.append("cycle among " + ", ".join(component) + ":\n" + "\n".join(edges))
    assert not cycles, "\n".join(described)


@pytest.mark.parametrize("edge", sorted(LAZY))
def test_every_allowed_edge_exists_and_is_lazy(edge):
    # An allow-list entry that no longer matches an import is stale; an allowed edge must be a function-level one.
    importer, imported = edge
    lines = [line for module, attr, line in _imports(importer) if _target(module, attr) == imported]
    assert lines, f"{importer} no longer imports {imported}: drop the entry from LAZY"
    tree = ast.parse(MODULES[importer].read_text(encoding="utf-8"))
    top = {node.lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))}
    assert not set(lines) & top, f"{importer} imports {imported} at module level"
