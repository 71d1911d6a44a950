"""Choosing the measurement rows behind a finding.

Ratios are only taken inside one experiment (:meth:`Knowledge.pairs`). Which pairs a finding cites:

1. the user's GPU (``--gpu`` / ``[tool.ecolint] gpu`` / a GPU named in the file) when it was measured: the
   pairs nearest in model size on that GPU;
2. otherwise the pair nearest in model size on *each* measured GPU, and the finding says so.

Absolute J/1k values are never compared across GPUs here: each pair is a within-experiment ratio.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Optional

from ecolint.knowledge import Knowledge, Pair
from ecolint.knowledge.data import Measurement, evidence_rank


@dataclass
class Selection:
    pairs: list[Pair]
    how: str  # a sentence saying which rows were chosen and why
    all_pairs: list[Pair]

    def range_text(self) -> str:
        deltas = sorted(p.delta_pct for p in self.all_pairs)
        if not deltas:
            return ""
        lo, hi = deltas[0], deltas[-1]
        return f"{lo:+.1f} % to {hi:+.1f} %" if abs(hi - lo) >= 0.05 else f"{lo:+.1f} %"

    def cited_range(self) -> tuple[float, float]:
        deltas = [p.delta_pct for p in self.pairs]
        return min(deltas), max(deltas)


@dataclass
class Evidence:
    """One measurement row behind a finding's number."""

    row_id: str
    gpu: str
    model: str
    quant: str
    batch_size: Optional[int]
    energy_j_per_1k_tok: Optional[float]
    source: str
    experiment: str = ""
    energy_basis: str = ""
    note: str = ""  # why this row was chosen / what it is compared with

    @classmethod
    def from_row(cls, row: Measurement, note: str = "") -> Evidence:
        return cls(
            row_id=row.row_id,
            gpu=row.gpu,
            model=row.model,
            quant=row.quant,
            batch_size=row.batch_size,
            energy_j_per_1k_tok=row.energy_j_per_1k_tok,
            source=row.source,
            experiment=row.experiment,
            energy_basis=row.basis,
            note=note,
        )

    def to_dict(self) -> dict:
        return {
            "row_id": self.row_id,
            "gpu": self.gpu,
            "model": self.model,
            "quant": self.quant,
            "batch_size": self.batch_size,
            "energy_j_per_1k_tok": self.energy_j_per_1k_tok,
            "experiment": self.experiment,
            "energy_basis": self.energy_basis,
            "source": self.source,
            "note": self.note,
        }


def _preference(p: Pair, params: Optional[float]) -> tuple:
    size = abs(p.base.params_b - params) if params else 0.0
    return (
        size,
        p.base.power_limit_w is not None,  # prefer sessions without a power-limit setting
        p.base.batch_size != 1,
        max(evidence_rank(p.base.evidence), evidence_rank(p.other.evidence)),
        int(p.base.row_id) if p.base.row_id.isdigit() else 10**9,
    )


def select(
    knowledge: Knowledge,
    base_quant: str,
    other_quant: str,
    gpu: Optional[str],
    params_b: Optional[float],
    *,
    max_params: Optional[float] = None,
    min_params: Optional[float] = None,
    per_gpu: int = 1,
) -> Selection:
    pairs = knowledge.pairs(base_quant, other_quant)
    if max_params is not None:
        pairs = [p for p in pairs if p.base.params_b <= max_params]
    if min_params is not None:
        pairs = [p for p in pairs if p.base.params_b >= min_params]
    strict = [p for p in pairs if p.base.evidence != "guide_only" and p.other.evidence != "guide_only"]
    pool = strict or pairs
    size_text = f"{params_b:g}B" if params_b else "an unknown-size model"
    if gpu and any(p.base.gpu == gpu for p in pool):
        mine = sorted((p for p in pool if p.base.gpu == gpu), key=lambda p: _preference(p, params_b))
        chosen = _distinct_models(mine, max(per_gpu, 2))
        how = f"measured on your GPU ({gpu}), nearest model size to {size_text}"
        return Selection(chosen, how, pool)
    chosen = []
    for g in sorted({p.base.gpu for p in pool}):
        mine = sorted((p for p in pool if p.base.gpu == g), key=lambda p: _preference(p, params_b))
        chosen.extend(_distinct_models(mine, per_gpu))
    if gpu and gpu in knowledge.measured_gpus():
        how = f"no {base_quant} vs {other_quant} pair was measured on {gpu}; nearest model size to {size_text} on each GPU that has one"
    elif gpu:
        how = f"{gpu} was not measured; nearest model size to {size_text} on each measured GPU"
    else:
        how = f"no GPU configured (set --gpu or [tool.ecolint] gpu); nearest model size to {size_text} on each measured GPU"
    return Selection(chosen, how, pool)


