"""The front-end interface: every kind of file has one registered front end that owns its claims, tokens,
comments and write-back; rules name facts only, and any trigger narrowing a rule keeps is checked against every
front end's tokens for the facts it reads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import PurePath

import pytest

from ecolint.registry import all_rules
from ecolint.rule import Rule
from ecolint.sources import launch
from ecolint.sources.dialects import base as dialect_base
from ecolint.sources.dialects import generic
from ecolint.sources.frontend import KINDS, REGISTRY, FrontEnd, all_front_ends, front_end, kind_for

FACT_LISTS = ("model_loads", "quant_specs", "generations", "batch_settings", "dtype_uses", "servings")


@pytest.mark.parametrize(
    "name,kind",
    [
        ("serve.py", "python"), ("stubs.PYI", "python"), ("deploy.yaml", "yaml"), ("c.yml", "yaml"), ("fly.toml", "toml"),
        ("run.sh", "shell"), ("x.bash", "shell"), ("Dockerfile", "dockerfile"), ("Dockerfile.gpu", "dockerfile"),
        ("containerfile", "dockerfile"), ("app.dockerfile", "dockerfile"), ("Dockerfile.yaml", "dockerfile"),
        ("pyproject.toml", None), ("ecolint.toml", None), (".pre-commit-config.yaml", None), ("pnpm-lock.yaml", None),
        ("deps.lock.toml", None), ("Dockerfile.lock", None), ("README.md", None), ("yarn.lock", None),
    ],
)
def test_each_front_end_claims_its_paths(name, kind):
    assert kind_for(PurePath("some/dir") / name) == kind


def test_one_front_end_object_per_kind():
    assert set(KINDS) == {"python", "yaml", "toml", "shell", "dockerfile", "notebook", "json", "properties"}
    for registration in REGISTRY:
        fe = front_end(registration.kind)
        assert isinstance(fe, FrontEnd) and fe.kind == registration.kind


@pytest.mark.parametrize("kind", KINDS)
def test_tokens_name_fact_lists(kind):
    tokens = front_end(kind).tokens()
    for fact in FACT_LISTS:
        assert fact in tokens, f"{kind} says nothing about {fact}"
        assert all(isinstance(t, str) and t for t in tokens[fact])


def test_config_tokens_come_from_the_dialect_tables():
    tokens = {t.lower() for t in front_end("yaml").tokens()["quant_specs"]}
    for name in generic.BNB8_NAMES | generic.BNB4_NAMES | dialect_base.BNB_KEYS:
        assert name.lower() in tokens
    assert {"llm.int8", "int8_bnb", "bnb4"} <= tokens  # the three spellings of issue 12
    assert front_end("toml").tokens() == front_end("yaml").tokens()
    assert set(launch.TOKENS["batch_settings"]) <= set(front_end("yaml").tokens()["batch_settings"])


def uncovered(rule: type[Rule]) -> list[tuple[str, str, str]]:
    """(kind, fact, token) for each token from which a front end can produce a fact ``rule`` reads, although
    none of the rule's triggers occurs in it: text holding that token would be dropped by the narrowing."""
    if not rule.triggers:
        return []
    if rule.reads is None:
        return [(fe.kind, "*", "any text") for fe in all_front_ends()]
    triggers = [t.lower() for t in rule.triggers]
    out = []
    for fe in all_front_ends():
        table = fe.tokens()
        for fact in rule.reads:
            tokens = table.get(fact)
            if tokens is None:
                out.append((fe.kind, fact, "any text"))
                continue
            out.extend((fe.kind, fact, t) for t in tokens if not any(trigger in t.lower() for trigger in triggers))
    return out


@pytest.mark.parametrize("rule", [r for r in all_rules() if not r.engine_emitted], ids=lambda r: r.code)
def test_trigger_narrowing_is_sound(rule):
    assert uncovered(rule) == [], f"{rule.code}: its triggers miss tokens a front end produces its facts from"


def test_the_old_int8_triggers_would_fail():
    class OldInt8(Rule):
        code = "ECO101"
        reads = ("quant_specs",)
        triggers = ("load_in_8bit", "BitsAndBytesConfig", "bitsandbytes", "from_dict", "quantization", "quantize", "QUANTIZE", "8bit")

    missed = {token for _, _, token in uncovered(OldInt8)}
    assert {"llm.int8", "int8_bnb", "bnb4"} <= missed


def test_a_narrowing_that_covers_the_tokens_passes():
    every = sorted({t for kind in KINDS for t in front_end(kind).tokens().get("servings", ())})

    class Covering(Rule):
        code = "ECO999"
        reads = ("servings",)
        triggers = tuple(every)

    assert uncovered(Covering) == []


def test_comments_belong_to_the_front_end():
    text = '# noqa: ECO101\nx = "# not a comment"\n'
    assert [offset for offset, _ in front_end("python").comments(text)] == [0]
    assert [offset for offset, _ in front_end("yaml").comments("a: '# no'  # yes\n")] == [11]
    assert [offset for offset, _ in front_end("shell").comments("echo '#no' # yes\n")] == [11]


def test_write_back_encoding_is_the_front_ends():
    assert front_end("python").encoding(b"# -*- coding: latin-1 -*-\nx = 1\n") == "iso-8859-1"
    assert front_end("yaml").encoding(b"\xef\xbb\xbfa: 1\n") == "utf-8-sig"
    assert front_end("toml").encoding(b"a = 1\n") == "utf-8"
    assert front_end("python").rejects("def f(:\n") is not None
    assert front_end("yaml").rejects("a: [\n") is None  # its own ECO900 speaks for it


def test_a_run_that_parses_nothing_imports_no_parser():
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from ecolint.config import Settings
        from ecolint.runner import Engine, lint_bytes
        from ecolint.sources import kind_for
        engine = Engine.create(Settings(root=Path.cwd()))
        for name, text in [("quiet.py", "def f(x):\\n    return x + 1\\n"), ("app.yaml", "name: web\\nreplicas: 2\\n"),
                           ("run.sh", "echo hello\\n"), ("Dockerfile", "FROM python:3.12\\n")]:
            result = lint_bytes(name, text.encode(), kind_for(Path(name)), engine)
            assert not result.parsed, name
        print(sorted(m for m in ("libcst", "yaml") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
