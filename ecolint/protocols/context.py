"""What every advisor command needs before it can answer: settings, the measurement rows, an estimator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from ecolint.errors import UsageError
from ecolint.knowledge import Knowledge
from ecolint.knowledge.data import DataError, grid
from ecolint.knowledge.estimator import ENERGY, THROUGHPUT, TOTAL, Estimate, Estimator, NotEstimable


@dataclass
class Context:
    knowledge: Knowledge
    estimator: Estimator
    default_gpu: Optional[str] = None
    model_overrides: dict = field(default_factory=dict)
    tables: tuple[Path, ...] = ()

    engine: str = "hf"
    num_gpus: Optional[int] = None
    active_params_b: Optional[float] = None

    def estimate(self, model: str, gpu: str, quant: str, batch_size: int, params_b: float,
                 metric: str = ENERGY, basis: Optional[str] = None) -> Optional[Estimate]:
        if self.engine != "hf":
            return self._serving(model, gpu, quant, batch_size, params_b, metric)
        try:
            est = self.estimator.estimate(model, gpu, quant, batch_size, metric, params_b=params_b, basis=basis)
        except NotEstimable:
            return None
        if metric == ENERGY and not est.measured:
            est = self._tdp_cap(est, model, gpu, quant, batch_size, params_b)
        return est

    def _tdp_cap(self, est: Estimate, model, gpu, quant, batch_size, params_b) -> Estimate:
        """An extrapolated energy whose implied power (energy × estimated throughput) exceeds the card's TDP is
        not physical: cap it at TDP / throughput and say so."""
        from dataclasses import replace

        from ecolint.knowledge.estimator import Step
        from ecolint.knowledge.specs import transfer_spec

        spec = transfer_spec(gpu)
        try:
            t = self.estimator.estimate(model, gpu, quant, batch_size, THROUGHPUT, params_b=params_b)
        except NotEstimable:
            return est
        if spec is None or not t.value:
            return est
        power = est.value / 1000.0 * t.value
        if power <= spec.tdp_w:
            return est
        cap = spec.tdp_w * 1000.0 / t.value
        f = cap / est.value
        step = Step("tdp_cap", f"implied power {power:.0f} W (energy × estimated {t.value:.1f} tok/s) exceeds the "
                    f"{spec.tdp_w:g} W board power of {spec.name}: capped ×{f:.3f}", (), f, "low", 0.0)
        return replace(est, value=cap, low=min(est.low, cap), high=cap, steps=est.steps + (step,))

    def _serving(self, model: str, gpu: str, quant: str, batch_size: int, params_b: float,
                 metric: str) -> Optional[Estimate]:
        """Serving regime (vLLM / TGI): energy and throughput of the deployment from the ML.ENERGY rows;
        batch = max_num_seqs."""
        from ecolint.knowledge.serving_estimator import default_serving_estimator

        if metric not in (ENERGY, THROUGHPUT):
            return None
        est = default_serving_estimator()
        run = est.estimate if metric == ENERGY else est.throughput
        try:
            return run(model, gpu, quant, batch_size, params_b=params_b, active_params_b=self.active_params_b,
                       num_gpus=self.num_gpus, engine=self.engine)
        except NotEstimable:
            return None

    def energy(self, model, gpu, quant, bs, params_b, total: bool = False) -> Optional[Estimate]:
        return self.estimate(model, gpu, quant, bs, params_b, ENERGY, TOTAL if total else None)

    def throughput(self, model, gpu, quant, bs, params_b) -> Optional[Estimate]:
        return self.estimate(model, gpu, quant, bs, params_b, THROUGHPUT)


def load_context(measurements: Sequence[str] = (), start: Optional[Path] = None) -> Context:
    """Settings from ``ecolint.toml`` / ``[tool.ecolint]`` when the config layer is available, plus any
    ``--measurements`` tables. A bad table or config raises :class:`UsageError` naming file, line and column."""
    tables: list[Path] = []
    default_gpu = None
    overrides: dict = {}
    try:
        from ecolint.config import ConfigError, load_settings
    except ImportError:  # config layer not available
        load_settings = None  # type: ignore[assignment]
        ConfigError = ValueError  # type: ignore[misc,assignment]
    if load_settings is not None:
        try:
            settings = load_settings(start or Path.cwd())
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        tables.extend(Path(p) for p in getattr(settings, "measurements", ()) or ())
        default_gpu = getattr(settings, "gpu", None)
        overrides = dict(getattr(settings, "model_overrides", {}) or {})
    tables.extend(Path(p) for p in measurements)
    try:
        knowledge = Knowledge.load(tables)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    return Context(knowledge, Estimator(knowledge.rows), default_gpu, overrides, tuple(tables))


REGION_NAMES = {"us_avg": "US average", "china": "China", "eu_avg": "EU average", "france": "France",
                "norway": "Norway", "india": "India"}


def grid_factors(region: str, usd: Optional[float], gco2: Optional[float]) -> tuple[float, float, list[str]]:
    """Price and carbon intensity for a region (grid.csv, from the EcoCompute skill's hardware profiles), overridden by the
    user's values; notes say where a default had to be borrowed."""
    notes: list[str] = []
    row = grid()[region]
    us = grid()["us_avg"]
    if usd is None:
        if row.usd_per_kwh is not None:
            usd = row.usd_per_kwh
        else:
            usd = us.usd_per_kwh or 0.12
            notes.append(f"no electricity price for {row.region} in the grid table; using the US average "
                         f"${usd:.2f}/kWh (pass --usd-per-kwh)")
    if gco2 is None:
        if row.gco2_per_kwh is not None:
            gco2 = row.gco2_per_kwh
        else:
            gco2 = us.gco2_per_kwh or 390.0
            notes.append(f"no carbon intensity for {row.region}; using the US average {gco2:g} gCO2/kWh")
    return float(usd), float(gco2), notes


def default_pue(gpu_id: str) -> float:
    """1.0 for a workstation card, 1.1 for a data-centre card (the EcoCompute skill's defaults for local vs cloud)."""
    return 1.0 if gpu_id.startswith(("rtx", "gtx", "titan")) else 1.1
