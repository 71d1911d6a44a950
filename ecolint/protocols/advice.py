"""Shared reasoning for the advisor commands: one row per quantization, the data-driven precision choice, the
batch-size choice, and the paradox warnings — each statement carrying the row ids that support it.

Where the measurements contradict the EcoCompute guide's decision tree, the measurements win, and the text says why:

* default bitsandbytes INT8 is never recommended: every within-experiment pair shows a penalty vs FP16;
* Pure INT8 (``llm_int8_threshold=0.0``) is not recommended either: on the A800 it costs more energy than FP16
  in every pair, and where it saves a few percent (RTX 4090D) the measured perplexity cost is up to +25 %;
* NF4 is chosen only where the data show a saving beyond ±5 %; on the A800 it is about break-even, so FP16 wins
  (no accuracy risk); the "≤3B penalty" is taken from the GPU's own rows (the T4 shows none);
* NF4 with double quantization costs energy vs plain NF4 wherever both were measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, TypeGuard

from ecolint.knowledge.data import Measurement, same_experiment
from ecolint.knowledge.estimator import MAX_BATCH, REGIME, Estimate, vram_estimate
from ecolint.protocols.context import Context
from ecolint.protocols.validate import COMPARE_QUANTS, Params

QUANT_LABEL = {"fp16": "FP16", "bf16": "BF16", "fp8": "FP8", "mxfp4": "MXFP4", "fp32": "FP32", "nf4": "NF4", "nf4_dq": "NF4 + double quant",
               "int8_default": "INT8 (default)", "int8_pure": "INT8 (pure, threshold 0)", "int8": "INT8"}
QUANT_CODE = {
    "fp16": "torch_dtype=torch.float16",
    "nf4": 'BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)',
    "nf4_dq": "… bnb_4bit_use_double_quant=True",
    "int8_default": "BitsAndBytesConfig(load_in_8bit=True)",
    "int8_pure": "BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)",
}
USE_CASE_BATCH = {"chat": 4, "api": 16, "batch": 64}
SERVING_BATCH = {"chat": 64, "api": 256, "batch": 512}
BREAK_EVEN_PCT = 5.0
# The size crossover ECO102 (rules/nf4_below_crossover.py) flags: 4-bit on models of this size or smaller cost
# energy vs FP16 on every measured GPU except the T4. The advisor uses the same pairs, so the two never disagree.
NF4_CROSSOVER_B = 3.0
BF16_ARCHS = ("ampere", "ada", "hopper", "blackwell")


@dataclass
class Crossover:
    """The ≤ 3B NF4 evidence ECO102 cites, as it applies to one model and GPU."""

    applies: bool  # the model is at or below the crossover and the GPU is not one whose own pairs show no penalty
    ratio: float  # geometric mean NF4/FP16 energy ratio of the ≤ 3B pairs (GPUs with a penalty)
    text: str
    row_ids: tuple[str, ...]


def nf4_crossover(ctx: "Context", p: "Params") -> Optional[Crossover]:
    """``None`` above the crossover; otherwise the ≤ 3B fp16/nf4 pairs and whether they apply on ``p.gpu``."""
    import math

    if not p.params_b or p.params_b > NF4_CROSSOVER_B:
        return None
    pairs = [q for q in ctx.knowledge.pairs("fp16", "nf4") if q.base.params_b <= NF4_CROSSOVER_B
             and q.base.evidence != "guide_only" and q.other.evidence != "guide_only"]
    if not pairs:
        return None
    no_penalty = sorted({q.base.gpu for q in pairs
                         if min(x.delta_pct for x in pairs if x.base.gpu == q.base.gpu) < BREAK_EVEN_PCT})
    penalty = [q for q in pairs if q.base.gpu not in no_penalty]
    gid = p.gpu_info.id
    mine = [q for q in pairs if q.base.gpu == gid]
    applies = bool(penalty) and gid not in no_penalty
    use = mine or penalty
    ratio = math.exp(sum(math.log(q.ratio) for q in use) / len(use)) if use else 1.0
    lo, hi = min(q.delta_pct for q in penalty), max(q.delta_pct for q in penalty)
    gpus = ", ".join(sorted({q.base.gpu for q in penalty}))
    text = (f"4-bit on models ≤ {NF4_CROSSOVER_B:g}B costs energy vs FP16 on every measured GPU except "
            f"{', '.join(no_penalty) or 'none'}: {lo:+.1f} % to {hi:+.1f} % ({len(penalty)} pairs on {gpus}; "
            f"rows {_short_ids([i for q in penalty for i in (q.base.row_id, q.other.row_id)], 8)}) — the evidence "
            "behind ECO102")
    ids = tuple(i for q in use for i in (q.base.row_id, q.other.row_id))
    return Crossover(applies, ratio, text, ids)


def preferred_dtype(p: "Params") -> str:
    """bf16 on Ampere and newer (same bytes and energy as fp16, wider range), fp16 before."""
    return "bf16" if p.gpu is not None and p.gpu.bf16 and p.gpu.arch in BF16_ARCHS else "fp16"


@dataclass
class Evidence:
    lo: float
    hi: float
    row_ids: tuple[str, ...]
    n: int
    gpus: tuple[str, ...]

    def text(self) -> str:
        rng = f"{self.lo:+.1f} %" if abs(self.hi - self.lo) < 0.05 else f"{self.lo:+.1f} % to {self.hi:+.1f} %"
        return f"{rng} ({self.n} pair{'s' if self.n != 1 else ''} on {', '.join(self.gpus)}; rows {_short_ids(self.row_ids)})"


def _short_ids(ids, limit: int = 10) -> str:
    ids = list(dict.fromkeys(ids))
    return ", ".join(ids[:limit]) + (f" (+{len(ids) - limit})" if len(ids) > limit else "")


def energy_pairs_evidence(ctx: Context, base: str, other: str, gpu: Optional[str] = None) -> Optional[Evidence]:
    """Range of within-experiment energy deltas ``other`` vs ``base`` (on one GPU, or all)."""
    pairs = ctx.knowledge.pairs(base, other, gpu)
    if not pairs:
        return None
    deltas = [p.delta_pct for p in pairs]
    ids = tuple(i for p in pairs for i in (p.base.row_id, p.other.row_id))
    return Evidence(min(deltas), max(deltas), ids, len(pairs), tuple(sorted({p.base.gpu for p in pairs})))


def ppl_pairs_evidence(ctx: Context, quant: str) -> Optional[Evidence]:
    """Perplexity change of ``quant`` vs FP16 where both were measured with the same protocol."""
    rows = [r for r in ctx.knowledge.rows if r.ppl is not None]
    deltas, ids, gpus = [], [], set()
    for b in rows:
        if b.quant != "fp16":
            continue
        for o in rows:
            if o.quant == quant and o.gpu == b.gpu and o.model == b.model and o.ppl_dataset == b.ppl_dataset:
                deltas.append((o.ppl - b.ppl) / b.ppl * 100.0)  # type: ignore[operator]
                ids += [b.row_id, o.row_id]
                gpus.add(b.gpu)
    if not deltas:
        return None
    return Evidence(min(deltas), max(deltas), tuple(ids), len(deltas), tuple(sorted(gpus)))


def _row(ctx: Context, est: Optional[Estimate]) -> Optional[Measurement]:
    if est is None or not est.measured:
        return None
    try:
        return ctx.knowledge.row(est.row_ids[0])
    except KeyError:
        return None


def _ppl(ctx: Context, p: Params, quant: str) -> Optional[Measurement]:
    from ecolint.knowledge.estimator import model_match

    rows = [r for r in ctx.knowledge.rows if r.gpu == p.gpu_info.id and r.quant == quant and r.ppl is not None
            and model_match(r, p.model, p.params_b) == "exact"]
    return rows[0] if rows else None


def quant_rows(ctx: Context, p: Params, batch_size: int, quants=None) -> list[dict]:
    """One dict per quantization: energy, throughput, Δ vs FP16 (bf16 in serving), tokens/J, power, VRAM,
    perplexity, rank."""
    from ecolint.protocols.validate import SERVING_COMPARE_QUANTS

    if quants is None:
        quants = SERVING_COMPARE_QUANTS if p.serving else COMPARE_QUANTS
    gid = p.gpu_info.id
    fp16_e = ctx.energy(p.model, gid, quants[0] if p.serving else "fp16", batch_size, p.params_b)
    fp16_ppl = _ppl(ctx, p, "fp16")
    out: list[dict] = []
    for q in quants:
        e = fp16_e if q == quants[0] else ctx.energy(p.model, gid, q, batch_size, p.params_b)
        t = ctx.throughput(p.model, gid, q, batch_size, p.params_b)
        row = _row(ctx, e)
        v = vram_estimate(p.model, p.params_b, q, batch_size, p.seq_len, p.gen_len)
        d: dict = {
            "quant": q,
            "energy_j_per_1k_tok": None if e is None else round(e.value, 1),
            "energy_std": None if e is None or e.std is None else round(e.std, 1),
            "energy_interval": None if e is None else [round(e.low, 1), round(e.high, 1)],
            "delta_vs_fp16_pct": None,
            "delta_basis": None,
            "throughput_tok_s": None if t is None else round(t.value, 2),
            "throughput_std": None if t is None or t.std is None else round(t.std, 2),
            "throughput_basis": None if t is None else t.basis,
            "tokens_per_joule": None if e is None else round(1000.0 / e.value, 4),
            "power_w": row.power_w if row else None,
            "power_std": row.power_std if row else None,
            "vram_gb": round(v.total_gb, 1),
            "fits": v.total_gb <= p.gpu_spec.vram_gb,
            "ppl": None,
            "ppl_delta_vs_fp16_pct": None,
            "ppl_dataset": None,
            "rank": None,
            "basis": None if e is None else e.basis,
            "confidence": None if e is None else e.confidence,
            "energy_basis": None if e is None else e.energy_basis,
            "experiment": row.experiment if row else None,
            "methods": [] if e is None else [s.to_dict() for s in e.steps],
            "row_ids": [] if e is None else list(e.row_ids),
            "other_sessions": [] if e is None else list(e.other_sessions),
        }
        if e is not None and fp16_e is not None:
            d["delta_vs_fp16_pct"], d["delta_basis"] = _delta(ctx, p, e, fp16_e, q, batch_size)
        pr = _ppl(ctx, p, q)
        if pr is not None:
            d["ppl"], d["ppl_dataset"] = pr.ppl, pr.ppl_dataset
            d["ppl_row_id"] = pr.row_id
            if fp16_ppl is not None and fp16_ppl.ppl_dataset == pr.ppl_dataset and q != "fp16":
                d["ppl_delta_vs_fp16_pct"] = round((pr.ppl - fp16_ppl.ppl) / fp16_ppl.ppl * 100.0, 1)  # type: ignore
        out.append(d)
    _apply_crossover(ctx, p, out)
    ranked = sorted((d for d in out if d["energy_j_per_1k_tok"] is not None), key=lambda d: d["energy_j_per_1k_tok"])
    for i, d in enumerate(ranked, 1):
        d["rank"] = i
    return out


def _apply_crossover(ctx: Context, p: Params, out: list[dict]) -> None:
    """Below the size crossover, an NF4 figure extrapolated from larger models (the nearest-size pairs of another
    size class) is replaced by FP16 × the ≤ 3B pairs' ratio, so the table agrees with ECO102."""
    cx = nf4_crossover(ctx, p)
    by_q = {r["quant"]: r for r in out}
    fp16, nf4 = by_q.get("fp16"), by_q.get("nf4")
    if cx is None or not cx.applies or fp16 is None or nf4 is None or fp16["energy_j_per_1k_tok"] is None:
        return
    if nf4["basis"] == "measured" or nf4["energy_j_per_1k_tok"] is None:
        return
    old = nf4["energy_j_per_1k_tok"]
    new = round(fp16["energy_j_per_1k_tok"] * cx.ratio, 1)
    for q in ("nf4", "nf4_dq"):
        r = by_q.get(q)
        if r is None or r["energy_j_per_1k_tok"] is None or r["basis"] == "measured":
            continue
        value = new if q == "nf4" else round(r["energy_j_per_1k_tok"] * new / old, 1)
        scale = value / r["energy_j_per_1k_tok"]
        r["energy_j_per_1k_tok"] = value
        r["energy_interval"] = [round(x * scale, 1) for x in r["energy_interval"]]
        r["tokens_per_joule"] = round(1000.0 / value, 4)
        r["delta_vs_fp16_pct"] = round((value / fp16["energy_j_per_1k_tok"] - 1) * 100.0, 1)
        r["delta_basis"] = "extrapolated"
        r["methods"].append({"method": "size_crossover", "detail": f"×{scale:.3f}: {cx.text}",
                             "row_ids": list(cx.row_ids), "factor": round(scale, 4), "confidence": "medium"})
        r["row_ids"] = list(dict.fromkeys(r["row_ids"] + list(cx.row_ids)))


