"""kustomize overlays, evaluated statically: a patch is judged with the manifest it patches.

A YAML file that a ``kustomization.yaml`` (in its directory or up to :data:`MAX_UP` directories above, inside the
project root) lists as a strategic-merge patch (``patchesStrategicMerge: [file]`` or ``patches: [{path: file}]``
without a JSON-patch body) is read together with the resource it patches: the kustomization's ``resources``
(files, or directories holding their own ``kustomization.yaml``, whose own patches are applied
first), matched by ``kind`` and ``metadata.name``. The patched manifest follows the strategic-merge rules that
matter for a container: mappings merge key by key, lists of mappings whose items have a ``name`` (containers,
``env``, ports, volumes) merge item by item on that name, any other list (``args``, ``command``) is replaced by
the patch's, and ``$patch: delete`` / ``$patch: replace`` are not followed (the document is then read alone).

A JSON patch (RFC 6902: ``patchesJson6902: [{target, path}]``, or a file under ``patches`` whose body is a list
of operations) is applied to the one resource its ``target`` selects (``kind``, and ``name``: exact in
``patchesJson6902``, an anchored regular expression in ``patches``; a label or annotation selector is not
followed): ``add`` (``/-`` appends to a list, an index inserts before it), ``replace`` and ``remove`` on JSON
pointers (``~1`` is ``/``), ``test`` assumed to pass; ``copy``, ``move`` or a path that does not exist leave the
patch read alone. What an operation writes is reported in the patch file, at its ``value``.

The config dialects read the patched manifest; what they find is kept only where it is written in the patch
file -- a value of the base is the base's finding, reported when the base is linted -- and the base's model and
GPU only inform the patch's findings (with the base's lines as related locations). Nothing is read outside the
project root, no ``kustomize`` binary runs, remote resources (URLs) and generators are not followed.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Optional

from ecolint.facts import Span
from ecolint.project.paths import inside_real
from ecolint.sources.tree import CEntry, CNode, Tree, walk
from ecolint.sources.words import Source

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.facts import FileFacts
    from ecolint.project.model import Project

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_UP = 2  # directories above the patch where its kustomization may be
MAX_DEPTH = 4  # kustomizations reached through ``resources``
MAX_FILES = 64
FOREIGN = -1  # the ``cell`` of a span written in another file of the overlay (see :class:`Foreign`)


class Foreign(Source):
    """The text of another file of the overlay (a base manifest): its spans carry ``cell=FOREIGN`` so that what
    the dialects find there is told apart from what the patch file says."""

    def __init__(self, text: str, path: str):
        super().__init__(text)
        self.path = path

    def span(self, start: int, end: int) -> Span:
        s = super().span(start, end)
        return Span(s.line, s.col, s.end_line, s.end_col, FOREIGN)


def local(span: Optional[Span]) -> Optional[Span]:
    """The span as a position in its own file (the foreign mark removed)."""
    return Span(span.line, span.col, span.end_line, span.end_col) if span is not None else None


def is_foreign(span: Optional[Span]) -> bool:
    return span is not None and span.cell == FOREIGN


# -- reading --------------------------------------------------------------------------------------------------
class Overlay:
    def __init__(self, project: "Project"):
        self.project = project
        self.paths: list[str] = []  # every file read, in order

    def inside(self, path: str) -> Optional[str]:
        return inside_real(self.project, path)

    def docs(self, path: str, foreign: bool, kinds: tuple[str, ...] = ("map",)) -> Optional[list[CNode]]:
        self.paths.append(path)
        if len(self.paths) > MAX_FILES:
            return None
        data = self.project.data(path)
        if data is None:
            return None
        from ecolint.sources import SourceError
        from ecolint.sources.yaml_frontend import parse

        try:
            text = data.decode("utf-8")
            tree = parse(text)
        except (SourceError, UnicodeDecodeError, RecursionError):
            return None
        if foreign:
            _rebase(tree, Foreign(text, path))
        return [d for d in tree.docs if d.kind in kinds]

    def kustomization(self, directory: str) -> Optional[str]:
        for name in KUSTOMIZATIONS:
            p = os.path.join(directory, name)
            if self.inside(p) and self.project.exists(p):
                return p
        return None

    def resources(self, kfile: str, depth: int, own_patches: bool = True) -> Optional[list[CNode]]:
        """The manifests a kustomization builds (with its own strategic-merge patches applied unless
        ``own_patches`` is false), as base documents."""
        if depth > MAX_DEPTH:
            return None
        docs = self.docs(kfile, foreign=False)
        if not docs:
            return None
        k = docs[0]
        here = os.path.dirname(kfile)
        out: list[CNode] = []
        for key in ("resources", "bases"):
            node = k.get(key)
            if node is None:
                continue
            if node.kind != "seq":
                return None
            for item in node.items:
                if item.kind != "scalar" or not isinstance(item.value, str):
                    return None
                ref = item.value
                if "://" in ref or ref.startswith(("github.com/", "git@")):
                    continue  # a remote base: not followed
                target = self.inside(os.path.normpath(os.path.join(here, ref)))
                if target is None:
                    return None
                if os.path.isdir(target):
                    inner = self.kustomization(target)
                    got = self.resources(inner, depth + 1) if inner else None
                else:
                    got = self.docs(target, foreign=True)
                if got is None:
                    return None
                out.extend(got)
        for patch_path, selector in listed_patches(k, here) if own_patches else ():
            target = self.inside(patch_path)
            patches = self.docs(target, foreign=True, kinds=("map", "seq")) if target else None
            if patches is None:
                return None
            if patches and patches[0].kind == "seq":  # a JSON patch
                got = apply_json(out, patches[0], selector)
                if got is None:
                    return None
                out = got
            else:
                out = [apply_all(d, [p for p in patches if p.kind == "map"]) for d in out]
        return out


def listed_patches(k: CNode, here: str) -> list[tuple[str, Optional["Selector"]]]:
    """The patch files a kustomization lists (``patchesStrategicMerge``, ``patchesJson6902``, ``patches``; inline
    patches left out), each with its ``target`` (None for ``patchesStrategicMerge``). Whether a file listed under ``patches`` is a strategic-merge or a JSON patch is
    read from its body (a mapping or a list of operations), as kustomize does."""
    out: list[tuple[str, Optional[Selector]]] = []
    node = k.get("patchesStrategicMerge")
    if node is not None and node.kind == "seq":
        out.extend((os.path.normpath(os.path.join(here, i.value)), None) for i in node.items if i.kind == "scalar" and isinstance(i.value, str) and "\n" not in i.value)
    for key, regex in (("patchesJson6902", False), ("patches", True)):
        node = k.get(key)
        if node is not None and node.kind == "seq":
            for i in node.items:
                path = i.scalar("path") if i.kind == "map" else None
                if isinstance(path, str) and i.get("patch") is None:
                    out.append((os.path.normpath(os.path.join(here, path)), Selector.of(i.get("target"), regex)))
    return out


def smp_paths(k: CNode, here: str) -> list[str]:
    """The patch files a kustomization lists (see :func:`listed_patches`)."""
    return [p for p, _ in listed_patches(k, here)]


class Selector:
    """A patch's ``target``: ``kind`` and ``name`` (exact in ``patchesJson6902``; an anchored regular expression
    in ``patches``). A target that selects by labels or annotations, or that cannot be read, selects nothing here
    (the patch is then read alone)."""

    def __init__(self, kind: Optional[str], name: Optional[str], regex: bool, readable: bool):
        self.kind, self.name, self.regex, self.readable = kind, name, regex, readable

    @classmethod
    def of(cls, node: Optional[CNode], regex: bool) -> Optional["Selector"]:
        if node is None:
            return None
        if node.kind != "map" or any(k not in ("group", "version", "kind", "name", "namespace") for k in node.entries):
            return cls(None, None, regex, False)
        kind, name = node.scalar("kind"), node.scalar("name")
        ok = all(v is None or isinstance(v, str) for v in (kind, name))
        return cls(kind if ok else None, name if ok else None, regex, ok)

    def selects(self, doc: CNode) -> bool:
        if not self.readable:
            return False
        kind, name = _identity(doc)
        if self.kind is not None and self.kind != kind:
            return False
        if self.name is None:
            return True
        if not isinstance(name, str):
            return False
        if not self.regex:
            return name == self.name
        try:
            return re.fullmatch(self.name, name) is not None
        except re.error:
            return False


def _rebase(tree: Tree, source: Foreign) -> None:
    for doc in tree.docs:
        for _, node in walk(doc, limit=200_000):
            node.source = source
            if node.word is not None:
                node.word.source = source


# -- strategic merge ------------------------------------------------------------------------------------------
def _identity(doc: CNode) -> tuple:
    meta = doc.get("metadata")
    return (doc.scalar("kind"), meta.scalar("name") if meta is not None and meta.kind == "map" else None)


def apply_all(base: CNode, patches: list[CNode]) -> CNode:
    for p in patches:
        if _identity(p) == _identity(base) and _identity(p)[1] is not None:
            merged = merge(base, p)
            if merged is not None:
                base = merged
    return base


def merge(base: CNode, patch: CNode) -> Optional[CNode]:
    """``patch`` merged over ``base`` (new nodes where they differ; the inputs are not changed); None where a
    directive (``$patch``, ``$setElementOrder``...) asks for what is not followed."""
    if base.kind != "map" or patch.kind != "map":
        return patch
    if any(k.startswith("$") for k in patch.entries):
        return None
    out = CNode("map", base.begin, base.end, base.source, tag=base.tag)
    out.entries = dict(base.entries)
    for key, pe in patch.entries.items():
        be = base.entries.get(key)
        if be is None:
            out.entries[key] = pe
            continue
        b, p = be.node, pe.node
        if b.kind == "map" and p.kind == "map":
            node = merge(b, p)
        elif b.kind == "seq" and p.kind == "seq" and _named(b) and _named(p):
            node = _merge_named(b, p)
        else:
            node = p
        if node is None:
            return None
        at = pe if node is p else be  # the key written where the value is
        out.entries[key] = CEntry(key, at.key_begin, at.key_end, node, out, at.block, at.prefix)
    return out


def _named(seq: CNode) -> bool:
    return bool(seq.items) and all(i.kind == "map" and isinstance(i.scalar("name"), str) for i in seq.items)


def _merge_named(base: CNode, patch: CNode) -> Optional[CNode]:
    out = CNode("seq", base.begin, base.end, base.source, tag=base.tag)
    by_name = {i.scalar("name"): i for i in patch.items}
    used = set()
    for item in base.items:
        name = item.scalar("name")
        if name in by_name:
            merged = merge(item, by_name[name])
            if merged is None:
                return None
            out.items.append(merged)
            used.add(name)
        else:
            out.items.append(item)
    out.items.extend(i for i in patch.items if i.scalar("name") not in used)
    return out


# -- JSON patches (RFC 6902) ----------------------------------------------------------------------------------
def apply_json(docs: list[CNode], ops: CNode, selector: Optional["Selector"]) -> Optional[list[CNode]]:
    """``docs`` with the JSON patch ``ops`` applied to the one document its ``selector`` selects; None when it
    selects none or several, or an operation cannot be followed."""
    if selector is None:
        return None
    hits = [i for i, d in enumerate(docs) if selector.selects(d)]
    if len(hits) != 1:
        return None
    patched = apply_ops(docs[hits[0]], ops)
    if patched is None:
        return None
    out = list(docs)
    out[hits[0]] = patched
    return out


def apply_ops(doc: CNode, ops: CNode) -> Optional[CNode]:
    """``doc`` after the operations ``ops`` (a list of ``{op, path, value}``): ``add``, ``replace`` and ``remove``
    are followed, ``test`` is assumed to pass; ``copy``, ``move`` or an operation on a path that does not exist
    make the result unknown (None). New nodes where the document changes; the inputs are not changed."""
    if ops.kind != "seq" or not ops.items:
        return None
    for op in ops.items:
        name = op.scalar("op") if op.kind == "map" else None
        if name == "test":
            continue
        parts = _pointer(op.scalar("path"))
        if name not in ("add", "replace", "remove") or not parts:
            return None
        entry = op.entries.get("value") if name != "remove" else None
        if name != "remove" and entry is None:
            return None
        got = _edit(doc, parts, name, entry)
        if got is None:
            return None
        doc = got
    return doc


def _pointer(path: object) -> Optional[list[str]]:
    """A JSON pointer (``/spec/containers/0/args/-``) -> its reference tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _edit(node: CNode, parts: list[str], op: str, value: Optional[CEntry]) -> Optional[CNode]:
    key, rest = parts[0], parts[1:]
    if node.kind == "map":
        out = CNode("map", node.begin, node.end, node.source, tag=node.tag, shared=node.shared)
        out.entries = dict(node.entries)
        e = node.entries.get(key)
        if rest:
            child = _edit(e.node, rest, op, value) if e is not None else None
            if child is None or e is None:
                return None
            out.entries[key] = CEntry(key, e.key_begin, e.key_end, child, out, e.block, e.prefix)
        elif op == "remove" or value is None:
            if e is None:
                return None
            del out.entries[key]
        else:
            if op == "replace" and e is None:
                return None
            # the key is written where the value is: the ``value:`` of the operation in the patch file
            out.entries[key] = CEntry(key, value.key_begin, value.key_end, value.node, out, value.block)
        return out
    if node.kind == "seq":
        items = list(node.items)
        if key == "-" and not rest and op == "add":
            index = len(items)
        elif key.isdigit() and (key == "0" or not key.startswith("0")):
            index = int(key)
        else:
            return None
        if index > len(items) or (index == len(items) and (rest or op != "add")):
            return None
        if rest:
            child = _edit(items[index], rest, op, value)
            if child is None:
                return None
            items[index] = child
        elif op == "remove" or value is None:
            del items[index]
        elif op == "add":
            items.insert(index, value.node)
        else:
            items[index] = value.node
        out = CNode("seq", node.begin, node.end, node.source, tag=node.tag, shared=node.shared)
        out.items = items
        return out
    return None


