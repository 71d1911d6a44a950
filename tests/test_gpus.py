"""GPU table: memory variants, cloud instance families, did-you-mean on canonical ids, TDP cap, `ecolint gpus`."""

from __future__ import annotations

import argparse
import json

import pytest

from ecolint.knowledge.gpus import resolve_gpu, suggest_gpu, variants
from ecolint.knowledge.specs import transfer_spec
from ecolint.protocols.cli import register


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="ecolint")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text,gid,vram", [
    ("a100-40gb", "a100-40gb", 40), ("A100-SXM4-40GB", "a100-40gb", 40), ("NVIDIA-A100-SXM4-80GB", "a100", 80),
    ("V100-SXM2-16GB", "v100-16gb", 16), ("h100-pcie", "h100-pcie", 80), ("H100 NVL", "h100-nvl", 94),
    ("a10g", "a10g", 24), ("gh200", "gh200", 96), ("mi300x", "mi300x", 192), ("L40S", "l40s", 48),
    ("rtx 6000 ada", "rtx6000ada", 48), ("l20", "l20", 48),
])
def test_variants_resolve_to_the_right_card(text, gid, vram):
    info = resolve_gpu(text)
    assert info is not None and info.id == gid and transfer_spec(gid).vram_gb == vram


def test_h100_pcie_is_pcie():
    s = transfer_spec("h100-pcie")
    assert "PCIe" in s.name and s.tdp_w == 350 and s.mem_bw_gb_s == 2000


@pytest.mark.parametrize("text,gid", [
    ("g4dn.xlarge", "t4"), ("g5.2xlarge", "a10g"), ("g6.xlarge", "l4"), ("g6e.xlarge", "l40s"),
    ("p4d.24xlarge", "a100-40gb"), ("p4de.24xlarge", "a100"), ("p5.48xlarge", "h100"), ("ml.g5.xlarge", "a10g"),
    ("nvidia-tesla-t4", "t4"), ("nvidia-l4", "l4"), ("Standard_NC24ads_A100_v4", "a100-pcie"),
    ("Standard_ND96asr_v4", "a100-40gb"), ("Standard_ND96isr_H100_v5", "h100"), ("Standard_NC4as_T4_v3", "t4"),
])
def test_cloud_instance_families(text, gid):
    assert resolve_gpu(text).id == gid


def test_every_variant_row_has_a_source():
    assert len(variants()) >= 15
    assert all(v.source and v.vram_gb > 0 and v.tdp_w > 0 for v in variants().values())


def test_did_you_mean_offers_canonical_ids_only():
    assert "h10080gb" not in suggest_gpu("h1000") and "h100" in suggest_gpu("h1000")
    assert "3090" not in suggest_gpu("mi300")


@pytest.mark.parametrize("gpu", ["a10g", "gh200", "a100-40gb", "h100-pcie", "l4"])
def test_every_advisor_command_accepts_cloud_cards(gpu, capsys):
    base = ["--model", "mistralai/Mistral-7B-v0.1", "--gpu", gpu, "--format", "json"]
    assert _run(["compare"] + base, capsys)[0] == 0
    assert _run(["optimize"] + base, capsys)[0] == 0
    assert _run(["estimate"] + base + ["-q", "nf4", "-b", "1", "--requests-per-month", "10"], capsys)[0] == 0
    assert _run(["diagnose"] + base + ["-q", "nf4", "-b", "1", "-t", "10"], capsys)[0] == 0


def test_a100_40gb_is_not_the_80gb_card(capsys):
    code, out, _ = _run(["compare", "--model", "meta-llama/Llama-2-70b-hf", "--gpu", "a100-40gb", "--format", "json"],
                        capsys)
    rows = {r["quant"]: r for r in json.loads(out)["rows"]}
    assert rows["nf4"]["fits"] is False  # ~45 GB of NF4 weights do not fit in 40 GB


def test_l4_estimate_never_implies_more_than_its_tdp(capsys):
    code, out, _ = _run(["estimate", "--model", "Qwen/Qwen2-7B", "--gpu", "l4", "-q", "fp16", "-b", "1",
                         "--requests-per-month", "1000", "--format", "json"], capsys)
    cur = json.loads(out)["current"]
    assert cur["energy_j_per_1k_tok"] * cur["throughput_tok_s"] / 1000 <= 72.01
    assert any(m["method"] == "tdp_cap" for m in cur["methods"])


def test_gpus_command_lists_the_table(capsys):
    code, out, _ = _run(["gpus", "--format", "json"], capsys)
    ids = {r["id"] for r in json.loads(out)}
    assert code == 0 and {"a100", "a100-40gb", "a10g", "gh200", "mi300x", "l4", "t4"} <= ids
