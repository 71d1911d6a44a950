"""``ecolint estimate``: monthly energy, cost and carbon for a configuration and for the optimized one.

Arithmetic (one place, pinned by the tests)::

    energy_j_per_request = J per 1k generated tokens (total board power) × gen_len / 1000
    kwh_per_month        = energy_j_per_request × requests_per_month × PUE / 3.6e6
    cost_usd_per_month   = kwh_per_month × usd_per_kwh
    kgco2_per_month      = kwh_per_month × gco2_per_kwh / 1000
"""

from __future__ import annotations

from ecolint.protocols.advice import QUANT_LABEL, quant_rows, recommend_batch, recommend_quant, scope_note, step_lines
from ecolint.protocols.context import REGION_NAMES, Context, UsageError, default_pue, grid_factors
from ecolint.protocols.optimize import config_metrics, fleet, monthly
from ecolint.protocols.render import VERBOSE_HINT, Document, sig
from ecolint.protocols.validate import Params


def build(ctx: Context, p: Params) -> dict:
    assert p.quant is not None and p.batch_size is not None and p.requests_per_month is not None
    cur = config_metrics(ctx, p, p.quant, p.batch_size)
    if cur is None:
        raise UsageError(f"no estimate reaches {p.model} on {p.gpu_info.id} in {p.quant} at batch size {p.batch_size}")
    rows = quant_rows(ctx, p, p.batch_size)
    rec_q = recommend_quant(ctx, p, rows)
    opt_quant = rec_q["quant"] or p.quant
    opt_bs, bs_notes = recommend_batch(p, opt_quant, p.batch_size)
    opt = config_metrics(ctx, p, opt_quant, opt_bs) or cur
    pue = p.pue if p.pue is not None else default_pue(p.gpu_info.id)
    usd, gco2, notes = grid_factors(p.region, p.usd_per_kwh, p.gco2_per_kwh)
    requests = p.requests_per_month
    for cfg in (cur, opt):
        cfg.update(monthly(cfg["energy_j_per_request"], requests, pue, usd, gco2))
        cfg.update(fleet(cfg, requests, p.gen_len, p.usd_per_gpu_hour))

    def saving(key: str) -> dict:
        a, b = cur[key], opt[key]
        if a is None or b is None:
            return {"absolute": None, "pct": None}
        return {"absolute": round(a - b, 3), "pct": None if not a else round((a - b) / a * 100.0, 1)}

    changes = []
    if opt["quant"] != cur["quant"]:
        by_q = {r["quant"]: r for r in rows}
        why = list(rec_q["reasons"])
        here = by_q.get(cur["quant"])
        if here is not None and here["delta_vs_fp16_pct"] is not None and cur["quant"] != "fp16":
            why.insert(0, f"{QUANT_LABEL[cur['quant']]} is {here['delta_vs_fp16_pct']:+.1f} % energy vs FP16 for "
                          f"this model on {p.gpu_info.id} ({here['delta_basis']}).")
        changes.append(f"precision {QUANT_LABEL[cur['quant']]} → {QUANT_LABEL[opt['quant']]}: " + " ".join(why))
    if opt["batch_size"] != cur["batch_size"]:
        changes.append(f"batch size {cur['batch_size']} → {opt['batch_size']} for the {p.use_case} use case "
                       "(static batches in transformers generate; batch curve measured on the A800)")
    changes += bs_notes
    if not changes:
        changes.append("The current configuration is already what the data recommend.")
    return {
        "command": "estimate",
        "model": p.model,
        "params_b": p.params_b,
        "gpu": p.gpu_info.id,
        "gpu_name": p.gpu_spec.name,
        "current": cur,
        "optimized": opt,
        "savings": {"kwh_per_month": saving("kwh_per_month"), "cost_usd_per_month": saving("cost_usd_per_month"),
                    "kgco2_per_month": saving("kgco2_per_month"), "gpu_hours_per_month": saving("gpu_hours_per_month"),
                    "gpu_cost_usd_per_month": saving("gpu_cost_usd_per_month")},
        "changes": changes,
        "assumptions": {
            "requests_per_month": requests,
            "energy_j_per_request": cur["energy_j_per_request"],
            "gen_len": p.gen_len,
            "pue": pue,
            "usd_per_kwh": usd,
            "gco2_per_kwh": gco2,
            "usd_per_gpu_hour": p.usd_per_gpu_hour,
            "region": p.region,
            "energy_basis": "total_board_power (GPU board only; host CPU, DRAM and network excluded)",
            "regime": scope_note(p),
            "notes": notes,
        },
        "issues": [i.line() for i in p.issues],
    }


