"""``ecolint diagnose``: observed vs expected, the waste pattern that explains the gap, fixes in priority order.

Patterns (each decided from the measurements for the user's GPU, not from fixed thresholds in prose):

``int8_decomposition``
    ``load_in_8bit=True`` with the default outlier threshold: every measured pair is slower and costs more energy
    than FP16 (throughput 24-55 % of FP16 in the rows).
``nf4_double_quant``
    NF4 with ``bnb_4bit_use_double_quant=True``: costs energy vs plain NF4 wherever both were measured.
``nf4_small_model``
    NF4 where the data for this GPU and size show a penalty vs FP16 (> +5 %). Not matched where they do not
    (the T4 rows show none, the A800 is about break-even).
``batch_size_1``
    One sequence per ``generate`` call: the batch curve (A800) cuts energy per token by 84 % at BS 8.
``none``
    No known pattern; if the observation is far from the expectation, the usual suspects are listed.
"""

from __future__ import annotations

from typing import Optional

from ecolint.knowledge.estimator import TOTAL
from ecolint.protocols.advice import QUANT_CODE, QUANT_LABEL, energy_pairs_evidence, fits, ppl_pairs_evidence, scope_note
from ecolint.protocols.context import Context, UsageError
from ecolint.protocols.render import VERBOSE_HINT, Document, pct, sig
from ecolint.protocols.validate import Params

FAR = 25.0  # % deviation treated as "not what the measurements predict"


def _chg(new: Optional[float], old: Optional[float]) -> Optional[float]:
    if new is None or not old:
        return None
    return round((new - old) / old * 100.0, 1)


