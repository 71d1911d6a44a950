"""The command line and the worker pool never lose a user's file or leave processes behind.

B2: ``-o`` naming an input is refused before anything is written. G1: output and write errors are clear errors
(exit 2) found before ``--fix`` changes anything. G2: configuration values of the wrong type are rejected.
G3: ``--stdin-filename ""`` is a usage error. D3: ``jobs`` is capped at the CPUs. D5: a dead worker does not end
the run. D5b: the workers end with their parent (SIGTERM, SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ecolint import runner
from ecolint.config import ConfigError, Settings, settings_from_mapping
from ecolint.runner import Engine, lint_paths

BASE = (
    "from transformers import BitsAndBytesConfig\n"
    'bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n'
)


@pytest.fixture
def proj(tmp_path):
    (tmp_path / "t.py").write_text(BASE, encoding="utf-8")
    return tmp_path


# -- B2: the report never replaces an input -----------------------------------------------------------------

@pytest.mark.parametrize("extra", [["--fix"], [], ["--diff"]])
def test_output_file_that_is_an_input_is_refused(proj, cli, extra):
    r = cli("check", "--no-cache", "-q", *extra, "t.py", "-o", "t.py", cwd=proj)
    assert r.returncode == 2 and "t.py" in r.stderr and "refusing" in r.stderr, r.stderr
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE


def test_output_file_that_is_an_input_in_a_walked_directory_or_a_link_is_refused(proj, cli):
    (proj / "link.txt").symlink_to(proj / "t.py")
    for args in (["."], ["t.py"]):
        r = cli("check", "--no-cache", "--fix", *args, "-o", "link.txt", cwd=proj)
        assert r.returncode == 2 and "refusing" in r.stderr, r.stderr
        r = cli("check", "--no-cache", "--fix", *args, "-o", str(proj / "t.py"), cwd=proj)
        assert r.returncode == 2 and "refusing" in r.stderr, r.stderr
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE
    assert not list(proj.glob(".ecolint_cache"))  # refused before the cache was written


def test_output_file_next_to_the_inputs_is_fine(proj, cli):
    r = cli("check", "--no-cache", "--exit-zero", ".", "-o", "report.txt", cwd=proj)
    assert r.returncode == 0 and "ECO104" in (proj / "report.txt").read_text(encoding="utf-8")
    r = cli("check", "--no-cache", "--exit-zero", ".", "-o", "report.txt", cwd=proj)  # an existing report is replaced
    assert r.returncode == 0 and "ECO104" in (proj / "report.txt").read_text(encoding="utf-8")


def test_stdin_filename_that_is_the_output_file_is_refused(proj, cli):
    r = cli("check", "--stdin-filename", "t.py", "--fix", "-o", "t.py", cwd=proj, input=BASE)
    assert r.returncode == 2 and "refusing" in r.stderr, r.stderr
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE
    r = cli("check", "--stdin-filename", "new.py", "-o", "./new.py", cwd=proj, input=BASE)
    assert r.returncode == 2 and not (proj / "new.py").exists()


# -- G1: output and write errors ----------------------------------------------------------------------------

def test_output_in_a_missing_directory_is_an_error_before_fixing(proj, cli):
    r = cli("check", "--no-cache", "--fix", "t.py", "-o", str(proj / "nonexistent" / "dir" / "out.txt"), cwd=proj)
    assert r.returncode == 2 and "cannot write the report" in r.stderr and "internal error" not in r.stderr, r.stderr
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE  # nothing was fixed
    r = cli("check", "--no-cache", "--fix", "t.py", "-o", str(proj), cwd=proj)
    assert r.returncode == 2 and "is a directory" in r.stderr
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE


def test_unwritable_output_is_a_clear_error(proj, cli):
    if not Path("/proc/version").exists():
        pytest.skip("needs /proc")
    r = cli("check", "--no-cache", "t.py", "-o", "/proc/version", cwd=proj)
    assert r.returncode == 2 and "cannot write the report to /proc/version" in r.stderr, r.stderr
    assert "internal error" not in r.stderr


def test_a_file_that_cannot_be_written_makes_the_run_fail(proj, capsys, monkeypatch):
    from ecolint import fix as fixmod
    from ecolint.cli import main

    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.chdir(proj)
    monkeypatch.setattr(fixmod, "write_atomic", refuse)
    code = main(["check", "--no-cache", "--fix", "--fail-on", "red", "t.py"])  # the remaining finding is info
    err = capsys.readouterr().err
    assert "cannot write t.py" in err
    assert code == 2
    assert (proj / "t.py").read_text(encoding="utf-8") == BASE


# -- G2: configuration values of the wrong type -------------------------------------------------------------

@pytest.mark.parametrize(
    "key, value, words",
    [
        ("transformers-version", [1, 2], "transformers-version must be a version"),
        ("transformers-version", "garbage!!", "transformers-version must be a version"),
        ("transformers-version", 4.44, "transformers-version must be a version"),
        ("cache-dir", 5, "cache-dir must be a directory path"),
        ("cache-dir", "", "cache-dir must be a directory path"),
        ("models", {"x": float("inf")}, "models.x must be a positive number"),
        ("models", {"x": float("nan")}, "models.x must be a positive number"),
        ("models", {"x": -1}, "models.x must be a positive number"),
        ("models", {"x": True}, "models.x must be a positive number"),
        ("jobs", -1, "jobs must be a non-negative integer"),
        ("jobs", 2.5, "jobs must be a non-negative integer"),
        ("jobs", "4", "jobs must be a non-negative integer"),
    ],
)
def test_config_values_of_the_wrong_type_are_rejected(tmp_path, key, value, words):
    with pytest.raises(ConfigError) as exc:
        settings_from_mapping({key: value}, tmp_path, "ecolint.toml")
    assert str(exc.value).startswith("ecolint.toml: ") and words in str(exc.value)


@pytest.mark.parametrize("spec", ["4.46.3", "==4.44.0", ">=4.40,<5", "~=4.40.0rc1", "4.44.*", "5", "!=4.45.0, >=4.40"])
def test_transformers_version_specifiers_are_accepted(tmp_path, spec):
    assert settings_from_mapping({"transformers-version": spec}, tmp_path, "x").transformers_version == spec.strip()


def test_config_errors_from_the_command_line(tmp_path, cli):
    (tmp_path / "t.py").write_text(BASE, encoding="utf-8")
    for line in ("transformers-version = [1, 2]", "cache-dir = 5", "models = { x = inf }", 'transformers-version = "garbage!!"'):
        (tmp_path / "ecolint.toml").write_text(line + "\n", encoding="utf-8")
        r = cli("check", "t.py", cwd=tmp_path)
        assert r.returncode == 2 and "configuration error" in r.stderr, (line, r.stderr)
    assert not (tmp_path / "5").exists()


# -- G3 -----------------------------------------------------------------------------------------------------

def test_empty_stdin_filename_is_a_usage_error(proj, cli):
    r = cli("check", "--stdin-filename", "", cwd=proj, input=BASE)
    assert r.returncode == 2 and "--stdin-filename" in r.stderr and "checked" not in r.stdout, (r.stdout, r.stderr)


# -- D3: jobs are capped at the CPUs ------------------------------------------------------------------------

def test_jobs_are_capped_at_the_cpu_count(monkeypatch):
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    assert runner.worker_count(1000, 10_000) == 2
    assert runner.worker_count(100_000, 10_000) == 2
    assert runner.worker_count(None, 10_000) == 2
    assert runner.worker_count(0, 10_000) == 2
    assert runner.worker_count(1, 10_000) == 1
    assert runner.worker_count(8, 1) == 1


def test_pool_never_gets_more_workers_than_cpus(monkeypatch, tmp_path):
    import concurrent.futures

    sizes = []
    real = concurrent.futures.ProcessPoolExecutor

    def recording(*args, **kwargs):
        sizes.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", recording)
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    monkeypatch.setattr(runner, "_PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(runner, "_PARALLEL_MIN_BYTES", 0)
    for i in range(6):
        (tmp_path / f"f{i}.py").write_text(BASE, encoding="utf-8")
    engine = Engine.create(Settings(root=tmp_path))
    run = lint_paths([tmp_path], engine, jobs=1000)
    assert sizes == [2] and len(run.findings) == 6


def test_config_jobs_is_capped_not_refused(tmp_path):
    assert settings_from_mapping({"jobs": 100_000}, tmp_path, "x").jobs == 100_000  # lowered when the pool starts
    assert runner.worker_count(100_000, 50) <= runner.default_jobs()


# -- D5: a dead worker does not end the run -----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "fork"), reason="the test hook reaches the workers through fork")
def test_a_worker_that_dies_is_survived_and_the_file_named(tmp_path, monkeypatch):
    parent = os.getpid()
    real = runner._lint_one

    def kills_its_worker_on_boom(task):
        if task[0].endswith("boom.py") and os.getpid() != parent:  # only ever in a worker process
            os._exit(3)
        return real(task)

    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    monkeypatch.setattr(runner, "_PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(runner, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.chdir(tmp_path)
    for name in ("a.py", "b.py", "boom.py", "c.py", "d.py"):
        (tmp_path / name).write_text(BASE, encoding="utf-8")
    engine = Engine.create(Settings(root=tmp_path))
    expected = lint_paths([Path(".")], engine, jobs=1)
    monkeypatch.setattr(runner, "_lint_one", kills_its_worker_on_boom)
    run = lint_paths([Path(".")], engine, jobs=2)
    boom = [f for f in run.findings if f.filename == "boom.py"]
    assert [f.code for f in boom] == ["ECO903"] and "worker process died while linting this file" in boom[0].message
    others = [f.to_dict() for f in run.findings if f.filename != "boom.py"]
    assert others == [f.to_dict() for f in expected.findings if f.filename != "boom.py"]
    assert len(others) == 4


# -- D5b: workers end with their parent ---------------------------------------------------------------------

_SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ecolint import runner
    from ecolint.config import Settings
    from ecolint.runner import Engine, lint_paths

    runner._PARALLEL_MIN_FILES = 2
    runner._PARALLEL_MIN_BYTES = 0
    runner.default_jobs = lambda: 2
    if sys.argv[2] == "watch":
        runner._parent_death_signal = lambda: False  # the fallback: a thread watching the parent
    if sys.argv[2] == "handler":
        runner._die_with_parent = lambda parent: None  # only the parent's SIGTERM handler is left
    real = runner._lint_one

    def slow(task):
        time.sleep(120)
        return real(task)

    runner._lint_one = slow
    root = Path(sys.argv[1])
    lint_paths([root], Engine.create(Settings(root=root)), jobs=2)
    """
)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, how", [(signal.SIGTERM, "prctl"), (signal.SIGTERM, "handler"), (signal.SIGKILL, "prctl"), (signal.SIGKILL, "watch")])
def test_workers_end_with_their_parent(tmp_path, sig, how):
    for i in range(6):
        (tmp_path / f"f{i}.py").write_text(BASE, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, str(tmp_path), how])
    workers: list[int] = []
    try:
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2, 60), "the workers did not start"
        time.sleep(0.5)  # let the workers finish their start-up (the death signal is armed there)
        workers = _children(proc.pid)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        if sig == signal.SIGTERM:
            assert proc.returncode == -signal.SIGTERM  # ended as the signal ends a process (exit status 143)
        assert _wait_for(lambda: not any(_alive(w) for w in workers), 15), "a worker outlived its parent"
    finally:
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