def document(report: dict, verbose: bool = False) -> Document:
    cur, opt, a = report["current"], report["optimized"], report["assumptions"]
    doc = Document(f"Monthly estimate: {report['model']} on {report['gpu']}")
    doc.kv([("Requests", f"{a['requests_per_month']:,} / month, {a['gen_len']} generated tokens each"),
            ("Current", f"{QUANT_LABEL[cur['quant']]}, BS={cur['batch_size']}"),
            ("Optimized", f"{QUANT_LABEL[opt['quant']]}, BS={opt['batch_size']}")])
    s = report["savings"]

    def row(name: str, key: str, fmt=sig) -> list[str]:
        pct_ = s[key]["pct"]
        return [name, fmt(cur[key]), fmt(opt[key]), "—" if pct_ is None else f"{pct_:.1f} %"]

    doc.table(["Metric", "Current", "Optimized", "Saving"], [
        ["Energy, J/request", sig(cur["energy_j_per_request"]), sig(opt["energy_j_per_request"]),
         f"{(1 - opt['energy_j_per_request'] / cur['energy_j_per_request']) * 100:.1f} %"],
        row("Energy, kWh", "kwh_per_month"),
        row("Cost, $", "cost_usd_per_month"),
        row("Carbon, kgCO2", "kgco2_per_month"),
        row("GPU-hours", "gpu_hours_per_month"),
        ["GPUs needed", _count(cur["gpus_needed"]), _count(opt["gpus_needed"]), ""],
    ] + ([row("GPU rental, $", "gpu_cost_usd_per_month")] if a["usd_per_gpu_hour"] is not None else []) + [
        ["Basis", _basis(cur), _basis(opt), ""],
    ], "lrrr")
    doc.bars("Energy per request", "J/request",
             [(f"current {QUANT_LABEL[cur['quant']]} BS={cur['batch_size']}", cur["energy_j_per_request"],
               cur["basis"] == "measured"),
              (f"optimized {QUANT_LABEL[opt['quant']]} BS={opt['batch_size']}", opt["energy_j_per_request"],
               opt["basis"] == "measured")])
    region = REGION_NAMES.get(a["region"], a["region"])
    doc.p(f"PUE {a['pue']:g}; ${a['usd_per_kwh']:g}/kWh; {a['gco2_per_kwh']:g} gCO2/kWh ({region}). kWh = J/request × "
          f"requests × PUE / 3.6 M. Energy is total GPU board power. Cost is electricity only"
          + (f"; GPU rental at ${a['usd_per_gpu_hour']:g}/GPU-hour is its own row" if a["usd_per_gpu_hour"] is not None
             else " (pass --usd-per-gpu-hour for the rental of the GPUs)")
          + ". GPU-hours = requests × generated tokens / throughput; GPUs needed keeps them busy around the clock "
            "(730 h a month) at this batch size.", "dim")
    doc.h("What changes")
    doc.bullets(report["changes"])
    if verbose:
        doc.h("Where the numbers come from")
        doc.p("Current:")
        doc.bullets(step_lines(cur["methods"]))
        doc.p("Optimized:")
        doc.bullets(step_lines(opt["methods"]))
        doc.bullets([a["regime"]] + a["notes"] + report["issues"], style="dim")
    else:
        doc.bullets(a["notes"] + report["issues"] + [VERBOSE_HINT], style="dim")
    return doc


def _count(n) -> str:
    return "—" if n is None else f"{n:,}"


def _basis(c: dict) -> str:
    return "measured" if c["basis"] == "measured" else f"extrap. ({c['confidence']})"
