"""``ecolint optimize``: the precision and batch size the measurements support, with what they cost per month."""

from __future__ import annotations

import math
from typing import Optional

from ecolint.knowledge.estimator import per_request
from ecolint.protocols.advice import QUANT_LABEL, paradox_warnings, quant_rows, recommend_batch, recommend_quant, scope_note, step_lines
from ecolint.protocols.context import Context, UsageError, default_pue, grid_factors
from ecolint.protocols.render import VERBOSE_HINT, Document, ids_text, num, sig
from ecolint.protocols.validate import Params

DEFAULT_REQUESTS = 1_000_000


def config_metrics(ctx: Context, p: Params, quant: str, bs: int) -> Optional[dict]:
    """Energy (as measured and on a total-board basis), throughput, latency and VRAM for one configuration."""
    from ecolint.knowledge.estimator import vram_estimate

    e = ctx.energy(p.model, p.gpu_info.id, quant, bs, p.params_b)
    if e is None:
        return None
    et = ctx.energy(p.model, p.gpu_info.id, quant, bs, p.params_b, total=True) or e
    t = ctx.throughput(p.model, p.gpu_info.id, quant, bs, p.params_b)
    per_req, step = per_request(et, p.gen_len)
    # every one of the bs sequences advances once per step: a request's tokens come at throughput / bs
    latency = None if t is None else p.gen_len / (t.value / bs)
    n_gpus = e.num_gpus if p.serving else 1
    if p.serving:
        from ecolint.knowledge.serving_estimator import GPU_MEMORY_UTILIZATION, serving_weights_gb

        weights = serving_weights_gb(p.params_b, quant)
        budget = GPU_MEMORY_UTILIZATION * p.gpu_spec.vram_gb * n_gpus
        vram_gb = budget
        vram_note = (f"vLLM reserves {GPU_MEMORY_UTILIZATION:.0%} of each GPU's memory ({budget:,.0f} GB on "
                     f"{n_gpus} GPU{'s' if n_gpus > 1 else ''}): weights {weights:,.1f} GB, the rest is KV cache, "
                     "which caps the sequences that run at once")
        if weights > budget:
            vram_note += "; the weights do not fit: use more GPUs (--num-gpus)"
    else:
        vram_gb = vram_estimate(p.model, p.params_b, quant, bs, p.seq_len, p.gen_len).total_gb
        vram_note = None
    return {
        "quant": quant,
        "batch_size": bs,
        "energy_j_per_1k_tok": round(e.value, 1),
        "energy_interval": [round(e.low, 1), round(e.high, 1)],
        "energy_basis": e.energy_basis,
        "energy_j_per_1k_tok_total_board": round(et.value, 1),
        "energy_j_per_request": round(per_req, 2),
        "tokens_per_joule": round(1000.0 / et.value, 4),
        "throughput_tok_s": None if t is None else round(t.value, 2),
        "throughput_basis": None if t is None else t.basis,
        "latency_s_per_request": None if latency is None else round(latency, 2),
        "vram_gb": round(vram_gb, 1),
        "vram_note": vram_note,
        "num_gpus": n_gpus,
        "basis": e.basis,
        "confidence": e.confidence,
        "row_ids": list(e.row_ids),
        "methods": [s.to_dict() for s in e.steps] + [step.to_dict()],
    }


def monthly(per_request_j: float, requests: int, pue: float, usd: float, gco2: float) -> dict:
    kwh = per_request_j * requests * pue / 3.6e6
    return {"kwh_per_month": round(kwh, 3), "cost_usd_per_month": round(kwh * usd, 2),
            "kgco2_per_month": round(kwh * gco2 / 1000.0, 3)}


HOURS_PER_MONTH = 730.0


def fleet(cfg: dict, requests: int, gen_len: int, usd_per_gpu_hour: Optional[float]) -> dict:
    """GPU-hours a month to generate ``requests × gen_len`` tokens at the configuration's throughput (GPUs kept
    busy around the clock at that batch size), the fleet that provides them, and its rental cost when a price per
    GPU-hour is given."""
    t = cfg.get("throughput_tok_s")
    if not t:
        return {"gpu_hours_per_month": None, "gpus_needed": None, "gpu_cost_usd_per_month": None}
    n = cfg.get("num_gpus") or 1
    hours = requests * gen_len / t / 3600.0 * n
    replicas = max(1, math.ceil(hours / n / HOURS_PER_MONTH))
    return {"gpu_hours_per_month": round(hours, 1), "gpus_needed": replicas * n,
            "gpu_cost_usd_per_month": None if usd_per_gpu_hour is None else round(hours * usd_per_gpu_hour, 2)}


