"""The results cache never touches what is not its own, never supplies fix edits, and never mixes up files.

B1: ecolint's files live in a ``.ecolint_cache`` directory it created; markers are written only there, a
repository configuration cannot point the cache outside the project, and ``ecolint clean`` removes only
ecolint's own files. B3: a forged cache cannot put text into a source file. B4/E4: findings, texts, fixes and
cache entries are keyed on the file the OS opens, and the per-file settings of that file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ecolint
from ecolint.cache import CACHE_DIR_NAME, ResultsCache, clean
from ecolint.config import Settings
from ecolint.runner import Engine, display_path, lint_paths

# An ECO104 with a safe fix on line 2 (column 69).
BASE = (
    "from transformers import BitsAndBytesConfig\n"
    'bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n'
)
FIXED_BASE = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"
# An ECO101 (unsafe fix) on line 3, after a comment line.
EIGHT_BIT = (
    "from transformers import BitsAndBytesConfig\n"
    "# a harmless comment line that must stay as it is\n"
    "bnb = BitsAndBytesConfig(load_in_8bit=True)\n"
)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its content (symlinks as their target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


# -- B1: where the cache lives, and what clean removes -------------------------------------------------------

def test_repo_cache_dir_dotdot_is_refused_and_nothing_outside_is_touched(tmp_path, cli):
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "thesis.txt").write_text("precious\n", encoding="utf-8")
    repo = home / "repo"
    repo.mkdir()
    (repo / "t.py").write_text(BASE, encoding="utf-8")
    (repo / "pyproject.toml").write_text('[tool.ecolint]\ncache-dir = ".."\n', encoding="utf-8")
    before = _tree(home)

    r = cli("check", "-q", ".", cwd=repo)
    assert r.returncode == 2 and "configuration error" in r.stderr and "cache-dir" in r.stderr and "outside the project" in r.stderr
    r = cli("clean", cwd=repo)
    assert r.returncode == 2 and "outside the project" in r.stderr

    assert (home / "docs" / "thesis.txt").read_text(encoding="utf-8") == "precious\n"
    assert _tree(home) == before
    assert not (home / "CACHEDIR.TAG").exists() and not (home / ".gitignore").exists()


@pytest.mark.parametrize("value", ["/", "../..", "sub/../..", "escape"])
def test_repo_cache_dir_outside_the_project_is_a_config_error(tmp_path, cli, value):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "escape").symlink_to(tmp_path)  # inside by name, outside in fact
    (repo / "t.py").write_text(BASE, encoding="utf-8")
    (repo / "ecolint.toml").write_text(f"cache-dir = {json.dumps(value)}\n", encoding="utf-8")
    r = cli("check", "-q", "t.py", cwd=repo)
    assert r.returncode == 2 and "cache-dir" in r.stderr and "outside the project" in r.stderr, r.stderr
    assert not list(tmp_path.rglob(CACHE_DIR_NAME))


def test_repo_cache_dir_dot_keeps_the_project_and_its_git_status(tmp_path, cli):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (repo / "t.py").write_text(BASE, encoding="utf-8")
    (repo / "pyproject.toml").write_text('[tool.ecolint]\ncache-dir = "."\n', encoding="utf-8")
    before = _tree(repo)

    r = cli("check", "-q", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert not (repo / ".gitignore").exists() and not (repo / "CACHEDIR.TAG").exists()  # not written into the project
    own = repo / CACHE_DIR_NAME
    assert (own / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert (own / "CACHEDIR.TAG").is_file() and (own / ecolint.__version__).is_dir()

    r = cli("clean", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert not own.exists()
    assert _tree(repo) == before  # .git, the code and the configuration are all still there


def test_command_line_cache_dir_in_an_existing_directory_keeps_its_files(tmp_path, cli):
    dot_cache = tmp_path / "fakehome" / ".cache"
    (dot_cache / "pip").mkdir(parents=True)
    (dot_cache / "pip" / "wheel.whl").write_bytes(b"wheel")
    (dot_cache / "notes.txt").write_text("keep me\n", encoding="utf-8")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "t.py").write_text(BASE, encoding="utf-8")
    before = _tree(dot_cache)

    r = cli("check", "-q", "--cache-dir", str(dot_cache), ".", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert not (dot_cache / ".gitignore").exists() and not (dot_cache / "CACHEDIR.TAG").exists()
    assert list((dot_cache / CACHE_DIR_NAME / ecolint.__version__).glob("*.json"))

    r = cli("clean", "--cache-dir", str(dot_cache), cwd=proj)
    assert r.returncode == 0, r.stderr
    assert _tree(dot_cache) == before


def test_existing_directory_named_like_the_cache_is_not_marked_and_keeps_foreign_files(tmp_path):
    found = tmp_path / CACHE_DIR_NAME
    (found / ecolint.__version__).mkdir(parents=True)
    (found / "mine.txt").write_text("user data\n", encoding="utf-8")
    (found / ecolint.__version__ / "notes.json").write_text("{}", encoding="utf-8")
    (found / ".gitignore").write_text("*.txt\n", encoding="utf-8")  # the user's own, different text
    cache = ResultsCache(tmp_path, "ab" * 16)
    cache.put("/x.py", "k", [])
    cache.save()
    assert not (found / "CACHEDIR.TAG").exists()  # ecolint did not create this directory: no markers
    assert (found / ".gitignore").read_text(encoding="utf-8") == "*.txt\n"
    entries = list((found / ecolint.__version__).glob("*.json"))
    assert len(entries) == 2

    assert clean(tmp_path) is True
    assert (found / "mine.txt").is_file() and (found / ".gitignore").is_file()
    assert [p.name for p in (found / ecolint.__version__).iterdir()] == ["notes.json"]


def test_clean_removes_exactly_what_ecolint_wrote(tmp_path):
    cache = ResultsCache(tmp_path / "c", "0" * 32)
    cache.put("/x.py", "k", [])
    cache.save()
    own = tmp_path / "c" / CACHE_DIR_NAME
    assert sorted(p.name for p in own.iterdir()) == [".gitignore", ecolint.__version__, "CACHEDIR.TAG"]
    assert clean(tmp_path / "c") is True
    assert not own.exists() and (tmp_path / "c").is_dir()
    assert clean(tmp_path / "c") is False  # nothing left to remove
    assert clean(tmp_path / "missing") is False


def test_a_symlinked_cache_directory_is_neither_written_nor_cleaned(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.txt").write_text("x\n", encoding="utf-8")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / CACHE_DIR_NAME).symlink_to(elsewhere)  # e.g. committed by a hostile repository
    cache = ResultsCache(proj, "ctx")
    cache.put("/x.py", "k", [])
    cache.save()
    assert _tree(elsewhere) == {"data.txt": b"x\n"}
    assert clean(proj) is False
    assert _tree(elsewhere) == {"data.txt": b"x\n"}


# -- B3: a forged cache cannot inject code ------------------------------------------------------------------

def test_fix_never_applies_edits_read_from_the_cache(tmp_path, cli):
    (tmp_path / "t.py").write_text(BASE, encoding="utf-8")
    r = cli("check", "-q", "t.py", cwd=tmp_path)
    assert "ECO104" in r.stdout
    [cache_file] = (tmp_path / CACHE_DIR_NAME / ecolint.__version__).glob("*.json")
    data = json.loads(cache_file.read_text(encoding="utf-8"))
    forged = '__import__("os").system("touch pwned.txt")'
    for entry in data["entries"].values():
        entry["findings"][0]["fix"]["edits"][0]["content"] = forged
    cache_file.write_text(json.dumps(data), encoding="utf-8")

    r = cli("check", "-q", "--fix", "t.py", cwd=tmp_path)
    text = (tmp_path / "t.py").read_text(encoding="utf-8")
    assert forged not in text and "__import__" not in text
    assert text == FIXED_BASE  # the real fix, recomputed from the file
    assert not (tmp_path / "pwned.txt").exists()


def test_fix_run_relints_a_cached_file(tmp_path, monkeypatch):
    from ecolint.fix import fix_run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.py").write_text(BASE, encoding="utf-8")
    engine = Engine.create(Settings(root=tmp_path))
    lint_paths([Path("t.py")], engine, cache=ResultsCache.for_engine(engine))
    run = lint_paths([Path("t.py")], engine, cache=ResultsCache.for_engine(engine))
    assert run.cached == {"t.py"}
    for f in run.findings:
        for e in f.fix.edits:
            e.content = "FORGED"
    result = fix_run(run, engine)
    assert not result.errors and result.fixed == 1
    assert (tmp_path / "t.py").read_text(encoding="utf-8") == FIXED_BASE


# -- B4: a symlinked directory followed by `..` -------------------------------------------------------------

@pytest.fixture
def symlinked(tmp_path, monkeypatch):
    """sub -> other/deep; other/x.py has an ECO104 on line 2; ./x.py has an ECO101 on line 3."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other" / "deep").mkdir(parents=True)
    (tmp_path / "sub").symlink_to(tmp_path / "other" / "deep")
    (tmp_path / "other" / "x.py").write_text(BASE, encoding="utf-8")
    (tmp_path / "x.py").write_text(EIGHT_BIT, encoding="utf-8")
    return tmp_path


