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
# Invention patents per 10k residents: a logistic curve through the last count up to 2020 (23.6 at
# the end of 2018), fitted to the earlier counts; what the innovation submodel takes from it is the
# stock's growth 2018-2020 and at the end of 2020 (per-10k growth plus population growth).
PATENT_SERIES = "invention_patents_per_10k"
PATENT_CEILING = (30.0, 200.0)  # per 10k residents: above the 2018 count, up to Beijing's level (about 150 in 2020)
PATENT_RATE = (0.05, 1.5)
POPULATION_GROWTH = 0.017  # a year: the scenario files' population_growth
PATENT_PARAMETERS = ("invention_growth_2018_2020", "patent_growth_2020")
PARAMETERS = tuple(name for a in ADOPTIONS for name in (a.ceiling, a.rate)) + PATENT_PARAMETERS


def years_before_2021(period: str) -> float:
    """A month-end period (YYYY-MM) as years from the end of 2020 (negative before it)."""
    year, month = int(period[:4]), int(period[5:7]) if len(period) > 4 else 12
    return year + month / 12.0 - 2021.0


def points(history: pd.DataFrame, series: str, through: int = 2020) -> pd.DataFrame:
    """The series' month-end counts before the end of 2020 (the curve passes through the 2020
    baseline): period, years (from the end of 2020), value, lower (a lower bound)."""
    pts = _series_points(history, series, through)
    return pts[pts["years"] < 0].reset_index(drop=True)


