"""The project of the file being linted, for the front ends, the results cache and the prefilter.

:func:`active` makes a file's project session current while its front end runs (the Python front end's resolver
asks :func:`current` for its import hook); :func:`keeps_file` tells the prefilter to keep a file whose own text
names no fact but which calls into a project module that generates. What either consults in the project is
recorded (:func:`ecolint.project.model.tracing`) and kept by the results cache with the file's findings, so a
change in a helper re-lints its users.
Everything is off with ``project = false`` (``--no-project``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from ecolint.files import display_path
from ecolint.project.model import Project, project_for
from ecolint.project.summaries import Evaluator, call_targets, imported_names


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


def keeps_file(path: str, text: str, kind: str, settings) -> bool:
    """True when the file may call a function of another project module that generates once per call: a loop in
    the file that calls it is a per-item generation the file's own text has no word for. Asked of the callees the
    file's text may name through its imports (:func:`call_targets`), the question the Python front end asks of
    each call in a loop, so only the modules those callees lead to are read."""
    if kind != "python" or not enabled(settings) or "for" not in text:
        return False  # a per-item generation needs a loop or a comprehension in this file
    targets = call_targets(text, imported_names(text))
    if not targets:
        return False
    importer = os.path.abspath(path)
    return Evaluator(project_for(importer)).may_generate(importer, sorted(targets))
