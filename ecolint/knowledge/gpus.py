"""GPU registry: canonical ids, aliases and the few facts rules need (architecture, bf16 support).

Measured GPUs and the GPUs the EcoCompute skill extrapolates to have a full spec row in ``hardware.csv``; the other
GPUs listed here are known only well enough to answer "does it run bf16?" (public NVIDIA specifications).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Optional

from ecolint.knowledge.data import GpuSpec, hardware


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
    "a10": ("NVIDIA A10", "ampere", True),
    "a10g": ("NVIDIA A10G", "ampere", True),
    "a30": ("NVIDIA A30", "ampere", True),
    "a40": ("NVIDIA A40", "ampere", True),
    "a6000": ("NVIDIA RTX A6000", "ampere", True),
    "l4": ("NVIDIA L4", "ada", True),
    "l40": ("NVIDIA L40", "ada", True),
    "l40s": ("NVIDIA L40S", "ada", True),
    "h200": ("NVIDIA H200", "hopper", True),
    "h20": ("NVIDIA H20", "hopper", True),
    "h800": ("NVIDIA H800", "hopper", True),
    "b200": ("NVIDIA B200", "blackwell", True),
    "gh200": ("NVIDIA GH200", "hopper", True),
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
    "a10040gb": "a100",
    "a100sxm440gb": "a100",
    "a10080gbpcie": "a100",
    "a100pcie": "a100",
    "a100sxm4": "a100",
    "h100sxm5": "h100",
    "h100sxm": "h100",
    "h10080gb": "h100",
    "h100sxm580gb": "h100",
    "h100pcie": "h100",
    "h100nvl": "h100",
    "teslat4": "t4",
    "nvidiat4": "t4",
    "teslav100": "v100",
    "v100sxm2": "v100",
    "v100sxm232gb": "v100",
    "v10016gb": "v100",
    "v10032gb": "v100",
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


def _all_ids() -> list[str]:
    return sorted(set(hardware()) | set(_EXTRA))


_MAX_ID_WORDS = 6  # "nvidia geforce rtx 4090 d" is five


def resolve_gpu(text: str) -> Optional[GpuInfo]:
    """Map any common spelling (``RTX 4090 D``, ``A800-SXM4-80GB``, ``nvidia-tesla-t4``) to a :class:`GpuInfo`."""
    if not text:
        return None
    key = _normalise(text)
    gid = None
    if key in hardware() or key in _EXTRA:
        gid = key
    elif key in _ALIASES:
        gid = _ALIASES[key]
    elif key.startswith("tesla") and key[5:] in (set(hardware()) | set(_EXTRA)):
        gid = key[5:]
    else:
        # Cloud / Kubernetes labels carry the GPU inside a longer string (``nvidia-tesla-a100``,
        # ``NVIDIA-A100-SXM4-80GB``, ``a100-40gb``): take the longest known id at a word start.
        words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
        for i in range(len(words)):
            # An id spans a few words at most; trying every longer run was cubic in the label's length
            # (a 10 kB mutated YAML value took 20 s).
            for j in range(min(len(words), i + _MAX_ID_WORDS), i, -1):
                cand = "".join(words[i:j])
                if cand in hardware() or cand in _EXTRA:
                    gid = cand
                elif cand in _ALIASES:
                    gid = _ALIASES[cand]
                if gid:
                    break
            if gid:
                break
    if gid is None:
        return None
    spec = hardware().get(gid)
    if spec is not None:
        return GpuInfo(gid, spec.name, spec.arch, spec.bf16_support, spec)
    name, arch, bf16 = _EXTRA[gid]
    return GpuInfo(gid, name, arch, bf16, None)


def suggest_gpu(text: str) -> list[str]:
    """Close known ids for a did-you-mean message."""
    key = _normalise(text)
    return difflib.get_close_matches(key, _all_ids() + sorted(_ALIASES), n=3, cutoff=0.5)


def known_gpu_ids() -> list[str]:
    return _all_ids()
