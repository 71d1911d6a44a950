"""Front ends: each turns one kind of file into :class:`~ecolint.facts.FileFacts`.

A front end is a module with ``extract(path: str, text: str, settings) -> FileFacts`` that raises
:class:`SourceError` (or its parser's own syntax error) for input it cannot parse. ``FRONT_ENDS`` maps a
kind to its module; ``kind_for`` decides a file's kind from its name. Modules are imported lazily so a run
that parses nothing imports no parser.
"""

from __future__ import annotations

import importlib
from pathlib import PurePath
from typing import Optional

FRONT_ENDS: dict[str, str] = {
    "python": "ecolint.sources.python_frontend",
}

SUFFIXES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
}


class SourceError(Exception):
    """A file a front end cannot parse; ``line``/``col`` (1-based) locate the problem when known."""

    def __init__(self, message: str, line: int = 1, col: int = 1, code: str = "ECO900"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.code = code


def kind_for(path: PurePath) -> Optional[str]:
    return SUFFIXES.get(path.suffix.lower())


def front_end(kind: str):
    return importlib.import_module(FRONT_ENDS[kind])