def _delta(ctx: Context, p: Params, e: Estimate, base: Estimate, q: str, bs: int) -> tuple[float, str]:
    if e is base:
        return 0.0, "measured" if e.measured else "extrapolated"
    if e.measured and base.measured:
        ra, rb = ctx.knowledge.row(base.row_ids[0]), ctx.knowledge.row(e.row_ids[0])
        if same_experiment(ra, rb):
            return round((e.value - base.value) / base.value * 100.0, 1), "measured"
    if e.energy_basis != base.energy_basis:
        e2 = ctx.energy(p.model, p.gpu_info.id, q, bs, p.params_b, total=True)
        b2 = ctx.energy(p.model, p.gpu_info.id, "fp16", bs, p.params_b, total=True)
        if e2 is not None and b2 is not None:
            return round((e2.value - b2.value) / b2.value * 100.0, 1), "extrapolated"
    return round((e.value - base.value) / base.value * 100.0, 1), "extrapolated"


def recommend_quant(ctx: Context, p: Params, rows: list[dict]) -> dict:
    """Pick the precision from the rows (see the module docstring for the rules and why)."""
    by_q = {r["quant"]: r for r in rows}
    if p.serving:
        return _recommend_serving_quant(p, by_q)
    fp16, nf4 = by_q.get("fp16"), by_q.get("nf4")
    reasons: list[str] = []
    gid = p.gpu_info.id

    def ok(r: Optional[dict]) -> TypeGuard[dict]:
        return r is not None and r["energy_j_per_1k_tok"] is not None and r["fits"]

    def cite(r) -> str:
        return f"rows {_short_ids(r['row_ids'], 6)}" if r["row_ids"] else "no rows"

    choice: Optional[str] = None
    cx = nf4_crossover(ctx, p)
    if cx is not None and cx.applies and ok(fp16):
        choice = "fp16"
        reasons.append(f"Keep 16-bit weights: {cx.text}.")
    elif ok(fp16) and ok(nf4):
        d = nf4["delta_vs_fp16_pct"]
        if d <= -BREAK_EVEN_PCT:
            choice = "nf4"
            reasons.append(f"NF4 uses {abs(d):.1f} % less energy per token than FP16 for this model on {gid} "
                           f"({nf4['delta_basis']}; {cite(nf4)}).")
            reasons.append("NF4 changes the weights: check task accuracy before switching.")
        else:
            choice = "fp16"
            if d >= BREAK_EVEN_PCT:
                reasons.append(f"NF4 costs {d:+.1f} % energy vs FP16 here ({nf4['delta_basis']}; {cite(nf4)}): "
                               "de-quantization work outweighs the smaller weight reads at this size.")
            else:
                reasons.append(f"NF4 is within ±{BREAK_EVEN_PCT:g} % of FP16 here ({d:+.1f} %, "
                               f"{nf4['delta_basis']}): no energy to gain, so keep FP16's full accuracy and "
                               "simpler stack.")
    elif ok(fp16):
        choice = "fp16"
        reasons.append("FP16 is the only measured-or-estimated option that fits.")
    elif ok(nf4):
        choice = "nf4"
        if fp16 is not None and not fp16["fits"]:
            reasons.append(f"FP16 needs about {fp16['vram_gb']:.1f} GB, more than the {p.gpu_spec.vram_gb:g} GB of "
                           f"{p.gpu_spec.name}; NF4 ({nf4['vram_gb']:.1f} GB) fits.")
        else:
            reasons.append("NF4 is the only option that can be estimated here.")
    if choice is None:
        return {"quant": None, "reasons": ["No precision fits in this GPU's memory at this batch size and length."],
                "config": None}
    # What the EcoCompute guide would have said, where the data disagree.
    i8 = by_q.get("int8_pure")
    if i8 is not None and i8["energy_j_per_1k_tok"] is not None and i8["fits"] and i8["rank"] == 1:
        ev = ppl_pairs_evidence(ctx, "int8_pure")
        reasons.append(f"Pure INT8 is estimated lowest in energy here, but it is not recommended: measured "
                       f"perplexity cost {ev.text() if ev else 'unknown'}.")
    dtype = preferred_dtype(p) if choice == "fp16" else None
    config = QUANT_CODE.get(choice)
    if dtype == "bf16":
        config = "torch_dtype=torch.bfloat16"
        reasons.append(f"On {p.gpu_info.arch.capitalize()} use bf16 rather than fp16: the same bytes per weight (so the "
                       "same energy; the rows measure fp16) with fp32's exponent range.")
    return {"quant": choice, "dtype": dtype, "reasons": reasons, "config": config}


