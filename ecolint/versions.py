"""Which transformers versions a requirement specifier or an install command allows, and the default dtype
that follows: versions before 5.0 load weights in float32 unless a dtype is given; 5.0 made ``dtype="auto"``
the default (huggingface/transformers#42805, December 2025). Pure text logic, no files.
"""

from __future__ import annotations

import re
from typing import Optional

_CLAUSE = re.compile(r"(==|~=|>=|<=|!=|<|>)\s*([0-9][0-9A-Za-z.*+!-]*)")


def _version(text: str) -> tuple[int, ...]:
    nums = []
    for part in text.split("."):
        m = re.match(r"\d+", part)
        if not m:
            break
        nums.append(int(m.group()[:9]))  # int() refuses more than 4,300 digits; no real version has 10
    return tuple(nums) or (0,)


def default_dtype_for(spec: str) -> Optional[str]:
    """``"fp32"`` if every version the specifier allows is < 5, ``"auto"`` if every one is >= 5, else None."""
    lo: tuple = (0,)
    hi: Optional[tuple] = None  # exclusive upper bound
    clauses = _CLAUSE.findall(spec or "")
    if not clauses:
        return None
    for op, ver in clauses:
        v = _version(ver.rstrip(".*"))
        if op == "==":
            if "*" in ver:
                lo, hi = max(lo, v), (v[0] + 1,) if len(v) == 1 else v[:-1] + (v[-1] + 1,)
            else:
                return "fp32" if v < (5,) else "auto"
        elif op in (">=", ">"):
            lo = max(lo, v)
        elif op == "<":
            hi = v if hi is None else min(hi, v)
        elif op == "<=":
            bound = v[:-1] + (v[-1] + 1,)
            hi = bound if hi is None else min(hi, bound)
        elif op == "~=":
            lo = max(lo, v)
            bound = (v[0] + 1,) if len(v) <= 2 else v[:-2] + (v[-2] + 1,)
            hi = bound if hi is None else min(hi, bound)
    if hi is not None and hi <= (5,):
        return "fp32"
    if lo >= (5,):
        return "auto"
    return None


# One install command inside an IPython shell line (``!pip install``, ``!cd x && python -m pip install``,
# ``!uv pip install``) or a ``%pip install`` magic; what follows up to the next shell separator are its arguments.
_INSTALL = re.compile(r"(?:^|[;&|]\s*)(?:python3?\s+-m\s+)?(?:uv\s+)?pip3?\s+install\b(?P<args>[^;&|#]*)")
_INSTALL_ARG = re.compile(
    r"""^["']?(?:(?P<git>git\+https?://github\.com/huggingface/transformers(?:\.git)?(?:@(?P<ref>[\w.\-/]+))?)"""
    r"""|transformers\s*(?:\[[^\]]*\])?\s*(?P<spec>[<>=!~][^"'\s]*)?)["']?$""",
    re.IGNORECASE,
)


def installed_dtype_for(spec: str) -> str:
    """The default dtype of the transformers that ``pip install "transformers<spec>"`` installs today: the
    newest version the specifier allows (nothing else constrains it), so ``"fp32"`` only when the specifier
    keeps below 5."""
    return "fp32" if default_dtype_for(spec) == "fp32" else "auto"


def install_pin(sources: list[tuple[int, str]]) -> Optional[tuple[str, str, int]]:
    """``(spec, dtype, cell)`` of the last ``pip install`` of transformers in ``sources`` (``(cell, text)``
    pairs): ``spec`` as written ("" unpinned, "@v4.44.0" for a git tag), ``dtype`` the default dtype of what it
    installs. None when no cell installs transformers."""
    found: Optional[tuple[str, str, int]] = None
    for cell, text in sources:
        if "install" not in text:
            continue
        for m in (m for line in text.splitlines() for m in _INSTALL.finditer(_shell_command(line))):
            for arg in m.group("args").split():
                a = _INSTALL_ARG.match(arg)
                if a is None:
                    continue
                if a.group("git"):
                    ref = a.group("ref") or ""
                    tag = re.fullmatch(r"v?(\d+(?:\.\d+)*)", ref)
                    dtype = "fp32" if tag and _version(tag.group(1)) < (5,) else "auto"
                    found = (f"@{ref}" if ref else " from its main branch", dtype, cell)
                else:
                    spec = (a.group("spec") or "").strip()
                    found = (spec, installed_dtype_for(spec), cell)
    return found


def _shell_command(line: str) -> str:
    """The shell command of an IPython line (``!cmd``, ``%pip ...``, or ``pip install`` by automagic), else ""."""
    stripped = line.lstrip()
    if stripped.startswith(("!", "%")):
        return stripped[1:].lstrip()
    return stripped if stripped.startswith("pip install ") else ""