def within_latency(ctx: Context, p: Params, quant: str, rec: dict) -> tuple[dict, list[str]]:
    """The largest batch size (halving from the recommended one) whose estimated latency per request stays under
    ``--max-latency-s``, and what the user is told about it."""
    bound = p.max_latency_s
    if bound is None:
        return rec, []
    lat = rec["latency_s_per_request"]
    if lat is None:
        return rec, [f"No throughput estimate here, so the {bound:g} s latency bound could not be checked."]
    if lat <= bound:
        return rec, [f"Latency {sig(lat)} s per request at batch size {rec['batch_size']} is within the "
                     f"{bound:g} s bound."]
    bs, cfg = rec["batch_size"], rec
    while bs > 1:
        bs //= 2
        cfg = config_metrics(ctx, p, quant, bs) or cfg
        if cfg["latency_s_per_request"] is not None and cfg["latency_s_per_request"] <= bound:
            return cfg, [f"Batching to {rec['batch_size']} would exceed the latency bound ({sig(lat)} s per "
                         f"request > {bound:g} s); batch size {bs} keeps {sig(cfg['latency_s_per_request'])} s, "
                         f"at {pct_change(rec, cfg)} energy per token."]
    return cfg, [f"Batching to {rec['batch_size']} would exceed the latency bound ({sig(lat)} s per request > "
                 f"{bound:g} s), and even batch size {cfg['batch_size']} takes "
                 f"{sig(cfg['latency_s_per_request'])} s: a faster GPU, a smaller model or shorter outputs are "
                 "needed."]


def pct_change(a: dict, b: dict) -> str:
    return f"{(b['energy_j_per_1k_tok'] - a['energy_j_per_1k_tok']) / a['energy_j_per_1k_tok'] * 100:+.1f} %"


def build(ctx: Context, p: Params) -> dict:
    cur_bs = p.batch_size or 1
    rows = quant_rows(ctx, p, cur_bs)
    rec_q = recommend_quant(ctx, p, rows)
    if rec_q["quant"] is None:
        raise UsageError(f"{p.model} does not fit in {p.gpu_spec.vram_gb:g} GB on {p.gpu_spec.name} in any measured "
                         "precision at this length; nothing to recommend")
    quant = rec_q["quant"]
    bs, bs_notes = recommend_batch(p, quant, p.batch_size)
    rec = config_metrics(ctx, p, quant, bs)
    if rec is None:
        raise UsageError(f"no estimate reaches {p.model} on {p.gpu_info.id} in {quant} at batch size {bs}")
    rec, latency_notes = within_latency(ctx, p, quant, rec)
    bs = rec["batch_size"]
    current = None
    if p.quant and p.quant != "fp32":
        current = config_metrics(ctx, p, p.quant, cur_bs)
    requests = p.requests_per_month or DEFAULT_REQUESTS
    pue = p.pue or default_pue(p.gpu_info.id)
    usd, gco2, grid_notes = grid_factors(p.region, p.usd_per_kwh, p.gco2_per_kwh)
    rec["monthly"] = monthly(rec["energy_j_per_request"], requests, pue, usd, gco2)
    if current:
        current["monthly"] = monthly(current["energy_j_per_request"], requests, pue, usd, gco2)

    insights: list[str] = []
    if bs > cur_bs and not p.serving:
        bs1 = config_metrics(ctx, p, quant, cur_bs)
        if bs1:
            d = (rec["energy_j_per_1k_tok"] - bs1["energy_j_per_1k_tok"]) / bs1["energy_j_per_1k_tok"] * 100
            insights.append(f"Batch size {cur_bs} → {bs}: {d:+.1f} % energy per token (batch curve fitted on the "
                            "A800 sweep, rows 60-66, and the A800 BS 1/4/8 rows 51-59; static batches in "
                            "transformers generate — a serving engine with continuous batching behaves differently).")
    if p.use_case == "chat" and not p.serving:
        insights.append("Chat: batch the requests of concurrent users (BS 2 and 4 cut energy per token by 47 % "
                        "and 72 % in the A800 sweep, rows 60-62).")
    insights += rec_q["reasons"]
    insights += bs_notes
    insights += latency_notes
    if current and current["quant"] != quant:
        d = (rec["energy_j_per_request"] - current["energy_j_per_request"]) / current["energy_j_per_request"] * 100
        insights.append(f"Versus your current {QUANT_LABEL[current['quant']]} at BS={cur_bs}: {d:+.1f} % energy per "
                        "request.")
    if p.quant == "fp32":
        insights.append("Your current fp32 has no measurement; fp16 halves the weight bytes read per token.")
    pitfalls = paradox_warnings(ctx, p, rows)
    transparency = {
        "regime": scope_note(p),
        "energy_basis": rec["energy_basis"],
        "rows": rec["row_ids"],
        "measured_gpu": p.gpu_info.measured,
        "limitations": [
            "Energy is GPU board power only (host CPU, DRAM and networking excluded); PUE covers facility overhead.",
            "Batch-size effects were measured on one GPU (A800) and one 7B model; elsewhere they are extrapolated."
            if not p.serving else "Latency assumes every max_num_seqs slot is busy (an upper bound); the rows' "
            "inter-token latencies are in serving.csv.",
            "Prompt processing is not modelled separately; energy per request scales with generated tokens.",
        ],
    }
    if p.serving and rec.get("vram_note"):
        transparency["limitations"].insert(0, rec["vram_note"] + ".")
    if p.serving and p.gpu_info.id not in ("h100", "b200"):
        transparency["limitations"].insert(0, f"{p.gpu_info.id} has no serving rows; figures are carried from the H100 "
                                              "and B200 rows by the cards' specs.")
    elif not p.serving and not p.gpu_info.measured:
        transparency["limitations"].insert(0, f"{p.gpu_info.id} has no measurements; figures are transferred from a "
                                              "measured GPU by a roofline ratio.")
    return {
        "command": "optimize",
        "model": p.model,
        "params_b": p.params_b,
        "gpu": p.gpu_info.id,
        "gpu_name": p.gpu_spec.name,
        "use_case": p.use_case,
        "seq_len": p.seq_len,
        "gen_len": p.gen_len,
        "recommended": rec,
        "current": current,
        "recommendation_reasons": rec_q["reasons"],
        "config": rec_q["config"],
        "dtype": rec_q.get("dtype"),
        "alternatives": rows,
        "assumptions": {"requests_per_month": requests, "pue": pue, "usd_per_kwh": usd, "gco2_per_kwh": gco2,
                        "region": p.region, "requests_default": p.requests_per_month is None, "notes": grid_notes},
        "insights": insights,
        "pitfalls": pitfalls,
        "transparency": transparency,
        "issues": [i.line() for i in p.issues],
    }


