"""YAML configuration files that a Python file of the project loads: Hydra composition and literal loads.

What is followed, without running anything:

* ``@hydra.main(config_path="conf", config_name="config")`` and ``hydra.compose(config_name=...)`` after
  ``initialize(config_path=...)``: the primary config and its **defaults list** -- config groups
  (``- model: llama3`` reads ``conf/model/llama3.yaml``), plain configs (``- db/mysql``), ``_self_`` (where the
  primary's own values are merged; implicitly last, as in Hydra 1.1 and later), ``override`` entries, ``optional``
  entries, ``null`` options, ``@package`` in the defaults list and ``# @package`` directives (``_global_``,
  ``_group_``, ``_name_``). Later contributions win, dictionaries are merged key by key.
* ``${a.b}`` interpolation where it is static (an absolute key of the composed config, or text around such
  keys); a resolver (``${oc.env:...}``), a relative key or a missing value (``???``) is unknown.
* ``OmegaConf.load("x.yaml")`` (interpolation resolved as above) and ``yaml.safe_load(open("x.yaml"))`` (no
  interpolation: ``${...}`` is text to PyYAML) of a literal path, looked up next to the loading file, then at
  the project root.

Which value wins: what the *default run* uses -- ``python app.py`` with no command-line overrides. A config
that is not reached from the primary config's defaults list (``conf/experiment/big_batch.yaml``) applies only
when selected on the command line (``+experiment=big_batch``), so it never changes a value here. Hydra values
are :data:`~ecolint.facts.DEFAULT` (the command line may override any of them); values of a literal load are
:data:`~ecolint.facts.CERTAIN`.

Anything not followed makes the whole composition unknown: a config that is missing (a structured config
registered in Python), unreadable, not valid YAML, outside the project root, a defaults list of an unknown shape,
or more than :data:`MAX_FILES` files. Only the files :func:`config_files` finds from the loading file's text are
ever read, so the results cache (which stamps exactly those files) never serves findings from a changed config.
"""

from __future__ import annotations

import os
import re
import weakref
from typing import TYPE_CHECKING, Optional

from ecolint.facts import CERTAIN, DEFAULT, Certainty
from ecolint.project.paths import inside_real
from ecolint.project.summaries import SValue

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.project.model import Project
    from ecolint.sources.tree import CNode

MAX_FILES = 64  # config files one composition may read
MAX_CONFIG_DIR_FILES = 400  # YAML files below one config directory that the cache stamps
MAX_NESTING = 8  # defaults lists inside defaults lists
_YAML_SUFFIXES = (".yaml", ".yml")

# Text of a Python file that names a config to load: a literal ``config_path=`` and literal ``.yaml`` paths.
_CONFIG_PATH = re.compile(r"""\bconfig_path\s*=\s*(?:r|u)?(["'])([^"'\n]*)\1""")
_YAML_LITERAL = re.compile(r"""(["'])([^"'\n]{1,300}?\.ya?ml)\1""")
_PACKAGE_DIRECTIVE = re.compile(r"^#\s*@package\s+(\S+)")
_INTERPOLATION = re.compile(r"\$\{([^${}]*)\}")
_KEY_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")


# -- which files a Python file may load ----------------------------------------------------------------------
def config_files(project: "Project", importer: str, text: str) -> list[str]:
    """The YAML files of the project that ``importer`` (whose text is ``text``) may load, sorted: every YAML file
    below a directory named by a literal ``config_path="..."`` (relative to the file), and every literal
    ``"....yaml"`` path that exists next to the file or at the project root. A text scan, no parse; an
    over-approximation is harmless (it is the results cache's dependency stamp and the set of files
    :class:`Configs` may read for this file)."""
    if "yaml" not in text and "yml" not in text and "config_path" not in text:
        return []
    here = os.path.dirname(importer)
    out: set[str] = set()
    for m in _CONFIG_PATH.finditer(text):
        d = inside_real(project, os.path.normpath(os.path.join(here, m.group(2))))
        if d is not None and os.path.isdir(d):
            out.update(_yaml_below(d))
    for m in _YAML_LITERAL.finditer(text):
        for cand in literal_candidates(project, importer, m.group(2)):
            out.add(cand)
    return sorted(out)