def _recommend_serving_quant(p: Params, by_q: dict) -> dict:
    """Serving: bf16 unless FP8 is at least 5 % cheaper here on Hopper/Blackwell (where FP8 runs natively). The
    measured FP8/bf16 pairs cost energy at small max_num_seqs and save about 10 % from 64 up."""
    bf16, fp8 = by_q.get("bf16"), by_q.get("fp8")
    reasons: list[str] = []
    choice = "bf16" if bf16 and bf16["energy_j_per_1k_tok"] is not None else None
    if (fp8 and fp8["energy_j_per_1k_tok"] is not None and choice and p.gpu_info.arch in ("hopper", "blackwell")
            and fp8["delta_vs_fp16_pct"] is not None and fp8["delta_vs_fp16_pct"] <= -BREAK_EVEN_PCT):
        choice = "fp8"
        reasons.append(f"FP8 weights use {abs(fp8['delta_vs_fp16_pct']):.1f} % less energy than bf16 here "
                       f"({fp8['delta_basis']}; rows {_short_ids(fp8['row_ids'], 6)}); check task accuracy.")
    elif choice:
        d = fp8["delta_vs_fp16_pct"] if fp8 else None
        reasons.append("bf16: " + ("no FP8 estimate reaches this configuration." if d is None else
                                   f"FP8 is {d:+.1f} % vs bf16 here, not a clear saving (the measured FP8/bf16 "
                                   "pairs cost energy at small max_num_seqs)."))
    if choice is None:
        return {"quant": None, "dtype": None, "reasons": ["No serving estimate reaches this configuration."],
                "config": None}
    return {"quant": choice, "dtype": None, "reasons": reasons,
            "config": "--dtype bfloat16" if choice == "bf16" else "--quantization fp8"}