def build(ctx: Context, p: Params) -> dict:
    gid, bs, q = p.gpu_info.id, p.batch_size or 1, p.quant or "fp16"
    est_q = "fp16" if q in ("bf16", "fp32") else q
    e_exp = ctx.energy(p.model, gid, est_q, bs, p.params_b, total=True)
    t_exp = ctx.throughput(p.model, gid, est_q, bs, p.params_b)
    basis_est = e_exp or t_exp
    if basis_est is None:
        raise UsageError(f"no estimate reaches {p.model} on {gid} in {q} at batch size {bs}")
    e_fp16 = ctx.energy(p.model, gid, "fp16", bs, p.params_b, total=True)
    t_fp16 = ctx.throughput(p.model, gid, "fp16", bs, p.params_b)

    obs_t = p.throughput
    obs_e, obs_e_how = None, None
    if p.energy is not None:
        obs_e, obs_e_how = p.energy, "given"
    elif p.power is not None and obs_t:
        obs_e, obs_e_how = p.power / obs_t * 1000.0, "power / throughput"
    expected = {
        "throughput_tok_s": None if t_exp is None else round(t_exp.value, 2),
        "throughput_interval": None if t_exp is None else [round(t_exp.low, 2), round(t_exp.high, 2)],
        "energy_j_per_1k_tok": None if e_exp is None else round(e_exp.value, 1),
        "energy_interval": None if e_exp is None else [round(e_exp.low, 1), round(e_exp.high, 1)],
        "energy_basis": TOTAL,
        "basis": basis_est.basis,
        "confidence": basis_est.confidence,
        "row_ids": list(dict.fromkeys(list((e_exp.row_ids if e_exp else ())) + list((t_exp.row_ids if t_exp else ())))),
    }
    observed = {"throughput_tok_s": obs_t, "power_w": p.power,
                "energy_j_per_1k_tok": None if obs_e is None else round(obs_e, 1), "energy_how": obs_e_how}
    deviation = {"throughput_pct": _chg(obs_t, t_exp.value if t_exp else None),
                 "energy_pct": _chg(obs_e, e_exp.value if e_exp else None)}

    patterns: list[dict] = []
    fixes: list[dict] = []

    def add_fix(name: str, code: str, new_q: str, new_bs: int, why: str) -> None:
        e_new = ctx.energy(p.model, gid, new_q, new_bs, p.params_b, total=True)
        t_new = ctx.throughput(p.model, gid, new_q, new_bs, p.params_b)
        base_e = obs_e if obs_e is not None else (e_exp.value if e_exp else None)
        fixes.append({
            "fix": name, "code": code, "why": why,
            "expected_energy_j_per_1k_tok": None if e_new is None else round(e_new.value, 1),
            "expected_energy_change_pct": _chg(e_new.value if e_new else None, base_e),
            "expected_throughput_tok_s": None if t_new is None else round(t_new.value, 2),
            "basis": None if e_new is None else e_new.basis,
            "confidence": None if e_new is None else e_new.confidence,
            "row_ids": [] if e_new is None else list(e_new.row_ids),
            "fits": fits(p, new_q, new_bs),
            "_quant": new_q,
        })

    ratio = None if (obs_t is None or t_fp16 is None) else obs_t / t_fp16.value
    if q in ("int8_default",):
        ev = energy_pairs_evidence(ctx, "fp16", "int8_default", gid) or energy_pairs_evidence(ctx, "fp16", "int8_default")
        slow = ratio is not None and ratio <= 0.6
        patterns.append({
            "pattern": "int8_decomposition", "confidence": "high" if slow else "medium",
            "evidence": (f"observed throughput is {ratio * 100:.0f} % of the FP16 expectation "
                         f"({sig(t_fp16.value)} tok/s); " if ratio is not None and t_fp16 else "")
                        + (f"default INT8 vs FP16 energy in the measured pairs: {ev.text()}" if ev else ""),
            "root_cause": "LLM.int8() splits every linear layer into an INT8 part and an FP16 outlier part and "
                          "converts between them at every layer: more kernels and type conversions per token, so "
                          "throughput collapses while power falls far less.",
        })
        if fits(p, "fp16", bs):
            add_fix("Load in FP16 instead", QUANT_CODE["fp16"], "fp16", bs, "no decomposition; fits in memory")
        add_fix("Use NF4 (4-bit) if memory is the reason for INT8", QUANT_CODE["nf4"], "nf4", bs,
                "smallest weights; check accuracy")
        pe = ppl_pairs_evidence(ctx, "int8_pure")
        add_fix("Keep INT8 but set llm_int8_threshold=0.0", QUANT_CODE["int8_pure"], "int8_pure", bs,
                "removes the decomposition" + (f"; perplexity cost {pe.text()}" if pe else "") + "; still worse "
                "than FP16 on the A800")
    if q == "nf4_dq":
        ev = energy_pairs_evidence(ctx, "nf4", "nf4_dq")
        patterns.append({"pattern": "nf4_double_quant", "confidence": "high" if ev else "medium",
                         "evidence": f"double quant vs plain NF4: {ev.text()}" if ev else "",
                         "root_cause": "double quantization adds a second de-quantization of the scaling constants "
                                       "on every forward pass for a small memory saving."})
        add_fix("Turn off double quantization", "bnb_4bit_use_double_quant=False", "nf4", bs,
                "same 4-bit weights, one de-quantization step fewer")
    if q in ("nf4", "nf4_dq"):
        e_nf4 = ctx.energy(p.model, gid, "nf4", bs, p.params_b, total=True)
        d = _chg(e_nf4.value if e_nf4 else None, e_fp16.value if e_fp16 else None)
        if d is not None and d > 5.0:
            both = e_nf4.measured and e_fp16.measured  # type: ignore[union-attr]
            patterns.append({"pattern": "nf4_small_model", "confidence": "high" if both else "medium",
                             "evidence": f"NF4 vs FP16 for this model on {gid}: {d:+.1f} % "
                                         f"({'measured' if both else 'extrapolated'})",
                             "root_cause": "at this size the weights are small enough that reading them is cheap; "
                                           "the per-layer de-quantization then costs more than the saved memory "
                                           "traffic."})
            if fits(p, "fp16", bs):
                add_fix("Load in FP16 instead", QUANT_CODE["fp16"], "fp16", bs, "no de-quantization work")
    if bs == 1:
        patterns.append({"pattern": "batch_size_1", "confidence": "high" if gid == "a800" else "medium",
                         "evidence": "A800 sweep (rows 60-66): −47 % energy per token at BS 2, −84 % at BS 8, "
                                     "−95.7 % at BS 64 vs BS 1",
                         "root_cause": "one sequence per generate call leaves the GPU waiting on weight reads and "
                                       "kernel launches; batching amortises both over many sequences."})
        add_fix("Batch requests (8 or more per generate call)", "model.generate(**tokenizer(prompts, padding=True, "
                "return_tensors='pt'))", est_q, 8, "static batch of 8; continuous batching in a serving engine "
                "goes further but was not measured")
    if not patterns:
        patterns.append({"pattern": "none", "confidence": "low", "evidence": "",
                         "root_cause": "no known waste pattern matches this configuration."})
    # Accuracy-neutral fixes first (FP16, batching, dropping double quant), then those that change the weights;
    # within each group by expected energy change.
    risk = {"fp16": 0, "nf4": 1, "int8_pure": 2}
    fixes.sort(key=lambda f: (risk.get(f["_quant"], 0) if f["_quant"] != est_q else 0,
                              f["expected_energy_change_pct"] is None, f["expected_energy_change_pct"] or 0.0))
    for f in fixes:
        del f["_quant"]
    far = [k for k, v in deviation.items() if v is not None and abs(v) > FAR]
    suspects = []
    if far:
        suspects = ["host CPU speed and load (at BS 1, eager generate is largely launch-bound)",
                    "a power or clock limit (nvidia-smi -q -d POWER,CLOCK) or thermal throttling",
                    "layers offloaded to CPU by device_map='auto' (check model.hf_device_map)",
                    "other processes on the GPU (nvidia-smi)",
                    "sampling settings, prompt length or a different transformers/bitsandbytes version"]
    primary = patterns[0]
    return {
        "command": "diagnose",
        "model": p.model,
        "params_b": p.params_b,
        "gpu": gid,
        "gpu_name": p.gpu_spec.name,
        "quant": q,
        "batch_size": bs,
        "pattern": primary["pattern"],
        "confidence": primary["confidence"],
        "patterns": patterns,
        "expected": expected,
        "observed": observed,
        "deviation": deviation,
        "far_from_expected": far,
        "other_suspects": suspects,
        "fixes": fixes,
        "verification": [
            "Watch power, utilisation and clocks while generating: nvidia-smi dmon -s pucvmet -d 1",
            "Measure energy around generate() with the NVML counter (pynvml.nvmlDeviceGetTotalEnergyConsumption, "
            "mJ) and divide by generated tokens",
            "Compare tokens/s and J/1k tokens with the expected values above; a gap over 25 % points at the "
            "suspects listed",
        ],
        "notes": [scope_note(p)] + ([f"{q} has no rows; expected values are for fp16"] if q in ("bf16", "fp32") else []),
        "issues": [i.line() for i in p.issues],
    }


