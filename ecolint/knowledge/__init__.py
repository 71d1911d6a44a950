"""The one knowledge API: measurement rows, GPU and model registries, and row selection for evidence.

Rules (through :mod:`ecolint.knowledge.evidence`) and the advisor commands both go through :class:`Knowledge`;
there is no second path to the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ecolint.knowledge.data import (
    DataError,
    GpuSpec,
    GridRegion,
    Measurement,
    builtin_measurements,
    data_version,
    grid,
    hardware,
    load_user_measurements,
    matched_pairs,
)
from ecolint.knowledge.gpus import GpuInfo, known_gpu_ids, resolve_gpu, suggest_gpu
from ecolint.knowledge.models import ModelInfo, lookup_model

__all__ = [
    "DataError",
    "GpuInfo",
    "GpuSpec",
    "GridRegion",
    "Knowledge",
    "Measurement",
    "ModelInfo",
    "Pair",
    "data_version",
    "grid",
    "hardware",
    "known_gpu_ids",
    "lookup_model",
    "resolve_gpu",
    "suggest_gpu",
]


@dataclass(frozen=True)
class Pair:
    """Two rows of one experiment that differ only in quantization (or batch size): a valid ratio."""

    base: Measurement
    other: Measurement

    @property
    def delta_pct(self) -> float:
        assert self.base.energy_j_per_1k_tok and self.other.energy_j_per_1k_tok is not None
        return (self.other.energy_j_per_1k_tok - self.base.energy_j_per_1k_tok) / self.base.energy_j_per_1k_tok * 100.0

    @property
    def ratio(self) -> float:
        return self.other.energy_j_per_1k_tok / self.base.energy_j_per_1k_tok  # type: ignore[operator]


class Knowledge:
    """Measurement rows (built-in plus the user's own, which win for the same configuration) and queries."""

    def __init__(self, extra: Sequence[Measurement] = (), include_guide_only: bool = True):
        by_key: dict[tuple, Measurement] = {}  # insertion-ordered: the order rows are shown in
        builtin_keys: dict[tuple, list[tuple]] = {}  # configuration -> keys of its built-in rows
        for row in list(builtin_measurements()) + list(extra):
            config = row.config_key()
            if row.origin == "builtin":
                key = config + (row.experiment,)
                builtin_keys.setdefault(config, []).append(key)
            else:
                key = config + ("",)
                # A user row replaces every built-in row of the same configuration.
                for k in builtin_keys.pop(config, ()):
                    by_key.pop(k, None)
            by_key[key] = row
        rows = list(by_key.values())
        if not include_guide_only:
            rows = [r for r in rows if r.evidence != "guide_only"]
        self.rows: tuple[Measurement, ...] = tuple(rows)

    @classmethod
    def load(cls, user_tables: Iterable[Path] = ()) -> "Knowledge":
        extra: list[Measurement] = []
        for path in user_tables:
            extra.extend(load_user_measurements(Path(path)))
        return cls(extra)

    # -- plain queries ---------------------------------------------------------------------------------
    def query(
        self,
        gpu: Optional[str] = None,
        quant: Optional[str] = None,
        batch_size: Optional[int] = None,
        model: Optional[str] = None,
        experiment: Optional[str] = None,
        with_energy: bool = True,
    ) -> list[Measurement]:
        out = []
        model_key = model.lower().rsplit("/", 1)[-1] if model else None
        for row in self.rows:
            if with_energy and row.energy_j_per_1k_tok is None:
                continue
            if gpu and row.gpu != gpu:
                continue
            if quant and row.quant != quant:
                continue
            if batch_size is not None and row.batch_size != batch_size:
                continue
            if experiment and row.experiment != experiment:
                continue
            if model_key and model_key not in (row.model.lower(), row.hf_id.lower().rsplit("/", 1)[-1]):
                continue
            out.append(row)
        return out

    def row(self, row_id: str) -> Measurement:
        for r in self.rows:
            if r.row_id == row_id:
                return r
        raise KeyError(row_id)

    def measured_gpus(self) -> list[str]:
        return sorted({r.gpu for r in self.rows if r.energy_j_per_1k_tok is not None})

    def pairs(self, base_quant: str, other_quant: str, gpu: Optional[str] = None) -> list[Pair]:
        """All within-experiment pairs (same model, batch size and power limit) of two quantizations."""
        out = [Pair(base, other) for base, other in matched_pairs(self.query(gpu=gpu, quant=base_quant), self.query(gpu=gpu, quant=other_quant))]
        return sorted(out, key=lambda p: (p.base.gpu, p.base.params_b, int_or_str(p.base.row_id)))


def int_or_str(text: str):
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
