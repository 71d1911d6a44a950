"""Issue 14 shapes (fixtures/issue14/): every finding pinned in fixtures/issue14/expected_issue14.csv.

The fixtures are deploy configs and launch scripts as people write them (lm-eval model_args, ms-swift export,
vLLM/TGI flags in Helm values, kubeai, KServe, Ray Serve, SkyPilot, dstack, SageMaker env dicts, DJL, shell
variables/arrays/here-documents, Dockerfile ENV + CMD, JSON, GitHub Actions) plus traps that must stay silent.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from ecolint.config import Settings
from ecolint.runner import Engine, lint_paths

ROOT = Path(__file__).resolve().parent.parent
ISSUE14 = ROOT / "fixtures" / "issue14"
SIDECAR = ISSUE14 / "expected_issue14.csv"


def expected() -> list[tuple[str, int, int, str, str]]:
    with SIDECAR.open(encoding="utf-8", newline="") as fh:
        return sorted((r["path"], int(r["line"]), int(r["col"]), r["code"], r["severity"]) for r in csv.DictReader(fh))


def findings() -> list[tuple[str, int, int, str, str]]:
    settings = replace(Settings(root=ROOT), select=("ALL",), transformers_version="4.44.0")
    run = lint_paths([ISSUE14], Engine.create(settings))
    return sorted(
        (Path(f.filename).resolve().relative_to(ISSUE14).as_posix(), f.span.line, f.span.col, f.code,
         f.severity.value)
        for f in run.findings
    )


def test_sidecar_rows_point_into_existing_fixture_lines():
    rows = expected()
    assert len(rows) >= 30
    for path, line, col, _code, _severity in rows:
        lines = (ISSUE14 / path).read_text(encoding="utf-8").splitlines()
        assert 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]), (path, line, col)


def test_issue14_fixture_findings_match_the_sidecar():
    assert findings() == expected()
