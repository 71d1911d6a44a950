"""The project of the file being linted, for the front ends, the results cache and the prefilter.

:func:`active` makes a file's project session current while its front end runs (the Python front end's resolver
asks :func:`current` for its import hook); :func:`dependency_stamp` is the part of a file's cache key that
covers the modules it may read values from (a change in a helper re-lints its users); :func:`keeps_file` tells
the prefilter to keep a file whose own text names no fact but which calls into a project module that generates.
Everything is off with ``project = false`` (``--no-project``).
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from ecolint.files import display_path
from ecolint.project.companions import stamp_paths as companion_paths
from ecolint.project.configs import config_files
from ecolint.project.kustomize import stamp_paths
from ecolint.project.model import Project, project_for
from ecolint.project.summaries import MAX_DEPTH, Evaluator, local_imports


class Session:
    """One linted file's view of its project."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.project: Project = project_for(self.path)
        self.evaluator = Evaluator(self.project)

    def display(self, path: str) -> str:
        """How a dependency is named in messages and related locations (like the linted file: relative to the
        working directory when below it)."""
        return display_path(Path(path))


_CURRENT: Optional[Session] = None


def enabled(settings) -> bool:
    return bool(getattr(settings, "project", True))


@contextmanager
def active(path: str, settings) -> Iterator[Optional[Session]]:
    """Make ``path``'s project session current (none when the project model is off)."""
    global _CURRENT
    previous = _CURRENT
    _CURRENT = Session(path) if enabled(settings) else None
    try:
        yield _CURRENT
    finally:
        _CURRENT = previous


def current() -> Optional[Session]:
    return _CURRENT


# What a generating function's module must spell: the generation calls the summaries follow (``.generate(``,
# ``.chat(``). Used on the bytes before any module is parsed.
_GENERATION_WORD = re.compile(rb"\.(?:generate|chat)\s*\(")


def _reached(path: str, text: str) -> list[str]:
    """The project modules ``path`` may read values from: its local imports and theirs, up to ``MAX_DEPTH`` imports
    away (a text scan of each module's imports: reaching a module parses nothing)."""
    project = project_for(path)
    importer = os.path.abspath(path)
    seen: set[str] = set()
    for dep in project.deps(importer, local_imports(text)):
        seen |= project.reach(dep, MAX_DEPTH - 1)
    seen.discard(importer)
    return sorted(seen)


def dependency_stamp(path: str, kind: str, data: bytes, settings) -> str:
    """A hash of the contents of the project modules the file may read values from ("" when none or off)."""
    if not enabled(settings):
        return ""
    deps = companion_paths(path, kind, settings)  # the sibling files that may name its GPU (ecolint.project.companions)
    if kind not in ("python", "yaml") and not deps:
        return ""
    text = data.decode("utf-8", "replace")
    project = project_for(path)
    if kind == "yaml":  # the kustomization and the bases a patch is read with (ecolint.project.kustomize)
        deps += stamp_paths(path, text, settings)
    elif kind == "python":  # the modules it may import values from, and the YAML configs it may load (ecolint.project.configs)
        deps += _reached(path, text) + config_files(project, os.path.abspath(path), text)
    if not deps:
        return ""
    h = hashlib.blake2b(digest_size=16)
    for dep in deps:  # each part sorted
        h.update(dep.encode("utf-8", "surrogatepass"))
        h.update(project.digest(dep))
    return h.hexdigest()


def keeps_file(path: str, text: str, kind: str, settings) -> bool:
    """True when the file imports a project module with a function that generates once per call: a loop in the
    file that calls it is a per-item generation the file's own text has no word for."""
    if kind != "python" or not enabled(settings) or "for" not in text:
        return False  # a per-item generation needs a loop or a comprehension in this file
    project = project_for(path)
    for dep in _reached(path, text):
        data = project.data(dep)
        if data is None or _GENERATION_WORD.search(data) is None:
            continue  # a module whose text never names a generation call has no generating function: no parse
        s = project.summary(dep)
        if s is None:
            continue
        # The file must name the helper to call it (an import line names it even under an alias).
        if any(_names(text, name) for name in (*s.generating, *s.generating_calls)):
            return True
    return False


def _names(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None
