"""Each piece of domain knowledge has one home, and the dead code of issue 12 stays gone."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

import ecolint.facts as facts
from ecolint import bnb, dtypes
from ecolint.knowledge import Knowledge, data
from ecolint.registry import all_rules, rule_by_code
from ecolint.rule import Example

ROOT = Path(__file__).resolve().parent.parent


def test_dtype_spellings_have_one_table():
    from ecolint.knowledge.serving import ServingRow
    from ecolint.protocols.validate import normalise_quant
    from ecolint.sources import launch

    assert launch.canonical_dtype is dtypes.canonical_dtype and not hasattr(launch, "DTYPE_NAMES")
    for spelling, name in dtypes.DTYPE_NAMES.items():
        assert dtypes.canonical_dtype(f" torch.{spelling.upper()} ") == name
        if name != "auto":
            assert normalise_quant(spelling) == (name, None) and normalise_quant(f"torch.{spelling}") == (name, None)
    assert dtypes.canonical_dtype(8) is None
    assert [dtypes.precision_name(p) for p in ("bfloat16", "float16", "fp8", "mxfp4")] == ["bf16", "fp16", "fp8", "mxfp4"]
    assert "PRECISIONS" not in vars(__import__("ecolint.knowledge.serving", fromlist=["x"]))
    assert {f.name for f in dataclasses.fields(ServingRow)} >= {"weight_precision"}


def test_bitsandbytes_options_have_one_table():
    from ecolint.sources.dialects import base
    from ecolint.sources.python import vocab

    assert vocab.BNB_OPTIONS is bnb.BNB_OPTIONS
    assert base.BNB_KEYS is bnb.BNB_KEYS and base.BNB_4BIT_PREFIX == bnb.BNB_4BIT_PREFIX
    assert bnb.BNB_KEYS | {o for o in bnb.BNB_OPTIONS if o.startswith(bnb.BNB_4BIT_PREFIX)} == set(bnb.BNB_OPTIONS)


def test_evidence_grades_siblings_and_pairs_have_one_home():
    from ecolint.knowledge import estimator, evidence

    for module in (estimator, evidence):
        names = vars(module)
        assert not {"_GRADE", "_EVIDENCE_RANK", "_SIBLINGS", "_same_experiment"} & set(names), module.__name__
    assert data.EVIDENCE_GRADES == tuple(data.EVIDENCE_RANK)
    kn = Knowledge.load()
    est = estimator.Estimator(kn.rows)
    pairs = kn.pairs("fp16", "int8_pure", "rtx4090d")
    assert pairs and all(data.same_experiment(p.base, p.other) for p in pairs)
    assert any(p.base.experiment != p.other.experiment for p in pairs)  # the sibling sessions pair up
    joined = {(a.row_id, b.row_id) for a, b in est.quant_pairs("rtx4090d", "fp16", "int8_pure")}
    assert joined and joined <= {(p.base.row_id, p.other.row_id) for p in pairs}


def test_atomic_write_and_line_offsets_have_one_home():
    import ecolint.cache as cache
    import ecolint.fix as fix
    from ecolint import files, text

    assert fix.write_atomic is files.write_atomic
    assert not hasattr(cache, "_atomic_write") and not hasattr(fix, "split_lines") and not hasattr(fix, "_offsets")
    assert text.line_starts("a\r\nb\rc\n") == [0, 3, 5, 7]


def test_engine_rule_metadata_comes_from_the_rule_classes():
    import ecolint.runner as runner

    assert not hasattr(runner, "_ENGINE") and not hasattr(runner, "_ENGINE_SEVERITY")
    for code, rule in runner.engine_rules().items():
        f = runner.engine_finding(code, "x.py", "m")
        assert (f.name, f.severity) == (rule.name, rule.severity)
    assert set(runner.engine_rules()) == {r.code for r in all_rules() if r.engine_emitted}


def test_live_evidence_is_a_hook_on_the_rule():
    kn = Knowledge.load()
    assert not (ROOT / "ecolint" / "rule_docs.py").exists()
    for code in ("ECO101", "ECO102", "ECO201", "ECO202"):
        rule = rule_by_code(code)
        assert rule is not None and rule.live_evidence(kn), code
    assert any("rows 27->28" in line for line in rule_by_code("ECO101").live_evidence(kn))
    assert rule_by_code("ECO103").live_evidence(kn) == []


def test_dead_code_is_gone():
    from ecolint.fix import FixResult
    from ecolint.knowledge import estimator

    assert "converged" not in {f.name for f in dataclasses.fields(FixResult)}
    assert not hasattr(estimator, "LEVEL_FIRST")


def test_fact_fields_have_literal_types():
    hints = typing.get_type_hints(facts.QuantSpec)
    assert typing.get_origin(hints["origin"]) is typing.Literal and typing.get_origin(hints["engine"]) is typing.Literal
    assert typing.get_args(typing.get_type_hints(facts.Value)["certainty"]) == (facts.CERTAIN, facts.DEFAULT, facts.UNKNOWN)
    assert typing.get_origin(typing.get_type_hints(facts.FileFacts)["kind"]) is typing.Literal
    from ecolint.sources.frontend import REGISTRY

    assert {r.kind for r in REGISTRY} <= set(typing.get_args(facts.Kind))


def test_example_assertions_can_fail():
    import test_rule_examples as examples

    rule = rule_by_code("ECO101")
    good = next(ex for ex in rule.INVALID if ex.col is not None)
    assert good.col is not None and good.message and good.count == 1
    examples.test_example(rule, good, True)
    for wrong in ({"col": good.col + 1}, {"message": "no such words"}, {"count": 2}):
        with pytest.raises(AssertionError):
            examples.test_example(rule, dataclasses.replace(good, **wrong), True)
    assert {"col", "message", "count"} <= {f.name for f in dataclasses.fields(Example)}


def test_pre_commit_hooks_cover_every_linted_kind():
    import yaml

    from ecolint.sources.frontend import REGISTRY

    tags = {"python": "python", "yaml": "yaml", "toml": "toml", "shell": "shell", "dockerfile": "dockerfile",
            "notebook": "jupyter", "json": "json", "properties": "java-properties"}
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for hook in hooks:
        for reg in REGISTRY:
            assert tags[reg.kind] in hook["types_or"], (hook["id"], reg.kind)