# -- the linted file ------------------------------------------------------------------------------------------
def kustomization_of(project: "Project", path: str, overlay: Overlay) -> Optional[str]:
    """The kustomization (in the file's directory or up to :data:`MAX_UP` above) that lists ``path`` as a
    patch, or None."""
    return _listing(project, path, overlay)[0]


def _listing(project: "Project", path: str, overlay: Overlay) -> tuple[Optional[str], Optional[Selector]]:
    """The kustomization that lists ``path`` as a patch, and the patch's target there."""
    real = os.path.realpath(path)
    directory = os.path.dirname(path)
    for _ in range(MAX_UP + 1):
        if not project.inside(directory):
            break
        kfile = overlay.kustomization(directory)
        if kfile is not None:
            docs = overlay.docs(kfile, foreign=False)
            for p, selector in listed_patches(docs[0], directory) if docs else ():
                if os.path.realpath(p) == real:
                    return kfile, selector
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None, None


def patched_tree(project: "Project", path: str, tree: Tree, overlay: Optional[Overlay] = None) -> Optional[Tree]:
    """``tree`` (the file ``path``) with each document that a kustomization applies as a strategic-merge patch
    replaced by the manifest it produces; None when the file is no such patch or the overlay cannot be followed.
    ``overlay.paths`` then names every file read (the results cache stamps them)."""
    overlay = overlay or Overlay(project)
    kfile, selector = _listing(project, path, overlay)
    if kfile is None:
        return None
    bases = overlay.resources(kfile, 0, own_patches=False)
    if not bases:
        return None
    if tree.docs and tree.docs[0].kind == "seq":  # a JSON patch: the document it targets, operations applied
        got = apply_json(bases, tree.docs[0], selector)
        if got is None:
            return None
        out = Tree(tree.source, tree.flavor)
        out.docs = [d for d in got if selector is not None and selector.selects(d)]
        return out
    return _apply(bases, tree)


