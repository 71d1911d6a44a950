"""Minimal specifications (VRAM, memory bandwidth, board power) for every GPU the registry knows.

The eight GPUs in ``hardware.csv`` and the memory variants and cloud cards in ``gpu_variants.csv`` carry sourced
rows. The others in :mod:`ecolint.knowledge.gpus` are known
here only from public NVIDIA product specifications (one common variant each; approximate), which is enough for
a VRAM-fit check and for the roofline GPU transfer in :mod:`ecolint.knowledge.estimator`. None of these GPUs has
a measurement: any energy figure for them is an extrapolation and is labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ecolint.knowledge.data import hardware
from ecolint.knowledge.gpus import resolve_gpu, spec_row


@dataclass(frozen=True)
class TransferSpec:
    gpu: str
    name: str
    arch: str
    vram_gb: float
    mem_bw_gb_s: float
    tdp_w: float
    bf16: bool
    measured: bool
    source: str  # "hardware.csv" or "public spec (approximate)"
    hbm: bool = False


# id -> (VRAM GB, memory bandwidth GB/s, board power W). Public NVIDIA figures for one common variant.
_PUBLIC: dict[str, tuple[float, float, float]] = {
    "rtx4090": (24, 1008, 450),
    "rtx4080": (16, 717, 320),
    "rtx4070": (12, 504, 200),
    "rtx3080": (10, 760, 320),
    "rtx3070": (8, 448, 220),
    "rtx3060": (12, 360, 170),
    "a30": (24, 933, 165),
    "a40": (48, 696, 300),
    "a6000": (48, 768, 300),
    "l40": (48, 864, 300),
    "h800": (80, 3350, 700),
    "h20": (96, 4000, 400),
    "p100": (16, 732, 250),
    "p40": (24, 346, 250),
    "rtx2080ti": (11, 616, 250),
    "titanrtx": (24, 672, 280),
}


# GPUs above whose memory is HBM (datacenter parts); used to pick a like-for-like reference GPU.
_HBM = {"a30", "h800", "h20", "p100"}


def transfer_spec(gpu: str) -> Optional[TransferSpec]:
    """Spec for a canonical id or any alias the registry resolves; ``None`` when we know no figures."""
    info = resolve_gpu(gpu)
    if info is None:
        return None
    row = spec_row(info.id)
    if row is not None:
        where = "hardware.csv" if info.id in hardware() else f"gpu_variants.csv ({row.source})"
        return TransferSpec(info.id, row.name, row.arch, row.vram_gb, row.mem_bw_gb_s, row.tdp_w, row.bf16_support,
                            row.measured, where, row.memory_type.upper().startswith("HBM"))
    if info.id in _PUBLIC:
        vram, bw, tdp = _PUBLIC[info.id]
        return TransferSpec(info.id, info.name, info.arch, vram, bw, tdp, info.bf16, False, "public spec (approximate)",
                            info.id in _HBM)
    return None
