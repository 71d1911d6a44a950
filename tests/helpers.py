"""In-process linting of a snippet, used by the rule-example and front-end tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from ecolint.config import Settings
from ecolint.runner import Engine, lint_text


def lint_snippet(code: str, filename: str = "example.py", gpu: Optional[str] = None, select: tuple[str, ...] = ("ALL",), kind: Optional[str] = None, **settings):
    from ecolint.sources import kind_for

    s = replace(Settings(root=Path.cwd()), select=select, gpu=gpu, transformers_version=settings.pop("transformers_version", "4.44.0"), **settings)
    engine = Engine.create(s)
    k = kind or kind_for(Path(filename)) or "python"
    return lint_text(filename, code, k, engine, project_dir=Path("/nonexistent")).findings


def write_project(root, files: dict) -> None:
    """A project at ``root`` (a ``pyproject.toml`` marks its root) holding ``files`` (relative name -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def check_json(*args: str, cwd=None) -> list:
    """The JSON findings of ``ecolint check --no-cache ARGS`` (nothing may go to standard error)."""
    import json

    from conftest import run_cli

    proc = run_cli("check", "--no-cache", *args, "--output-format", "json", cwd=cwd)
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def cached_json(*args: str, cache_dir, cwd=None) -> list:
    """The JSON findings of ``ecolint check ARGS --cache-dir CACHE_DIR`` (the results cache on: for tests of what
    invalidates it)."""
    import json

    from conftest import run_cli

    proc = run_cli("check", *args, "--cache-dir", str(cache_dir), "--output-format", "json", cwd=cwd)
    return json.loads(proc.stdout)


def pinned(findings: list) -> list:
    """Each JSON finding as (file, row, column, code, [(related file, row, column), ...])."""
    return [
        (f["filename"], f["location"]["row"], f["location"]["column"], f["code"], [(r["filename"], r["location"]["row"], r["location"]["column"]) for r in f["related"]])
        for f in findings
    ]
