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
