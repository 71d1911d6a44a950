"""Serving-regime rows: vLLM with continuous batching (``serving.csv``, ML.ENERGY Benchmark v3).

These rows are a different regime from ``measurements.csv`` (Hugging Face eager ``generate``): energy is the GPU
energy of *all* GPUs of the deployment over the benchmark's steady-state window, and the batching knob is vLLM's
``max_num_seqs`` (the cap on concurrent sequences), not a static batch size. Row ids are ``S1``… so they never
collide with the eager table's integer ids. Like the eager loader, a row that does not parse raises
:class:`~ecolint.knowledge.data.DataError` naming file, line and column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Iterable, Optional

from ecolint.dtypes import precision_name
from ecolint.knowledge.data import DataError, read_builtin, read_table
from ecolint.text import split_lines

SERVING_ENGINES = ("vllm", "tgi")
CITATION = ('ML.ENERGY Benchmark v3 (Chung et al., "The ML.ENERGY Benchmark", NeurIPS Datasets and Benchmarks '
            "2025): vLLM 0.11.1, continuous batching, GPU energy of all GPUs")
TGI_CAVEAT = ("TGI is estimated from vLLM measurements (both batch continuously; no TGI row exists): expect "
              "engine-to-engine differences beyond the printed interval")
DEFAULT_TASK = "lm-arena-chat"
DEFAULT_SERVING_MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # the batching series findings cite


@dataclass(frozen=True)
class ServingRow:
    row_id: str
    engine: str
    engine_version: str
    task: str
    model_id: str
    architecture: str
    total_params_b: float
    active_params_b: float
    weight_precision: str
    gpu: str
    num_gpus: int
    tensor_parallel: int
    data_parallel: int
    expert_parallel: int
    max_num_seqs: int
    avg_batch_size: Optional[float]
    avg_output_len: Optional[float]
    output_tok_s: Optional[float]
    avg_power_w: Optional[float]
    energy_j_per_token: Optional[float]
    energy_j_per_1k_tok: float
    energy_j_per_request: Optional[float]
    median_itl_ms: Optional[float]
    p90_itl_ms: Optional[float]
    p99_itl_ms: Optional[float]
    energy_basis: str
    source: str

    @property
    def quant(self) -> str:
        """Precision in the advisor's vocabulary: ``bf16``, ``fp8``, ``mxfp4``."""
        return precision_name(self.weight_precision)

    @property
    def moe(self) -> bool:
        return self.active_params_b < self.total_params_b

    @property
    def series_key(self) -> tuple:
        """Rows that differ only in ``max_num_seqs``: a batching series (ratios are valid inside it)."""
        return (self.task, self.model_id, self.gpu, self.num_gpus)

    def short(self) -> str:
        gpus = f"{self.num_gpus}× {self.gpu}" if self.num_gpus > 1 else self.gpu
        return (f"row {self.row_id}: {self.model_id} {self.quant} on {gpus}, max_num_seqs={self.max_num_seqs} "
                f"({self.task}): {self.energy_j_per_1k_tok:,.0f} J/1k tok")


_COLUMNS = [f.name for f in fields(ServingRow)]
_INTS = {"num_gpus", "tensor_parallel", "data_parallel", "expert_parallel", "max_num_seqs"}
_FLOATS = {f.name for f in fields(ServingRow) if f.type in ("float", "Optional[float]")}
_REQUIRED = {"row_id", "engine", "task", "model_id", "total_params_b", "active_params_b", "weight_precision", "gpu",
             "num_gpus", "max_num_seqs", "energy_j_per_1k_tok", "energy_basis", "source"}


def parse_serving(lines: Iterable[str], origin: str) -> list[ServingRow]:
    rows: list[ServingRow] = []
    for row in read_table(lines, origin, _COLUMNS, _REQUIRED, "serving table"):
        values: dict = {}
        for name in _COLUMNS:
            text = row.cells[name]
            where = row.where(name)
            if name in _INTS or name in _FLOATS:
                values[name] = _positive(text, where, whole=name in _INTS) if text else None
            else:
                values[name] = text
        if values["engine"] not in SERVING_ENGINES:
            raise DataError(f"{row.where('engine')}: expected one of {', '.join(SERVING_ENGINES)}, got {values['engine']!r}")
        if values["active_params_b"] > values["total_params_b"]:
            raise DataError(f"{row.where('active_params_b')}: larger than total_params_b")
        rows.append(ServingRow(**values))
    return rows


def _positive(text: str, where: str, whole: bool) -> float:
    try:
        number = float(text)
    except ValueError:
        raise DataError(f"{where}: expected a number, got {text!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise DataError(f"{where}: expected a positive finite number, got {text!r}")
    if whole:
        if number != int(number):
            raise DataError(f"{where}: expected a whole number, got {text!r}")
        return int(number)
    return number


@lru_cache(maxsize=None)
def builtin_serving() -> tuple[ServingRow, ...]:
    return tuple(parse_serving(split_lines(read_builtin("serving.csv")), "serving.csv"))


def model_base(model: str) -> str:
    """Basename, lower case: ``meta-llama/Llama-3.1-8B-Instruct`` -> ``llama-3.1-8b-instruct``."""
    return model.strip().lower().rstrip("/").rsplit("/", 1)[-1]


def precision_twin(model: str) -> str:
    """The model id without an ``-FP8`` suffix: FP8 and bf16 releases of one model share it."""
    base = model_base(model)
    return base[:-4] if base.endswith("-fp8") else base


def series(rows: Iterable[ServingRow], key: tuple) -> list[ServingRow]:
    return sorted((r for r in rows if r.series_key == key), key=lambda r: r.max_num_seqs)


def batching_series(model: str = DEFAULT_SERVING_MODEL, gpu: str = "h100", num_gpus: int = 1,
                    task: str = DEFAULT_TASK, sizes: tuple[int, ...] = (8, 64, 512)) -> list[ServingRow]:
    """The ``max_num_seqs`` series rules cite for serving configs (Llama-3.1-8B on one H100 by default)."""
    rows = series(builtin_serving(), (task, model, gpu, num_gpus))
    return [r for r in rows if r.max_num_seqs in sizes]
