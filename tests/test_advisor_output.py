"""Advisor output: fleet size and GPU-hours, the latency bound, serving throughput and memory, --verbose."""

from __future__ import annotations

import argparse
import io
import json

from ecolint.protocols.cli import register


def _run(argv, fmt="json"):
    parser = argparse.ArgumentParser(prog="ecolint")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv + ["--format", fmt])
    from ecolint.protocols.cli import run_command

    out, err = io.StringIO(), io.StringIO()
    code = run_command(args.command, args, out=out, err=err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue()) if fmt == "json" else out.getvalue()


L4_INT8 = ["estimate", "-m", "Qwen/Qwen2.5-7B-Instruct", "-g", "l4", "-q", "int8_default", "-b", "1",
           "--requests-per-month", "1000000"]


def test_estimate_gives_gpu_hours_and_fleet_size():
    r = _run(L4_INT8)
    cur = r["current"]
    hours = 1_000_000 * 256 / cur["throughput_tok_s"] / 3600
    assert abs(cur["gpu_hours_per_month"] - hours) / hours < 0.01
    assert cur["gpus_needed"] == -(-round(hours, 1) // 730) and cur["gpus_needed"] > 10
    assert cur["gpu_cost_usd_per_month"] is None
    assert r["optimized"]["gpus_needed"] < cur["gpus_needed"]


def test_estimate_gpu_rental_cost_when_priced():
    r = _run(L4_INT8 + ["--usd-per-gpu-hour", "0.8"])
    cur = r["current"]
    assert cur["gpu_cost_usd_per_month"] == round(cur["gpu_hours_per_month"] * 0.8, 2) or \
        abs(cur["gpu_cost_usd_per_month"] - cur["gpu_hours_per_month"] * 0.8) < 0.1
    text = _run(L4_INT8 + ["--usd-per-gpu-hour", "0.8"], fmt="text")
    assert "GPUs needed" in text and "GPU rental" in text
    assert "GPU rental" not in _run(L4_INT8, fmt="text")


def test_optimize_latency_bound_lowers_the_batch_and_says_so():
    base = ["optimize", "-m", "Qwen/Qwen2.5-7B-Instruct", "-g", "a800", "-q", "fp16", "-b", "1"]
    free = _run(base)
    lat = free["recommended"]["latency_s_per_request"]
    lat1 = free["current"]["latency_s_per_request"]  # batch size 1
    assert lat1 < lat
    bound = (lat + lat1) / 2
    r = _run(base + ["--max-latency-s", f"{bound:.3f}"])
    assert r["recommended"]["batch_size"] < free["recommended"]["batch_size"]
    assert any("would exceed the latency bound" in i for i in r["insights"])
    assert r["recommended"]["latency_s_per_request"] <= bound
    none = _run(base + ["--max-latency-s", f"{lat1 / 2:.3f}"])
    assert any("even batch size 1 takes" in i for i in none["insights"])
    ok = _run(base + ["--max-latency-s", f"{lat * 2:.3f}"])
    assert ok["recommended"]["batch_size"] == free["recommended"]["batch_size"]


def test_serving_latency_and_throughput_come_from_the_rows():
    r = _run(["optimize", "-m", "meta-llama/Llama-3.1-8B-Instruct", "-g", "h100", "--engine", "vllm", "-q", "bf16",
              "-b", "64"])
    cur = r["current"]
    assert cur["throughput_tok_s"] is not None and cur["throughput_basis"] == "measured"
    assert cur["latency_s_per_request"] is not None
    text = _run(["optimize", "-m", "meta-llama/Llama-3.1-8B-Instruct", "-g", "h100", "--engine", "vllm", "-q",
                 "bf16", "-b", "64"], fmt="text")
    latency_line = next(line for line in text.splitlines() if line.startswith("Latency"))
    assert "—" not in latency_line


def test_serving_memory_is_the_vllm_budget_not_the_eager_kv_formula():
    # the eager formula gave 134 GB for an 8B model at 256 sequences on an 80 GB H100
    r = _run(["optimize", "-m", "meta-llama/Llama-3.1-8B-Instruct", "-g", "h100", "--engine", "vllm", "-q", "bf16",
              "-b", "256"])
    cur = r["current"]
    assert cur["vram_gb"] <= 80 * 0.9 + 0.1
    assert "KV cache" in cur["vram_note"] and "16.0 GB" in cur["vram_note"]


COMPARE = ["compare", "-m", "Qwen/Qwen2.5-7B-Instruct", "-g", "a800"]


def test_provenance_only_with_verbose():
    short = _run(COMPARE, fmt="text")
    long = _run(COMPARE + ["--verbose"], fmt="text")
    assert "Where each number comes from" not in short and "--verbose" in short
    assert "Where each number comes from" in long
    assert len(long.splitlines()) > len(short.splitlines())
    # JSON keeps the provenance either way
    r = _run(COMPARE)
    assert all("methods" in row for row in r["rows"])
    opt = ["optimize", "-m", "Qwen/Qwen2.5-7B-Instruct", "-g", "a800", "-q", "fp16"]
    assert "Measurement transparency" not in _run(opt, fmt="text")
    assert "Measurement transparency" in _run(opt + ["--verbose"], fmt="markdown")
    est = L4_INT8
    assert "Where the numbers come from" not in _run(est, fmt="text")
    assert "Where the numbers come from" in _run(est + ["-v"], fmt="text")


def test_bar_chart_snapshot_text_and_mermaid():
    from ecolint.protocols.render import Document, render_text, to_markdown

    doc = Document("T").bars("Energy per 1k generated tokens", "J/1k tok",
                             [("fp16", 200.0, True), ("nf4", 100.0, False), ("none", None, False)])
    buf = io.StringIO()
    render_text(doc, file=buf, width=80)
    lines = buf.getvalue().splitlines()[2:]
    assert lines == [
        "Energy per 1k generated tokens (J/1k tok)",
        "fp16 " + "█" * 40 + " 200",
        "nf4  " + "░" * 20 + " " * 20 + " 100",
        "█ measured   ░ extrapolated",
    ]
    assert to_markdown(doc).splitlines()[2:] == [
        "```mermaid",
        "xychart-beta horizontal",
        '    title "Energy per 1k generated tokens"',
        '    x-axis ["fp16", "nf4 (extrap.)"]',
        '    y-axis "J/1k tok" 0 --> 210',
        "    bar [200.0, 100.0]",
        "```",
    ]


def test_compare_and_estimate_draw_their_bars():
    text = _run(COMPARE, fmt="text")
    assert "Energy per 1k generated tokens (J/1k tok)" in text and "█ measured   ░ extrapolated" in text
    md = _run(COMPARE, fmt="markdown")
    assert "```mermaid\nxychart-beta horizontal" in md and '"int8_default (extrap.)"' in md
    est = _run(L4_INT8, fmt="markdown")
    assert '"current INT8 (default) BS=1 (extrap.)"' in est
    assert "Energy per request (J/request)" in _run(L4_INT8, fmt="text")