def literal_candidates(project: "Project", importer: str, literal: str) -> list[str]:
    """Where a literal path of a loaded file points: next to the loading file, then at the project root (the
    working directory of a run is not known); only existing regular files inside the project root."""
    if os.path.isabs(literal) or "://" in literal:
        return []
    out = []
    for base in (os.path.dirname(importer), project.root):
        p = inside_real(project, os.path.normpath(os.path.join(base, literal)))
        if p is not None and project.exists(p) and p not in out:
            out.append(p)
    return out


def _yaml_below(directory: str) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(_YAML_SUFFIXES):
                out.append(os.path.join(dirpath, name))
                if len(out) >= MAX_CONFIG_DIR_FILES:
                    return out
    return out


# -- reading and converting ------------------------------------------------------------------------------------
_TREES: "weakref.WeakKeyDictionary[Project, dict[str, Optional[CNode]]]" = weakref.WeakKeyDictionary()


def _document(project: "Project", path: str) -> Optional["CNode"]:
    """The first document of the YAML file ``path`` (parsed once per project and process); None when it cannot be
    read or parsed, or is not a mapping."""
    trees = _TREES.setdefault(project, {})
    project.note_read(path)  # parsed once per process, depended on by every file that composes it
    if path not in trees:
        trees[path] = None
        data = project.data(path)
        if data is not None:
            from ecolint.sources import SourceError
            from ecolint.sources.yaml_frontend import parse

            try:
                tree = parse(data.decode("utf-8"))
            except (SourceError, UnicodeDecodeError, RecursionError):
                tree = None
            if tree is not None and tree.docs and tree.docs[0].kind == "map":
                trees[path] = tree.docs[0]
    return trees[path]


def _svalue(node: "CNode", path: str, certainty: Certainty, depth: int = 0) -> SValue:
    sp = node.span
    where = (path, sp.line, sp.col, sp.end_line, sp.end_col)
    if node.kind == "scalar":
        if isinstance(node.value, (str, int, float, bool, type(None))) and node.value != "???":
            return SValue("const", node.value, *where, source=node.source.text[node.begin:node.end], certainty=certainty)
        return SValue("unknown", None, *where)
    if node.kind == "map" and depth < 32:
        items = {k: _svalue(e.node, path, certainty, depth + 1) for k, e in node.entries.items()}
        return SValue("dict", items, *where, certainty=certainty)
    return SValue("unknown", None, *where)  # sequences: not a value the rules read


def _merge(a: SValue, b: SValue) -> SValue:
    """``b`` merged over ``a``: dictionaries key by key (recursively), anything else replaced."""
    if a.kind == "dict" and b.kind == "dict":
        out = dict(a.value)
        for k, v in b.value.items():
            out[k] = _merge(out[k], v) if k in out else v
        return SValue("dict", out, b.path, b.line, b.col, b.end_line, b.end_col, b.source, b.certainty, a.opaque or b.opaque)
    return b


def _place(package: str, content: SValue) -> SValue:
    for part in reversed([p for p in package.split(".") if p]):
        content = SValue("dict", {part: content}, content.path, content.line, content.col, content.end_line, content.end_col, "", content.certainty)
    return content


def lookup(root: SValue, keys: list[str]) -> Optional[SValue]:
    """The value at ``keys`` below ``root``; None when a key is absent or a step is not a dictionary."""
    v = root
    for k in keys:
        if v.kind != "dict" or k not in v.value:
            return None
        v = v.value[k]
    return v


# -- interpolation ----------------------------------------------------------------------------------------------
def _interpolate(root: SValue) -> SValue:
    def resolve(v: SValue, depth: int) -> SValue:
        if v.kind == "dict":
            return SValue("dict", {k: resolve(c, depth) for k, c in v.value.items()}, v.path, v.line, v.col, v.end_line, v.end_col, v.source, v.certainty, v.opaque)
        if v.kind != "const" or not isinstance(v.value, str) or "${" not in v.value:
            return v
        unknown = SValue("unknown", None, v.path, v.line, v.col, v.end_line, v.end_col)
        if depth > 8:
            return unknown
        whole = re.fullmatch(r"\$\{([^${}]*)\}", v.value)
        if whole is not None:
            target = _target(whole.group(1))
            return resolve(target, depth + 1) if target is not None else unknown
        parts: list[str] = []
        last = 0
        for m in _INTERPOLATION.finditer(v.value):
            target = _target(m.group(1))
            inner = resolve(target, depth + 1) if target is not None else None
            if inner is None or inner.kind != "const" or isinstance(inner.value, (dict, list)):
                return unknown
            parts.append(v.value[last:m.start()])
            parts.append(str(inner.value).lower() if isinstance(inner.value, bool) else "null" if inner.value is None else str(inner.value))
            last = m.end()
        rest = v.value[last:]
        if "${" in rest:
            return unknown
        return SValue("const", "".join(parts) + rest, v.path, v.line, v.col, v.end_line, v.end_col, v.source, v.certainty)

    def _target(key: str) -> Optional[SValue]:
        key = key.strip()
        if not _KEY_PATH.fullmatch(key):
            return None  # a resolver (oc.env:X), a relative key (.x), an index
        return lookup(root, key.split("."))

    return resolve(root, 0)