def _apply(bases: list[CNode], tree: Tree) -> Optional[Tree]:
    out = Tree(tree.source, tree.flavor)
    changed = False
    for doc in tree.docs:
        ident = _identity(doc) if doc.kind == "map" else (None, None)
        target = next((b for b in bases if ident[1] is not None and _identity(b) == ident), None)
        merged = merge(target, doc) if target is not None else None
        out.docs.append(merged if merged is not None else doc)
        changed = changed or merged is not None
    return out if changed else None


# -- facts and findings of a patch ----------------------------------------------------------------------------
def overlay_facts(path: str, text: str, facts: "FileFacts", settings) -> tuple["FileFacts", list[str]]:
    """The facts of the YAML file ``path`` read as the manifests its kustomization produces (``facts`` itself
    when it is no strategic-merge patch of a kustomization, or the project model is off), and the files read."""
    from ecolint.project.model import project_for

    if not getattr(settings, "project", True) or not _may_patch(text):
        return facts, []
    project = project_for(path)
    overlay = Overlay(project)
    if kustomization_of(project, os.path.abspath(path), overlay) is None:
        return facts, overlay.paths  # not a patch: the file is read alone (no second parse)
    overlay = Overlay(project)
    try:
        from ecolint.sources.yaml_frontend import parse

        tree = parse(text)
    except Exception:  # noqa: BLE001 - the front end already reported the file
        return facts, []
    patched = patched_tree(project, os.path.abspath(path), tree, overlay)
    if patched is None:
        return facts, overlay.paths
    from ecolint.facts import FileFacts
    from ecolint.sources import dialects

    out = FileFacts(path=path, kind=facts.kind)
    dialects.extract(patched, out, path, getattr(settings, "model_overrides", None) or {})
    _relate_base(patched, out)
    return out, overlay.paths


