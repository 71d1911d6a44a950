"""A baseline: the findings a repository already had, recorded so that only new ones are reported.

``write_baseline(findings, texts, path)`` records each finding's fingerprint (:mod:`ecolint.report.fingerprint`:
rule, file and flagged source, not line numbers), and ``filter_new(findings, texts, baseline)`` keeps the
findings whose fingerprint is not in it, so code moving up or down a file does not bring recorded findings
back, while a new occurrence of the same code does show.

The file is JSON: ``{"version": 1, "findings": [{"fingerprint", "code", "filename", "line", "message"}]}``;
only ``fingerprint`` is matched, the rest is there for people reading it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ecolint.report.fingerprint import fingerprints
from ecolint.rule import Finding

VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be read or is not a baseline."""


def baseline_data(findings: list[Finding], texts: Mapping[str, str]) -> dict:
    entries = [
        {"fingerprint": fp, "code": f.code, "filename": f.filename, "line": f.span.line, "message": f.message}
        for f, fp in zip(findings, fingerprints(findings, texts))
    ]
    entries.sort(key=lambda e: (e["filename"], e["line"], e["code"], e["fingerprint"]))
    return {"version": VERSION, "findings": entries}


def write_baseline(findings: list[Finding], texts: Mapping[str, str], path: str | Path) -> int:
    """Record ``findings`` in ``path`` (replaced atomically); returns how many were recorded."""
    data = baseline_data(findings, texts)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return len(data["findings"])


def load_baseline(path: str | Path) -> frozenset[str]:
    """The fingerprints recorded in ``path``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not an ecolint baseline (version {VERSION})")
    try:
        return frozenset(str(e["fingerprint"]) for e in data["findings"])
    except (TypeError, KeyError):
        raise BaselineError(f"{path} is not an ecolint baseline: an entry has no fingerprint") from None


def filter_new(findings: list[Finding], texts: Mapping[str, str], baseline: str | Path | Iterable[str]) -> list[Finding]:
    """The findings not recorded in ``baseline`` (a path, or the fingerprints from :func:`load_baseline`)."""
    known = load_baseline(baseline) if isinstance(baseline, (str, Path)) else frozenset(baseline)
    return [f for f, fp in zip(findings, fingerprints(findings, texts)) if fp not in known]
