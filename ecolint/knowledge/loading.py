"""What loading a model's weights costs, estimated: no source in ecolint's data measured it.

The estimate is the checkpoint's bytes read at an assumed storage bandwidth, times an assumed power for the
server while it reads and initialises the model. Both assumptions are stated with every figure:

* **2 GB/s**: sequential read from a local NVMe SSD (PCIe 3.0 x4 drives read about 3 GB/s, SATA SSDs about
  0.5 GB/s; safetensors loading rarely reaches the drive's peak). A warm page cache is faster; network storage
  and a first download from the Hub are much slower.
* **300 W**: a single-GPU server while it loads: the GPU board idling with a CUDA context (tens of watts) plus
  the host CPU deserialising and copying the tensors and the storage (hundreds of watts for a server).

The checkpoint's bytes come from the parameter count and the precision it is stored in: 2 bytes per parameter
(16-bit, as almost every causal LM on the Hub is published), 1 for 8-bit and 0.5 for 4-bit pre-quantized
checkpoints (GPTQ, AWQ, bnb-4bit, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

STORAGE_GB_S = 2.0
LOAD_POWER_W = 300.0

_EIGHT_BIT = re.compile(r"(?i)int8|8bit|8-bit|w8a8|fp8")
_FOUR_BIT = re.compile(r"(?i)gptq|awq|exl2|gguf|int4|4bit|4-bit|w4a16|nf4|bnb")


@dataclass(frozen=True)
class LoadEstimate:
    gb: float  # checkpoint bytes, in GB
    seconds: float
    kj: float
    bytes_per_param: float

    @property
    def assumptions(self) -> str:
        return f"{STORAGE_GB_S:g} GB/s storage read, {LOAD_POWER_W:g} W for the server while it loads"


def bytes_per_param(model_id: str, prequantized: bool) -> float:
    if prequantized and _FOUR_BIT.search(model_id):
        return 0.5
    if prequantized and _EIGHT_BIT.search(model_id):
        return 1.0
    return 2.0


def load_estimate(params_b: Optional[float], model_id: str = "", prequantized: bool = False) -> Optional[LoadEstimate]:
    """The estimated cost of reading one copy of the weights; None when the model's size is unknown."""
    if not params_b or params_b <= 0:
        return None
    per = bytes_per_param(model_id, prequantized)
    gb = params_b * per
    seconds = gb / STORAGE_GB_S
    return LoadEstimate(gb, seconds, seconds * LOAD_POWER_W / 1000.0, per)