def _relate_base(tree: Tree, facts: "FileFacts") -> None:
    """Each setting the patch writes names the base's model (and GPU) it is judged with, as related locations."""
    bases = {id(n.source): n.source for d in tree.docs for _, n in walk(d) if isinstance(n.source, Foreign)}
    if len(bases) != 1:
        return
    base = next(iter(bases.values()))
    assert isinstance(base, Foreign)
    from pathlib import Path

    from ecolint.files import display_path

    shown = display_path(Path(base.path))
    context: list[tuple[Span, str]] = []
    for load in facts.model_loads:
        if load.model is not None and is_foreign(load.model.span):
            context.append((local(load.model.span), f"the model `{load.model.id}`, from the base manifest"))  # type: ignore[arg-type]
    for hint in facts.gpu_hints:
        if is_foreign(hint.span):
            context.append((local(hint.span), f"the GPU ({hint.gpu}), from the base manifest"))  # type: ignore[arg-type]
    uses: list[Span] = []
    for spec in facts.quant_specs:
        uses.extend(v.span for v in spec.options.values() if v.span is not None and not is_foreign(v.span))
    uses.extend(s.span for s in facts.batch_settings if not is_foreign(s.span))
    uses.extend(d.span for d in facts.dtype_uses if not is_foreign(d.span))
    for use in uses:
        for where, what in dict.fromkeys(context):
            entry = (use, shown, where, what)
            if entry not in facts.imported_values:
                facts.imported_values.append(entry)