def document(report: dict, verbose: bool = False) -> Document:
    doc = Document(f"Diagnose: {report['model']} on {report['gpu']}, {QUANT_LABEL.get(report['quant'], report['quant'])}, "
                   f"BS={report['batch_size']}")
    doc.h("Diagnosis")
    names = {"int8_decomposition": "INT8 decomposition (default bitsandbytes INT8)",
             "nf4_double_quant": "NF4 double quantization", "nf4_small_model": "NF4 penalty at this model size",
             "batch_size_1": "Batch size 1", "none": "no known pattern"}
    for pt in report["patterns"]:
        doc.p(f"{names[pt['pattern']]} — confidence {pt['confidence']}", "bad" if pt["pattern"] != "none" else "")
        doc.bullets([f"Root cause: {pt['root_cause']}", f"Evidence: {pt['evidence']}" if pt["evidence"] else ""])
    ex, ob, dv = report["expected"], report["observed"], report["deviation"]
    doc.h("Expected vs observed")
    doc.table(["", "Expected", "Observed", "Deviation"], [
        ["Throughput, tok/s", sig(ex["throughput_tok_s"]), sig(ob["throughput_tok_s"]), pct(dv["throughput_pct"])],
        ["Energy, J/1k tok", sig(ex["energy_j_per_1k_tok"]), sig(ob["energy_j_per_1k_tok"]), pct(dv["energy_pct"])],
    ], "lrrr", caption=f"Expected: {ex['basis']} ({ex['confidence']} confidence), total board power"
                       + (f"; rows {', '.join(ex['row_ids'][:8]) or '—'}." if verbose else ".")
                       + (f" Observed energy = {ob['energy_how']}." if ob["energy_how"] else ""))
    if report["other_suspects"]:
        doc.p("Far from the expectation; also check:", "warn")
        doc.bullets(report["other_suspects"])
    if report["fixes"]:
        doc.h("Fixes, in priority order")
        items = []
        for f in report["fixes"]:
            impact = "impact unknown" if f["expected_energy_change_pct"] is None else (
                f"expected {f['expected_energy_change_pct']:+.1f} % energy per token "
                f"({f['basis']}, {f['confidence']})")
            items.append(f"{f['fix']}: {f['code']} — {impact}; {f['why']}" + ("" if f["fits"] else
                                                                               " (does not fit in memory)"))
        doc.bullets(items, numbered=True)
    doc.h("Verify")
    doc.bullets(report["verification"], numbered=True)
    if verbose:
        doc.bullets(report["notes"] + report["issues"], style="dim")
    else:
        doc.bullets(report["notes"][1:] + report["issues"] + [VERBOSE_HINT], style="dim")
    return doc
