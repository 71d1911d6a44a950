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
