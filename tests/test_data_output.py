"""User measurement tables are validated and load in linear time; JSON outputs are strict JSON; a TOML
number Python cannot convert is a parse error; the Markdown report shows analysed text as text."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import lint_snippet

from ecolint.knowledge import Knowledge
from ecolint.knowledge.data import DataError, Measurement, builtin_measurements, load_user_measurements, read_builtin
from ecolint.text import split_lines

HEADER = next(csv.reader(io.StringIO(read_builtin("measurements.csv"))))
ROW_27 = next(r for r in csv.reader(split_lines(read_builtin("measurements.csv"))) if r[0] == "27")


def _table(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _row27(**changes: str) -> list[str]:
    row = list(ROW_27)
    row[0] = "x1"
    for name, value in changes.items():
        row[HEADER.index(name)] = value
    return row


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# -- F1 / F2: every numeric column is validated ------------------------------------------------------

NUMERIC = ["params_b", "batch_size", "input_tokens", "output_tokens", "power_limit_w", "n_runs", "throughput_tok_s",
           "throughput_std", "power_w", "power_std", "energy_j_per_1k_tok", "energy_std", "energy_j_per_request",
           "energy_per_request_std", "gpu_util_pct", "peak_mem_gb", "ppl"]
SPREADS = {"throughput_std", "power_std", "energy_std", "energy_per_request_std", "gpu_util_pct"}


@pytest.mark.parametrize("column", NUMERIC)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-5"])
def test_non_finite_or_negative_values_are_rejected(tmp_path, column, value):
    path = _table(tmp_path / "user.csv", [_row27(**{column: value})])
    with pytest.raises(DataError) as exc:
        load_user_measurements(path)
    assert f"{path}:2:{HEADER.index(column) + 1} ({column})" in str(exc.value)


@pytest.mark.parametrize("column", NUMERIC)
def test_zero_is_rejected_where_it_makes_no_sense(tmp_path, column):
    path = _table(tmp_path / "user.csv", [_row27(**{column: "0"})])
    if column in SPREADS:
        assert load_user_measurements(path)[0].__getattribute__(column) == 0
        return
    with pytest.raises(DataError, match=rf":2:{HEADER.index(column) + 1} \({column}\): must be positive"):
        load_user_measurements(path)


def test_percentages_stop_at_100(tmp_path):
    path = _table(tmp_path / "user.csv", [_row27(gpu_util_pct="101")])
    with pytest.raises(DataError, match="at most 100"):
        load_user_measurements(path)


def test_builtin_rows_pass_the_validator():
    assert all(math.isfinite(r.energy_j_per_1k_tok) and r.energy_j_per_1k_tok > 0 for r in Knowledge().rows if r.energy_j_per_1k_tok is not None)


@pytest.mark.parametrize("energy", ["0", "-5", "nan", "inf"])
def test_zero_energy_table_is_a_clear_error_not_an_internal_one(tmp_path, cli, energy):
    _table(tmp_path / "user_zero.csv", [_row27(energy_j_per_1k_tok=energy)])
    (tmp_path / "pyproject.toml").write_text('[tool.ecolint]\nmeasurements = "user_zero.csv"\ngpu = "rtx4090d"\n', encoding="utf-8")
    (tmp_path / "t.py").write_text("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True)\n", encoding="utf-8")
    col = HEADER.index("energy_j_per_1k_tok") + 1
    for args in (["check", "--no-cache", "t.py"],
                 ["compare", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "rtx4090d", "--measurements", "user_zero.csv"],
                 ["estimate", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "rtx4090d", "--quant", "fp16", "--batch-size", "1", "--requests-per-month", "1000000",
                  "--measurements", "user_zero.csv", "--format", "json"]):
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert f"user_zero.csv:2:{col} (energy_j_per_1k_tok)" in proc.stderr
        assert "internal error" not in proc.stderr and "nan" not in proc.stdout.lower()


# -- F2: strict JSON everywhere ----------------------------------------------------------------------


def test_json_and_sarif_outputs_are_strict_json(tmp_path, cli):
    (tmp_path / "t.py").write_text("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True)\n", encoding="utf-8")
    for fmt in ("json", "sarif"):
        proc = cli("check", "--no-cache", "--output-format", fmt, "t.py", cwd=tmp_path)
        assert proc.returncode == 1
        _strict_json(proc.stdout)
    proc = cli("estimate", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "rtx4090d", "--quant", "fp16", "--batch-size", "1",
               "--requests-per-month", "1000000", "--region", "us", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    _strict_json(proc.stdout)


def test_json_writers_refuse_non_finite_numbers():
    from ecolint.protocols.render import dump_json
    from ecolint.report import ReportContext, render

    with pytest.raises(ValueError):
        dump_json({"x": float("nan")})
    finding = lint_snippet("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True)\n")[0]
    bad = [type(finding)(**{**finding.__dict__, "evidence": [type(e)(**{**e.__dict__, "energy_j_per_1k_tok": float("inf")}) for e in finding.evidence]})]
    for fmt in ("json", "sarif"):
        _strict_json(render(fmt, [finding], ReportContext()))
        with pytest.raises(ValueError):
            render(fmt, bad, ReportContext())


# -- D4: linear loading ------------------------------------------------------------------------------


def _many_rows(n: int) -> list[list[str]]:
    builtin = list(csv.reader(split_lines(read_builtin("measurements.csv"))))[1:]
    rows = []
    for i in range(n):
        row = list(builtin[i % len(builtin)])
        row[0] = f"g{i}"
        suffix = f"-v{i // len(builtin)}"
        row[HEADER.index("model")] += suffix
        row[HEADER.index("hf_id")] += suffix
        rows.append(row)
    return rows


def _reference_rows(extra) -> tuple:
    """The rows the former scan kept (every key compared for every user row), as the expected result."""
    by_key: dict = {}
    order: list = []
    for row in list(builtin_measurements()) + list(extra):
        key = row.config_key() + (row.experiment if row.origin == "builtin" else "",)
        if row.origin != "builtin":
            for k in [k for k in by_key if k[:-1] == row.config_key() and by_key[k].origin == "builtin"]:
                del by_key[k]
                order.remove(k)
        if key not in by_key:
            order.append(key)
        by_key[key] = row
    return tuple(by_key[k] for k in order)


def test_knowledge_indexes_rows_by_configuration(tmp_path, monkeypatch):
    """Each row's configuration key is computed once: no scan of every key per user row."""
    extra = [Measurement(**{**r.__dict__, "origin": "user"}) for r in load_user_measurements(_table(tmp_path / "u.csv", _many_rows(2000)))]
    calls = 0
    original = Measurement.config_key

    def counting(self):
        nonlocal calls
        calls += 1
        return original(self)

    monkeypatch.setattr(Measurement, "config_key", counting)
    kn = Knowledge(extra)
    assert calls == len(extra) + len(builtin_measurements())
    assert kn.rows == _reference_rows(extra)  # same rows, same order as the plain scan
    assert kn.pairs("fp16", "int8_default")  # the evidence joins still find pairs


