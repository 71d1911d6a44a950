"""kustomize overlays, evaluated statically: a patch is judged with the manifest it patches.

A YAML file that a ``kustomization.yaml`` (in its directory or up to :data:`MAX_UP` directories above, inside the
project root) lists as a strategic-merge patch (``patchesStrategicMerge: [file]`` or ``patches: [{path: file}]``
without a JSON-patch body) is read together with the resource it patches: the kustomization's ``resources``
(files, or directories holding their own ``kustomization.yaml``, whose own strategic-merge patches are applied
first), matched by ``kind`` and ``metadata.name``. The patched manifest follows the strategic-merge rules that
matter for a container: mappings merge key by key, lists of mappings whose items have a ``name`` (containers,
``env``, ports, volumes) merge item by item on that name, any other list (``args``, ``command``) is replaced by
the patch's, and ``$patch: delete`` / ``$patch: replace`` are not followed (the document is then read alone).

The config dialects read the patched manifest; what they find is kept only where it is written in the patch
file -- a value of the base is the base's finding, reported when the base is linted -- and the base's model and
GPU only inform the patch's findings (with the base's lines as related locations). Nothing is read outside the
project root, no ``kustomize`` binary runs, remote resources (URLs) and generators are not followed.
"""

from __future__ import annotations

import os
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

    def docs(self, path: str, foreign: bool) -> Optional[list[CNode]]:
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
        return [d for d in tree.docs if d.kind == "map"]

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
        for patch_path in smp_paths(k, here) if own_patches else ():
            target = self.inside(patch_path)
            patches = self.docs(target, foreign=True) if target else None
            if patches is None:
                return None
            out = [apply_all(d, patches) for d in out]
        return out


def smp_paths(k: CNode, here: str) -> list[str]:
    """The strategic-merge patch files a kustomization lists (inline patches and JSON patches left out)."""
    out: list[str] = []
    node = k.get("patchesStrategicMerge")
    if node is not None and node.kind == "seq":
        out.extend(os.path.normpath(os.path.join(here, i.value)) for i in node.items if i.kind == "scalar" and isinstance(i.value, str) and "\n" not in i.value)
    node = k.get("patches")
    if node is not None and node.kind == "seq":
        for i in node.items:
            path = i.scalar("path") if i.kind == "map" else None
            if isinstance(path, str) and i.get("patch") is None:
                out.append(os.path.normpath(os.path.join(here, path)))
    return out


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


# -- the linted file ------------------------------------------------------------------------------------------
def kustomization_of(project: "Project", path: str, overlay: Overlay) -> Optional[str]:
    """The kustomization (in the file's directory or up to :data:`MAX_UP` above) that lists ``path`` as a
    strategic-merge patch, or None."""
    real = os.path.realpath(path)
    directory = os.path.dirname(path)
    for _ in range(MAX_UP + 1):
        if not project.inside(directory):
            break
        kfile = overlay.kustomization(directory)
        if kfile is not None:
            docs = overlay.docs(kfile, foreign=False)
            if docs and any(os.path.realpath(p) == real for p in smp_paths(docs[0], directory)):
                return kfile
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def patched_tree(project: "Project", path: str, tree: Tree, overlay: Optional[Overlay] = None) -> Optional[Tree]:
    """``tree`` (the file ``path``) with each document that a kustomization applies as a strategic-merge patch
    replaced by the manifest it produces; None when the file is no such patch or the overlay cannot be followed.
    ``overlay.paths`` then names every file read (the results cache stamps them)."""
    overlay = overlay or Overlay(project)
    kfile = kustomization_of(project, path, overlay)
    if kfile is None:
        return None
    bases = overlay.resources(kfile, 0, own_patches=False)
    return _apply(bases, tree) if bases else None


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

    if not getattr(settings, "project", True) or "kind" not in text:
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