def test_display_path_follows_the_os_through_a_symlinked_directory(symlinked):
    assert display_path(Path("sub/../x.py")) == "other/x.py"
    assert display_path(Path("x.py")) == "x.py"
    assert display_path(Path("other/deep/../x.py")) == "other/x.py"  # no symlink: the plain answer
    assert display_path(Path("sub/y.py")) == "sub/y.py"  # a symlinked directory alone keeps its name


def test_fix_through_a_symlinked_directory_edits_the_right_files(symlinked, cli):
    r = cli("check", "--no-cache", "--fix", "--output-format", "concise", "sub/../x.py", "x.py", cwd=symlinked)
    assert "changed on disk" not in r.stderr, r.stderr
    assert (symlinked / "x.py").read_text(encoding="utf-8") == EIGHT_BIT  # its fix is unsafe: untouched
    assert (symlinked / "other" / "x.py").read_text(encoding="utf-8") == FIXED_BASE
    assert "x.py:3:" in r.stdout and "ECO101" in r.stdout


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_findings_through_a_symlinked_directory_name_the_real_file(symlinked, cli, cache):
    r = cli("check", *cache, "--output-format", "concise", "sub/../x.py", cwd=symlinked)
    assert "other/x.py:2:69: ECO104" in r.stdout, r.stdout
    r = cli("check", *cache, "--output-format", "concise", "sub/../x.py", "x.py", cwd=symlinked)
    assert "other/x.py:2:69: ECO104" in r.stdout and "\nx.py:3:" in "\n" + r.stdout, r.stdout
    r = cli("check", *cache, "--fix", "sub/../x.py", cwd=symlinked)
    assert "changed on disk" not in r.stderr and r.returncode == 0, r.stderr
    assert (symlinked / "other" / "x.py").read_text(encoding="utf-8") == FIXED_BASE
    (symlinked / "other" / "x.py").write_text(BASE, encoding="utf-8")