def log_likelihood(data: pd.DataFrame, count_2020: float, ceiling: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Log-likelihood of the counts for each (ceiling, rate): log-normal about the curve, one-sided
    for lower bounds."""
    out = np.zeros(np.broadcast(ceiling, rate).shape)
    for years, value, lower in data[["years", "value", "lower"]].itertuples(index=False):
        z = (np.log(adoption_path(years, count_2020, ceiling, rate)) - np.log(value)) / LOG_SD
        out += norm.logcdf(z) if lower else norm.logpdf(z)
    return out


def sample_curve(known: pd.DataFrame, anchor: float, ceiling_range: tuple[float, float],
                 rate_range: tuple[float, float], draws: int, rng: np.random.Generator):
    """The posterior of a logistic curve through ``anchor`` given the ``known`` counts (years from
    the anchor): ``draws`` uniform prior draws of ceiling and rate weighted by the likelihood and
    resampled to :data:`PARTICLES`; returns (ceiling, rate, effective sample size of the draws)."""
    ceiling = rng.uniform(*ceiling_range, draws)
    rate = rng.uniform(*rate_range, draws)
    ll = log_likelihood(known, anchor, ceiling, rate)
    w = np.exp(ll - ll.max())
    w /= w.sum()
    pick = rng.choice(draws, PARTICLES, p=w)
    return ceiling[pick], rate[pick], float(1.0 / np.sum(w ** 2))


def fit_adoptions(history: pd.DataFrame, through: int = 2020, seed: int = FIT_SEED,
                  params: InnovationParameters | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Equally weighted posterior particles of every diffusion's ceiling and rate (one column each and
    ``weight``), and each diffusion's effective sample size of the prior draws."""
    params = params or InnovationParameters()
    bounds = priors(InnovationParameters)
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    effective = {}
    for a in ADOPTIONS:  # each diffusion sampled on its own: independent data
        columns[a.ceiling], columns[a.rate], effective[a.series] = sample_curve(
            points(history, a.series, through), getattr(params, a.count_2020), bounds[a.ceiling], bounds[a.rate],
            PRIOR_DRAWS, rng)
    if len(_series_points(history, PATENT_SERIES, through)) >= 2:  # an anchor and a count to fit
        growth, effective[PATENT_SERIES] = patent_growth(history, through, rng)
        columns.update(growth)
    particles = pd.DataFrame(columns)
    particles["weight"] = 1.0 / PARTICLES
    return particles, effective


def patent_curve(history: pd.DataFrame, through: int, rng: np.random.Generator):
    """The per-10k invention curve's anchor (a row: period, years, value), its ceiling and rate particles
    and the effective sample size."""
    pts = _series_points(history, PATENT_SERIES, through)
    anchor = pts.iloc[-1]
    known = pts.iloc[:-1].assign(years=lambda f: f["years"] - anchor["years"])
    ceiling_range = (max(PATENT_CEILING[0], anchor["value"]), PATENT_CEILING[1])
    return anchor, *sample_curve(known, anchor["value"], ceiling_range, PATENT_RATE, PRIOR_DRAWS, rng)


def _patent_lines(history: pd.DataFrame, particles: pd.DataFrame | None) -> list[str]:
    """The per-10k invention counts beside their fitted curve, for ``calibrate --check``."""
    pts = _series_points(history, PATENT_SERIES, 2020)
    if len(pts) < 2:
        return [f"{PATENT_SERIES}: fewer than two counts in the history; the patent growth stays as declared"]
    anchor, ceiling, rate, _ = patent_curve(history, 2020, np.random.default_rng(FIT_SEED))
    lines = [f"{PATENT_SERIES} (logistic through {anchor['value']:g} at {anchor['period']}, fitted to the "
             "earlier counts; the submodel takes the stock's growth 2018-2020 and at 2020 from it)"]
    for period, years, value, _lower in pts.itertuples(index=False):
        curve = adoption_path(years - anchor["years"], anchor["value"], ceiling, rate)
        lo, med, hi = np.percentile(curve, [5, 50, 95])
        ok = "anchor" if period == anchor["period"] else ("yes" if lo <= value <= hi else "NO")
        lines.append(f"{PATENT_SERIES:<28} {period:<8} {value:>10g} {med:>9.1f} [{lo:>6.1f}-{hi:>6.1f}]  {ok}")
    if particles is not None and "patent_growth_2020" in particles:
        g = particles["patent_growth_2020"]
        lines.append(f"  -> patent_growth_2020 (stock, with population): median {g.median():.1%} "
                     f"[{g.quantile(0.05):.1%}-{g.quantile(0.95):.1%}]")
    return lines


def patent_growth(history: pd.DataFrame, through: int, rng: np.random.Generator) -> tuple[dict, float]:
    """Posterior particles of the invention stock's growth 2018-2020 and at the end of 2020, from the
    logistic curve of invention patents per 10k residents anchored at the last count up to ``through``,
    and the effective sample size."""
    anchor, ceiling, rate, effective = patent_curve(history, through, rng)
    to_2021 = -float(anchor["years"])  # years from the anchor to the end of 2020
    start = adoption_path(to_2021 - 2.0, anchor["value"], ceiling, rate)
    end = adoption_path(to_2021, anchor["value"], ceiling, rate)
    per_10k_2018_2020 = np.sqrt(end / start) - 1.0
    per_10k_2020 = rate * (1.0 - end / ceiling)
    return ({"invention_growth_2018_2020": (1 + per_10k_2018_2020) * (1 + POPULATION_GROWTH) - 1.0,
             "patent_growth_2020": per_10k_2020 + POPULATION_GROWTH}, effective)


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
        curve = adoption_path(5.0, n0, particles[a.ceiling].to_numpy(), particles[a.rate].to_numpy())
        lo, med, hi = np.percentile(curve, [5, 50, 95])  # the curve alone in 2025
        rows.append({"series": a.series, "period": "2025-12", "target": np.nan, "lower_bound": False,
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
    lines += _patent_lines(history, particles)
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


# ---------------------------------------------------------------- backtest of the diffusions
NAIVE_GROWTH = {
    "random_walk_drift": "the last two counts' change per year, carried on (a straight line)",
    "exponential": "the last two counts' growth rate per year, carried on",
}


def _series_points(history: pd.DataFrame, series: str, through: int) -> pd.DataFrame:
    """Every month-end count of a series up to the end of ``through``, the 2020 baseline included."""
    rows = history[(history["series"] == series) & (history["period"].str.len() == 7)]
    rows = rows[rows["period"].str[:4].astype(int) <= through]
    return pd.DataFrame({"period": rows["period"].to_numpy(), "years": rows["period"].map(years_before_2021).to_numpy(),
                         "value": rows["value"].to_numpy(dtype=float),
                         "lower": (rows["kind"] == LOWER_BOUND).to_numpy()}).sort_values("years", ignore_index=True)


def backtest_rows(history: pd.DataFrame, through: int = 2020, seed: int = FIT_SEED) -> pd.DataFrame:
    """Rolling-origin backtest of the diffusions: at each published count (the origin) the curve is
    anchored there and fitted to the counts before it only, as the committed fit is anchored at the
    2020 baseline; every later count is forecast (median and 5-95% of the posterior curve) beside
    the naive forecasters of :data:`NAIVE_GROWTH`. A later lower bound is scored as covered or not."""
    bounds = priors(InnovationParameters)
    rng = np.random.default_rng(seed)
    rows = []
    for a in ADOPTIONS:
        pts = _series_points(history, a.series, through)
        for k in range(len(pts) - 1):
            origin = pts.iloc[k]
            if origin["lower"]:
                continue
            known = pts.iloc[:k].assign(years=lambda f: f["years"] - origin["years"])
            ceiling, rate, _ = sample_curve(known, origin["value"], (origin["value"], bounds[a.ceiling][1]),  # >= count
                                            bounds[a.rate], PRIOR_DRAWS // 10, rng)
            previous = pts.iloc[:k][~pts.iloc[:k]["lower"]]
            for _, target in pts.iloc[k + 1:].iterrows():
                dt = float(target["years"] - origin["years"])
                curve = adoption_path(dt, origin["value"], ceiling, rate)
                lo, med, hi = np.percentile(curve, [5, 50, 95])
                naive = {m: np.nan for m in NAIVE_GROWTH}
                if len(previous):
                    prev = previous.iloc[-1]
                    span = float(origin["years"] - prev["years"])
                    naive["random_walk_drift"] = origin["value"] + (origin["value"] - prev["value"]) / span * dt
                    naive["exponential"] = origin["value"] * (origin["value"] / prev["value"]) ** (dt / span)
                for method, value in {"model": med, **naive}.items():
                    truth = float(target["value"])
                    rows.append({
                        "series": a.series, "origin": origin["period"], "target": target["period"],
                        "years_ahead": round(dt, 2), "method": method, "forecast": value, "actual": truth,
                        "lower_bound": bool(target["lower"]),
                        "ape_pct": np.nan if target["lower"] or np.isnan(value) else 100 * abs(value - truth) / truth,
                        "p05": lo if method == "model" else np.nan, "p95": hi if method == "model" else np.nan,
                        "covered": (bool(hi >= truth) if target["lower"] else bool(lo <= truth <= hi))
                        if method == "model" else None})
    return pd.DataFrame(rows)


def best_naive(part: pd.DataFrame) -> tuple[str, float, float, int] | None:
    """One series' scored rows of the diffusions' backtest: the naive forecaster with the least mean
    absolute % error, that error, the diffusion's on the same points, and their number (None if none)."""
    model = part[part.method == "model"].set_index(["origin", "target"])["ape_pct"]
    best = None
    for method in NAIVE_GROWTH:
        naive = part[part.method == method].set_index(["origin", "target"])["ape_pct"]
        if len(naive) and (best is None or naive.mean() < best[1]):
            best = (method, float(naive.mean()), float(model[naive.index].mean()), len(naive))
    return best


def backtest_lines(table: pd.DataFrame) -> list[str]:
    """The diffusions' backtest as Markdown: a verdict per series and every scored point."""
    lines = ["## Sub-model series: the Zhejiang Made diffusions", "",
             "At each published count (the origin) the logistic curve is anchored there and fitted to the earlier "
             "counts only (the same priors, likelihood and sampler as `sim calibrate`); every later count is "
             "forecast. Naive forecasters: " + "; ".join(f"`{m}`, {t}" for m, t in NAIVE_GROWTH.items()) + ". "
             "A later count given as a lower bound ('more than') is scored for coverage only. The series are short "
             "(three or four counts, 2016-2020), so each verdict rests on one or two points.", ""]
    scored = table.dropna(subset=["ape_pct"])
    for series, part in scored.groupby("series"):
        best = best_naive(part)
        if best is not None:
            word = "beats" if best[2] < best[1] else "loses to"
            lines.append(f"- {series}: the diffusion ({best[2]:.0f}%) {word} the best naive forecaster, {best[0]} "
                         f"({best[1]:.0f}%), mean absolute % error over {best[3]} held-out count"
                         f"{'s' if best[3] > 1 else ''}")
    model = table[table.method == "model"]
    lines += [f"- the diffusions' 90% bands cover {int(model['covered'].sum())} of {len(model)} later counts", ""]
    from sim.calibration.backtest import markdown_table

    return lines + markdown_table(table) + [""]
