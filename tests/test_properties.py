"""Property tests: whatever Python or config text ecolint is given, it reports and never crashes, and ``--fix``
output re-parses, is idempotent, and leaves files without applicable fixes byte for byte as they were.

The oracle and the mutators are those of ``bench/fuzz.py`` (the long campaign outside CI); here each property
runs a few dozen examples so that the suite stays fast. ``ECOLINT_PROPERTY_EXAMPLES`` raises the count.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("ECOLINT_PROPERTY_EXAMPLES", "12"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
GRAMMAR_PROFILE = settings(PROFILE, max_examples=max(1, EXAMPLES // 2))  # hypothesmith draws slowly


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("ecolint_bench_fuzz", ROOT / "bench" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


@lru_cache(maxsize=None)
def oracle():
    return fuzz.Oracle(budget=30.0)


@lru_cache(maxsize=None)
def seeds() -> tuple[tuple[str, bytes], ...]:
    return tuple(fuzz.seed_corpus())


def assert_ok(category: str, name: str, data: bytes) -> None:
    failures = oracle().check(category, name, data)
    assert not failures, "\n\n".join(f"{f.kind}: {f.detail}" for f in failures)


# -- generated Python programs ------------------------------------------------------------------------------
def test_hypothesmith_is_usable():
    hypothesmith = pytest.importorskip("hypothesmith")
    assert hypothesmith.from_grammar() is not None


try:
    import hypothesmith

    _GRAMMAR = hypothesmith.from_grammar() | hypothesmith.from_node()
except ImportError:  # pragma: no cover - the test extra is not installed
    _GRAMMAR = None


@pytest.mark.skipif(_GRAMMAR is None, reason="hypothesmith is not installed")
@GRAMMAR_PROFILE
@given(source=_GRAMMAR if _GRAMMAR is not None else st.nothing())
def test_grammar_programs_never_crash(source):
    assert_ok("grammar", "generated.py", source.encode("utf-8", "surrogatepass"))


@st.composite
def inference_programs(draw) -> bytes:
    """Inference-shaped programs: fragments that trigger every Python rule, in random layouts and encodings."""
    parts = draw(st.lists(st.sampled_from(fuzz.PROGRAM_PARTS), min_size=1, max_size=7))
    model = draw(st.sampled_from(fuzz.MODELS))
    text = "".join(p.replace("{model}", model) for p in parts)
    if draw(st.booleans()):
        text = "def main():\n" + "".join(("    " + ln if ln else ln) + "\n" for ln in text.split("\n")[:-1])
    quote = draw(st.sampled_from(["'", '"']))
    text = text.replace("'", quote)
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = text.replace("\n", eol)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-bom", "latin-1"]))
    if encoding == "latin-1":
        return f"# -*- coding: latin-1 -*-{eol}# café{eol}{text}".encode("latin-1")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if encoding == "utf-8-bom" else data


@PROFILE
@given(data=inference_programs())
def test_inference_programs_lint_and_fix_cleanly(data):
    """Linting never crashes; fixing re-parses, is idempotent and writes the file in its own encoding."""
    assert_ok("program", "infer.py", data)


# -- mutated fixtures, rule examples and configs -----------------------------------------------------------
@st.composite
def mutants(draw, configs_only: bool = False) -> tuple[str, bytes]:
    pool = fuzz.config_seeds(list(seeds())) if configs_only else list(seeds())
    name, data = pool[draw(st.integers(0, len(pool) - 1))]
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    ops = draw(st.integers(1, 12))
    return name, fuzz.mutate(data, rng, ops, [d for _, d in pool])


@PROFILE
@given(case=mutants())
def test_mutated_seeds_never_crash(case):
    assert_ok("mutant", *case)


@PROFILE
@given(case=mutants(configs_only=True))
def test_mutated_configs_never_crash(case):
    assert_ok("config", *case)


# -- byte-for-byte round trip ------------------------------------------------------------------------------
@st.composite
def untouched_files(draw) -> tuple[str, bytes]:
    """Files with nothing to fix (VALID examples and fixtures without a fix), in odd encodings and layouts."""
    pool = [(n, d) for n, d in seeds() if not _has_fix(n, d)]
    name, data = pool[draw(st.integers(0, len(pool) - 1))]
    eol = draw(st.sampled_from([None, b"\r\n", b"\r"]))
    if eol is not None:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", eol)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.booleans()):
        data = data + draw(st.sampled_from([b"", b"\n\n", b"   ", b"# trailing comment without newline"]))
    return name, data


@lru_cache(maxsize=None)
def _has_fix(name: str, data: bytes) -> bool:
    from ecolint.fix import applicable
    from ecolint.runner import lint_bytes
    from ecolint.sources import kind_for

    engine = oracle().engines["full"]
    result = lint_bytes(name, data, kind_for(Path(name)) or "python", engine, project_dir=Path("/nonexistent"))
    return any(applicable(f.fix, True) for f in result.findings)


@PROFILE
@given(case=untouched_files())
def test_files_without_fixes_are_not_rewritten(tmp_path_factory, case):
    from ecolint.fix import fix_file
    from ecolint.sources import kind_for

    name, data = case
    path = tmp_path_factory.mktemp("untouched") / name
    path.write_bytes(data)
    mtime = path.stat().st_mtime_ns
    result = fix_file(path, name, kind_for(path) or "python", oracle().engines["full"], unsafe=True)
    if not result.changed:
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == mtime
    assert_ok("untouched", name, data)


def test_fix_keeps_latin1_crlf_and_the_untouched_lines(tmp_path):
    """One worked example of the round trip: only the edited span changes, in the file's encoding and EOLs."""
    from ecolint.fix import fix_file

    before = (
        "# -*- coding: latin-1 -*-\r\n# modèle café\r\nfrom transformers import BitsAndBytesConfig\r\n"
        "bnb = BitsAndBytesConfig(load_in_8bit=True)  # à\r\n"
    ).encode("latin-1")
    path = tmp_path / "int8.py"
    path.write_bytes(before)
    result = fix_file(path, "int8.py", "python", oracle().engines["full"], unsafe=True)
    after = path.read_bytes()
    assert result.changed and result.error is None
    assert after.count(b"\r\n") == before.count(b"\r\n") and b"\n" not in after.replace(b"\r\n", b"")
    assert after.splitlines()[:3] == before.splitlines()[:3]
    assert b"\xe0" in after and "llm_int8_threshold" in after.decode("latin-1")
    assert_ok("program", "int8.py", after)
