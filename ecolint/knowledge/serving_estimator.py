"""Estimator for the serving regime (vLLM / TGI with continuous batching), from the ML.ENERGY rows.

Each answer is measured where the configuration is measured, otherwise a chain of named steps, each with its
rows, a confidence and an error allowance (the same :class:`~ecolint.knowledge.estimator.Estimate` the eager
estimator returns):

``measured``
    A ``serving.csv`` row for this model, GPU, GPU count, precision and ``max_num_seqs`` (task ``lm-arena-chat``
    unless another is asked for).
``batch_interpolation``
    The model's own ``max_num_seqs`` series on this deployment, interpolated log-log between the two nearest
    measured values; outside the measured range the end value is held (above: the engine saturates) or carried by
    the first segment's slope (below), with a wider allowance.
``size_transfer``
    Another model's series on the same GPU (nearest in active and total parameters, same precision where one
    exists), scaled by ``active**a · total**b · num_gpus**c``; the exponents are fitted across models inside each
    (task, GPU, precision, ``max_num_seqs``) group (fixed effects). Its allowance is calibrated from a
    leave-one-model-out over the estimator's own rows (``ServingEstimator.width``; checked by
    ``bench/estimator_loo.py``).
``precision_ratio``
    FP8 vs bf16 (or any pair): per series of one model's FP8 and bf16 releases measured on the same GPU and GPU
    count, the ratio at the nearest ``max_num_seqs``; the median over the series. Allowance calibrated as above.
``gpu_pair``
    H100 ↔ B200: the ratio of the same configuration measured on both (geometric mean over all pairs).
``gpu_transfer``
    Any other GPU: from the H100 rows by ``(TDP / bandwidth)**alpha`` with ``alpha`` calibrated on the H100/B200
    pairs; low confidence, and the implied power is capped at the cards' TDP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

from ecolint.knowledge.estimator import ENERGY, THROUGHPUT, Estimate, NotEstimable, Step
from ecolint.knowledge.gpus import resolve_gpu
from ecolint.knowledge.serving import CITATION, DEFAULT_TASK, TGI_CAVEAT, ServingRow, builtin_serving, model_base
from ecolint.knowledge.specs import TransferSpec, transfer_spec

SERVING_REGIME = ("vLLM serving with continuous batching (batch = max_num_seqs), energy of all the deployment's "
                  "GPUs; from the " + CITATION)
SERVING_BASIS = "total_gpu_energy_all_gpus"
SERVING_QUANTS = ("bf16", "fp16", "fp8", "mxfp4")
ANCHORS = 3
W_TOTAL = 1.0
W_GPUS = 0.3
# Interval widths of the two transfer steps a leave-one-model-out can test are calibrated on the rows themselves
# (``ServingEstimator.width``): the WIDTH_QUANTILE quantile of |log error| over the models hidden one at a time.
# The interval is value / (1 + w) … value × (1 + w). FALLBACK_WIDTH serves only inside that calibration (and
# where fewer than MIN_RESIDUALS residuals exist).
WIDTH_QUANTILE = 0.85
MIN_RESIDUALS = 10
FALLBACK_WIDTH = {"size_transfer": 0.65, "precision_ratio": 0.6}
MAX_REL = 9.0
_CONF_RANK = {"high": 2, "medium": 1, "low": 0}


def _quantile(values: Sequence[float], q: float) -> float:
    a = sorted(values)
    pos = q * (len(a) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(a) - 1)
    return a[lo] + (a[hi] - a[lo]) * (pos - lo)


def _gm(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _measured_spec(gpu: str) -> TransferSpec:
    """The spec of a GPU the serving rows were measured on (H100, B200): the GPU tables carry both."""
    spec = transfer_spec(gpu)
    assert spec is not None, gpu
    return spec


def _solve(a: list[list[float]], b: list[float]) -> Optional[list[float]]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[piv][c]) < 1e-9:
            return None
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


@dataclass(frozen=True)
class ServingTarget:
    model: str
    total_b: float
    active_b: float
    gpu: str
    num_gpus: int
    quant: str
    max_num_seqs: int
    task: str


class ServingEstimator:
    def __init__(self, rows: Iterable[ServingRow] = (), exclude_models: Iterable[str] = (), calibrate: bool = True):
        skip = {model_base(m) for m in exclude_models}
        src = tuple(rows) or builtin_serving()
        self.rows = tuple(r for r in src if model_base(r.model_id) not in skip)
        self.gpus = sorted({r.gpu for r in self.rows})
        self.calibrate = calibrate
        self._cache: dict = {}

    # -- interval widths ----------------------------------------------------------------------------------------
    def width(self, kind: str) -> float:
        """Relative allowance of a transfer step (``size_transfer`` or ``precision_ratio``), calibrated on this
        estimator's own rows, so a model it was built without never tunes the interval it is predicted with."""
        if not self.calibrate:
            return FALLBACK_WIDTH[kind]
        return self.calibrated_widths().get(kind, FALLBACK_WIDTH[kind])

    def calibrated_widths(self) -> dict[str, float]:
        """Leave-one-model-out over ``self.rows``: hide each model with its other-precision release (size
        transfer), then each checkpoint that has such a release on its own (precision ratio from the release), and
        take the WIDTH_QUANTILE quantile of |log(predicted / measured)| per step kind."""
        if "widths" in self._cache:
            return self._cache["widths"]
        from ecolint.knowledge.serving import precision_twin

        errs: dict[str, list[float]] = {k: [] for k in FALLBACK_WIDTH}
        twins: dict[str, set[str]] = {}
        for r in self.rows:
            twins.setdefault(precision_twin(r.model_id), set()).add(r.model_id)
        groups = list(twins.values()) + [{m} for ms in twins.values() if len(ms) > 1 for m in ms]
        for hidden in groups:
            inner = ServingEstimator(self.rows, exclude_models=hidden, calibrate=False)
            for r in (r for r in self.rows if r.model_id in hidden):
                try:
                    e = inner.estimate(r.model_id, r.gpu, r.quant, r.max_num_seqs, params_b=r.total_params_b,
                                       active_params_b=r.active_params_b, num_gpus=r.num_gpus, task=r.task)
                except NotEstimable:
                    continue
                kind = "size_transfer" if "size_transfer" in e.methods else "precision_ratio"
                if kind in e.methods:
                    errs[kind].append(abs(math.log(e.value / r.energy_j_per_1k_tok)))
        out = {k: math.exp(_quantile(v, WIDTH_QUANTILE)) - 1 for k, v in errs.items() if len(v) >= MIN_RESIDUALS}
        self._cache["widths"] = out
        return out

    # -- public -----------------------------------------------------------------------------------------------
    def estimate(self, model: str, gpu: str, quant: str, max_num_seqs: int, params_b: Optional[float] = None,
                 active_params_b: Optional[float] = None, num_gpus: Optional[int] = None,
                 task: str = DEFAULT_TASK, engine: str = "vllm") -> Estimate:
        info = resolve_gpu(gpu)
        if info is None:
            raise NotEstimable(f"unknown GPU {gpu!r}")
        if quant not in SERVING_QUANTS:
            raise NotEstimable(f"no serving measurement covers {quant!r} (measured: bf16, fp8, mxfp4)")
        pre: list[Step] = []
        q = quant
        if quant == "fp16":
            q = "bf16"
            pre.append(Step("fp16_as_bf16", "fp16 estimated as bf16 (same bytes per parameter; the serving rows "
                            "are bf16)", (), 1.0, "medium", 0.05))
        if engine == "tgi":
            pre.append(Step("engine", TGI_CAVEAT, (), 1.0, "low", 0.20))
        mine = [r for r in self.rows if model_base(r.model_id) == model_base(model)]
        total = params_b or (mine[0].total_params_b if mine else None)
        if total is None:
            raise NotEstimable(f"cannot size model {model!r}; give its parameter count")
        active = active_params_b or (mine[0].active_params_b if mine and not params_b else total)
        t = ServingTarget(model, float(total), float(active), info.id, 0, q, int(max_num_seqs), task)
        est = self._chain(t, num_gpus)
        if est is None:
            raise NotEstimable(f"no serving row or method reaches {model} on {info.id} in {quant}")
        if pre:
            est = _finish(est.value, tuple(pre) + est.steps, est.gpu, quant, est.batch_size, est.basis,
                          est.num_gpus)
        return est

    def throughput(self, model: str, gpu: str, quant: str, max_num_seqs: int, **kw) -> Estimate:
        """Output tokens per second of the whole deployment. Measured where the energy row is measured; otherwise
        power / energy per token, with the power taken from the rows behind the energy figure (their share of
        TDP per GPU, at the measured max_num_seqs nearest the target) on this deployment's GPUs."""
        e = self.estimate(model, gpu, quant, max_num_seqs, **kw)
        if e.measured:
            r = self._row(e.row_ids[0])
            if r is not None and r.output_tok_s:
                return Estimate(THROUGHPUT, r.output_tok_s, r.output_tok_s, r.output_tok_s, "measured", "high",
                                (r.row_id,), (Step("measured", f"row {r.row_id}: {r.output_tok_s:,.0f} output tok/s",
                                                   (r.row_id,), None, "high", 0.0),), SERVING_BASIS, None, e.gpu,
                                e.quant, max_num_seqs, regime=SERVING_REGIME, num_gpus=r.num_gpus)
        base = next((s for s in e.steps if s.method in ("measured", "anchor", "batch_interpolation") and s.row_ids),
                    None)
        src = [r for r in (self._row(i) for i in (base.row_ids if base else ())) if r is not None and r.avg_power_w]
        spec = transfer_spec(e.gpu)
        if not src or spec is None:
            raise NotEstimable("no power figure behind this serving estimate")
        near = min(abs(math.log(r.max_num_seqs / max_num_seqs)) for r in src)
        src = [r for r in src if abs(math.log(r.max_num_seqs / max_num_seqs)) == near]
        # every row of src has a power figure (the filter only narrows the type)
        shares = sorted(r.avg_power_w / (r.num_gpus * _measured_spec(r.gpu).tdp_w) for r in src if r.avg_power_w)
        share = min(1.0, shares[len(shares) // 2])
        power = share * spec.tdp_w * e.num_gpus
        step = Step("power_over_energy", f"throughput = power / energy per token: {power:,.0f} W ({share:.0%} of "
                    f"TDP on {e.num_gpus}× {e.gpu}, as in rows {', '.join(r.row_id for r in src[:4])}) / "
                    f"{e.value:,.0f} J per 1k tokens", tuple(r.row_id for r in src), None, "low", 0.0)
        return Estimate(THROUGHPUT, 1000.0 * power / e.value, 1000.0 * power / e.high, 1000.0 * power / e.low,
                        "extrapolated", "low", e.row_ids, e.steps + (step,), SERVING_BASIS, None, e.gpu, e.quant,
                        max_num_seqs, regime=SERVING_REGIME, num_gpus=e.num_gpus)

    # -- the chain --------------------------------------------------------------------------------------------
    def _chain(self, t: ServingTarget, num_gpus: Optional[int]) -> Optional[Estimate]:
        on = t.gpu if t.gpu in self.gpus else None
        if on:
            est = self._own_series(t, on, num_gpus) or self._by_size(t, on, num_gpus)
            if est is not None:
                return est
        # another serving GPU: the same model measured there (gpu_pair), else size transfer there
        refs = [g for g in self._ref_order(t.gpu) if g != on]
        for ref in refs:
            inner = self._own_series(t, ref, num_gpus) or self._by_size(t, ref, num_gpus)
            if inner is None:
                continue
            step = self._gpu_step(ref, t.gpu, inner.batch_size)
            if step is None:
                continue
            steps = inner.steps + (step,)
            value = inner.value * step.scale
            cap = self._tdp_cap(t.gpu, ref, value, inner)
            if cap is not None:
                value *= cap.scale
                steps += (cap,)
            return _finish(value, steps, t.gpu, t.quant, t.max_num_seqs, num_gpus=inner.num_gpus)
        return None

    def _ref_order(self, gpu: str) -> list[str]:
        spec = transfer_spec(gpu)
        if spec is None:
            return list(self.gpus)

        def dist(g: str) -> float:
            s = _measured_spec(g)
            return abs(math.log(s.mem_bw_gb_s / spec.mem_bw_gb_s)) + abs(math.log(s.tdp_w / spec.tdp_w))

        return sorted(self.gpus, key=dist)

    def _series_for(self, rows: list[ServingRow], t: ServingTarget, num_gpus: Optional[int]) -> list[ServingRow]:
        """One (task, num_gpus) series out of ``rows`` (all one model, GPU and precision)."""
        tasks = [t.task] + sorted({r.task for r in rows} - {t.task})
        for task in tasks:
            pool = [r for r in rows if r.task == task]
            if not pool:
                continue
            counts = sorted({r.num_gpus for r in pool})
            n = counts[0]
            if num_gpus is not None:
                n = min(counts, key=lambda c: (abs(math.log(c / num_gpus)), c))
            return sorted((r for r in pool if r.num_gpus == n), key=lambda r: r.max_num_seqs)
        return []

    def _own_series(self, t: ServingTarget, gpu: str, num_gpus: Optional[int]) -> Optional[Estimate]:
        rows = [r for r in self.rows if r.gpu == gpu and model_base(r.model_id) == model_base(t.model)
                and r.quant == t.quant]
        ser = self._series_for(rows, t, num_gpus)
        if not ser:
            return None
        value, step = interpolate(ser, t.max_num_seqs)
        steps: list[Step] = []
        if step is None:
            r = next(r for r in ser if r.max_num_seqs == t.max_num_seqs)
            steps.append(Step("measured", f"{r.short()}; {CITATION.split(' (')[0]}", (r.row_id,), None, "high", 0.0))
        else:
            steps.append(step)
        notes = self._task_and_gpus_notes(t, ser[0], num_gpus)
        steps += notes
        for n in notes:
            value *= n.factor or 1.0
        basis = "measured" if step is None and len(steps) == 1 else "extrapolated"
        if basis == "measured":
            return Estimate(ENERGY, value, value, value, "measured", "high", (steps[0].row_ids[0],), tuple(steps),
                            SERVING_BASIS, None, gpu, t.quant, t.max_num_seqs, regime=SERVING_REGIME,
                            num_gpus=ser[0].num_gpus)
        return _finish(value, tuple(steps), gpu, t.quant, t.max_num_seqs, num_gpus=num_gpus or ser[0].num_gpus)

    def _task_and_gpus_notes(self, t: ServingTarget, r: ServingRow, num_gpus: Optional[int]) -> list[Step]:
        out = []
        if r.task != t.task:
            out.append(Step("task", f"no {t.task} rows for this configuration; the {r.task} series is used "
                            "(outputs of a different length)", (), 1.0, "low", 0.25))
        if num_gpus is not None and r.num_gpus != num_gpus:
            f = (num_gpus / r.num_gpus) ** self.exponents()[2]
            out.append(Step("gpu_count", f"{r.num_gpus} → {num_gpus} GPUs: ×{f:.3f} (num_gpus^{self.exponents()[2]:.2f}, "
                            "fitted across models)", (), f, "low", 0.25))
        return out

    # -- size transfer ----------------------------------------------------------------------------------------
    def exponents(self) -> tuple[float, float, float, tuple[str, ...]]:
        """Fixed-effects fit of log E on (log active, log total, log num_gpus) within (task, GPU, precision,
        max_num_seqs) groups."""
        if "exp" in self._cache:
            return self._cache["exp"]
        groups: dict[tuple, list[ServingRow]] = {}
        for r in self.rows:
            groups.setdefault((r.task, r.gpu, r.quant, r.max_num_seqs), []).append(r)
        xs: list[list[float]] = []
        ys: list[float] = []
        ids: list[str] = []
        for grp in groups.values():
            if len({r.model_id for r in grp}) < 2:
                continue
            feats = [[math.log(r.active_params_b), math.log(r.total_params_b), math.log(r.num_gpus)] for r in grp]
            ly = [math.log(r.energy_j_per_1k_tok) for r in grp]
            mf = [sum(f[i] for f in feats) / len(feats) for i in range(3)]
            my = sum(ly) / len(ly)
            xs += [[f[i] - mf[i] for i in range(3)] for f in feats]
            ys += [y - my for y in ly]
            ids += [r.row_id for r in grp]
        sol = None
        if len(xs) >= 6:
            ata = [[sum(x[i] * x[j] for x in xs) + (1e-3 if i == j else 0.0) for j in range(3)] for i in range(3)]
            aty = [sum(x[i] * y for x, y in zip(xs, ys)) for i in range(3)]
            sol = _solve(ata, aty)
        a, b, c = sol if sol else (0.6, 0.1, 0.3)
        res = (a, b, c, tuple(ids))
        self._cache["exp"] = res
        return res

    def _by_size(self, t: ServingTarget, gpu: str, num_gpus: Optional[int]) -> Optional[Estimate]:
        """The target's own other-precision release (plus a precision ratio), else the nearest models in size."""
        from ecolint.knowledge.serving import precision_twin

        twin = [r for r in self.rows if r.gpu == gpu and precision_twin(r.model_id) == precision_twin(t.model)
                and r.quant != t.quant]
        n_want = num_gpus or self._gpus_needed(t, gpu)
        twin = [r for r in twin if r.num_gpus == n_want]
        if twin:
            ser = self._series_for(twin, t, num_gpus)
            ps = self._precision_step(gpu, ser[0].quant, t.quant, t.max_num_seqs)
            if ser and ps is not None:
                value, bstep = interpolate(ser, t.max_num_seqs)
                steps = [Step("anchor", f"anchor: {ser[0].model_id} ({ser[0].quant} measurement of the same model) on "
                              f"{ser[0].num_gpus}× {gpu}", tuple(r.row_id for r in ser), None, "high", 0.0)]
                steps += [bstep] if bstep else []
                steps.append(ps)
                notes = self._task_and_gpus_notes(t, ser[0], num_gpus)
                steps += notes
                value *= ps.scale * math.prod(n.factor or 1.0 for n in notes)
                return _finish(value, tuple(steps), gpu, t.quant, t.max_num_seqs, num_gpus=num_gpus or ser[0].num_gpus)
        others = [r for r in self.rows if r.gpu == gpu and precision_twin(r.model_id) != precision_twin(t.model)]
        if not others:
            return None
        same_q = [r for r in others if r.quant == t.quant]
        pool = same_q if len({r.model_id for r in same_q}) >= ANCHORS else others
        n_target = num_gpus or self._gpus_needed(t, gpu)

        def dist(key: tuple) -> tuple:
            r = series_of[key][0]
            return (r.task != t.task, abs(math.log(r.active_params_b / t.active_b))
                    + W_TOTAL * abs(math.log(r.total_params_b / t.total_b))
                    + W_GPUS * abs(math.log(r.num_gpus / n_target)), key)

        series_of: dict[tuple, list[ServingRow]] = {}
        for r in pool:
            series_of.setdefault((r.model_id, r.task, r.num_gpus), []).append(r)
        chosen: list[tuple] = []
        for key in sorted(series_of, key=dist):
            if key[0] not in {k[0] for k in chosen} and precision_twin(key[0]) not in {precision_twin(k[0]) for k in chosen}:
                chosen.append(key)
            if len(chosen) == ANCHORS:
                break
        a, b, c, fit_ids = self.exponents()
        values: list[float] = []
        names: list[str] = []
        anchor_ids: list[str] = []
        for key in chosen:
            ser = sorted(series_of[key], key=lambda r: r.max_num_seqs)
            ref = ser[0]
            v, bstep = interpolate(ser, t.max_num_seqs)
            v *= ((t.active_b / ref.active_params_b) ** a * (t.total_b / ref.total_params_b) ** b
                  * (n_target / ref.num_gpus) ** c)
            if ref.quant != t.quant:
                ps = self._precision_step(gpu, ref.quant, t.quant, t.max_num_seqs)
                if ps is None:
                    continue
                v *= ps.scale
            values.append(v)
            names.append(f"{ref.model_id.rsplit('/', 1)[-1]} ({ref.quant}, {ref.active_params_b:g}B active, "
                         f"{ref.num_gpus} GPU{'s' if ref.num_gpus > 1 else ''})")
            anchor_ids += [r.row_id for r in ser]
        if not values:
            return None
        value = _gm(values)
        moe = f", {t.active_b:g}B active" if t.active_b < t.total_b else ""
        sizes = [series_of[k][0].active_params_b for k in chosen]
        inside = min(sizes) / 1.5 <= t.active_b <= max(sizes) * 1.5
        rel = self.width("size_transfer")
        steps = [Step("anchor", f"anchors at max_num_seqs {t.max_num_seqs} (each series interpolated log-log): "
                      + "; ".join(names), tuple(anchor_ids), None, "high", 0.0),
                 Step("size_transfer", f"→ {t.total_b:g}B{moe} on {n_target} GPU(s): geometric mean of the anchors, "
                      f"each scaled by active^{a:.2f} · total^{b:.2f} · num_gpus^{c:.2f} (fitted across models within "
                      f"task, GPU, precision and max_num_seqs; {len(fit_ids)} rows)", fit_ids, None,
                      "medium" if inside else "low", rel)]
        return _finish(value, tuple(steps), gpu, t.quant, t.max_num_seqs, num_gpus=n_target)

    def _gpus_needed(self, t: ServingTarget, gpu: str) -> int:
        return deployment_gpus(t.total_b, t.quant, gpu)

    # -- precision and GPU --------------------------------------------------------------------------------------
    def _precision_step(self, gpu: str, q_from: str, q_to: str, max_num_seqs: int = 64) -> Optional[Step]:
        """Ratio of one model's ``q_to`` and ``q_from`` releases: per measured pair series (task, GPU, GPU count)
        the ratio at the ``max_num_seqs`` nearest the target's, then the median over the series (one outlying
        model moves a median less than a mean); series on this GPU class only where there are at least two."""
        per_series = self._precision_pairs(q_from, q_to)
        if not per_series:
            return None
        here = {k: v for k, v in per_series.items() if k[2] == gpu}
        if len(here) >= 2:  # pairs measured on this GPU class, where there are enough for a median
            per_series = here
        picked: list[tuple[float, str, str]] = []
        for pts in per_series.values():
            bs, ratio, pair_ids = min(pts, key=lambda p: abs(math.log(p[0] / max_num_seqs)))
            picked.append((ratio, *pair_ids))
        picked.sort()
        mid = len(picked) // 2
        f = picked[mid][0] if len(picked) % 2 else math.sqrt(picked[mid - 1][0] * picked[mid][0])
        ids = tuple(i for p in picked for i in p[1:])
        return Step("precision_ratio", f"{q_from} → {q_to}: ×{f:.3f} (median over {len(picked)} series of one "
                    f"model's {q_from} and {q_to} releases measured side by side, each at the max_num_seqs nearest "
                    f"{max_num_seqs})", ids, f, "low" if len(picked) < 3 else "medium",
                    self.width("precision_ratio"))

    def _precision_pairs(self, q_from: str, q_to: str) -> dict[tuple, list[tuple[int, float, tuple[str, str]]]]:
        key = ("pairs", q_from, q_to)
        if key not in self._cache:
            from ecolint.knowledge.serving import precision_twin

            idx = {(precision_twin(r.model_id), r.task, r.gpu, r.num_gpus, r.max_num_seqs, r.quant): r
                   for r in self.rows}
            out: dict[tuple, list] = {}
            for k, r in idx.items():
                o = idx.get(k[:5] + (q_to,))
                if k[5] == q_from and o is not None:
                    out.setdefault(k[:4], []).append((k[4], o.energy_j_per_1k_tok / r.energy_j_per_1k_tok,
                                                      (r.row_id, o.row_id)))
            self._cache[key] = out
        return self._cache[key]

    def gpu_pairs(self) -> list[tuple[ServingRow, ServingRow]]:
        if "pairs" in self._cache:
            return self._cache["pairs"]
        idx = {(r.model_id, r.task, r.num_gpus, r.max_num_seqs, r.gpu): r for r in self.rows}
        out = [(r, idx[k[:-1] + ("b200",)]) for k, r in idx.items() if k[-1] == "h100" and k[:-1] + ("b200",) in idx]
        self._cache["pairs"] = out
        return out

    def _gpu_step(self, ref: str, gpu: str, max_num_seqs: int) -> Optional[Step]:
        pairs = self.gpu_pairs()
        if not pairs:
            return None
        ratios = [b.energy_j_per_1k_tok / h.energy_j_per_1k_tok for h, b in pairs]
        hb = _gm(ratios)
        ids = tuple(i for h, b in pairs for i in (h.row_id, b.row_id))
        spread = sorted(abs(math.log(x / hb)) for x in ratios)[int(0.8 * (len(ratios) - 1))]
        if {ref, gpu} == {"h100", "b200"}:
            f = hb if gpu == "b200" else 1 / hb
            return Step("gpu_pair", f"{ref} → {gpu}: ×{f:.3f} (geometric mean over {len(pairs)} configurations "
                        "measured on both)", ids, f, "medium", max(0.1, spread))
        ts = transfer_spec(gpu)
        if ts is None:
            return None
        rs, hs, bs = _measured_spec(ref), _measured_spec("h100"), _measured_spec("b200")
        x_hb = (bs.tdp_w / bs.mem_bw_gb_s) / (hs.tdp_w / hs.mem_bw_gb_s)
        alpha = math.log(hb) / math.log(x_hb)
        x = (ts.tdp_w / ts.mem_bw_gb_s) / (rs.tdp_w / rs.mem_bw_gb_s)
        f = x ** alpha
        return Step("gpu_transfer", f"{ref} → {gpu}: ×{f:.3f} = (TDP/bandwidth ratio {x:.3f})^{alpha:.2f}; exponent "
                    f"calibrated on the H100/B200 pairs ({len(pairs)} configurations); no serving row on {gpu}",
                    ids, f, "low", 0.40)

    def _tdp_cap(self, gpu: str, ref: str, value: float, inner: Estimate) -> Optional[Step]:
        """Implied power on the target (energy × the reference's throughput scaled by bandwidth) above the cards'
        TDP is not physical: scale down to it."""
        rows = [r for r in map(self._row, inner.row_ids) if r is not None]
        rows = [r for r in rows if r.gpu == ref and r.output_tok_s and r.max_num_seqs == inner.batch_size]
        ts, rs = transfer_spec(gpu), transfer_spec(ref)
        if not rows or ts is None or rs is None:
            return None
        r = rows[0]
        assert r.output_tok_s is not None  # rows without a throughput were left out above
        thr = r.output_tok_s * (ts.mem_bw_gb_s / rs.mem_bw_gb_s)
        power = value / 1000.0 * thr
        limit = ts.tdp_w * r.num_gpus
        if power <= limit:
            return None
        f = limit / power
        return Step("tdp_cap", f"implied power {power:,.0f} W exceeds {r.num_gpus}× {ts.tdp_w:g} W TDP of {gpu}; "
                    f"scaled ×{f:.3f}", (r.row_id,), f, "low", 0.0)

    def _row(self, rid: str) -> Optional[ServingRow]:
        if "byid" not in self._cache:
            self._cache["byid"] = {r.row_id: r for r in self.rows}
        return self._cache["byid"].get(rid)


SERVING_BYTES_PER_PARAM = {"fp8": 1.0, "mxfp4": 0.55}
GPU_MEMORY_UTILIZATION = 0.9  # vLLM's default share of each GPU's memory it reserves (weights + KV cache)


def serving_weights_gb(total_b: float, quant: str) -> float:
    return total_b * SERVING_BYTES_PER_PARAM.get(quant, 2.0)


def deployment_gpus(total_b: float, quant: str, gpu: str) -> int:
    """The fewest GPUs (1, 2, 4, 8) whose memory holds the weights with 20 % to spare for the KV cache."""
    spec = transfer_spec(gpu)
    need = serving_weights_gb(total_b, quant) * 1.2
    for n in (1, 2, 4, 8):
        if spec is None or need <= spec.vram_gb * n:
            return n
    return 8


def interpolate(ser: Sequence[ServingRow], b: int) -> tuple[float, Optional[Step]]:
    """Energy at ``max_num_seqs = b`` from one series; ``(value, None)`` when ``b`` is measured."""
    pts = [(r.max_num_seqs, r.energy_j_per_1k_tok) for r in ser]
    ids = tuple(r.row_id for r in ser)
    for x, y in pts:
        if x == b:
            return y, None
    lo = [p for p in pts if p[0] < b]
    hi = [p for p in pts if p[0] > b]
    if lo and hi:
        (x0, y0), (x1, y1) = lo[-1], hi[0]
        w = math.log(b / x0) / math.log(x1 / x0)
        v = math.exp(math.log(y0) + w * (math.log(y1) - math.log(y0)))
        return v, Step("batch_interpolation", f"max_num_seqs {b}: log-log between {x0} ({y0:,.0f}) and {x1} "
                       f"({y1:,.0f}) J/1k tok of one series", ids, v / y0, "high", 0.08)
    if lo:  # above the largest measured value: the engine is saturated; hold the last value
        x0, y0 = lo[-1]
        return y0, Step("batch_interpolation", f"max_num_seqs {b} is above the largest measured {x0}: held at "
                        f"{y0:,.0f} J/1k tok (throughput saturates)", ids, 1.0, "medium", 0.15)
    (x0, y0) = hi[0]
    slope = -1.0
    if len(hi) > 1:
        (x1, y1) = hi[1]
        slope = max(-1.0, min(0.0, math.log(y1 / y0) / math.log(x1 / x0)))
    v = y0 * (b / x0) ** slope
    return v, Step("batch_interpolation", f"max_num_seqs {b} is below the smallest measured {x0}: carried by the "
                   f"first segment's slope {slope:.2f}", ids, v / y0, "low", 0.25)


def _finish(value: float, steps: tuple[Step, ...], gpu: str, quant: str, max_num_seqs: int,
            basis: str = "extrapolated", num_gpus: int = 1) -> Estimate:
    rel = min(math.sqrt(sum(s.rel_err ** 2 for s in steps)), MAX_REL)
    conf = min((s.confidence for s in steps if s.method not in ("anchor", "measured")), key=lambda c: _CONF_RANK[c],
               default="high")
    ids = tuple(dict.fromkeys(i for s in steps for i in s.row_ids))
    measured = basis == "measured" and rel == 0.0
    return Estimate(ENERGY, value, value / (1 + rel), value * (1 + rel), "measured" if measured else "extrapolated",
                    conf, ids, steps, SERVING_BASIS, None, gpu, quant, max_num_seqs, regime=SERVING_REGIME,
                    num_gpus=num_gpus)


@lru_cache(maxsize=1)
def default_serving_estimator() -> ServingEstimator:
    return ServingEstimator()
