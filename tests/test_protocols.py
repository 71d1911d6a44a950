"""Advisor commands: JSON shapes, pinned numbers, estimate arithmetic, validation, user tables, rendering."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from ecolint.knowledge.data import read_builtin
from ecolint.protocols import next_command
from ecolint.protocols.cli import register


def _user_table(tmp_path, energy: str = "5000"):
    """A one-row user table for the RTX 4090D Mistral-7B-Instruct-v0.3 FP16 BS=1 configuration."""
    import csv
    import io

    header = next(csv.reader(io.StringIO(read_builtin("measurements.csv"))))
    row = {h: "" for h in header}
    row.update({"row_id": "1", "gpu": "rtx4090d", "gpu_arch": "ada", "model": "Mistral-7B-Instruct-v0.3",
                "hf_id": "mistralai/Mistral-7B-Instruct-v0.3", "params_b": "7.0", "quant": "fp16",
                "batch_size": "1", "experiment": "ours", "throughput_tok_s": "30", "energy_j_per_1k_tok": energy,
                "energy_basis": "total_board_power", "evidence": "raw_runs", "source": "our lab"})
    path = tmp_path / "ours.csv"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    w.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="ecolint")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _no_project_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ecolint.toml / pyproject above: built-in data only


def js(argv, capsys):
    code, out, err = run(argv + ["--format", "json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_next_command():
    assert next_command("mistralai/Mistral-7B-v0.1", "a800") == \
        "ecolint compare --model mistralai/Mistral-7B-v0.1 --gpu a800"
    assert next_command("my model", None) == "ecolint compare --model 'my model'"


def test_cli_module_is_import_light():
    code = ("import sys, ecolint.protocols.cli, ecolint.protocols; "
            "bad = [m for m in ('rich', 'ecolint.knowledge', 'ecolint.knowledge.estimator') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_compare_pins_mistral_4090d(capsys):
    rep = js(["compare", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "4090d"], capsys)
    assert rep["model"] == "mistralai/Mistral-7B-Instruct-v0.3" and rep["gpu"] == "rtx4090d"
    rows = {r["quant"]: r for r in rep["rows"]}
    assert [r["quant"] for r in rep["rows"]] == ["fp16", "nf4", "nf4_dq", "int8_default", "int8_pure"]
    for r in rep["rows"]:
        assert {"quant", "energy_j_per_1k_tok", "delta_vs_fp16_pct", "basis", "row_ids"} <= set(r)
    assert rows["fp16"]["energy_j_per_1k_tok"] == 5661 and rows["fp16"]["row_ids"] == ["27"]
    assert rows["int8_default"]["energy_j_per_1k_tok"] == 7401 and rows["int8_default"]["row_ids"] == ["28"]
    assert rows["int8_default"]["delta_vs_fp16_pct"] == 30.7
    assert rows["int8_default"]["delta_basis"] == "measured"
    assert rows["int8_pure"]["delta_vs_fp16_pct"] == -7.9  # sibling session, rows 29/27
    assert rows["nf4_dq"]["basis"] == "extrapolated"  # never measured on the 4090D
    assert rows["nf4"]["rank"] == 1
    assert rep["recommendation"]["quant"] == "nf4"


def test_compare_a800_follows_data_not_seed(capsys):
    rep = js(["compare", "--model", "mistralai/Mistral-7B-v0.1", "--gpu", "A800-SXM4-80GB"], capsys)
    rows = {r["quant"]: r for r in rep["rows"]}
    assert all(r["basis"] == "measured" for r in rep["rows"])
    assert rows["int8_pure"]["delta_vs_fp16_pct"] == 48.3  # worse than FP16, not "saves ~5 %"
    assert rows["nf4"]["delta_vs_fp16_pct"] == -4.1  # break-even
    assert rep["recommendation"]["quant"] == "fp16"
    assert rows["int8_pure"]["ppl_delta_vs_fp16_pct"] == 1.3
    assert any("perplexity" in w for w in rep["warnings"])


def test_estimate_arithmetic(capsys):
    rep = js(["estimate", "--model", "mistralai/Mistral-7B-v0.1", "--gpu", "a800", "--quant", "int8_default",
              "--batch-size", "1", "--requests-per-month", "1000000", "--region", "us"], capsys)
    a, cur = rep["assumptions"], rep["current"]
    assert set(a) >= {"requests_per_month", "energy_j_per_request", "pue", "usd_per_kwh", "gco2_per_kwh"}
    assert a["pue"] == 1.1 and a["usd_per_kwh"] == 0.12 and a["gco2_per_kwh"] == 390
    # row 68: 10,161.92 J/1k tok, 256 generated tokens
    assert cur["basis"] == "measured" and cur["row_ids"] == ["68"]
    assert a["energy_j_per_request"] == pytest.approx(10161.92 * 0.256, abs=0.01)
    kwh = 10161.92 * 0.256 * 1_000_000 * 1.1 / 3.6e6
    assert cur["kwh_per_month"] == pytest.approx(kwh, abs=1e-3)
    assert cur["cost_usd_per_month"] == pytest.approx(kwh * 0.12, abs=0.01)
    assert cur["kgco2_per_month"] == pytest.approx(kwh * 390 / 1000, abs=1e-3)
    opt = rep["optimized"]
    for c in (cur, opt):
        assert {"kwh_per_month", "cost_usd_per_month", "kgco2_per_month"} <= set(c)
    assert opt["quant"] == "fp16" and opt["batch_size"] == 16
    assert opt["kwh_per_month"] < cur["kwh_per_month"]


def test_estimate_overrides_and_region_without_price(capsys):
    rep = js(["estimate", "--model", "Qwen/Qwen2-7B", "--gpu", "rtx5090", "--quant", "fp16", "--batch-size", "1",
              "--requests-per-month", "1000", "--pue", "1.5", "--usd-per-kwh", "0.3", "--gco2-per-kwh", "100"], capsys)
    a, cur = rep["assumptions"], rep["current"]
    assert (a["pue"], a["usd_per_kwh"], a["gco2_per_kwh"]) == (1.5, 0.3, 100)
    kwh = cur["energy_j_per_request"] * 1000 * 1.5 / 3.6e6
    assert cur["kwh_per_month"] == pytest.approx(kwh, abs=1e-3)
    code, out, err = run(["estimate", "--model", "Qwen/Qwen2-7B", "--gpu", "rtx5090", "--quant", "fp16",
                          "--batch-size", "1", "--requests-per-month", "1000", "--region", "fr"], capsys)
    assert code == 0 and "no electricity price for France" in out


def test_optimize_json_shape(capsys):
    rep = js(["optimize", "--model", "mistralai/Mistral-7B-Instruct-v0.2", "--gpu", "rtx4090d", "--quant",
              "int8_default", "--batch-size", "1", "--use-case", "batch"], capsys)
    rec = rep["recommended"]
    assert {"quant", "batch_size"} <= set(rec)
    assert rec["quant"] == "nf4" and rec["basis"] == "extrapolated"
    assert rec["batch_size"] >= 8
    assert rep["current"]["quant"] == "int8_default"
    assert rep["transparency"]["regime"].startswith("All measurements: Hugging Face transformers")


def test_diagnose_patterns(capsys):
    rep = js(["diagnose", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "rtx4090d", "--quant", "int8_default",
              "--batch-size", "1", "--throughput", "9.5", "--power", "76"], capsys)
    assert rep["pattern"] == "int8_decomposition" and rep["confidence"] == "high"
    assert rep["deviation"]["throughput_pct"] == pytest.approx((9.5 - 9.56) / 9.56 * 100, abs=0.1)
    assert [f["fix"] for f in rep["fixes"]][1] == "Load in FP16 instead"
    # NF4 on a small model: penalty on the RTX 5090, none on the T4 (the data, not a fixed ≤3B rule)
    rep = js(["diagnose", "--model", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "--gpu", "rtx5090", "--quant", "nf4",
              "--batch-size", "4", "--throughput", "60"], capsys)
    assert rep["pattern"] == "nf4_small_model"
    rep = js(["diagnose", "--model", "TinyLlama-1.1B", "--gpu", "t4", "--quant", "nf4", "--batch-size", "4",
              "--throughput", "10"], capsys)
    assert "nf4_small_model" not in [p["pattern"] for p in rep["patterns"]]
    assert rep["pattern"] == "none"


def test_validation_reports_every_error_with_did_you_mean(capsys):
    code, out, err = run(["estimate", "--model", "mistralai/Mistral-7B-v0.1", "--gpu", "rtx4090x", "--quant", "int4",
                          "--batch-size", "128", "--requests-per-month", "0"], capsys)
    assert code == 2 and out == ""
    assert "did you mean 'nf4'" in err
    assert "unknown GPU 'rtx4090x'; did you mean" in err
    assert "--batch-size: 128 is out of range [1, 64]" in err
    assert "--requests-per-month: 0 is out of range" in err
    assert "4 errors" in err


def test_validation_missing_required_and_ambiguous_int8(capsys):
    code, out, err = run(["diagnose", "--model", "Qwen/Qwen2-7B", "--gpu", "a800", "--quant", "int8"], capsys)
    assert code == 2
    assert "--batch-size: required" in err and "--throughput: required" in err
    assert "ambiguous" in err and "int8_pure" in err


def test_vram_cross_check(capsys):
    code, out, err = run(["estimate", "--model", "meta-llama/Llama-2-70b-hf", "--gpu", "rtx4090d", "--quant",
                          "fp16", "--batch-size", "1", "--requests-per-month", "10"], capsys)
    assert code == 2 and "weights alone" in err
    code, out, err = run(["compare", "--model", "Qwen/Qwen2.5-14B", "--gpu", "rtx4090d", "--format", "json"], capsys)
    assert code == 0
    rows = {r["quant"]: r for r in json.loads(out)["rows"]}
    assert rows["fp16"]["fits"] is False and rows["nf4"]["fits"] is True


def test_bf16_on_pre_ampere_warns_and_goes_on(capsys):
    code, out, err = run(["estimate", "--model", "Qwen/Qwen2-7B", "--gpu", "t4", "--quant", "bf16", "--batch-size",
                          "1", "--requests-per-month", "100"], capsys)
    assert code == 0
    assert "no native bf16" in err


def test_user_table_overrides_and_bad_row(tmp_path, capsys):
    good = _user_table(tmp_path)
    rep = js(["compare", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "rtx4090d", "--measurements",
              str(good)], capsys)
    fp16 = rep["rows"][0]
    assert fp16["energy_j_per_1k_tok"] == 5000 and fp16["row_ids"] == ["user:1"]
    bad = _user_table(tmp_path, energy="lots")
    code, out, err = run(["compare", "--model", "mistralai/Mistral-7B-Instruct-v0.3", "--gpu", "rtx4090d",
                          "--measurements", str(bad)], capsys)
    assert code == 2 and f"{bad}:2:" in err and "expected a number" in err


def test_config_measurements_and_gpu_are_used(tmp_path, capsys):
    pytest.importorskip("ecolint.config")
    table = _user_table(tmp_path)
    (tmp_path / "ecolint.toml").write_text(f'gpu = "rtx4090d"\nmeasurements = "{table.name}"\n', encoding="utf-8")
    rep = js(["compare", "--model", "mistralai/Mistral-7B-Instruct-v0.3"], capsys)
    assert rep["gpu"] == "rtx4090d" and rep["rows"][0]["row_ids"] == ["user:1"]


ALL = [
    ["compare", "--model", "Qwen/Qwen2-7B", "--gpu", "rtx5090"],
    ["compare", "--model", "meta-llama/Llama-2-7b-chat-hf", "--gpu", "a100", "--batch-size", "8"],
    ["optimize", "--model", "Qwen/Qwen2.5-3B-Instruct", "--gpu", "t4", "--quant", "nf4", "--batch-size", "1"],
    ["estimate", "--model", "mistralai/Mistral-7B-v0.1", "--gpu", "a800", "--quant", "nf4_dq", "--batch-size", "2",
     "--requests-per-month", "250000", "--region", "eu"],
    ["diagnose", "--model", "mistralai/Mistral-7B-v0.1", "--gpu", "a800", "--quant", "nf4_dq", "--batch-size", "1",
     "--throughput", "12"],
]


@pytest.mark.parametrize("argv", ALL, ids=[a[0] + "-" + a[4] for a in ALL])
def test_text_fits_80_columns_and_markdown_has_tables(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert out.strip()
    widest = max(len(line.rstrip()) for line in out.splitlines())
    assert widest <= 80
    code, md, err = run(argv + ["--format", "markdown"], capsys)
    assert code == 0 and md.startswith("## ") and "\n|" in md and "---:|" in md
    code, again, err = run(argv + ["--format", "json"], capsys)
    assert code == 0 and json.loads(again)["command"] == argv[0]
    code, again2, err = run(argv + ["--format", "json"], capsys)
    assert again == again2  # deterministic
