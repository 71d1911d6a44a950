"""``--jobs N`` gives exactly the findings, order and texts of ``--jobs 1``."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from ecolint import runner
from ecolint.config import Settings
from ecolint.runner import Engine, lint_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def always_parallel(monkeypatch):
    """The pool normally waits for enough work; here it is used for any two files."""
    monkeypatch.setattr(runner, "_PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(runner, "_PARALLEL_MIN_BYTES", 0)


def _engine(**changes) -> Engine:
    return Engine.create(replace(Settings(root=ROOT), **changes))


def _snapshot(run):
    return [f.to_dict() for f in run.findings], dict(run.texts), run.files_checked


@pytest.mark.parametrize("gpu", [None, "t4"])
def test_jobs_n_equals_jobs_1_on_the_fixtures(always_parallel, gpu):
    engine = _engine(gpu=gpu)
    one = lint_paths([FIXTURES], engine, jobs=1)
    assert one.findings
    for jobs in (2, 3):
        assert _snapshot(lint_paths([FIXTURES], engine, jobs=jobs)) == _snapshot(one)


def test_broken_and_unreadable_files_in_parallel(always_parallel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURES, tmp_path / "fx")
    (tmp_path / "fx" / "broken.py").write_text("from transformers import pipeline\ndef f(:\n", encoding="utf-8")
    (tmp_path / "fx" / "binary.py").write_bytes(b"\x00\x01pipeline(")
    engine = _engine()
    one = lint_paths([tmp_path / "fx"], engine, jobs=1)
    assert {"ECO900", "ECO901"} <= {f.code for f in one.findings}
    assert _snapshot(lint_paths([tmp_path / "fx"], engine, jobs=2)) == _snapshot(one)


def test_cli_jobs_output_is_identical(cli):
    outs = [cli("check", "--no-cache", "--exit-zero", "--output-format", "json", "-j", str(j), "fixtures") for j in (1, 2)]
    assert outs[0].returncode == 0 and outs[0].stdout == outs[1].stdout
    assert cli("check", "-j", "-1", "fixtures").returncode == 2