def test_twenty_thousand_user_rows_lint_in_linear_time(tmp_path):
    _table(tmp_path / "big.csv", _many_rows(20_000))
    (tmp_path / "pyproject.toml").write_text('[tool.ecolint]\nmeasurements = "big.csv"\ngpu = "rtx4090d"\n', encoding="utf-8")
    (tmp_path / "t.py").write_text(
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
        "b = BitsAndBytesConfig(load_in_8bit=True)\n"
        "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-Instruct-v0.3', quantization_config=b)\n"
        "for p in ['a', 'b']:\n    m.generate(p)\n",
        encoding="utf-8",
    )
    # Quadratic loading took about 110 s for this table; linear work is a few seconds even on a slow machine.
    proc = subprocess.run([sys.executable, "-m", "ecolint", "check", "--no-cache", "-q", "t.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "ECO101" in proc.stdout


# -- F3: integers Python will not convert -------------------------------------------------------------


def test_toml_integer_beyond_the_conversion_limit_is_a_parse_error():
    text = "load_in_8bit = true\nx = " + "9" * 5000 + "\n"
    findings = lint_snippet(text, "a.toml")
    assert [(f.code, f.span.line, f.span.col) for f in findings] == [("ECO900", 2, 5)]
    assert "more than" in findings[0].message and "digits" in findings[0].message


def test_toml_integer_exit_code(tmp_path, cli):
    (tmp_path / "a.toml").write_text("load_in_8bit = true\nx = " + "9" * 5000 + "\n", encoding="utf-8")
    proc = cli("check", "--no-cache", "a.toml", cwd=tmp_path)
    assert proc.returncode == 1 and "ECO900" in proc.stdout and "ECO903" not in proc.stdout


def test_yaml_integer_beyond_the_conversion_limit_is_text():
    big = "9" * 5000
    text = f"model_id: mistralai/Mistral-7B-v0.1\nquantization_config:\n  load_in_8bit: true\n  llm_int8_threshold: {big}\nx: {big}\n"
    assert [f.code for f in lint_snippet(text, "b.yaml") if f.code in ("ECO900", "ECO903")] == []


# -- F4: Markdown shows analysed text as text ---------------------------------------------------------

HOSTILE_ID = "org/a-7B` ![pwn](https://evil.example/p.png) [click me](https://evil.example) <img src=x onerror=alert(1)> `"


def test_markdown_report_escapes_names_ids_and_code(tmp_path, cli):
    markdown_it = pytest.importorskip("markdown_it")
    name = "m`x.py"
    (tmp_path / name).write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        f'm = AutoModelForCausalLM.from_pretrained("{HOSTILE_ID}", torch_dtype=torch.float32, device_map="cuda")\n'
        '# ```\n',
        encoding="utf-8",
    )
    proc = cli("check", "--no-cache", "--output-format", "markdown", name, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(proc.stdout)
    assert "<img" not in html and "<a " not in html and "evil.example" in html
    assert "<code>m`x.py:3:" in html  # the backtick in the name stays inside one code span
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_markdown_helpers():
    from ecolint.report.markdown import _code, _fence, _inline, _paragraph

    assert _code("m`x.py:1:2") == "``m`x.py:1:2``"
    assert _code("`a") == "`` `a ``"
    assert _code("a\nb") == "`a b`"
    assert _inline("`a` [x](y) `b") == "`a` \\[x\\](y) \\`b"
    assert _paragraph(_inline("# heading")) == "\\# heading"
    assert _paragraph(_inline("1. item")) == "1\\. item"
    assert _fence(["```", "x"]) == "````"


def test_evidence_joins_match_a_plain_scan(tmp_path):
    from ecolint.knowledge import Pair
    from ecolint.knowledge.data import SIBLING_SESSIONS
    from ecolint.knowledge.evidence import batch_pairs

    kn = Knowledge.load([_table(tmp_path / "u.csv", _many_rows(300))])
    rows = [r for r in kn.rows if r.energy_j_per_1k_tok is not None]
    for base_q, other_q in (("fp16", "int8_default"), ("fp16", "nf4"), ("int8_default", "int8_pure")):
        expected = [Pair(b, o) for b in rows if b.quant == base_q for o in rows
                    if o.quant == other_q and o.gpu == b.gpu and (o.experiment == b.experiment or frozenset((b.experiment, o.experiment)) in SIBLING_SESSIONS)
                    and (o.model, o.batch_size, o.power_limit_w) == (b.model, b.batch_size, b.power_limit_w)]
        got = kn.pairs(base_q, other_q)
        assert {(id(p.base), id(p.other)) for p in got} == {(id(p.base), id(p.other)) for p in expected} and len(got) == len(expected)
    expected = {(id(b), id(o)) for b in rows if b.batch_size == 1 for o in rows
                if (o.experiment, o.quant, o.model, o.power_limit_w) == (b.experiment, b.quant, b.model, b.power_limit_w) and o.batch_size and o.batch_size > 1}
    got = batch_pairs(kn)
    assert {(id(p.base), id(p.other)) for p in got} == expected and len(got) == len(expected) > 0