def _metric_rows(cfgs: list[tuple[str, dict]]) -> list[list[str]]:
    def get(c: dict, key: str, fmt) -> str:
        return fmt(c.get(key))

    lines = [
        ("Precision", lambda c: QUANT_LABEL[c["quant"]]),
        ("Batch size", lambda c: str(c["batch_size"])),
        ("Energy, J/1k tok *", lambda c: num(c["energy_j_per_1k_tok_total_board"])),
        ("  as measured", lambda c: f"{num(c['energy_j_per_1k_tok'])} ({_basis_short(c['energy_basis'])})"),
        ("  interval", lambda c: f"{num(c['energy_interval'][0])}–{num(c['energy_interval'][1])}"),
        ("Energy, J/request", lambda c: sig(c["energy_j_per_request"])),
        ("Tokens per joule", lambda c: f"{c['tokens_per_joule']:.3f}"),
        ("Throughput, tok/s", lambda c: sig(c["throughput_tok_s"])),
        ("Latency, s/request", lambda c: sig(c["latency_s_per_request"])),
        ("VRAM, GB (est.)", lambda c: f"{c['vram_gb']:.1f}" + (" †" if c.get("vram_note") else "")),
        ("kWh / month", lambda c: sig(c["monthly"]["kwh_per_month"])),
        ("Cost, $ / month", lambda c: sig(c["monthly"]["cost_usd_per_month"])),
        ("kgCO2 / month", lambda c: sig(c["monthly"]["kgco2_per_month"])),
        ("Basis", lambda c: c["basis"] if c["basis"] == "measured" else f"extrap. ({c['confidence']})"),
    ]
    return [[name] + [f(c) for _, c in cfgs] for name, f in lines]


def _basis_short(basis: str) -> str:
    return {"idle_subtracted": "idle-subtr.", "total_board_power": "total",
            "total_gpu_energy_all_gpus": "all GPUs"}.get(basis, basis)


def document(report: dict, verbose: bool = False) -> Document:
    rec = report["recommended"]
    doc = Document(f"Optimize: {report['model']} ({report['params_b']:g}B) on {report['gpu']}, "
                   f"use case {report['use_case']}")
    doc.h("Recommended configuration")
    doc.p(f"{QUANT_LABEL[report.get('dtype') or rec['quant']]}, batch size {rec['batch_size']}"
          + (f" — {report['config']}" if report.get("config") else ""), "good")
    cfgs = [("Recommended", rec)]
    if report["current"]:
        cfgs.insert(0, ("Current", report["current"]))
    a = report["assumptions"]
    doc.table(["Metric"] + [n for n, _ in cfgs], _metric_rows(cfgs), "l" + "r" * len(cfgs),
              caption=f"{a['requests_per_month']:,} requests/month"
                      + (" (default; pass --requests-per-month)" if a["requests_default"] else "")
                      + f", {report['gen_len']} generated tokens each, PUE {a['pue']:g}, ${a['usd_per_kwh']:g}/kWh, "
                        f"{a['gco2_per_kwh']:g} gCO2/kWh. * Total board power, as used for energy per request, "
                        "tokens per joule and the monthly figures; 'as measured' keeps the rows' own basis."
                      + (f" † {rec['vram_note']}." if rec.get("vram_note") else ""))
    doc.h("Why")
    doc.bullets(report["insights"])
    if report["pitfalls"]:
        doc.h("Pitfalls to avoid")
        doc.bullets(report["pitfalls"], style="warn")
    t = report["transparency"]
    if verbose:
        doc.h("Measurement transparency")
        doc.kv([("Scope", t["regime"]), ("Energy basis", str(t["energy_basis"])),
                ("Rows behind the recommendation", ids_text(t["rows"], 12))])
        doc.bullets(step_lines(rec["methods"]))
        doc.bullets(t["limitations"] + a["notes"] + report["issues"], style="dim")
    else:
        doc.bullets(a["notes"] + report["issues"] + [VERBOSE_HINT], style="dim")
    return doc
