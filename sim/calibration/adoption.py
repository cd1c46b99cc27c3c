"""The Zhejiang Made diffusions fitted to their history: standards, Pinzi-brand firms, international certificates.

Each count follows a logistic diffusion through its 2020 baseline (``adoption_path`` in
:mod:`sim.submodels.innovation.rules`) with two unknowns, a ceiling and a rate. The history's
counts before 2020 (``calibration/data/history_zhejiang.csv``: November 2016, October 2017 and
October 2018, the last two marked as lower bounds where the press said "or more") inform them.
The posterior is computed directly - the curve is closed-form, so no simulation is needed: draws
from the uniform priors declared on the parameters, weighted by a log-normal likelihood of each
count about the curve (a one-sided one for a lower bound), resampled to equally weighted
particles. ``python -m sim calibrate`` writes them to ``calibration/posterior_submodels.parquet``,
and every run in posterior mode draws one particle per seed (:mod:`sim.inputs.posterior`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.inputs.files import atomic_write_bytes
from sim.inputs.parameters import InnovationParameters
from sim.inputs.parameters.declare import priors
from sim.submodels.innovation.rules import adoption_path

LOG_SD = 0.2  # spread of a published count about the curve, log units (assumption: rounded press counts)
LOWER_BOUND = "lower bound"  # the history's kind of a count given as "or more"
PRIOR_DRAWS = 200_000  # draws from the prior per diffusion
PARTICLES = 2_000  # equally weighted particles written
FIT_SEED = 20201231


@dataclass(frozen=True)
class Adoption:
    """One diffusion: its history series, its 2020 count and its two parameters."""

    series: str
    count_2020: str  # the InnovationParameters field holding the 2020 baseline
    ceiling: str
    rate: str


ADOPTIONS = (
    Adoption("zhejiang_made_standards", "standards_2020", "standards_ceiling", "standards_diffusion_rate"),
    Adoption("pinzi_brand_firms", "pinzi_2020", "pinzi_ceiling", "pinzi_diffusion_rate"),
    Adoption("zhejiang_made_intl_certs", "intl_certs_2020", "intl_certs_ceiling", "intl_certs_diffusion_rate"),
)
PARAMETERS = tuple(name for a in ADOPTIONS for name in (a.ceiling, a.rate))


def years_before_2021(period: str) -> float:
    """A month-end period (YYYY-MM) as years from the end of 2020 (negative before it)."""
    year, month = int(period[:4]), int(period[5:7]) if len(period) > 4 else 12
    return year + month / 12.0 - 2021.0


def points(history: pd.DataFrame, series: str, through: int = 2020) -> pd.DataFrame:
    """The series' month-end counts before the end of 2020 (the curve passes through the 2020
    baseline): years (from the end of 2020), value, lower (a lower bound)."""
    rows = history[(history["series"] == series) & (history["period"].str.len() == 7)]
    rows = rows[rows["period"].str[:4].astype(int) <= through]
    years = rows["period"].map(years_before_2021)
    keep = years < 0
    return pd.DataFrame({"period": rows["period"][keep].to_numpy(), "years": years[keep].to_numpy(),
                         "value": rows["value"][keep].to_numpy(dtype=float),
                         "lower": (rows["kind"][keep] == LOWER_BOUND).to_numpy()})


def log_likelihood(data: pd.DataFrame, count_2020: float, ceiling: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Log-likelihood of the counts for each (ceiling, rate): log-normal about the curve, one-sided
    for lower bounds."""
    out = np.zeros(np.broadcast(ceiling, rate).shape)
    for years, value, lower in data[["years", "value", "lower"]].itertuples(index=False):
        z = (np.log(adoption_path(years, count_2020, ceiling, rate)) - np.log(value)) / LOG_SD
        out += norm.logcdf(z) if lower else norm.logpdf(z)
    return out


