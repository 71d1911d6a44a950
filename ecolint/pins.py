"""The project's transformers pin, read from requirements files and pyproject.toml next to the code.

Transformers before 5.0 load weights in float32 unless a dtype is given; 5.0 made ``dtype="auto"`` the
default. ECO401 needs to know which side of that line a project is on (:mod:`ecolint.versions`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ecolint.files import read_text

_REQ = re.compile(r"^\s*transformers\s*(?:\[[^\]]*\])?\s*(?P<spec>[<>=!~][^;#]*)?", re.IGNORECASE)


def _from_requirements(path: Path) -> Optional[str]:
    try:
        lines = read_text(path, errors="replace").splitlines()
    except OSError:  # also a FIFO, a device or an oversized file named like a requirements file
        return None
    for line in lines:
        m = _REQ.match(line)
        if m and not line.strip().startswith("#"):
            return (m.group("spec") or "").strip()
    return None


def _from_pyproject(path: Path) -> Optional[str]:
    from ecolint.config import load_toml

    try:
        data = load_toml(read_text(path))
    except (OSError, ValueError, RecursionError):
        return None
    project = _table(data, "project")
    deps = list(_array(project, "dependencies"))
    for group in _table(project, "optional-dependencies").values():
        deps.extend(group if isinstance(group, list) else [])
    poetry = _table(_table(_table(data, "tool"), "poetry"), "dependencies")
    if isinstance(poetry.get("transformers"), str):
        return poetry["transformers"].replace("^", ">=")
    for dep in deps:
        if isinstance(dep, str):
            m = _REQ.match(dep)
            if m:
                return (m.group("spec") or "").strip()
    return None


def _table(data: dict, key: str) -> dict:
    """``data[key]`` when it is a table, else an empty one (a pyproject.toml of any shape must not crash)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _array(data: dict, key: str) -> list:
    value = data.get(key)
    return value if isinstance(value, list) else []


_PINS: dict[Path, tuple[str, str]] = {}


def transformers_pin(directory: Path) -> tuple[str, str]:
    """(specifier, file) of the nearest transformers requirement at or above ``directory`` (not above the
    repository's top, the directory holding ``.git``); ("", "") if none. Each directory is looked at once per
    process: a directory without a pin of its own gets its parent's answer."""
    chain = []
    d = directory
    while d not in _PINS:
        found = _pin_in(d)
        if found is None and not ((d / ".git").exists() or d.parent == d):
            chain.append(d)
            d = d.parent
            continue
        _PINS[d] = found or ("", "")
        break
    for c in chain:
        _PINS[c] = _PINS[d]
    return _PINS[d]


transformers_pin.cache_clear = _PINS.clear  # type: ignore[attr-defined]


def _pin_in(directory: Path) -> Optional[tuple[str, str]]:
    candidates = sorted(directory.glob("requirements*.txt")) + sorted(directory.glob("requirements/*.txt"))
    for req in candidates:
        spec = _from_requirements(req)
        if spec is not None:
            return spec, str(req)
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        spec = _from_pyproject(pyproject)
        if spec is not None:
            return spec, str(pyproject)
    return None