def _distinct_models(pairs: list[Pair], n: int) -> list[Pair]:
    out: list[Pair] = []
    seen: set[str] = set()
    for p in pairs:
        if p.base.model in seen:
            continue
        seen.add(p.base.model)
        out.append(p)
        if len(out) >= n:
            break
    return out


def describe_pair(p: Pair) -> str:
    bs = f", BS={p.base.batch_size}" if p.base.batch_size and p.base.batch_size != 1 else ""
    return f"{p.base.gpu} {p.base.model}{bs}: {p.delta_pct:+.1f} % (rows {p.base.row_id}->{p.other.row_id})"


def advisor_command(model_id: Optional[str], gpu_id: Optional[str] = None, command: str = "compare",
                    batch_size: Optional[int] = None, engine: Optional[str] = None) -> str:
    """The follow-up command a finding suggests, e.g.
    ``ecolint compare --model mistralai/Mistral-7B-v0.1 --gpu a800``; a finding in a serving config passes the
    engine it saw (``--engine vllm``). Unknown parts are left out (the command then asks for them); values are
    shell-quoted when needed."""
    parts = ["ecolint", command]
    if model_id:
        parts += ["--model", shlex.quote(model_id)]
    if gpu_id:
        parts += ["--gpu", shlex.quote(gpu_id)]
    if engine in ("vllm", "tgi"):
        parts += ["--engine", engine]
    if batch_size:
        parts += ["--batch-size", str(int(batch_size))]
    return " ".join(parts)


def next_command(model: Optional[str], gpu: Optional[str], fallback_model: Optional[str] = None,
                 fallback_gpu: Optional[str] = None, command: str = "compare", batch_size: Optional[int] = None,
                 engine: Optional[str] = None) -> Optional[str]:
    """The follow-up command a finding suggests; when the file does not say which model or GPU, the one of
    the cited evidence row stands in (so the command runs and shows the rows the finding cites). ``engine``:
    the serving engine the finding saw (vllm, tgi), passed on as ``--engine``."""
    m = model or fallback_model
    if not m:
        return None
    return advisor_command(m, gpu or fallback_gpu, command=command, batch_size=batch_size, engine=engine)


def serving_batching_evidence() -> tuple[str, list]:
    """What a finding on a vLLM/TGI batch cap cites: the ``max_num_seqs`` series of one model on one GPU from
    the serving rows (ML.ENERGY Benchmark v3), as a sentence and as evidence rows."""
    from ecolint.knowledge.serving import batching_series

    ser = batching_series()
    if not ser:
        return "", []
    r0 = ser[0]
    text = (f"vLLM max_num_seqs {' → '.join(str(r.max_num_seqs) for r in ser)}: "
            f"{' → '.join(f'{r.energy_j_per_1k_tok:,.0f}' for r in ser)} J/1k tokens ({r0.model_id.rsplit('/', 1)[-1]}, "
            f"one {r0.gpu.upper()}, rows {', '.join(r.row_id for r in ser)}, ML.ENERGY Benchmark v3)")
    rows = [Evidence(row_id=r.row_id, gpu=r.gpu, model=r.model_id, quant=r.quant, batch_size=r.max_num_seqs,
                     energy_j_per_1k_tok=r.energy_j_per_1k_tok, source=r.source, experiment=r.task,
                     energy_basis=r.energy_basis,
                     note=f"vLLM max_num_seqs={r.max_num_seqs}, {r.task}; ML.ENERGY Benchmark v3")
            for r in ser]
    return text, rows