# -- Hydra ------------------------------------------------------------------------------------------------------
class _Unknown(Exception):
    """The composition cannot be followed statically."""


class Composition:
    """One Hydra composition of the default run (no command-line overrides)."""

    def __init__(self, project: "Project", config_dir: str, allowed: frozenset[str], self_first: bool = False):
        self.project = project
        self.config_dir = config_dir
        self.allowed = allowed
        self.self_first = self_first  # version_base="1.0": a primary config without _self_ is merged first
        self.files: list[str] = []
        self.overrides: dict[str, object] = {}

    def compose(self, config_name: str) -> Optional[SValue]:
        group, _, name = config_name.rpartition("/")
        try:
            parts = self._config(group, name, "", primary=True, depth=0)
        except _Unknown:
            return None
        root = SValue("dict", {}, os.path.join(self.config_dir, config_name), 1, 1, 1, 1, certainty=DEFAULT)
        for part in parts:
            root = _merge(root, part)
        root.value.pop("hydra", None)  # Hydra's own settings
        return _interpolate(root)

    def _file(self, group: str, name: str) -> Optional[str]:
        stem = os.path.normpath(os.path.join(self.config_dir, group, name))
        path = stem if stem.endswith(".yaml") else stem + ".yaml"
        self.project.exists(path)  # traced: a group file added later re-lints the files that compose it
        return path if path in self.allowed else None

    def _config(self, group: str, name: str, package: Optional[str], *, primary: bool, depth: int, optional: bool = False) -> list[SValue]:
        """The contributions (placed at the root) of the config ``group/name`` and its defaults list, in order."""
        if depth > MAX_NESTING:
            raise _Unknown
        path = self._file(group, name)
        doc = _document(self.project, path) if path is not None else None
        if doc is None:
            if optional and (path is None or not os.path.exists(path)):
                return []
            raise _Unknown
        self.files.append(path)  # type: ignore[arg-type]
        if len(self.files) > MAX_FILES:
            raise _Unknown
        if package is None:
            package = self._directive(path, group, name)  # type: ignore[arg-type]
        body = _svalue(doc, path, DEFAULT)  # type: ignore[arg-type]
        body.value.pop("defaults", None)
        mine = _place(package, body)
        defaults = doc.get("defaults")
        if defaults is None:
            return [mine]
        if defaults.kind != "seq":
            raise _Unknown
        entries = list(defaults.items)
        if primary:
            for e in entries:  # the primary config's ``override`` entries apply to every group default below it
                self._override(e, group)
        out: list[SValue] = []
        has_self = any(e.kind == "scalar" and e.value == "_self_" for e in entries)
        if not has_self and (self.self_first and primary):
            out.append(mine)
        for e in entries:
            if e.kind == "scalar" and e.value == "_self_":
                out.append(mine)
            elif e.kind == "scalar" and isinstance(e.value, str):
                out.extend(self._plain(e.value, group, package, depth))
            elif e.kind == "map" and len(e.entries) == 1:
                out.extend(self._group_default(e, group, package, depth))
            else:
                raise _Unknown
        if not has_self and not (self.self_first and primary):
            out.append(mine)
        return out

    def _directive(self, path: str, group: str, name: str) -> str:
        data = self.project.data(path) or b""
        for line in data.decode("utf-8", "replace").splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if not stripped.startswith("#"):
                break
            m = _PACKAGE_DIRECTIVE.match(stripped)
            if m:
                return self._package(m.group(1), group, name, "")
        return group.replace("/", ".")  # the default package: the config group

    @staticmethod
    def _package(spec: str, group: str, name: str, here: str) -> str:
        if spec in ("_global_", "__global__"):
            return ""
        parts: list[str] = []
        for p in spec.split("."):
            if p == "_group_":
                parts.extend(x for x in group.split("/") if x)
            elif p == "_name_":
                parts.append(name)
            elif p == "_here_":
                parts.extend(x for x in here.split(".") if x)
            elif p.startswith("_") and p.endswith("_"):
                raise _Unknown
            else:
                parts.append(p)
        return ".".join(parts)

    @staticmethod
    def _join_group(current: str, group: str) -> str:
        if group.startswith("/"):
            return group.strip("/")
        return "/".join(x for x in (current, group) if x)

    def _split_key(self, key: str, current: str) -> tuple[str, Optional[str], set[str]]:
        words = key.split()
        flags = set(words[:-1])
        if flags - {"override", "optional"} or not words:
            raise _Unknown
        group, _, pkg = words[-1].partition("@")
        return self._join_group(current, group), (pkg or None), flags

    def _override(self, entry: "CNode", current: str) -> None:
        if entry.kind != "map" or len(entry.entries) != 1:
            return
        (key, e), = entry.entries.items()
        if key.split()[0] == "override":
            group, _, _ = self._split_key(key, current)
            self.overrides.setdefault(group, e.node.value if e.node.kind == "scalar" else e.node)

    def _plain(self, spec: str, current: str, here: str, depth: int) -> list[SValue]:
        """``- db/mysql`` or ``- db/mysql@pkg``: a config of a group, always used."""
        ref, _, pkg = spec.partition("@")
        full = self._join_group(current, ref)
        group, _, name = full.rpartition("/")
        if group == "hydra" or group.startswith("hydra/"):
            return []
        package = self._relative_package(pkg, group, name, here) if pkg else None
        return self._config(group, name, package, primary=False, depth=depth + 1)

    def _relative_package(self, pkg: str, group: str, name: str, here: str) -> str:
        if pkg in ("_global_", "__global__"):
            return ""
        rel = self._package(pkg, group, name, here)
        return ".".join(x for x in (here, rel) if x) if not pkg.startswith("_here_") else rel

    def _group_default(self, entry: "CNode", current: str, here: str, depth: int) -> list[SValue]:
        (key, e), = entry.entries.items()
        group, pkg, flags = self._split_key(key, current)
        if group == "hydra" or group.startswith("hydra/"):
            return []
        if "override" in flags:
            return []  # applied where the group's default is (see _override)
        option: object = self.overrides.get(group, e.node.value if e.node.kind == "scalar" else e.node)
        if option is None:
            return []  # ``null``: a placeholder, ignored unless selected on the command line
        names: list[str]
        if isinstance(option, str):
            names = [option]
        elif getattr(option, "kind", "") == "seq" and all(i.kind == "scalar" and isinstance(i.value, str) for i in option.items):  # type: ignore[attr-defined]
            names = [i.value for i in option.items]  # type: ignore[attr-defined]
        else:
            raise _Unknown
        out: list[SValue] = []
        for name in names:
            package = self._relative_package(pkg, group, name, here) if pkg else None
            out.extend(self._config(group, name, package, primary=False, depth=depth + 1, optional="optional" in flags))
        return out