def paradox_warnings(ctx: Context, p: Params, rows: list[dict]) -> list[str]:
    """Data-backed warnings about the configurations people reach for (bitsandbytes: Hugging Face engine)."""
    if p.serving:
        return []
    gid = p.gpu_info.id
    by_q = {r["quant"]: r for r in rows}
    out: list[str] = []
    ev = energy_pairs_evidence(ctx, "fp16", "int8_default", gid) or energy_pairs_evidence(ctx, "fp16", "int8_default")
    r = by_q.get("int8_default")
    if ev is not None:
        here = f" Here: {pct_text(r['delta_vs_fp16_pct'])} ({r['delta_basis']})." if r and r["delta_vs_fp16_pct"] is not None else ""
        out.append(f"INT8 (default, load_in_8bit=True): costs energy vs FP16 in every measured pair, {ev.text()}."
                   + here + " The outlier decomposition runs at every linear layer.")
    ev = energy_pairs_evidence(ctx, "fp16", "int8_pure", gid) or energy_pairs_evidence(ctx, "fp16", "int8_pure")
    pe = ppl_pairs_evidence(ctx, "int8_pure")
    if ev is not None:
        out.append(f"INT8 (pure, llm_int8_threshold=0.0): energy vs FP16 {ev.text()}"
                   + (f"; perplexity vs FP16 {pe.text()}" if pe else "") + ". Faster than default INT8, but not a "
                   "free win: the EcoCompute guide's 'saves ~5 % on A800' is contradicted by every A800 pair.")
    ev = energy_pairs_evidence(ctx, "fp16", "nf4", gid)
    r = by_q.get("nf4")
    if ev is not None and r is not None and r["delta_vs_fp16_pct"] is not None and r["delta_vs_fp16_pct"] > 0:
        out.append(f"NF4 costs energy for this model on {gid} ({pct_text(r['delta_vs_fp16_pct'])}, "
                   f"{r['delta_basis']}); NF4 pairs on {gid}: {ev.text()}.")
    ev = energy_pairs_evidence(ctx, "nf4", "nf4_dq")
    if ev is not None:
        out.append(f"NF4 double quantization (bnb_4bit_use_double_quant=True) vs plain NF4: {ev.text()} — it "
                   "saves a little memory and costs energy.")
    lower_power_worse = [r for r in rows if r["power_w"] and by_q.get("fp16", {}).get("power_w")
                         and r["power_w"] < by_q["fp16"]["power_w"] and (r["delta_vs_fp16_pct"] or 0) > 0]
    if lower_power_worse:
        names = ", ".join(QUANT_LABEL[r["quant"]] for r in lower_power_worse)
        out.append(f"Lower power is not lower energy: {names} draw less power than FP16 here but use more energy "
                   "per token, because throughput drops more than power.")
    return out


