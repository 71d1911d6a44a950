"""``ecolint compare``: every bitsandbytes precision for one model on one GPU, measured where possible."""

from __future__ import annotations

from ecolint.protocols.advice import QUANT_LABEL, paradox_warnings, quant_rows, recommend_quant, scope_note, step_lines
from ecolint.protocols.context import Context
from ecolint.protocols.render import VERBOSE_HINT, Document, ids_text, num, pct, sig
from ecolint.protocols.validate import Params


def build(ctx: Context, p: Params) -> dict:
    bs = p.batch_size or 1
    rows = quant_rows(ctx, p, bs)
    rec = recommend_quant(ctx, p, rows)
    notes = [scope_note(p)]
    bases = {r["energy_basis"] for r in rows if r["energy_basis"]}
    if "idle_subtracted" in bases:
        notes.append("Energy on this GPU is idle-subtracted ((board power − idle) / throughput); other GPUs' rows "
                     "are total board power — do not compare absolute J/1k across GPUs.")
    if not p.gpu_info.measured:
        notes.append(f"{p.gpu_info.id} has no measurements: every figure is transferred from a measured GPU "
                     "(see methods), on a total-board-power basis.")
    sessions = sorted({i for r in rows for i in r["other_sessions"]}, key=lambda s: (len(s), s))
    if sessions:
        notes.append(f"Other sessions of the same configurations exist (rows {', '.join(sessions)}); the table "
                     "shows the best-evidenced row. Session-to-session differences reach about 10 %.")
    return {
        "command": "compare",
        "model": p.model,
        "params_b": p.params_b,
        "gpu": p.gpu_info.id,
        "gpu_name": p.gpu_spec.name,
        "batch_size": bs,
        "rows": rows,
        "recommendation": rec,
        "warnings": paradox_warnings(ctx, p, rows),
        "notes": notes,
        "issues": [i.line() for i in p.issues],
    }


def basis_label(r: dict) -> str:
    if r["basis"] is None:
        return "no data"
    if r["basis"] == "measured":
        return "measured"
    return "extr. " + {"high": "high", "medium": "med", "low": "low"}.get(r["confidence"], r["confidence"])


def document(report: dict, verbose: bool = False) -> Document:
    title = (f"Compare: {report['model']} ({report['params_b']:g}B) on {report['gpu_name']}, "
             f"BS={report['batch_size']}")
    doc = Document(title)
    rows = []
    for r in report["rows"]:
        e = r["energy_j_per_1k_tok"]
        energy = "—" if e is None else num(e) + (f" ±{num(r['energy_std'])}" if r["energy_std"] else "")
        rows.append([r["quant"], energy, "—" if r["quant"] == "fp16" else pct(r["delta_vs_fp16_pct"]),
                     sig(r["throughput_tok_s"]), sig(r["power_w"]),
                     f"{r['vram_gb']:.1f}" + ("" if r["fits"] else "!"),
                     "—" if r["ppl"] is None else f"{r['ppl']:.2f}", r["rank"] or "—", basis_label(r)])
    doc.table(["Quant", "J/1k tok", "Δ FP16", "tok/s", "W", "VRAM", "PPL", "#", "Basis"], rows, "lrrrrrrrl",
              caption="J/1k tok: energy per 1,000 generated tokens (± std of the runs where measured). "
                      "VRAM: estimated GB, '!' = does not fit. PPL: perplexity where measured. #: energy rank. "
                      "extr. = extrapolated, with its confidence.")
    doc.bars("Energy per 1k generated tokens", "J/1k tok",
             [(r["quant"], r["energy_j_per_1k_tok"], r["basis"] == "measured") for r in report["rows"]])
    rec = report["recommendation"]
    doc.h("Recommendation")
    if rec["quant"]:
        label = QUANT_LABEL[rec.get("dtype") or rec["quant"]]
        doc.p(f"Use {label}" + (f": {rec['config']}" if rec.get("config") else ""), "good")
    doc.bullets(rec["reasons"])
    if report["warnings"]:
        doc.h("Paradox warnings")
        doc.bullets(report["warnings"], style="warn")
    if verbose:
        _sources(doc, report)
    doc.h("Notes")
    doc.bullets(report["notes"] + report["issues"] + ([] if verbose else [VERBOSE_HINT]), style="dim")
    return doc


def _sources(doc: Document, report: dict) -> None:
    doc.h("Where each number comes from")
    items = []
    for r in report["rows"]:
        if r["basis"] is None:
            items.append(f"{r['quant']}: no row and no method reaches it")
            continue
        head = f"{r['quant']}: {r['basis']}, {r['energy_basis']}"
        if r["basis"] == "measured":
            items.append(f"{head}; row {ids_text(r['row_ids'])} ({r['experiment']})"
                         + (f"; perplexity Δ vs FP16 {pct(r['ppl_delta_vs_fp16_pct'])}"
                            if r["ppl_delta_vs_fp16_pct"] is not None else ""))
        else:
            lo, hi = r["energy_interval"]
            items.append(f"{head}, interval {num(lo)}–{num(hi)} J/1k: " + "; ".join(step_lines(r["methods"])))
    doc.bullets(items)
