"""The file system of a hostile (or merely unusual) repository: FIFOs, devices and symlinks to them, huge files,
symlink loops, nested ``.gitignore`` files, read-only, foreign-owned and hard-linked files, and ``--diff`` output
that must apply with ``git apply``.

Anything that once hung runs through the CLI in a subprocess with a timeout, so a regression fails the test
instead of stalling the suite.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import ecolint.files
from ecolint.config import Settings
from ecolint.files import FileTooLarge, NotRegularFile, read_regular, write_atomic
from ecolint.fix import unified_diff
from ecolint.runner import Engine, lint_paths

PY_FIXABLE = b"out = model.generate(x, use_cache=False)\n"  # ECO301, with an unsafe fix
PY_FIXED = b"out = model.generate(x)\n"
ELOOP_TEXT = os.strerror(errno.ELOOP)

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks (POSIX)")
is_root = hasattr(os, "geteuid") and os.geteuid() == 0
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def run_cli(*args: str, cwd: Path, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "ECOLINT_NO_CACHE": "1"}
    env.pop("FORCE_COLOR", None)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("text", True)
    return subprocess.run([sys.executable, "-m", "ecolint", *args], cwd=cwd, capture_output=True, env=env, timeout=timeout, **kwargs)


def json_findings(proc: subprocess.CompletedProcess) -> list[tuple[str, str, str]]:
    assert proc.returncode in (0, 1), proc.stderr
    return [(f["code"], f["filename"], f["message"]) for f in json.loads(proc.stdout)]


def lint(*paths: Path, **settings):
    engine = Engine.create(replace(Settings(root=Path.cwd()), **settings))
    return lint_paths(list(paths), engine, jobs=1).findings


def write(root: Path, name: str, data: bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- D1: only regular files are read ------------------------------------------------------------------------
@posix_only
def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    os.symlink("/dev/zero", tmp_path / "zero")
    with pytest.raises(NotRegularFile, match=r"not a regular file \(named pipe\)"):
        read_regular(tmp_path / "pipe")
    with pytest.raises(NotRegularFile, match=r"not a regular file \(character device\)"):
        read_regular(tmp_path / "zero")  # a symlink is judged by its target
    with pytest.raises(IsADirectoryError):
        read_regular(tmp_path)
    write(tmp_path, "ok.txt", b"abc")
    assert read_regular(tmp_path / "ok.txt") == b"abc"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_read_regular_caps_files_that_report_no_size():
    """``/proc`` files are regular with st_size 0: the read itself stops at the cap."""
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(FileTooLarge):
        read_regular("/proc/self/status", max_bytes=10)


@posix_only
def test_fifo_and_device_links_in_a_walk_are_reported_not_read(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    os.mkfifo(tmp_path / "a" / "x.py")
    os.mkfifo(tmp_path / "a" / "fifo.yaml")
    os.symlink("/dev/zero", tmp_path / "b" / "z.py")
    os.symlink("/dev/urandom", tmp_path / "b" / "x.yaml")
    write(tmp_path / "b", "ok.py", PY_FIXABLE)
    for directory, expected in (
        ("a", {("ECO901", "a/fifo.yaml", "cannot read file: not a regular file (named pipe)"), ("ECO901", "a/x.py", "cannot read file: not a regular file (named pipe)")}),
        ("b", {("ECO901", "b/x.yaml", "cannot read file: not a regular file (character device)"), ("ECO901", "b/z.py", "cannot read file: not a regular file (character device)")}),
    ):
        found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", directory, cwd=tmp_path, timeout=60))
        assert {f for f in found if f[0] == "ECO901"} == expected
    # named explicitly: the same report
    found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", "a/x.py", "b/z.py", cwd=tmp_path))
    assert [f[:2] for f in found] == [("ECO901", "a/x.py"), ("ECO901", "b/z.py")]


@posix_only
def test_link_to_dev_stdin_does_not_wait_for_an_open_pipe(tmp_path):
    os.symlink("/dev/stdin", tmp_path / "stdin.py")
    read_end, write_end = os.pipe()
    try:  # the write end stays open for the whole run: a read of the pipe would block forever
        proc = run_cli("check", "--no-cache", "--output-format", "json", "stdin.py", cwd=tmp_path, stdin=read_end, timeout=60)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert json_findings(proc) == [("ECO901", "stdin.py", "cannot read file: not a regular file (named pipe)")]


@posix_only
def test_fifo_project_files_are_skipped(tmp_path):
    """A FIFO named requirements.txt (read by the transformers-pin lookup), .gitignore or pyproject.toml."""
    write(tmp_path, "serve.py", PY_FIXABLE)
    for name in ("requirements.txt", "requirements-dev.txt", ".gitignore", "pyproject.toml"):
        os.mkfifo(tmp_path / name)
    found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tmp_path, timeout=60))
    assert [f[:2] for f in found] == [("ECO301", "serve.py")]


@posix_only
@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_measurements_that_are_not_regular_files_are_clear_errors(tmp_path, target):
    write(tmp_path, "serve.py", PY_FIXABLE)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "ecolint.toml").write_text(f'measurements = "{target}"\n')
    for cache in ("--no-cache", "--cache-dir=.cache"):  # Settings.fingerprint reads the tables for the cache key
        proc = run_cli("check", cache, "serve.py", cwd=tmp_path, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "cannot read measurement table: not a regular file" in proc.stderr


@posix_only
def test_config_that_is_a_fifo_is_a_clear_error(tmp_path):
    write(tmp_path, "serve.py", PY_FIXABLE)
    os.mkfifo(tmp_path / "cfg.toml")
    proc = run_cli("check", "--no-cache", "--config", "cfg.toml", "serve.py", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "cfg.toml: cannot read: not a regular file (named pipe)" in proc.stderr


# -- D2: the size is judged before reading --------------------------------------------------------------------
def test_file_over_the_limit_is_never_opened(tmp_path, monkeypatch):
    big = write(tmp_path, "big.py", PY_FIXABLE * 100)
    write(tmp_path, "small.py", PY_FIXABLE)
    opened = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(ecolint.files.os, "open", spy)
    found = lint(tmp_path, max_file_size=1000)
    assert [(f.code, Path(f.filename).name) for f in found] == [("ECO904", "big.py"), ("ECO301", "small.py")]
    assert f"{big.stat().st_size:,} bytes, over the 1,000-byte limit" in found[0].message
    assert "big.py" not in opened and "small.py" in opened


def test_size_limit_respects_ignore(tmp_path):
    write(tmp_path, "big.py", PY_FIXABLE * 100)
    assert lint(tmp_path, max_file_size=1000, ignore=("ECO904",)) == []


def test_three_gigabyte_sparse_file_is_quick(tmp_path):
    with open(tmp_path / "big.py", "wb") as fh:
        fh.truncate(3 * 1024**3)
    proc = run_cli("check", "--output-format", "json", "big.py", cwd=tmp_path, timeout=60)  # with the cache on
    [(code, name, message)] = json_findings(proc)
    assert (code, name) == ("ECO904", "big.py") and "3,221,225,472 bytes" in message


# -- the limit applies to what is analysed: a notebook's code cells; big JSON is data ------------------------------
def _notebook(code: bytes, output_bytes: int) -> bytes:
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": code.decode(),
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * output_bytes}}]}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}, indent=1).encode()


def test_notebook_large_only_from_outputs_is_analysed(tmp_path):
    write(tmp_path, "demo.ipynb", _notebook(PY_FIXABLE, 5000))
    found = lint(tmp_path, max_file_size=1000)
    assert [(f.code, f.span.cell) for f in found] == [("ECO301", 1)]


def test_notebook_whose_code_cells_are_over_the_limit_is_skipped(tmp_path):
    write(tmp_path, "demo.ipynb", _notebook(PY_FIXABLE * 100, 10))
    [found] = lint(tmp_path, max_file_size=1000)
    assert found.code == "ECO904" and found.message.startswith("its code cells hold ") and "over the 1,000-byte limit" in found.message


def test_notebook_over_its_read_allowance_is_never_opened(tmp_path):
    write(tmp_path, "demo.ipynb", _notebook(PY_FIXABLE, 20_000))
    [found] = lint(tmp_path, max_file_size=1000)
    assert found.code == "ECO904" and "over the 16,000-byte limit" in found.message


def test_big_json_found_in_a_directory_is_data_not_reported(tmp_path):
    write(tmp_path, "payload.json", json.dumps({"instances": [[0.5] * 2000]}).encode())
    assert lint(tmp_path, max_file_size=1000) == []
    write(tmp_path, "pyproject.toml", b"[tool.ecolint]\nmax-file-size = 1000\n")
    proc = run_cli("check", "--no-cache", "--output-format", "json", "payload.json", cwd=tmp_path, timeout=60)
    [(code, name, _message)] = json_findings(proc)  # named on the command line: still said
    assert (code, name) == ("ECO904", "payload.json")


# -- E1: .gitignore inside the walked tree, whatever the path looks like ------------------------------------
@needs_git
def test_nested_gitignore_is_honoured_for_relative_paths(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("generated/\n")
    write(repo, "src/.gitignore", b"gen2/\n")
    for name in ("keep.py", "generated/x.py", "src/a.py", "src/gen2/y.py"):
        write(repo, name, PY_FIXABLE)
    listed = subprocess.run(["git", "status", "--short", "--untracked-files=all"], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert "generated/" not in listed and "gen2/" not in listed
    for args, expected in (
        (["."], ["keep.py", "src/a.py"]),
        ([], ["keep.py", "src/a.py"]),
        (["src"], ["src/a.py"]),
        ([str(repo)], ["keep.py", "src/a.py"]),
    ):
        found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", *args, cwd=repo))
        assert [f[1] for f in found] == expected, args
    found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", "..", cwd=repo / "src"))
    assert [f[1] for f in found] == ["../keep.py", "a.py"]
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "keep.py").read_bytes() == PY_FIXED and (repo / "src/a.py").read_bytes() == PY_FIXED
    assert (repo / "generated/x.py").read_bytes() == PY_FIXABLE  # git-ignored: untouched
    assert (repo / "src/gen2/y.py").read_bytes() == PY_FIXABLE


def test_gitignore_above_the_repository_does_not_apply(tmp_path):
    (tmp_path / ".gitignore").write_text("*.py\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo, "a.py", PY_FIXABLE)
    assert [Path(f.filename).name for f in lint(repo)] == ["a.py"]
    plain = tmp_path / "plain"  # not a repository: a .gitignore above the walked directory does not apply
    write(plain, "b.py", PY_FIXABLE)
    assert [Path(f.filename).name for f in lint(plain)] == ["b.py"]
    assert lint(tmp_path) == []  # walked from where it is, it covers the whole tree


# -- E8: symlink loops met in a walk --------------------------------------------------------------------------
@posix_only
def test_symlink_loops_in_a_walk_are_reported(tmp_path):
    os.symlink("loop2.py", tmp_path / "loop1.py")
    os.symlink("loop1.py", tmp_path / "loop2.py")
    os.symlink("self.yaml", tmp_path / "self.yaml")
    write(tmp_path, "ok.py", PY_FIXABLE)
    found = json_findings(run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tmp_path))
    assert found == [
        ("ECO901", "loop1.py", f"cannot read file: {ELOOP_TEXT}"),
        ("ECO901", "loop2.py", f"cannot read file: {ELOOP_TEXT}"),
        ("ECO301", "ok.py", found[2][2]),
        ("ECO901", "self.yaml", f"cannot read file: {ELOOP_TEXT}"),
    ]


# -- B5: what --fix writes keeps what the file is -------------------------------------------------------------
@posix_only
def test_read_only_file_is_refused(tmp_path):
    """0444 is refused for everyone, root included (root passes every permission check, but a file nobody may
    write is read-only on purpose)."""
    ro = write(tmp_path, "ro.py", PY_FIXABLE)
    ro.chmod(0o444)
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "ro.py", cwd=tmp_path)
    assert "cannot write ro.py: read-only" in proc.stderr
    assert proc.returncode != 0
    assert ro.read_bytes() == PY_FIXABLE and stat.S_IMODE(ro.stat().st_mode) == 0o444


def test_file_the_user_may_not_write_is_refused(tmp_path, monkeypatch):
    """What a non-root user without write permission gets (the permission check simulated, so it runs as
    root too)."""
    path = write(tmp_path, "theirs.py", PY_FIXABLE)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: not (mode & os.W_OK and Path(p).name == "theirs.py"))
    with pytest.raises(PermissionError, match="read-only"):
        write_atomic(path, PY_FIXED)
    assert path.read_bytes() == PY_FIXABLE


@pytest.mark.skipif(is_root or not hasattr(os, "geteuid"), reason="root may write any file: needs an unprivileged user")
def test_group_read_only_file_is_refused_for_its_owner(tmp_path):
    path = write(tmp_path, "ro.py", PY_FIXABLE)
    path.chmod(0o464)  # others may write, the owner may not
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "ro.py", cwd=tmp_path)
    assert "cannot write ro.py: read-only" in proc.stderr and path.read_bytes() == PY_FIXABLE


@pytest.mark.skipif(not is_root, reason="only root can give a file to another user")
def test_owner_and_group_are_kept(tmp_path):
    path = write(tmp_path, "owned.py", PY_FIXABLE)
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "owned.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    st = path.stat()
    assert path.read_bytes() == PY_FIXED
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o640)


def test_extended_attributes_are_kept(tmp_path):
    path = write(tmp_path, "attr.py", PY_FIXABLE)
    try:
        os.setxattr(path, "user.ecolint-test", b"kept")
    except (AttributeError, OSError):
        pytest.skip("the file system takes no user extended attributes")
    write_atomic(path, PY_FIXED)
    assert path.read_bytes() == PY_FIXED and os.getxattr(path, "user.ecolint-test") == b"kept"


def test_hard_links_keep_sharing_content(tmp_path):
    first = write(tmp_path, "hl.py", PY_FIXABLE)
    second = tmp_path / "other-name.py"
    os.link(first, second)
    inode = first.stat().st_ino
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "hl.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert first.read_bytes() == second.read_bytes() == PY_FIXED
    assert first.stat().st_ino == second.stat().st_ino == inode and first.stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hl.py", "other-name.py"]  # no temporary file left


def test_mode_and_symlink_survive(tmp_path):
    real = write(tmp_path, "real.py", PY_FIXABLE)
    real.chmod(0o751)
    os.symlink("real.py", tmp_path / "link.py")
    write_atomic(tmp_path / "link.py", PY_FIXED)
    assert os.readlink(tmp_path / "link.py") == "real.py"
    assert real.read_bytes() == PY_FIXED and stat.S_IMODE(real.stat().st_mode) == 0o751


# -- G4: --diff applies with git apply ------------------------------------------------------------------------
GIT_FILES = {
    "b3.py": b"import torch\n\ndef f(x):\n    a = 1\n    out = model.generate(x, use_cache=False)\n    return out\n",
    "bom.yaml": b"\xef\xbb\xbfquantization:\r\n  load_in_8bit: true\r\nother: 1\r\n",
    "bom.py": b"\xef\xbb\xbf" + PY_FIXABLE,
    "cr.py": b"import torch\r\rx = 1\r" + PY_FIXABLE.rstrip(b"\n") + b"\ry = 2\r",
    "mix.py": b"import torch\r\nx = 1\n" + PY_FIXABLE.rstrip(b"\n") + b"\r\ny = 2\r",
    "noeol.py": b"x = 1\n" + PY_FIXABLE.rstrip(b"\n"),
    "zz_after.py": PY_FIXABLE,  # the hunks of files after the CR-only one must not be lost
}


def _git(repo: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=repo, capture_output=True, **kwargs)


@needs_git
def test_diff_applies_with_git_apply_and_equals_fix(tmp_path):
    patched, fixed = tmp_path / "patched", tmp_path / "fixed"
    for repo in (patched, fixed):
        repo.mkdir()
        assert _git(repo, "init", "-q").returncode == 0
        for name, data in GIT_FILES.items():
            write(repo, name, data)
    proc = run_cli("check", "--no-cache", "--diff", "--unsafe-fixes", ".", cwd=patched, text=False)  # CRs as they are
    assert proc.returncode == 1, proc.stderr
    (tmp_path / "p.diff").write_bytes(proc.stdout)
    check = _git(patched, "apply", "--check", str(tmp_path / "p.diff"))
    assert check.returncode == 0, check.stderr.decode()
    assert _git(patched, "apply", str(tmp_path / "p.diff")).returncode == 0
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=fixed)
    assert proc.returncode in (0, 1), proc.stderr
    for name in GIT_FILES:
        assert (patched / name).read_bytes() == (fixed / name).read_bytes(), name
    assert (fixed / "cr.py").read_bytes() != GIT_FILES["cr.py"] and (fixed / "bom.yaml").read_bytes() != GIT_FILES["bom.yaml"]


def test_diff_lines_are_split_as_git_splits_them():
    diff = unified_diff("a\rb = 1\rc\r", "a\rb = 2\rc\r", "cr.py")
    assert [line + "\n" for line in diff.split("\n")[2:-1]] == ["@@ -1 +1 @@\n", "-a\rb = 1\rc\r\n", "\\ No newline at end of file\n", "+a\rb = 2\rc\r\n", "\\ No newline at end of file\n"]  # noqa: E501
    bom = unified_diff("x = 1\n", "x = 2\n", "bom.py", bom=True)
    assert "-\ufeffx = 1\n+\ufeffx = 2\n" in bom
    # a removed last line that looks like a header keeps its no-newline marker
    assert unified_diff("a\n-- x", "a\n", "h.py").endswith("--- x\n\\ No newline at end of file\n")



def test_per_directory_shortcuts_of_the_walk_answer_as_the_path_questions_do(tmp_path):
    """The walk judges a directory's entries with rules prepared once per directory (gitignore) and with each
    path component tested once (exclusions): the same answers as asking about each full path."""
    import random

    from ecolint.config import any_glob, glob_match
    from ecolint.discovery import _GitIgnore

    rng = random.Random(11)
    words = ["a", "b", "build", "x.py", "y.yaml", "*.py", "b*", "!keep.py", "keep.py", "data/", "/top", "a/b", "**/gen",
             "gen", "*.egg-info", "node_modules", ".venv", "sub/x.py", "?.py", "[ab]", "[!a]*"]
    names = ["a", "b", "x.py", "keep.py", "build", "gen", "top", "data", "pkg.egg-info", "c.yaml", "ab", "z.py"]
    root = tmp_path / "r"
    (root / "s" / "t").mkdir(parents=True)
    for _ in range(120):
        ignore = _GitIgnore()
        for d in (root, root / "s", root / "s" / "t"):
            (d / ".gitignore").write_text("\n".join(rng.sample(words, 5)) + "\n", encoding="utf-8")
            ignore.add_file(d / ".gitignore")
        for d in (root, root / "s", root / "s" / "t"):
            judge = ignore.in_directory(d)
            for name in names:
                for is_dir in (False, True):
                    assert judge(name, is_dir) == ignore.ignored(d / name, is_dir), (d, name, is_dir, ignore.rules)
        patterns = tuple(rng.sample(words, 6))
        excluded = any_glob(patterns)
        for _ in range(30):
            rel = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
            assert excluded(rel) == any(glob_match(rel, p) for p in patterns), (rel, patterns)


def test_display_paths_below_the_working_directory_are_what_relpath_gives(tmp_path, monkeypatch):
    """display_path takes a path below the working directory apart by text (once per linted file): the same
    result as ``os.path.relpath`` for relative, absolute, dotted and doubled-slash names, and outside it."""
    from ecolint.files import display_path

    (tmp_path / "w" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "w")

    def old(path: Path) -> str:
        rel = os.path.relpath(path)
        return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()

    names = ["a.py", "sub/a.py", "./sub//a.py", "sub/./a.py", str(tmp_path / "w" / "sub" / "a.py"), str(tmp_path / "w"),
             str(tmp_path / "other.py"), "/", str(tmp_path / "w2" / "x.py"), "sub/", ".", "a b.py", "ü.py"]
    for name in names:
        assert display_path(Path(name)) == old(Path(name)), name