def pct_text(x: Optional[float]) -> str:
    return "—" if x is None else f"{x:+.1f} %"


def fits(p: Params, quant: str, bs: int) -> bool:
    return vram_estimate(p.model, p.params_b, quant, bs, p.seq_len, p.gen_len).total_gb <= p.gpu_spec.vram_gb


def recommend_batch(p: Params, quant: str, current: Optional[int]) -> tuple[int, list[str]]:
    """Batch size for the use case (chat 4, api 16, batch 64 — never below what the user already runs), halved
    until weights + KV cache fit."""
    notes: list[str] = []
    if p.serving:
        # max_num_seqs: energy per token flattens between 256 and 512 in the serving series
        return max(current or 1, SERVING_BATCH.get(p.use_case, 256)), [
            "In serving the batch is vLLM's max_num_seqs (sequences running concurrently); energy per token falls "
            "steeply up to 64-256 and flattens beyond (ML.ENERGY rows)."]
    target = max(current or 1, USE_CASE_BATCH.get(p.use_case, 16))
    target = min(target, MAX_BATCH)
    while target > 1 and not fits(p, quant, target):
        target //= 2
    if target < USE_CASE_BATCH.get(p.use_case, 16):
        notes.append(f"batch size limited to {target} by GPU memory at {p.seq_len}+{p.gen_len} tokens")
    return target, notes


def scope_note(p: Optional[Params] = None) -> str:
    if p is not None and p.serving:
        from ecolint.knowledge.serving_estimator import SERVING_REGIME

        return f"Serving figures: {SERVING_REGIME}."
    return f"All measurements: {REGIME}."


def step_lines(methods: list[dict]) -> list[str]:
    return [m["detail"] if m["method"] == "anchor" else f"{m['method']} ({m['confidence']}): {m['detail']}"
            for m in methods]


def per_request_j(e: Estimate, gen_len: int) -> float:
    return e.value * gen_len / 1000.0