def hydra_config(
    project: "Project", importer: str, allowed: frozenset[str], config_path: str, config_name: str, self_first: bool = False
) -> Optional[tuple[SValue, list[str], str]]:
    """The composed config of the default run, the files it read and the primary config's path; None when it
    cannot be followed. ``config_path`` is relative to ``importer``'s directory (as Hydra has it)."""
    if os.path.isabs(config_path) or "://" in config_path or config_path.startswith("pkg:"):
        return None
    config_dir = inside_real(project, os.path.normpath(os.path.join(os.path.dirname(importer), config_path)))
    if config_dir is None:
        return None
    comp = Composition(project, config_dir, allowed, self_first)
    root = comp.compose(config_name)
    if root is None:
        return None
    return root, comp.files, comp.files[0]


def loaded_config(project: "Project", importer: str, allowed: frozenset[str], literal: str, interpolate: bool) -> Optional[tuple[SValue, str]]:
    """The values of the YAML file a literal path names (the first candidate of :func:`literal_candidates` that
    the file's text stamps), certain; with ``interpolate`` (OmegaConf), static ``${...}`` resolved."""
    for path in literal_candidates(project, importer, literal):
        if path not in allowed:
            continue
        doc = _document(project, path)
        if doc is None:
            return None
        root = _svalue(doc, path, CERTAIN)
        return (_interpolate(root) if interpolate else root), path
    return None
