"""Typed loader for the packaged measurement, hardware and grid tables.

The CSV files under ``ecolint/knowledge/tables/`` are a copy of the curated measurement set (every row carries
its ``source`` and ``evidence`` grade). Nothing is dropped: a row that fails to parse raises
:class:`DataError` naming the file, line and column, so a damaged or user-supplied table never loses rows
silently.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ecolint.errors import UsageError
from ecolint.files import read_text
from ecolint.text import split_lines

QUANTS = ("fp16", "nf4", "nf4_dq", "int8_default", "int8_pure", "int8")
# Evidence grades of a row, best first; grades of equal rank are alike (machine-written files of one run).
EVIDENCE_RANK = {"raw_runs": 0, "structured_json": 1, "summary_csv": 1, "result_json": 1, "memo_table": 2, "report_table": 3, "guide_only": 4}
EVIDENCE_GRADES = tuple(EVIDENCE_RANK)
# Experiments that are one session in all but name: the pure-INT8 rows on the RTX 4090D were measured the day
# after their FP16 / default-INT8 baseline, on the same machine and protocol, under a separate experiment id;
# the data README compares them directly.
SIBLING_SESSIONS = (frozenset({"rtx4090d_2026-02-12_quant", "rtx4090d_2026-02-13_pure_int8"}),)


class DataError(UsageError, ValueError):
    """A measurement table that cannot be used; the message names file, line and column."""


@dataclass(frozen=True)
class Measurement:
    row_id: str
    gpu: str
    gpu_arch: str
    gpu_name_reported: str
    model: str
    hf_id: str
    params_b: float
    quant: str
    batch_size: Optional[int]
    input_tokens: Optional[int]
    output_tokens: Optional[int]
    power_limit_w: Optional[float]
    experiment: str
    date: str
    n_runs: Optional[int]
    throughput_tok_s: Optional[float]
    throughput_std: Optional[float]
    power_w: Optional[float]
    power_std: Optional[float]
    energy_j_per_1k_tok: Optional[float]
    energy_std: Optional[float]
    energy_j_per_request: Optional[float]
    energy_per_request_std: Optional[float]
    gpu_util_pct: Optional[float]
    peak_mem_gb: Optional[float]
    energy_basis: str
    ppl: Optional[float]
    ppl_dataset: str
    evidence: str
    source: str
    notes: str
    origin: str = "builtin"  # "builtin" or the path of a user table

    @property
    def basis(self) -> str:
        """``idle_subtracted`` or ``total_board_power`` (the column may carry a parenthesised remark)."""
        return self.energy_basis.split(" ", 1)[0] if self.energy_basis else ""

    @property
    def tokens_per_joule(self) -> Optional[float]:
        if not self.energy_j_per_1k_tok:
            return None
        return 1000.0 / self.energy_j_per_1k_tok

    def config_key(self) -> tuple:
        """What makes two rows "the same configuration" (a user row replaces a built-in one with this key)."""
        return (self.gpu, (self.hf_id or self.model).lower(), self.quant, self.batch_size, self.power_limit_w)

    def short(self) -> str:
        bs = f"BS={self.batch_size}" if self.batch_size else "BS=?"
        e = f"{self.energy_j_per_1k_tok:,.0f} J/1k tok" if self.energy_j_per_1k_tok is not None else "no energy"
        return f"row {self.row_id}: {self.gpu} {self.model} {self.quant} {bs}: {e}"


def evidence_rank(grade: str) -> int:
    """The rank of an evidence grade (0 is best); an unknown grade ranks after every known one."""
    return EVIDENCE_RANK.get(grade, len(EVIDENCE_GRADES))


def same_experiment(a: Measurement, b: Measurement) -> bool:
    """Whether two rows may be compared directly: one experiment, or sibling sessions of one."""
    return a.experiment == b.experiment or frozenset((a.experiment, b.experiment)) in SIBLING_SESSIONS


def matched_pairs(bases: Iterable[Measurement], others: Iterable[Measurement]) -> list[tuple[Measurement, Measurement]]:
    """Every ``(base, other)`` of one experiment with the same GPU, model, batch size and power limit, in the
    order of ``bases`` and then of ``others``. A hash join: linear in the rows, not quadratic."""
    by_key: dict[tuple, list[Measurement]] = {}
    for other in others:
        by_key.setdefault((other.gpu, other.model, other.batch_size, other.power_limit_w), []).append(other)
    return [(base, other) for base in bases for other in by_key.get((base.gpu, base.model, base.batch_size, base.power_limit_w), ())
            if same_experiment(base, other)]


@dataclass(frozen=True)
class GpuSpec:
    gpu: str
    name: str
    arch: str
    measured: bool
    vram_gb: float
    memory_type: str
    mem_bw_gb_s: float
    tdp_w: float
    idle_w: float
    compute_capability: float
    bf16_support: bool
    int8_tensor_cores: bool
    source: str
    notes: str


@dataclass(frozen=True)
class GridRegion:
    region_id: str
    region: str
    gco2_per_kwh: Optional[float]
    usd_per_kwh: Optional[float]
    usd_per_kwh_min: Optional[float]
    usd_per_kwh_max: Optional[float]
    source: str
    notes: str


_MEASUREMENT_COLUMNS = [f.name for f in fields(Measurement) if f.name != "origin"]
_INT_COLUMNS = {"batch_size", "input_tokens", "output_tokens", "n_runs"}
_REQUIRED = {"row_id", "gpu", "model", "params_b", "quant", "experiment", "evidence", "source"}


# Every numeric column must be finite; spreads and utilisation may be zero, every other quantity (sizes,
# token counts, power, throughput, energy, memory, perplexity) must be positive: a zero energy divides by
# zero in every ratio, a negative one has no logarithm.
_NON_NEGATIVE = {"throughput_std", "power_std", "energy_std", "energy_per_request_std", "gpu_util_pct"}
_PERCENT = {"gpu_util_pct"}


def _number(text: str, kind: type, where: str, name: str = ""):
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: expected a finite number, got {text!r}")
    if kind is int:
        if value != int(value):
            raise DataError(f"{where}: expected a whole number, got {text!r}")
        value = int(value)
    if name in _NON_NEGATIVE:
        if value < 0:
            raise DataError(f"{where}: must not be negative, got {text!r}")
    elif value <= 0:
        raise DataError(f"{where}: must be positive, got {text!r}")
    if name in _PERCENT and value > 100:
        raise DataError(f"{where}: a percentage is at most 100, got {text!r}")
    return value


@dataclass
class TableRow:
    """One non-blank record of a measurement table, with where each cell is (for file:line:col messages)."""

    origin: str
    line: int
    index: dict[str, int]
    cells: dict[str, str]

    def where(self, name: str) -> str:
        return f"{self.origin}:{self.line}:{self.index[name] + 1} ({name})"


def read_table(lines: Iterable[str], origin: str, columns: list[str], required: set[str], what: str, *,
               only_known: bool = False) -> Iterator[TableRow]:
    """The records of a CSV table (the built-in and user measurement tables, the serving table): the header must
    name every column (and, with ``only_known``, nothing else), every record has the header's width, required
    cells are not empty, and ``row_id`` is unique. Blank records are skipped."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{origin}:1:1: empty {what}") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(f"{origin}:1:1: missing column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in columns]
    if only_known and unknown:
        raise DataError(f"{origin}:1:{header.index(unknown[0]) + 1}: unknown column {unknown[0]!r}")
    index = {name: header.index(name) for name in columns}
    seen: set[str] = set()
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise DataError(f"{origin}:{line}:1: expected {len(header)} fields, found {len(record)}")
        row = TableRow(origin, line, index, {name: record[index[name]].strip() for name in columns})
        for name in columns:
            if name in required and not row.cells[name]:
                raise DataError(f"{row.where(name)}: value required")
        yield row
        row_id = row.cells.get("row_id", "")
        if row_id in seen:
            raise DataError(f"{row.where('row_id')}: duplicate row_id {row_id!r}")
        seen.add(row_id)


def _parse_measurements(lines: Iterable[str], origin: str) -> list[Measurement]:
    rows: list[Measurement] = []
    for row in read_table(lines, origin, _MEASUREMENT_COLUMNS, _REQUIRED, "measurement table", only_known=True):
        line, index = row.line, row.index
        values: dict = {}
        for name in _MEASUREMENT_COLUMNS:
            text = row.cells[name]
            where = row.where(name)
            if name == "params_b":
                values[name] = _number(text, float, where, name)
            elif name in _INT_COLUMNS:
                values[name] = _number(text, int, where, name) if text else None
            elif Measurement.__dataclass_fields__[name].type == "Optional[float]":
                values[name] = _number(text, float, where, name) if text else None
            else:
                values[name] = text
        if values["quant"] not in QUANTS:
            col = index["quant"] + 1
            raise DataError(f"{origin}:{line}:{col} (quant): unknown quantization {values['quant']!r}; expected one of {', '.join(QUANTS)}")
        if values["evidence"] not in EVIDENCE_GRADES:
            col = index["evidence"] + 1
            raise DataError(f"{origin}:{line}:{col} (evidence): unknown evidence grade {values['evidence']!r}; expected one of {', '.join(EVIDENCE_GRADES)}")
        if values["energy_basis"] and values["energy_basis"].split(" ", 1)[0] not in ("idle_subtracted", "total_board_power"):
            col = index["energy_basis"] + 1
            raise DataError(f"{origin}:{line}:{col} (energy_basis): expected idle_subtracted or total_board_power")
        if values["energy_j_per_1k_tok"] is not None and not values["energy_basis"]:
            col = index["energy_basis"] + 1
            raise DataError(f"{origin}:{line}:{col} (energy_basis): required when energy_j_per_1k_tok is given")
        rows.append(Measurement(**values, origin=origin))
    return rows


def _boolish(text: str) -> bool:
    return text.strip().lower() in ("yes", "true", "1")


def read_builtin(name: str) -> str:
    """The text of one of the packaged tables."""
    return (resources.files("ecolint.knowledge") / "tables" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def builtin_measurements() -> tuple[Measurement, ...]:
    return tuple(_parse_measurements(split_lines(read_builtin("measurements.csv")), "measurements.csv"))


def load_user_measurements(path: Path) -> list[Measurement]:
    """Rows from a user table (same columns as the built-in one). Their ``row_id``s are prefixed ``user:``."""
    try:
        text = read_text(path, encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{path}: cannot read measurement table: {exc.strerror or exc}") from None
    rows = _parse_measurements(split_lines(text), str(path))
    return [_replace_row_id(r, f"user:{r.row_id}") for r in rows]


def _replace_row_id(row: Measurement, row_id: str) -> Measurement:
    from dataclasses import replace

    return replace(row, row_id=row_id)


@lru_cache(maxsize=None)
def hardware() -> dict[str, GpuSpec]:
    out: dict[str, GpuSpec] = {}
    for rec in csv.DictReader(split_lines(read_builtin("hardware.csv"))):
        out[rec["gpu"]] = GpuSpec(
            gpu=rec["gpu"],
            name=rec["name"],
            arch=rec["arch"],
            measured=_boolish(rec["measured"]),
            vram_gb=float(rec["vram_gb"]),
            memory_type=rec["memory_type"],
            mem_bw_gb_s=float(rec["mem_bw_gb_s"]),
            tdp_w=float(rec["tdp_w"]),
            idle_w=float(rec["idle_w"]),
            compute_capability=float(rec["compute_capability"]),
            bf16_support=_boolish(rec["bf16_support"]),
            int8_tensor_cores=_boolish(rec["int8_tensor_cores"]),
            source=rec["source"],
            notes=rec["notes"],
        )
    return out


@lru_cache(maxsize=None)
def grid() -> dict[str, GridRegion]:
    def opt(text: str) -> Optional[float]:
        return float(text) if text.strip() else None

    out: dict[str, GridRegion] = {}
    for rec in csv.DictReader(split_lines(read_builtin("grid.csv"))):
        out[rec["region_id"]] = GridRegion(
            region_id=rec["region_id"],
            region=rec["region"],
            gco2_per_kwh=opt(rec["gco2_per_kwh"]),
            usd_per_kwh=opt(rec["usd_per_kwh"]),
            usd_per_kwh_min=opt(rec["usd_per_kwh_min"]),
            usd_per_kwh_max=opt(rec["usd_per_kwh_max"]),
            source=rec["source"],
            notes=rec["notes"],
        )
    return out


@lru_cache(maxsize=None)
def data_version() -> str:
    """A short hash of the packaged tables: part of the results-cache key."""
    digest = hashlib.sha256()
    for name in ("measurements.csv", "hardware.csv", "grid.csv"):
        digest.update(read_builtin(name).encode())
    return digest.hexdigest()[:16]
