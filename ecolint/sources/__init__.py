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
    "yaml": "ecolint.sources.yaml_frontend",
    "toml": "ecolint.sources.toml_frontend",
    "shell": "ecolint.sources.shell_frontend",
    "dockerfile": "ecolint.sources.shell_frontend",
}

SUFFIXES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".sh": "shell",
    ".bash": "shell",
    ".dockerfile": "dockerfile",
    ".containerfile": "dockerfile",
}

# Files that share a linted suffix but are never deploy or training configs: tool settings and lock files.
_NOT_CONFIG = {
    "pyproject.toml",  # project metadata; ecolint's own settings live in [tool.ecolint] and are read by config.py
    "ecolint.toml",
    ".ecolint.toml",
    "ruff.toml",
    ".ruff.toml",
    "cargo.toml",
    "poetry.toml",
    "pixi.toml",
    "taplo.toml",
    ".taplo.toml",
    "rustfmt.toml",
    ".rustfmt.toml",
    "clippy.toml",
    "typos.toml",
    "_typos.toml",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "yarn.lock",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "mkdocs.yml",
    "mkdocs.yaml",
    ".readthedocs.yaml",
    ".readthedocs.yml",
    "codecov.yml",
    ".codecov.yml",
    "environment.yml",
    "environment.yaml",
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
    name = path.name.lower()
    if name in _NOT_CONFIG or name.endswith((".lock", "-lock.yaml", "-lock.yml", ".lock.yaml", ".lock.yml", ".lock.toml")):
        return None
    if name in ("dockerfile", "containerfile") or name.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    return SUFFIXES.get(path.suffix.lower())


def front_end(kind: str):
    return importlib.import_module(FRONT_ENDS[kind])


def caused_by_recursion(exc: BaseException) -> bool:
    """A RecursionError, or an error raised while one was being handled (libcst's context managers turn
    some into KeyError on the way out)."""
    seen: set[int] = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, RecursionError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False
