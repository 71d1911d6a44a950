"""GPU registry: canonical ids, aliases and the few facts rules need (architecture, bf16 support).

Measured GPUs and the GPUs the EcoCompute skill extrapolates to have a full spec row in ``hardware.csv``; the other
GPUs listed here are known only well enough to answer "does it run bf16?" (public NVIDIA specifications).
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ecolint.knowledge.data import GpuSpec, hardware, read_builtin


@dataclass(frozen=True)
class GpuInfo:
    id: str
    name: str
    arch: str
    bf16: bool
    spec: Optional[GpuSpec]  # full row from hardware.csv, when we have one

    @property
    def measured(self) -> bool:
        return bool(self.spec and self.spec.measured)


# id -> (display name, architecture, bf16 support) for GPUs without a hardware.csv row.
_EXTRA: dict[str, tuple[str, str, bool]] = {
    "rtx4090": ("NVIDIA GeForce RTX 4090", "ada", True),
    "rtx4080": ("NVIDIA GeForce RTX 4080", "ada", True),
    "rtx4070": ("NVIDIA GeForce RTX 4070", "ada", True),
    "rtx3080": ("NVIDIA GeForce RTX 3080", "ampere", True),
    "rtx3070": ("NVIDIA GeForce RTX 3070", "ampere", True),
    "rtx3060": ("NVIDIA GeForce RTX 3060", "ampere", True),
    "a30": ("NVIDIA A30", "ampere", True),
    "a40": ("NVIDIA A40", "ampere", True),
    "a6000": ("NVIDIA RTX A6000", "ampere", True),
    "l40": ("NVIDIA L40", "ada", True),
    "h20": ("NVIDIA H20", "hopper", True),
    "h800": ("NVIDIA H800", "hopper", True),
    "p100": ("NVIDIA Tesla P100", "pascal", False),
    "p40": ("NVIDIA Tesla P40", "pascal", False),
    "p4": ("NVIDIA Tesla P4", "pascal", False),
    "k80": ("NVIDIA Tesla K80", "kepler", False),
    "rtx2080ti": ("NVIDIA GeForce RTX 2080 Ti", "turing", False),
    "rtx2080": ("NVIDIA GeForce RTX 2080", "turing", False),
    "rtx2070": ("NVIDIA GeForce RTX 2070", "turing", False),
    "rtx2060": ("NVIDIA GeForce RTX 2060", "turing", False),
    "titanrtx": ("NVIDIA TITAN RTX", "turing", False),
    "gtx1080ti": ("NVIDIA GeForce GTX 1080 Ti", "pascal", False),
    "gtx1080": ("NVIDIA GeForce GTX 1080", "pascal", False),
}

# Extra spellings that normalisation alone does not map onto an id.
_ALIASES: dict[str, str] = {
    "4090d": "rtx4090d",
    "geforcertx4090d": "rtx4090d",
    "4090": "rtx4090",
    "5090": "rtx5090",
    "3090": "rtx3090",
    "a800sxm480gb": "a800",
    "a80080gb": "a800",
    "a800sxm4": "a800",
    "a80080gbpcie": "a800",
    "a100sxm480gb": "a100",
    "a10080gb": "a100",
    "a10040gb": "a100-40gb",
    "a100sxm440gb": "a100-40gb",
    "a100sxm40gb": "a100-40gb",
    "a10040gbsxm": "a100-40gb",
    "a10040gbsxm4": "a100-40gb",
    "a100pcie40gb": "a100-pcie-40gb",
    "a10040gbpcie": "a100-pcie-40gb",
    "a10080gbpcie": "a100-pcie",
    "a100pcie80gb": "a100-pcie",
    "a100pcie": "a100-pcie",
    "a10080gbsxm": "a100",
    "a10080gbsxm4": "a100",
    "a100sxm4": "a100",
    "h100sxm5": "h100",
    "h100sxm": "h100",
    "h10080gb": "h100",
    "h100sxm580gb": "h100",
    "h100pcie": "h100-pcie",
    "h100pcie80gb": "h100-pcie",
    "h10080gbpcie": "h100-pcie",
    "h100nvl": "h100-nvl",
    "h100nvl94gb": "h100-nvl",
    "h10080gbhbm3": "h100",
    "h100sxm80gb": "h100",
    "gh200480gb": "gh200",
    "gh20096gb": "gh200",
    "gracehopper": "gh200",
    "h200sxm": "h200",
    "h200141gb": "h200",
    "b200180gb": "b200",
    "rtx6000adageneration": "rtx6000ada",
    "rtx6000ada48gb": "rtx6000ada",
    "l40s48gb": "l40s",
    "instinctmi300x": "mi300x",
    "amdinstinctmi300x": "mi300x",
    "a10g24gb": "a10g",
    "teslat4": "t4",
    "nvidiat4": "t4",
    "teslav100": "v100",
    "v100sxm2": "v100",
    "v100sxm232gb": "v100",
    "v100sxm216gb": "v100-16gb",
    "v10016gb": "v100-16gb",
    "v10016gbsxm2": "v100-16gb",
    "v10032gb": "v100",
    "v100pcie16gb": "v100-pcie-16gb",
    "v100pcie32gb": "v100-pcie-32gb",
    "v100pcie": "v100-pcie-16gb",
    "teslap100": "p100",
    "teslap40": "p40",
    "2080ti": "rtx2080ti",
    "rtxa6000": "a6000",
    "teslak80": "k80",
}

_NOISE = re.compile(r"[^a-z0-9]")


def _normalise(text: str) -> str:
    key = _NOISE.sub("", text.lower())
    for prefix in ("nvidia", "geforce"):
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix):]
    return key


@lru_cache(maxsize=None)
def variants() -> dict[str, GpuSpec]:
    """Public-spec rows for GPUs without measurements (memory variants, cloud cards), each with its source."""
    out: dict[str, GpuSpec] = {}
    for rec in csv.DictReader(read_builtin("gpu_variants.csv").splitlines()):
        out[rec["gpu"]] = GpuSpec(
            gpu=rec["gpu"], name=rec["name"], arch=rec["arch"], measured=False, vram_gb=float(rec["vram_gb"]),
            memory_type=rec["memory_type"], mem_bw_gb_s=float(rec["mem_bw_gb_s"]), tdp_w=float(rec["tdp_w"]),
            idle_w=float(rec["idle_w"]), compute_capability=float(rec["compute_capability"]),
            bf16_support=rec["bf16_support"] == "yes", int8_tensor_cores=rec["int8_tensor_cores"] == "yes",
            source=rec["source"], notes=rec["notes"])
    return out


def spec_row(gid: str) -> Optional[GpuSpec]:
    """The sourced spec row of a canonical id: ``hardware.csv`` first, then ``gpu_variants.csv``."""
    return hardware().get(gid) or variants().get(gid)


def _all_ids() -> list[str]:
    return sorted(set(hardware()) | set(variants()) | set(_EXTRA))


@lru_cache(maxsize=None)
def _keys() -> dict[str, str]:
    """Normalised spelling -> canonical id, for every id and alias."""
    out = {_NOISE.sub("", gid): gid for gid in _all_ids()}
    for alias, gid in _ALIASES.items():
        out.setdefault(alias, gid)
    return out


# Cloud instance types and accelerator labels -> card. AWS: g4dn T4, g5 A10G, g6 L4, g6e L40S, p3 V100 16 GB,
# p4d A100 40 GB, p4de A100 80 GB, p5 H100, p5e/p5en H200. GCP accelerator types are resolved by name
# (nvidia-tesla-t4, nvidia-l4, nvidia-tesla-a100 = A100 40 GB, nvidia-a100-80gb). Azure: NCasT4_v3 T4,
# NC A100 v4 A100 80 GB PCIe, ND A100 v4 A100 40 GB, NDm A100 v4 A100 80 GB, ND H100 v5 H100, NC H100 v5 H100 NVL,
# NVadsA10 v5 A10.
_INSTANCE = (
    (re.compile(r"^(?:ml\.)?g4dn(?:\.|$)"), "t4"),
    (re.compile(r"^(?:ml\.)?g5(?:\.|$)"), "a10g"),
    (re.compile(r"^(?:ml\.)?g6e(?:\.|$)"), "l40s"),
    (re.compile(r"^(?:ml\.)?g6(?:\.|$)"), "l4"),
    (re.compile(r"^(?:ml\.)?p3(?:dn)?(?:\.|$)"), "v100-16gb"),
    (re.compile(r"^(?:ml\.)?p4de(?:\.|$)"), "a100"),
    (re.compile(r"^(?:ml\.)?p4d(?:\.|$)"), "a100-40gb"),
    (re.compile(r"^(?:ml\.)?p5e(?:n)?(?:\.|$)"), "h200"),
    (re.compile(r"^(?:ml\.)?p5(?:\.|$)"), "h100"),
    (re.compile(r"^a2-ultragpu"), "a100"),
    (re.compile(r"^a2-(?:high|mega)gpu"), "a100-40gb"),
    (re.compile(r"^a3-"), "h100"),
    (re.compile(r"^g2-standard"), "l4"),
    (re.compile(r"^nvidia-tesla-a100$"), "a100-40gb"),
    (re.compile(r"^nvidia-a100-80gb$"), "a100"),
    (re.compile(r"^nvidia-h100-80gb$"), "h100"),
    (re.compile(r"^nvidia-tesla-v100$"), "v100-16gb"),
    (re.compile(r"^(?:standard_)?nc\d+as_t4_v3$"), "t4"),
    (re.compile(r"^(?:standard_)?nc\d+ads_a100_v4$"), "a100-pcie"),
    (re.compile(r"^(?:standard_)?nd\d+asr_v4$"), "a100-40gb"),
    (re.compile(r"^(?:standard_)?nd\d+amsr_a100_v4$"), "a100"),
    (re.compile(r"^(?:standard_)?nd\d+isr_h100_v5$"), "h100"),
    (re.compile(r"^(?:standard_)?nc\d+ads_h100_v5$"), "h100-nvl"),
    (re.compile(r"^(?:standard_)?nv\d+adsa10_v5$"), "a10"),
)


def instance_gpu(text: str) -> Optional[str]:
    """The card of a cloud instance type or accelerator label (``g5.2xlarge`` -> ``a10g``), or ``None``."""
    key = text.strip().lower()
    for pattern, gid in _INSTANCE:
        if pattern.search(key):
            return gid
    return None


_MAX_ID_WORDS = 6  # "nvidia geforce rtx 4090 d" is five


def resolve_gpu(text: str) -> Optional[GpuInfo]:
    """Map any common spelling (``RTX 4090 D``, ``A800-SXM4-80GB``, ``nvidia-tesla-t4``, ``g5.xlarge``) to a
    :class:`GpuInfo`."""
    if not text:
        return None
    key = _normalise(text)
    keys = _keys()
    gid = instance_gpu(text) if len(text) <= 80 else None
    if gid is None and key in keys:
        gid = keys[key]
    elif gid is None and key.startswith("tesla") and key[5:] in keys:
        gid = keys[key[5:]]
    if gid is None:
        # Cloud / Kubernetes labels carry the GPU inside a longer string (``nvidia-tesla-a100``,
        # ``NVIDIA-A100-SXM4-80GB``, ``a100-40gb``): take the longest known id at a word start.
        words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
        for i in range(len(words)):
            # An id spans a few words at most; trying every longer run was cubic in the label's length
            # (a 10 kB mutated YAML value took 20 s).
            for j in range(min(len(words), i + _MAX_ID_WORDS), i, -1):
                cand = "".join(words[i:j])
                if cand in keys:
                    gid = keys[cand]
                    break
            if gid:
                break
    if gid is None:
        return None
    spec = spec_row(gid)
    if spec is not None:
        return GpuInfo(gid, spec.name, spec.arch, spec.bf16_support, spec)
    name, arch, bf16 = _EXTRA[gid]
    return GpuInfo(gid, name, arch, bf16, None)


def suggest_gpu(text: str) -> list[str]:
    """Close known ids for a did-you-mean message."""
    key = _normalise(text)
    by_key = {_NOISE.sub("", gid): gid for gid in _all_ids()}
    close = difflib.get_close_matches(key, sorted(by_key), n=3, cutoff=0.6)
    return [by_key[c] for c in close]


def known_gpu_ids() -> list[str]:
    return _all_ids()