def fit_adoptions(history: pd.DataFrame, through: int = 2020, seed: int = FIT_SEED,
                  params: InnovationParameters | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Equally weighted posterior particles of every diffusion's ceiling and rate (one column each and
    ``weight``), and each diffusion's effective sample size of the prior draws."""
    params = params or InnovationParameters()
    bounds = priors(InnovationParameters)
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    effective = {}
    for a in ADOPTIONS:
        ceiling = rng.uniform(*bounds[a.ceiling], PRIOR_DRAWS)
        rate = rng.uniform(*bounds[a.rate], PRIOR_DRAWS)
        ll = log_likelihood(points(history, a.series, through), getattr(params, a.count_2020), ceiling, rate)
        w = np.exp(ll - ll.max())
        w /= w.sum()
        effective[a.series] = float(1.0 / np.sum(w ** 2))
        pick = rng.choice(PRIOR_DRAWS, PARTICLES, p=w)  # each diffusion resampled on its own: independent data
        columns[a.ceiling], columns[a.rate] = ceiling[pick], rate[pick]
    particles = pd.DataFrame(columns)
    particles["weight"] = 1.0 / PARTICLES
    return particles, effective


def write_particles(path: Path, particles: pd.DataFrame) -> None:
    """Write the particles as Parquet, atomically."""
    atomic_write_bytes(path, lambda tmp: particles.to_parquet(tmp, index=False))


def check_rows(history: pd.DataFrame, particles: pd.DataFrame, params: InnovationParameters | None = None) -> pd.DataFrame:
    """Each history count of the diffusions beside the posterior curve at its date: median and 5-95%."""
    params = params or InnovationParameters()
    rows = []
    for a in ADOPTIONS:
        n0 = getattr(params, a.count_2020)
        for period, years, value, lower in points(history, a.series).itertuples(index=False):
            curve = adoption_path(years, n0, particles[a.ceiling].to_numpy(), particles[a.rate].to_numpy())
            lo, med, hi = np.percentile(curve, [5, 50, 95])
            rows.append({"series": a.series, "period": period, "target": value, "lower_bound": lower,
                         "median": med, "p5": lo, "p95": hi,
                         "ok": bool(hi >= value) if lower else bool(lo <= value <= hi)})
        for year in (2025,):
            curve = adoption_path(year - 2020, n0, particles[a.ceiling].to_numpy(), particles[a.rate].to_numpy())
            lo, med, hi = np.percentile(curve, [5, 50, 95])
            rows.append({"series": a.series, "period": f"{year}-12", "target": np.nan, "lower_bound": False,
                         "median": med, "p5": lo, "p95": hi, "ok": None})
    return pd.DataFrame(rows)


def check_text(history: pd.DataFrame, particles: pd.DataFrame | None, source: str) -> str:
    """What ``sim calibrate --check`` shows of the submodel series: each diffusion's history beside
    its posterior curve (median and 5-95%), its 2025 projection, and the trademark stock's back-cast."""
    from sim.submodels.innovation.rules import trademark_backcast, trademark_stock

    lines = [f"Sub-model series: Zhejiang Made diffusions ({source}; logistic through the 2020 baseline, "
             f"log-normal spread {LOG_SD:g})",
             f"{'series':<28} {'period':<8} {'published':>10} {'posterior median [5-95%]':>26}  ok"]
    if particles is None:
        lines.append("  (no submodel posterior: run `python -m sim calibrate`)")
    else:
        for row in check_rows(history, particles).itertuples(index=False):
            published = "" if np.isnan(row.target) else (">=" if row.lower_bound else "") + f"{row.target:g}"
            ok = "curve only" if row.ok is None else ("yes" if row.ok else "NO")
            lines.append(f"{row.series:<28} {row.period:<8} {published:>10} "
                         f"{row.median:>9.0f} [{row.p5:>6.0f}-{row.p95:>6.0f}]  {ok}")
    params = InnovationParameters()
    r17, g0, g1 = trademark_backcast(params)
    lines.append("")
    lines.append("valid_trademarks (10k marks): the 2020 cohorts are back-cast to pass through the published stocks "
                 f"(registrations growing {g0:.1%}/yr to 2017, {g1:.1%}/yr in 2018-2020)")
    for year, value in ((2016, params.trademarks_2016), (2017, params.trademarks_2017), (2020, params.trademarks_2020)):
        lines.append(f"{'valid_trademarks':<28} {year}-12  {value:>10g} {trademark_stock(year, r17, g0, g1, params):>9.1f}")
    lines.append("not compared (the submodels start from their 2020 state and the history has no earlier figure "
                 "in the model's definition): high-value patents per 10k (definition from 2021), overseas grants, "
                 "national inspection centres (2015: 44; a programme count), metrology centres, food sampling, "
                 "spot checks")
    return "\n".join(lines)
