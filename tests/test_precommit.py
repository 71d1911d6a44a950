"""The pre-commit hooks, run for real: ``pre-commit try-repo`` installs ecolint from this repository into a
fresh virtualenv and runs both hooks on a throwaway git repository.

Offline and fast: a local wheelhouse holds the build backend and the runtime dependencies, and
``PIP_NO_INDEX=1 PIP_FIND_LINKS=<wheelhouse>`` makes pre-commit's ``pip install`` use only it. try-repo
clones the repository at HEAD; uncommitted changes to tracked files go into pre-commit's shadow repository,
so the hook under test is the working tree's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is not installed (it comes with the test extra: pip install '.[test]')")

ROOT = Path(__file__).resolve().parent.parent

BAD = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "\n"
    'bnb = BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_quant_type="nf4")\n'
    'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb, device_map="auto")\n'
)
AFTER_FIX_HOOK = BAD.replace(', bnb_4bit_quant_type="nf4"', "")
GOOD = (
    "import torch\n"
    "from transformers import AutoModelForCausalLM\n"
    "\n"
    'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", torch_dtype=torch.float16, device_map="auto")\n'
)


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _requirements() -> list[str]:
    from ecolint.config import load_toml

    data = load_toml((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [*data["build-system"]["requires"], *data["project"]["dependencies"]]


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout: pre-commit try-repo needs one")
    wh = tmp_path_factory.mktemp("wheelhouse")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "-w", str(wh), *_requirements()],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, f"building the wheelhouse failed:\n{proc.stdout}\n{proc.stderr}"
    return wh


def try_repo(repo: Path, wheelhouse: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1"}
    for var in ("PRE_COMMIT_HOME", "VIRTUAL_ENV", "PYTHONPATH", "FORCE_COLOR"):
        env.pop(var, None)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--all-files", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    proc.elapsed = time.monotonic() - start  # type: ignore[attr-defined]
    return proc


def test_try_repo_blocks_then_passes(tmp_path, wheelhouse):
    repo = tmp_path / "user-project"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / "serve.py").write_text(BAD, encoding="utf-8")
    (repo / "README.md").write_text("not linted\n", encoding="utf-8")
    _git("add", ".", cwd=repo)

    first = try_repo(repo, wheelhouse)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    # the check hook fails with the finding and its location
    assert "serve.py:3:26: ECO101 [red] bitsandbytes INT8" in out  # the hooks print one line per finding
    # the fix hook applied the safe fix (ECO104) and, like every hook that modifies files, failed
    assert "files were modified by this hook" in out
    assert (repo / "serve.py").read_text(encoding="utf-8") == AFTER_FIX_HOOK

    (repo / "serve.py").write_text(GOOD, encoding="utf-8")  # the user fixes the red finding by hand
    _git("add", ".", cwd=repo)
    second = try_repo(repo, wheelhouse)
    out2 = second.stdout + second.stderr
    assert second.returncode == 0, out2
    assert out2.count("Passed") == 2
    print(f"try-repo timings: {first.elapsed:.1f}s (fail), {second.elapsed:.1f}s (pass)")