# -- E4: the cache key includes the file's own settings -----------------------------------------------------

def test_per_file_ignores_do_not_leak_between_same_named_files(tmp_path, cli):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.py").write_text(BASE, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.ecolint]\nper-file-ignores = { "a/*.py" = ["ECO104"] }\n', encoding="utf-8")
    r = cli("check", "--output-format", "concise", "x.py", cwd=tmp_path / "a")
    assert "ECO104" not in r.stdout and r.returncode == 0, r.stdout
    r = cli("check", "--output-format", "concise", "x.py", cwd=tmp_path / "b")
    assert "x.py:2:69: ECO104" in r.stdout, r.stdout
    r = cli("check", "--output-format", "concise", "x.py", cwd=tmp_path / "a")  # and back: still ignored
    assert "ECO104" not in r.stdout, r.stdout
    r_nc = cli("check", "--no-cache", "--output-format", "concise", "x.py", cwd=tmp_path / "b")
    r_c = cli("check", "--output-format", "concise", "x.py", cwd=tmp_path / "b")
    assert r_c.stdout == r_nc.stdout


def test_two_real_files_never_share_a_cache_entry(tmp_path, monkeypatch):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.py").write_text(BASE, encoding="utf-8")
    settings = Settings(root=tmp_path, per_file_ignores=(("a/*.py", ("ECO104",)),))
    engine = Engine.create(settings)
    seen = {}
    for d in ("a", "b"):
        monkeypatch.chdir(tmp_path / d)
        cache = ResultsCache.for_engine(engine, tmp_path)
        run = lint_paths([Path("x.py")], engine, cache=cache)
        seen[d] = sorted(f.code for f in run.findings)
    assert seen == {"a": [], "b": ["ECO104"]}


@pytest.mark.parametrize("shape", ["fifo", "dev-zero"])
def test_a_cache_file_that_is_not_a_regular_file_is_an_empty_cache(tmp_path, cli, shape):
    """A committed or planted cache entry file (FIFO, link to /dev/zero) must neither hang nor eat memory."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "t.py").write_text(BASE, encoding="utf-8")
    first = cli("check", "--output-format", "json", "t.py", cwd=proj)
    entries = list((proj / CACHE_DIR_NAME).rglob("*.json"))
    assert entries, "the first run must write a cache file"
    for entry in entries:
        entry.unlink()
        if shape == "fifo":
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
    again = cli("check", "--output-format", "json", "t.py", cwd=proj)
    assert again.returncode == first.returncode
    assert json.loads(again.stdout) == json.loads(first.stdout)
