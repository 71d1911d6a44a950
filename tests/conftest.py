from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m ecolint`` in a subprocess, the way a user runs it."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"):
        if name not in (env or {}):
            full_env.pop(name, None)
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "ecolint", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        input=input,
        env=full_env,
        timeout=300,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(autouse=True)
def _no_ci_link_environment(monkeypatch):
    """The Markdown report links locations when GitHub's run variables are set; tests must not depend on the CI
    they happen to run in (tests that want links set the variables themselves)."""
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)
