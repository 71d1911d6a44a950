"""The project a file belongs to, and where its imports point.

The project root is the nearest directory at or above the file that holds ``pyproject.toml``, ``setup.py``,
``setup.cfg`` or ``.git`` (the file's own directory when there is none). A module name is looked up the way a
script run from the project would find it, without importing anything: below the importing file's directory
(``python script.py`` puts it first on ``sys.path``), below the directory above the file's outermost package
(``__init__.py`` chain), below the root and below ``root/src``. ``pkg.mod`` is ``pkg/mod.py`` or
``pkg/mod/__init__.py``; relative imports count their dots from the importing file's package.

Only files inside the root are ever read. One :class:`Project` per root lives for the process (the pool forks
its workers, each keeps its own); its lookups and summaries are memoised, so each module is read once per run and
per process.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Optional

from ecolint.project.summaries import ModuleSummary, local_imports, summarise

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
MAX_MODULE_BYTES = 1_000_000  # a bigger module is not summarised (unknown)


@lru_cache(maxsize=1024)
def project_root(directory: str) -> str:
    """The nearest directory at or above ``directory`` (absolute) with a project marker, else ``directory``."""
    d = directory
    while True:
        if any(os.path.exists(os.path.join(d, m)) for m in ROOT_MARKERS):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return directory
        d = parent


class Project:
    """The modules of one project root: lookups and summaries, memoised."""

    def __init__(self, root: str):
        self.root = root
        self._summaries: dict[str, Optional[ModuleSummary]] = {}
        self._data: dict[str, Optional[bytes]] = {}
        self._imports: dict[str, list[str]] = {}
        self._deps: dict[str, tuple[str, ...]] = {}
        self._reach: dict[tuple[str, int], frozenset[str]] = {}
        self._digests: dict[str, bytes] = {}
        self._isfiles: dict[str, bool] = {}
        self._files: dict[tuple[str, str], Optional[str]] = {}

    # -- where a module is -----------------------------------------------------------------------------
    def inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root.rstrip(os.sep) + os.sep)

    def search_dirs(self, importer: str) -> list[str]:
        here = os.path.dirname(importer)
        top = here
        while os.path.isfile(os.path.join(top, "__init__.py")) and os.path.dirname(top) != top and self.inside(os.path.dirname(top)):
            top = os.path.dirname(top)
        out = []
        for d in (here, top, self.root, os.path.join(self.root, "src")):
            if d not in out and self.inside(d):
                out.append(d)
        return out

    def module_file(self, importer: str, module: str) -> Optional[str]:
        """The file of ``module`` (``a.b`` or, relative, ``..a.b``) as seen from ``importer``; None when it is not a
        module of this project."""
        key = (os.path.dirname(importer), module)
        if key not in self._files:
            self._files[key] = self._find(importer, module)
        return self._files[key]

    def _find(self, importer: str, module: str) -> Optional[str]:
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module[level:].split(".") if p]
        if level:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = self.search_dirs(importer)
        for base in bases:
            stem = os.path.join(base, *parts) if parts else base
            for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
                if self.inside(cand) and self._isfile(cand) and cand != importer and not self._same_file(cand, importer):
                    return cand
        return None

    def _isfile(self, path: str) -> bool:
        hit = self._isfiles.get(path)
        if hit is None:
            hit = self._isfiles[path] = os.path.isfile(path)
        return hit

    @staticmethod
    def _same_file(a: str, b: str) -> bool:
        """Two names of one file (a symlinked module importing itself); only asked when the names differ."""
        try:
            return os.path.samestat(os.stat(a), os.stat(b))
        except OSError:
            return False

    def split_target(self, importer: str, target: str) -> Optional[tuple[str, list[str]]]:
        """``config.MODEL_ID`` -> (the file of ``config``, ``["MODEL_ID"]``): the longest leading part of the dotted
        ``target`` that is a module of the project, and the attribute path that follows."""
        level = len(target) - len(target.lstrip("."))
        parts = target[level:].split(".") if target[level:] else []
        for cut in range(len(parts), -1, -1):
            if cut == 0 and not level:
                break
            module = "." * level + ".".join(parts[:cut])
            path = self.module_file(importer, module)
            if path is not None:
                return path, parts[cut:]
        return None

    # -- what a module says ----------------------------------------------------------------------------
    def summary(self, path: str) -> Optional[ModuleSummary]:
        """The summary of the module file ``path``; None when it cannot be read or parsed (its values are
        unknown)."""
        if path not in self._summaries:
            self._summaries[path] = self._summarise(path)
        return self._summaries[path]

    def data(self, path: str) -> Optional[bytes]:
        """The bytes of the module file ``path`` (regular files only, at most ``MAX_MODULE_BYTES``), read once per
        process; None when it cannot be read or is too big."""
        if path not in self._data:
            from ecolint.files import read_regular

            try:
                self._data[path] = read_regular(path, MAX_MODULE_BYTES)
            except OSError:  # unreadable, not a regular file, too large: its values are unknown
                self._data[path] = None
        return self._data[path]

    def imports(self, path: str) -> list[str]:
        """The modules ``path`` imports, from its text (no parse; see :func:`local_imports`)."""
        if path not in self._imports:
            data = self.data(path)
            self._imports[path] = local_imports(data.decode("utf-8", "replace")) if data is not None else []
        return self._imports[path]

    def deps(self, importer: str, targets: list[str]) -> tuple[str, ...]:
        """The module files the dotted ``targets`` (as imported by ``importer``) resolve to, in order, once each."""
        found = (self.split_target(importer, t) for t in targets)
        return tuple(dict.fromkeys(f[0] for f in found if f is not None))

    def reach(self, path: str, depth: int) -> frozenset[str]:
        """``path`` and the modules it reaches through at most ``depth`` more imports (memoised per module and
        depth, so a run over a large project walks each import edge a bounded number of times)."""
        key = (path, depth)
        hit = self._reach.get(key)
        if hit is None:
            if path not in self._deps:
                self._deps[path] = self.deps(path, self.imports(path))
            out = {path}
            if depth > 0:
                for dep in self._deps[path]:
                    out |= self.reach(dep, depth - 1)
            hit = self._reach[key] = frozenset(out)
        return hit

    def digest(self, path: str) -> bytes:
        """A short hash of the module file's bytes (b"<unreadable>" when it cannot be read)."""
        hit = self._digests.get(path)
        if hit is None:
            data = self.data(path)
            hit = self._digests[path] = hashlib.blake2b(data, digest_size=16).digest() if data is not None else b"<unreadable>"
        return hit

    def _summarise(self, path: str) -> Optional[ModuleSummary]:
        data = self.data(path)
        return summarise(path, data) if data is not None else None


_PROJECTS: dict[str, Project] = {}


def project_for(path: str) -> Project:
    """The project of the file ``path`` (made absolute), one per root and process."""
    root = project_root(os.path.dirname(os.path.abspath(path)))
    project = _PROJECTS.get(root)
    if project is None:
        project = _PROJECTS[root] = Project(root)
    return project


def forget() -> None:
    """Drop every memoised project (tests that change files between runs in one process)."""
    _PROJECTS.clear()
    project_root.cache_clear()