def evidence_rows(selection: Selection) -> list:
    """The cited pairs as :class:`Evidence` rows (baseline first, then the compared row)."""
    out = []
    seen: set[str] = set()
    for p in selection.pairs:
        for row, note in (
            (p.base, f"{p.base.quant} baseline; {selection.how}"),
            (p.other, f"{p.other.quant}: {p.delta_pct:+.1f} % energy vs row {p.base.row_id}"),
        ):
            if row.row_id not in seen:  # a shared baseline is listed once
                seen.add(row.row_id)
                out.append(Evidence.from_row(row, note=note))
    return out


def batch_pairs(knowledge: Knowledge) -> list[Pair]:
    """BS=1 -> BS=n pairs inside one experiment (same model, quantization and power limit)."""
    larger: dict[tuple, list] = {}  # a hash join: linear in the rows, not quadratic
    for other in knowledge.query():
        if other.batch_size and other.batch_size > 1:
            larger.setdefault((other.experiment, other.quant, other.model, other.power_limit_w), []).append(other)
    out = []
    for base in knowledge.query(batch_size=1):
        for other in larger.get((base.experiment, base.quant, base.model, base.power_limit_w), ()):
            out.append(Pair(base, other))
    return sorted(out, key=lambda p: (p.base.experiment, p.base.quant, p.other.batch_size))


def batching_selection(knowledge: Knowledge, sizes: tuple[int, ...] = (8, 64)) -> Selection:
    """The batching evidence findings cite: the raw A800 sweep at the given batch sizes, plus the FP16
    BS 1 -> 8 pair of the validation run."""
    pairs = batch_pairs(knowledge)
    chosen = [p for p in pairs if p.base.evidence == "raw_runs" and p.other.batch_size in sizes]
    fp16 = [p for p in pairs if p.base.quant == "fp16" and p.other.batch_size == 8]
    chosen += fp16[:1]
    return Selection(chosen, "the only batch-size measurements: A800, Mistral-7B, HF transformers static batches", pairs)


def describe_batch_pair(p: Pair) -> str:
    return f"BS 1->{p.other.batch_size} {p.delta_pct:+.1f} % ({p.base.gpu} {p.base.model} {p.base.quant}, rows {p.base.row_id}->{p.other.row_id})"


def pair_lines(knowledge: Knowledge, base_quant: str, other_quant: str, max_params: Optional[float] = None) -> list[str]:
    """Every within-experiment pair of two quantizations (models up to ``max_params`` billion parameters), one
    line each with its experiment: the live evidence of a rule whose claim is a quantization ratio."""
    return [describe_pair(p) + f" [{p.base.experiment}]" for p in knowledge.pairs(base_quant, other_quant)
            if max_params is None or p.base.params_b <= max_params]


BATCH_SWEEP = "a800_2026-02-15_batch_sweep"


def batch_sweep_lines(knowledge: Knowledge) -> list[str]:
    """The A800 batch sweep, BS=1 against each larger batch: the live evidence of the batching rules."""
    base = knowledge.query(experiment=BATCH_SWEEP, batch_size=1)
    if not base:
        return []
    b = base[0]
    lines = []
    for r in knowledge.query(experiment=BATCH_SWEEP):
        if r.batch_size and r.batch_size > 1 and r.energy_j_per_1k_tok is not None and b.energy_j_per_1k_tok:
            d = (r.energy_j_per_1k_tok - b.energy_j_per_1k_tok) / b.energy_j_per_1k_tok * 100
            lines.append(f"a800 {r.model} int8_pure BS=1 -> BS={r.batch_size}: {d:+.1f} % energy per token (rows {b.row_id}->{r.row_id})")
    return lines
