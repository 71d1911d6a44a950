"""Knowledge layer: pinned table values, within-experiment ratios, registries, user tables."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ecolint.knowledge import DataError, Knowledge, resolve_gpu, suggest_gpu
from ecolint.knowledge.data import read_builtin
from ecolint.knowledge.specs import transfer_spec


@pytest.fixture(scope="module")
def kn() -> Knowledge:
    return Knowledge.load()


def test_mistral_4090d_int8_default_penalty_pinned(kn):
    fp16 = kn.query(gpu="rtx4090d", model="Mistral-7B-Instruct-v0.3", quant="fp16", batch_size=1)
    int8 = kn.query(gpu="rtx4090d", model="Mistral-7B-Instruct-v0.3", quant="int8_default", batch_size=1)
    assert [r.energy_j_per_1k_tok for r in fp16] == [5661]
    assert [r.energy_j_per_1k_tok for r in int8] == [7401]
    pair = [p for p in kn.pairs("fp16", "int8_default", "rtx4090d") if p.base.model.startswith("Mistral")]
    assert len(pair) == 1
    assert round(pair[0].delta_pct, 1) == 30.7


def test_pure_int8_worse_than_fp16_on_every_a800_pair(kn):
    pairs = kn.pairs("fp16", "int8_pure", "a800")
    assert len(pairs) == 6
    assert min(p.delta_pct for p in pairs) > 30.0


def test_energy_basis_kept(kn):
    assert kn.row("27").basis == "idle_subtracted"
    assert kn.row("67").basis == "total_board_power"


@pytest.mark.parametrize("text,gid", [("rtx4090d", "rtx4090d"), ("RTX 4090 D", "rtx4090d"), ("4090d", "rtx4090d"),
                                      ("A800-SXM4-80GB", "a800"), ("a100", "a100"), ("H100", "h100"),
                                      ("Tesla T4", "t4"), ("v100", "v100"), ("rtx3090", "rtx3090"), ("L4", "l4")])
def test_gpu_aliases(text, gid):
    info = resolve_gpu(text)
    assert info is not None and info.id == gid


def test_gpu_suggestion():
    assert "rtx4090d" in suggest_gpu("rtx4090x") or "rtx4090" in suggest_gpu("rtx4090x")


def test_transfer_specs():
    a100 = transfer_spec("a100")
    assert a100 is not None and a100.mem_bw_gb_s == 2039 and not a100.measured
    l4 = transfer_spec("l4")
    # the L4 now has a sourced row in gpu_variants.csv (datasheet), not an unsourced "public spec" tuple
    assert l4 is not None and l4.source.startswith("gpu_variants.csv") and "datasheet" in l4.source and l4.vram_gb == 24
    assert transfer_spec("k80") is None


def _user_table(tmp_path: Path, energy: str = "5000", model_hf: str = "mistralai/Mistral-7B-Instruct-v0.3") -> Path:
    header = next(csv.reader(io.StringIO(read_builtin("measurements.csv"))))
    row = {h: "" for h in header}
    row.update({"row_id": "1", "gpu": "rtx4090d", "gpu_arch": "ada", "model": "Mistral-7B-Instruct-v0.3",
                "hf_id": model_hf, "params_b": "7.0", "quant": "fp16", "batch_size": "1", "experiment": "ours",
                "throughput_tok_s": "30", "energy_j_per_1k_tok": energy, "energy_basis": "total_board_power",
                "evidence": "raw_runs", "source": "our lab"})
    path = tmp_path / "ours.csv"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    w.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_user_row_wins(tmp_path):
    kn = Knowledge.load([_user_table(tmp_path)])
    rows = kn.query(gpu="rtx4090d", model="Mistral-7B-Instruct-v0.3", quant="fp16", batch_size=1)
    assert [(r.row_id, r.energy_j_per_1k_tok) for r in rows] == [("user:1", 5000.0)]


def test_bad_user_row_names_file_line_column(tmp_path):
    path = _user_table(tmp_path, energy="lots")
    with pytest.raises(DataError) as exc:
        Knowledge.load([path])
    header = path.read_text().splitlines()[0].split(",")
    col = header.index("energy_j_per_1k_tok") + 1
    assert f"{path}:2:{col}" in str(exc.value)
