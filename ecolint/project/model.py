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
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable, Iterator, Optional

from ecolint.project.summaries import ModuleSummary, summarise

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


class Trace:
    """What the analysis of one file consulted in its project: each module lookup with its answer, and each module
    whose summary it read (see :func:`tracing`). The results cache keeps it with the file's findings and serves them
    again only while every lookup gives the same answer and every module read has the same bytes."""

    def __init__(self) -> None:
        self.lookups: dict[tuple[str, str, str], object] = {}  # (project root, importer, question) -> answer
        self.reads: dict[str, "Project"] = {}  # module file -> the project that read it
        # "directory\x00suffix,suffix": a hash of the names of the files there that end so (companions looked for)
        self.listings: dict[str, str] = {}

    def to_json(self) -> Optional[dict]:
        """The trace as the cache stores it (None when nothing was consulted): the questions asked per project root
        and importing file, a hash of their answers, and the content hash of every module read (of the bytes
        that were analysed)."""
        if not self.lookups and not self.reads and not self.listings:
            return None
        asked: dict[str, list[str]] = {}
        answers: dict[str, list[object]] = {}
        for (root, importer, query), answer in self.lookups.items():
            key = f"{root}\x00{importer}"
            asked.setdefault(key, []).append(query)
            answers.setdefault(key, []).append(answer)
        return {
            "asked": asked,
            "answers": _answers_hash(a for key in asked for a in answers[key]),
            "reads": {path: project.digest(path).hex() for path, project in sorted(self.reads.items())},
            "listings": dict(sorted(self.listings.items())),
        }


def listing_hash(key: str) -> str:
    """A hash of the names of the regular files in a directory that end with one of the suffixes (lower case), for
    the key ``"directory\x00suffix,suffix"``: a file of that kind added or removed there changes it.

    Memoised per process while the directory's modification time stays the same (adding, removing or renaming an
    entry changes it); a time less than two seconds old is not trusted (it may not have ticked yet)."""
    directory, _, suffixes = key.partition("\x00")
    try:
        stamp: Optional[int] = os.stat(directory).st_mtime_ns
    except OSError:
        stamp = None
    known = _LISTINGS.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    ends = tuple(suffixes.split(","))
    try:
        with os.scandir(directory) as it:
            names = sorted(e.name for e in it if e.name.lower().endswith(ends) and e.is_file())
    except OSError:
        names = []
    digest = _answers_hash(names)
    if stamp is not None and time.time_ns() - stamp > _SETTLED_NS:
        _LISTINGS[key] = (stamp, digest)
    return digest


def _is_a(entry: "Optional[os.DirEntry[str]]", directory: bool) -> bool:
    """Is the listed ``entry`` a directory (or a regular file), symbolic links followed?"""
    try:
        return entry is not None and (entry.is_dir() if directory else entry.is_file())
    except OSError:
        return False


_LISTINGS: dict[str, tuple[int, str]] = {}
_SETTLED_NS = 2_000_000_000


