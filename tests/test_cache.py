"""The results cache: hits round-trip findings exactly, and every input that can change findings misses."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import ecolint
from ecolint import cache as cache_mod
from ecolint import runner
from ecolint.cache import ResultsCache
from ecolint.config import Settings
from ecolint.runner import Engine, lint_paths

ROOT = Path(__file__).resolve().parent.parent
BAD = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "\n"
    "bnb = BitsAndBytesConfig(load_in_8bit=True)\n"
    'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb, device_map="auto")\n'
    "for p in prompts:\n"
    "    model.generate(p, use_cache=False)\n"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "serve.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "clean.py").write_text("print('hello')\n", encoding="utf-8")
    shutil.copy(ROOT / "fixtures" / "colab_t4_bf16.py", tmp_path / "colab.py")
    return tmp_path


@pytest.fixture
def counted(monkeypatch):
    """Counts the files actually linted (cache misses)."""
    calls: list[str] = []
    real = runner._lint_one

    def spy(task):
        calls.append(task[0])
        return real(task)

    monkeypatch.setattr(runner, "_lint_one", spy)
    return calls


def _engine(root: Path, **changes) -> Engine:
    return Engine.create(replace(Settings(root=root), **changes))


def _run(root: Path, engine=None, **kw):
    engine = engine or _engine(root)
    cache = ResultsCache.for_engine(engine)
    return lint_paths([root], engine, jobs=1, cache=cache, **kw)


def _dicts(run):
    return [f.to_dict() for f in run.findings]


def test_warm_run_is_served_from_the_cache_and_identical(project, counted):
    cold = _run(project)
    assert sorted(counted) == ["clean.py", "colab.py", "serve.py"]
    counted.clear()
    warm = _run(project)
    assert counted == []
    assert _dicts(warm) == _dicts(cold)
    assert warm.files_checked == cold.files_checked == 3
    # code frames and fixes still have their texts
    assert set(warm.texts) == set(cold.texts) == {f.filename for f in cold.findings}
    assert warm.texts["serve.py"] == BAD
    assert any(f.fix and f.fix.edits for f in warm.findings)
    assert (project / ".ecolint_cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (project / ".ecolint_cache" / ecolint.__version__).is_dir()


def test_uncached_run_matches(project):
    cached = _run(project)
    plain = lint_paths([project], _engine(project), jobs=1)
    assert _dicts(cached) == _dicts(plain)


def test_content_change_misses(project, counted):
    _run(project)
    counted.clear()
    (project / "serve.py").write_text(BAD.replace("use_cache=False", "use_cache=True"), encoding="utf-8")
    run = _run(project)
    assert counted == ["serve.py"]
    assert "ECO301" not in {f.code for f in run.findings}


@pytest.mark.parametrize(
    "changes",
    [{"select": ("ECO1",)}, {"ignore": ("ECO301",)}, {"gpu": "t4"}, {"transformers_version": "5.0.0"}, {"max_file_size": 100_000}],
)
def test_settings_change_misses(project, counted, changes):
    _run(project)
    counted.clear()
    fresh = lint_paths([project], _engine(project, **changes), jobs=1)
    counted.clear()
    run = _run(project, _engine(project, **changes))
    assert sorted(counted) == ["clean.py", "colab.py", "serve.py"]
    assert _dicts(run) == _dicts(fresh)


def test_version_change_misses(project, counted, monkeypatch):
    _run(project)
    counted.clear()
    monkeypatch.setattr(ecolint, "__version__", "999.0")
    _run(project)
    assert len(counted) == 3
    assert (project / ".ecolint_cache" / "999.0").is_dir()


def test_data_version_change_misses(project, counted, monkeypatch):
    import ecolint.knowledge.data as data

    _run(project)
    counted.clear()
    monkeypatch.setattr(data, "data_version", lambda: "another-table")
    _run(project)
    assert len(counted) == 3


def test_rule_source_change_misses(project, counted, monkeypatch):
    _run(project)
    counted.clear()
    monkeypatch.setattr(cache_mod, "_code_stamp", lambda engine: "edited")
    _run(project)
    assert len(counted) == 3


def test_project_pin_change_misses(project, counted):
    _run(project)
    counted.clear()
    from ecolint.pins import transformers_pin

    (project / "requirements.txt").write_text("transformers==4.40.0\n", encoding="utf-8")
    transformers_pin.cache_clear()  # a new process reads the pin afresh
    _run(project)
    assert sorted(counted) == ["clean.py", "colab.py", "serve.py"]


def test_corrupt_cache_is_ignored_and_rewritten(project, counted):
    cold = _run(project)
    files = list((project / ".ecolint_cache").rglob("*.json"))
    assert len(files) == 1
    files[0].write_text("{not json", encoding="utf-8")
    counted.clear()
    assert _dicts(_run(project)) == _dicts(cold)
    assert len(counted) == 3
    # a damaged entry (right key, unusable findings) is a miss, not a crash
    data = json.loads(files[0].read_text(encoding="utf-8"))
    data["entries"][str((project / "serve.py").resolve())]["findings"] = [{"code": "ECO101"}]  # keyed on the real file
    files[0].write_text(json.dumps(data), encoding="utf-8")
    counted.clear()
    assert _dicts(_run(project)) == _dicts(cold)
    assert counted == ["serve.py"]


def test_internal_errors_are_not_cached(tmp_path):
    from ecolint.facts import Span
    from ecolint.rule import Finding, Severity

    c = ResultsCache(tmp_path / "c", "ctx")
    c.put("a.py", "k", [Finding("ECO903", "internal-error", Severity.RED, "boom", "a.py", Span(1, 1, 1, 1))])
    c.save()
    assert not (tmp_path / "c").exists()


def test_concurrent_writers_merge_and_never_corrupt(tmp_path):
    directory = tmp_path / "c"
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(20):
                c = ResultsCache(directory, "ctx")
                c.put(f"f{i}_{j}.py", "k", [])
                c.save()
                assert isinstance(cache_mod._read(c.file), dict)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = cache_mod._read(ResultsCache(directory, "ctx").file)
    assert entries and all(v == {"key": "k", "findings": []} for v in entries.values())
    assert not list(directory.rglob("*.tmp"))


def test_cli_cache_options_and_clean(project, cli):
    r = cli("check", "--no-cache", "--exit-zero", ".", cwd=project)
    assert r.returncode == 0, r.stderr
    assert not (project / ".ecolint_cache").exists()
    r1 = cli("check", "--output-format", "json", "--exit-zero", ".", cwd=project)
    assert (project / ".ecolint_cache" / "CACHEDIR.TAG").is_file()
    r2 = cli("check", "--output-format", "json", "--exit-zero", ".", cwd=project)
    assert r1.stdout == r2.stdout and json.loads(r1.stdout)
    other = project / "elsewhere"
    cli("check", "--cache-dir", str(other), "--exit-zero", ".", cwd=project)
    assert (other / ".ecolint_cache" / "CACHEDIR.TAG").is_file()  # ecolint's files live in a directory of its own
    r = cli("clean", cwd=project)
    assert r.returncode == 0 and not (project / ".ecolint_cache").exists()
    r = cli("clean", "--cache-dir", str(other), cwd=project)
    assert r.returncode == 0 and not (other / ".ecolint_cache").exists() and other.is_dir()
    (project / "keep").mkdir()
    (project / "keep" / "notes.txt").write_text("mine\n", encoding="utf-8")
    r = cli("clean", "--cache-dir", "keep", cwd=project)
    assert r.returncode == 0 and "no cache" in r.stdout and (project / "keep" / "notes.txt").is_file()
