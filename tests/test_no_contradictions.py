"""The advisor never contradicts the linter: every ``next:`` command a finding prints (rule examples and the
fixtures) runs, and its answer never recommends the configuration the finding flagged."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import lint_snippet

from ecolint.protocols.cli import register
from ecolint.registry import all_rules

ROOT = Path(__file__).resolve().parents[1]

# code -> what the finding flags, as a predicate on the advisor's JSON answer (True = recommends it)
FLAGGED = {
    "ECO101": lambda rep: _rec_quant(rep) == "int8_default",
    "ECO102": lambda rep: _rec_quant(rep) in ("nf4", "nf4_dq"),
    "ECO201": lambda rep: _rec_batch(rep) == 1,
    "ECO202": lambda rep: _rec_batch(rep) == 1,
}


def _rec_quant(rep: dict) -> str:
    if rep["command"] == "compare":
        return rep["recommendation"]["quant"]
    return rep["recommended"]["quant"]


def _rec_batch(rep: dict):
    return rep["recommended"]["batch_size"] if rep["command"] == "optimize" else None


def _fixture_commands() -> list[tuple[str, str, str]]:
    proc = subprocess.run([sys.executable, "-m", "ecolint", "check", "fixtures/", "--output-format", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    findings = json.loads(proc.stdout)
    return [(f["code"], f["filename"], f["next_command"]) for f in findings if f.get("next_command")]


def _example_commands() -> list[tuple[str, str, str]]:
    out = []
    for rule in all_rules():
        for i, ex in enumerate(rule.INVALID):
            for f in lint_snippet(ex.code, ex.filename, gpu=ex.gpu):
                if getattr(f, "next_command", None):
                    out.append((f.code, f"{rule.code}-invalid-{i}", f.next_command))
    return out


def _run(command: str, capsys) -> dict:
    argv = shlex.split(command)
    assert argv[:1] == ["ecolint"]
    parser = argparse.ArgumentParser(prog="ecolint")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv[1:] + ["--format", "json"])
    code = args.func(args)
    out, err = capsys.readouterr()
    assert code == 0, f"{command}: exit {code}: {err}"
    return json.loads(out)


def test_every_next_command_runs_and_never_recommends_the_flagged_configuration(capsys):
    cases = _fixture_commands() + _example_commands()
    assert len(cases) >= 15
    checked = 0
    for code, where, command in cases:
        rep = _run(command, capsys)
        flagged = FLAGGED.get(code)
        if flagged is None:
            continue
        assert not flagged(rep), f"{where}: {code} flags it, but `{command}` recommends it"
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("model", ["Qwen/Qwen2.5-1.5B-Instruct", "microsoft/phi-2", "gpt2",
                                   "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "Qwen/Qwen2.5-3B-Instruct"])
@pytest.mark.parametrize("gpu", ["a100", "h100", "a800", "rtx4090d", "rtx5090", "l4", "a10g", "a100-40gb"])
def test_small_models_get_16_bit_on_every_non_t4_gpu(model, gpu, capsys):
    rep = _run(f"ecolint compare --model {model} --gpu {gpu}", capsys)
    assert rep["recommendation"]["quant"] == "fp16"
    assert any("ECO102" in r for r in rep["recommendation"]["reasons"])
    nf4 = {r["quant"]: r for r in rep["rows"]}["nf4"]
    assert nf4["delta_vs_fp16_pct"] > 0  # the table agrees with the recommendation
    opt = _run(f"ecolint optimize --model {model} --gpu {gpu}", capsys)
    assert opt["recommended"]["quant"] == "fp16"


def test_issue_repro_qwen_1_5b_on_a100_is_not_told_to_use_nf4(capsys):
    rep = _run("ecolint compare --model Qwen/Qwen2.5-1.5B-Instruct --gpu a100", capsys)
    assert rep["recommendation"]["quant"] != "nf4"
    assert rep["recommendation"]["dtype"] == "bf16"  # Ampere: bf16 rather than fp16


def test_t4_keeps_its_own_answer(capsys):
    # The T4 pairs show no ≤ 3B penalty (ECO102 is informational there): its own rows decide.
    rep = _run("ecolint compare --model TinyLlama/TinyLlama-1.1B-Chat-v1.0 --gpu t4", capsys)
    assert not any("ECO102" in r for r in rep["recommendation"]["reasons"])
    assert rep["recommendation"]["dtype"] == "fp16"  # Turing: no native bf16


def test_serving_config_finding_passes_its_engine_and_cites_the_vllm_series(capsys):
    code = ("services:\n  vllm:\n    image: vllm/vllm-openai:v0.6.3\n"
            "    command: --model Qwen/Qwen2.5-7B-Instruct --max-num-seqs 1\n")
    [f] = [f for f in lint_snippet(code, "compose.yaml") if f.code == "ECO202"]
    assert "--engine vllm" in f.next_command
    assert "455 → 119 → 70 J/1k tokens" in f.message and "A800" not in f.message.upper()
    assert {e.row_id for e in f.evidence} == {"S312", "S315", "S321"}
    rep = _run(f.next_command, capsys)
    assert rep["recommended"]["batch_size"] > 1
    tgi = ('app = "llm"\n[build]\n  image = "ghcr.io/huggingface/text-generation-inference:2.0"\n[env]\n'
           '  MAX_BATCH_SIZE = "1"\n')
    [f] = [f for f in lint_snippet(tgi, "fly.toml") if f.code == "ECO202"]
    assert "--engine tgi" in f.next_command
    py = "from transformers import pipeline\npipe = pipeline('text-generation', model='gpt2', batch_size=1)\n"
    [f] = [f for f in lint_snippet(py, "app.py") if f.code == "ECO202"]
    assert "--engine" not in f.next_command and "rows 60->63" in f.message