def _answers_hash(answers: Iterable[object]) -> str:
    return hashlib.blake2b(repr(list(answers)).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


_TRACE: Optional[Trace] = None


@contextmanager
def tracing() -> Iterator[Trace]:
    """Record what the project model is asked while the block runs (one linted file)."""
    global _TRACE
    previous, _TRACE = _TRACE, Trace()
    try:
        yield _TRACE
    finally:
        _TRACE = previous


def still_valid(recorded: object) -> bool:
    """True when a :meth:`Trace.to_json` record still holds now: every question gets the same answer and every
    module read has the same content hash (anything malformed is False)."""
    if recorded is None:
        return True
    try:
        answers: list[object] = []
        for key, queries in recorded["asked"].items():  # type: ignore[index]
            root, importer = key.split("\x00")
            project = _project_at(root)
            answers.extend(project.answer(importer, q) for q in queries)
        if _answers_hash(answers) != recorded["answers"]:  # type: ignore[index]
            return False
        for path, digest in recorded["reads"].items():  # type: ignore[index]
            if _project_at(project_root(os.path.dirname(path))).digest(path).hex() != digest:
                return False
        for key, names in recorded.get("listings", {}).items():  # type: ignore[attr-defined]
            if listing_hash(key) != names:
                return False
    except (TypeError, ValueError, KeyError, AttributeError):
        return False
    return True


class Project:
    """The modules of one project root: lookups and summaries, memoised."""

    def __init__(self, root: str):
        self.root = root
        self._prefix = root.rstrip(os.sep) + os.sep
        self._summaries: dict[str, Optional[ModuleSummary]] = {}
        self._data: dict[str, Optional[bytes]] = {}
        self._digests: dict[str, bytes] = {}
        self._isfiles: dict[str, bool] = {}
        self._listed: dict[str, dict[str, os.DirEntry[str]]] = {}
        self._found: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._idents: dict[str, Optional[tuple[int, int]]] = {}
        self._dirs: dict[str, list[str]] = {}
        self._candidates: dict[tuple[str, str], tuple[str, ...]] = {}
        self._holds: dict[tuple[str, str], bool] = {}
        self._bound: dict[str, frozenset[str]] = {}

    # -- where a module is -----------------------------------------------------------------------------
    def inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self._prefix)

    def search_dirs(self, importer: str) -> list[str]:
        here = os.path.dirname(importer)
        hit = self._dirs.get(here)
        if hit is None:
            top = here
            while self._isfile(os.path.join(top, "__init__.py")) and os.path.dirname(top) != top and self.inside(os.path.dirname(top)):
                top = os.path.dirname(top)
            hit = []
            for d in (here, top, self.root, os.path.join(self.root, "src")):
                if d not in hit and self.inside(d):
                    hit.append(d)
            self._dirs[here] = hit
        return hit

    def module_file(self, importer: str, module: str) -> Optional[str]:
        """The file of ``module`` (``a.b`` or, relative, ``..a.b``) as seen from ``importer``; None when it is not a
        module of this project."""
        found = self._module_file(importer, module)
        if _TRACE is not None:
            _TRACE.lookups[(self.root, importer, module)] = found
        return found

    def _module_file(self, importer: str, module: str) -> Optional[str]:
        key = (os.path.dirname(importer), module)
        cands = self._candidates.get(key)
        if cands is None:
            cands = self._candidates[key] = self._find(importer, module)
        for cand in cands:
            if cand != importer and not self._same_file(cand, importer):
                return cand
        return None

    def may_hold(self, importer: str, module: str) -> bool:
        """False when no module named ``module`` or below it (``a.b`` for ``a``) can be found from ``importer``:
        no search directory holds a file or directory of its first part. One question instead of one per prefix
        of a library's dotted name (``torch.nn.functional.softmax``)."""
        level = len(module) - len(module.lstrip("."))
        first = module[level:].split(".", 1)[0]
        query = "?" + module[:level] + first
        key = (os.path.dirname(importer), query)
        hit = self._holds.get(key)
        if hit is None:
            hit = self._holds[key] = not first or any(
                self.inside(os.path.join(base, first)) and (self._isfile(os.path.join(base, first + ".py")) or self._isdir(os.path.join(base, first)))
                for base in self._bases(importer, level)
            )
        if _TRACE is not None:
            _TRACE.lookups[(self.root, importer, query)] = hit
        return hit

    def answer(self, importer: str, query: str) -> object:
        """The answer a trace recorded for ``query`` (a module name, or ``?`` and the first part of one)."""
        return self.may_hold(importer, query[1:]) if query.startswith("?") else self.module_file(importer, query)

    def _bases(self, importer: str, level: int) -> list[str]:
        if not level:
            return self.search_dirs(importer)
        base = os.path.dirname(importer)
        for _ in range(level - 1):
            base = os.path.dirname(base)
        return [base]

    def _find(self, importer: str, module: str) -> tuple[str, ...]:
        """The files that may be ``module`` for a file in ``importer``'s directory, in the order they are tried
        (the importer itself is left out by :meth:`module_file`)."""
        level = len(module) - len(module.lstrip("."))
        parts = tuple(p for p in module[level:].split(".") if p)
        out: list[str] = []
        for base in self._bases(importer, level):
            out.extend(self._under(base, parts))
        return tuple(out)

    def _under(self, base: str, parts: tuple[str, ...]) -> tuple[str, ...]:
        """``base/a/b.py`` and ``base/a/b/__init__.py`` for the parts ``("a", "b")``, those that are files of the
        project (memoised: the project root is a search directory of every importer)."""
        key = (base, parts)
        hit = self._found.get(key)
        if hit is None:
            found: list[str] = []
            shortcut = bool(parts) and self.inside(base)  # (a base above the root is only asked for paths into it)
            if shortcut and not self._may_start(base, parts):
                pass  # (the usual answer, from the base directory's listing alone)
            elif not shortcut or not parts[:-1] or self._isdir(os.path.join(base, *parts[:-1])):  # (else neither can exist)
                stem = os.path.join(base, *parts) if parts else base
                for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
                    if self.inside(cand) and self._isfile(cand):
                        found.append(cand)
            hit = self._found[key] = tuple(found)
        return hit

    def _may_start(self, base: str, parts: tuple[str, ...]) -> bool:
        """False when ``base`` holds neither a directory ``parts[0]`` nor (for one part) a file ``parts[0].py``:
        then no module of those parts is there."""
        entries = self._entries(base)
        if _is_a(entries.get(parts[0]), directory=True):
            return True
        return len(parts) == 1 and _is_a(entries.get(parts[0] + ".py"), directory=False)

    def _isfile(self, path: str) -> bool:
        """``os.path.isfile(path)``, answered from one listing of the directory (a lookup asks about the same few
        directories for many names: one ``scandir`` each instead of a ``stat`` per name)."""
        hit = self._isfiles.get(path)
        if hit is None:
            hit = self._isfiles[path] = self._is(path, directory=False)
        return hit

    def _isdir(self, path: str) -> bool:
        """``os.path.isdir(path)``, from the directory's listing as :meth:`_isfile`."""
        return self._is(path, directory=True)

    def _is(self, path: str, directory: bool) -> bool:
        parent, name = os.path.split(path)
        if not self.inside(parent):  # (no directory outside the project is listed)
            return os.path.isdir(path) if directory else os.path.isfile(path)
        return bool(name) and _is_a(self._entries(parent).get(name), directory)

    def _entries(self, directory: str) -> dict[str, "os.DirEntry[str]"]:
        found = self._listed.get(directory)
        if found is None:
            parent, name = os.path.split(directory)
            if name and parent != directory and self.inside(parent) and not self._isdir(directory):
                self._listed[directory] = found = {}  # (a directory that is not there: known from its parent's listing)
                return found
            try:
                with os.scandir(directory) as it:
                    found = {e.name: e for e in it}
            except OSError:
                found = {}
            self._listed[directory] = found
        return found

    def _same_file(self, a: str, b: str) -> bool:
        """Two names of one file (a symlinked module importing itself); only asked when the names differ."""
        ia, ib = self._ident(a), self._ident(b)
        return ia is not None and ia == ib

    def _ident(self, path: str) -> Optional[tuple[int, int]]:
        if path not in self._idents:
            try:
                st = os.stat(path)
                self._idents[path] = (st.st_dev, st.st_ino)
            except OSError:
                self._idents[path] = None
        return self._idents[path]

    def split_target(self, importer: str, target: str) -> Optional[tuple[str, list[str]]]:
        """``config.MODEL_ID`` -> (the file of ``config``, ``["MODEL_ID"]``): the longest leading part of the dotted
        ``target`` that is a module of the project, and the attribute path that follows."""
        level = len(target) - len(target.lstrip("."))
        parts = target[level:].split(".") if target[level:] else []
        if not self.may_hold(importer, target):
            return None
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
        if _TRACE is not None:
            _TRACE.reads.setdefault(path, self)
        if path not in self._summaries:
            data = self.data(path)
            self._summaries[path] = summarise(path, data) if data is not None else None
        return self._summaries[path]

    def may_define(self, path: str, name: str) -> bool:
        """False when the module file ``path`` cannot bind ``name`` as a function or an import at its top level:
        its text has no ``def name`` and no import statement that binds ``name`` (a text scan, no parse; the
        summary would have no function nor import of that name)."""
        if _TRACE is not None:
            _TRACE.reads.setdefault(path, self)
        bound = self._bound.get(path)
        if bound is None:
            from ecolint.project.summaries import defined_names

            data = self.data(path)
            bound = self._bound[path] = defined_names(data.decode("utf-8", "replace")) if data is not None else frozenset()
        return name in bound

    def data(self, path: str) -> Optional[bytes]:
        """The bytes of the module file ``path`` (regular files only, at most ``MAX_MODULE_BYTES``), read once per
        process; None when it cannot be read or is too big. Recorded as read by the current trace (a YAML config
        or kustomize base that a file's findings depend on, found or not)."""
        if _TRACE is not None:
            _TRACE.reads.setdefault(path, self)
        if path not in self._data:
            from ecolint.files import read_regular

            try:
                self._data[path] = read_regular(path, MAX_MODULE_BYTES)
            except OSError:  # unreadable, not a regular file, too large: its values are unknown
                self._data[path] = None
        return self._data[path]

    def looked_through(self, directory: str, suffixes: tuple[str, ...]) -> None:
        """Record that the current file's analysis depends on which files ending with ``suffixes`` (lower case)
        ``directory`` holds (companions looked for there)."""
        key = f"{directory}\x00{','.join(suffixes)}"
        if _TRACE is not None and key not in _TRACE.listings:
            _TRACE.listings[key] = listing_hash(key)

    def note_read(self, path: str) -> None:
        """Record that the current file's analysis depends on the bytes of ``path`` (read earlier and memoised)."""
        if _TRACE is not None:
            _TRACE.reads.setdefault(path, self)

    def exists(self, path: str) -> bool:
        """Is ``path`` a regular file? Recorded by the current trace like a read, so that a file that appears or
        goes away later (a kustomization, a config group's file) re-lints the files that looked for it."""
        if _TRACE is not None:
            _TRACE.reads.setdefault(path, self)
        return os.path.isfile(path)

    def digest(self, path: str) -> bytes:
        """A short hash of the module file's bytes (b"<unreadable>" when it cannot be read)."""
        hit = self._digests.get(path)
        if hit is None:
            data = self.data(path)
            hit = self._digests[path] = hashlib.blake2b(data, digest_size=16).digest() if data is not None else b"<unreadable>"
        return hit


_PROJECTS: dict[str, Project] = {}


def project_for(path: str) -> Project:
    """The project of the file ``path`` (made absolute), one per root and process."""
    return _project_at(project_root(os.path.dirname(os.path.abspath(path))))


def _project_at(root: str) -> Project:
    project = _PROJECTS.get(root)
    if project is None:
        project = _PROJECTS[root] = Project(root)
    return project


def forget() -> None:
    """Drop every memoised project (tests that change files between runs in one process)."""
    _PROJECTS.clear()
    project_root.cache_clear()