def drop_foreign(findings: list) -> list:
    """Findings about what the patch writes: one at a value of the base is the base's (reported when the base is
    linted); a fix that would edit the base is dropped, and related places in the base are left out."""
    out = []
    for f in findings:
        if is_foreign(f.span):
            continue
        if f.fix is not None and any(is_foreign(e.span) for e in getattr(f.fix, "edits", ())):
            f.fix = None
        f.related = [r for r in f.related if not is_foreign(r[1])]
        out.append(f)
    return out


def keeps_patch(path: str, text: str, settings) -> bool:
    """True for a JSON patch that a kustomization lists: the value an operation writes (``'1'``) may carry no word
    of its own for the prefilter, the target it lands on does."""
    from ecolint.project.model import project_for

    if not getattr(settings, "project", True) or "op" not in text or _JSON_PATCH.search(text) is None:
        return False
    project = project_for(path)
    return kustomization_of(project, os.path.abspath(path), Overlay(project)) is not None


# A YAML list of operations (``- op: add``) or a JSON array of them (``[{"op": "add"``).
_JSON_PATCH = re.compile(r"""^\s*(?:-\s*|\[\s*\{\s*)["']?op["']?\s*:""", re.MULTILINE)


def _may_patch(text: str) -> bool:
    """A strategic-merge patch names its ``kind``; a JSON patch its ``op``s."""
    return "kind" in text or "op" in text
