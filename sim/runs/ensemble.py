"""Many seeds of one scenario: tidy yearly indicators, then medians, bands and P(target met)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from sim.core.calendar import DEFAULT_HORIZON, DEFAULT_SCALE
from sim.inputs.scenario import Scenario
from sim.outputs.indicators import registry
from sim.runs.pools import Backend, as_backend, backend_for, warm_pool  # noqa: F401  (warm_pool: re-exported)
from sim.runs.runner import ENGINES, TIDY_COLUMNS, Job, run, run_seed  # noqa: F401  (re-exported)

SUMMARY_COLUMNS = ["indicator", "name_zh", "name_en", "unit", "attribute", "baseline_2020", "target_2025",
                   "median_2025", "p05_2025", "p95_2025", "prob_target_met", "mc_error_2025"]


def median_standard_error(values: np.ndarray) -> float:
    """Monte Carlo standard error of a median over seeds: sqrt(pi / 2) * sd / sqrt(n), the
    large-sample error of a median of near-normal draws. It is the simulation's own noise (the
    simulated entities' draws at the run's scale, and the number of seeds), which a finer scale
    or more seeds shrink; the band, not this, is meant to describe uncertainty about the world."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float("nan")
    return float(np.sqrt(np.pi / 2.0) * values.std(ddof=1) / np.sqrt(values.size))


def run_ensemble(scenario: Scenario, seeds: Sequence[int], scale: float = DEFAULT_SCALE,
                 horizon: int = DEFAULT_HORIZON, engine: str = "mesa", workers: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 backend: Backend | Executor | None = None, parameters: str = "posterior") -> pd.DataFrame:
    """Run a scenario over seeds, in parallel processes when ``workers`` > 1.

    Args:
        scenario: The resolved scenario.
        seeds: Seeds to run; results are sorted by seed whatever the worker order.
        scale: Real entities per simulated entity.
        horizon: Last year simulated.
        engine: Engine name (see ENGINES).
        workers: Processes to use; defaults to min(len(seeds), CPU count).
        progress: Called with (done, total) after each seed.
        backend: Where to run the seeds, started and kept by the caller (e.g. a warm pool); if None,
            a local pool of ``workers`` processes is started for this call (or this process, for 1).
        parameters: ``posterior`` (each seed draws its uncertain parameters from the posterior) or
            ``point`` (the scenario's parameters for every seed); see :mod:`sim.inputs.posterior`.

    Returns:
        Tidy rows for every seed, year and modelled indicator.
    """
    seeds = list(seeds)
    jobs = [Job(scenario, s, scale, horizon, engine, parameters=parameters) for s in seeds]
    if backend is not None:
        frames = as_backend(backend).map(run, jobs, progress)
    else:
        workers = min(workers or os.cpu_count() or 1, len(seeds))
        with backend_for(max(workers, 1)) as own:
            frames = own.map(run, jobs, progress)
    return pd.concat(frames, ignore_index=True)


def bands(tidy: pd.DataFrame, low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Median and band by scenario, year and indicator across seeds."""
    grouped = tidy.groupby(["scenario", "year", "indicator"])["value"]
    out = grouped.median().rename("median").to_frame()
    out["low"] = grouped.quantile(low)
    out["high"] = grouped.quantile(high)
    return out.reset_index()


def summarise(tidy: pd.DataFrame, year: int = 2025) -> pd.DataFrame:
    """One row per modelled indicator: baseline, target, median and 5-95% band in ``year``,
    the share of seeds that meet the target, and the median's Monte Carlo standard error
    (:func:`median_standard_error`)."""
    rows = []
    at_year = tidy[tidy["year"] == year]
    by_indicator = at_year.groupby("indicator", sort=False).indices  # row numbers in order, one lookup each
    column = at_year["value"].to_numpy()
    none = np.empty(0)
    for ind in registry():
        if not ind.modelled:
            continue
        rows_of = by_indicator.get(ind.id)
        values = column[rows_of] if rows_of is not None else none
        has = values.size > 0
        met = [ind.met(v) for v in values] if ind.target is not None else []
        rows.append({
            "indicator": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit_en,
            "attribute": ind.attribute, "baseline_2020": ind.baseline_2020, "target_2025": ind.target,
            "median_2025": float(np.median(values)) if has else np.nan,
            "p05_2025": float(np.quantile(values, 0.05)) if has else np.nan,
            "p95_2025": float(np.quantile(values, 0.95)) if has else np.nan,
            "prob_target_met": float(np.mean(met)) if (met and has) else np.nan,
            "mc_error_2025": median_standard_error(values) if has else np.nan,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


COMPARE_COLUMNS = ["indicator", "name_zh", "name_en", "unit", "attribute", "median_a", "median_b",
                   "difference_median", "difference_p05", "difference_p95", "prob_met_a", "prob_met_b"]


def compare(tidy_a: pd.DataFrame, tidy_b: pd.DataFrame, year: int = 2025) -> pd.DataFrame:
    """Per indicator, scenario B minus scenario A in ``year``, paired by seed.

    Both ensembles should be run with the same seeds: the engines' common random numbers
    then make each seed's difference show the levers, not noise.
    """
    def at_year(tidy: pd.DataFrame) -> pd.DataFrame:
        rows = tidy[tidy["year"] == year]
        return rows.pivot_table(index="seed", columns="indicator", values="value")

    a, b = at_year(tidy_a), at_year(tidy_b)
    seeds = a.index.intersection(b.index)
    rows = []
    for ind in registry():
        if not ind.modelled or ind.id not in a.columns or ind.id not in b.columns:
            continue
        va, vb = a.loc[seeds, ind.id].to_numpy(), b.loc[seeds, ind.id].to_numpy()
        diff = vb - va
        prob = (lambda v: float(np.mean([ind.met(x) for x in v])) if ind.target is not None else np.nan)
        rows.append({
            "indicator": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit_en,
            "attribute": ind.attribute, "median_a": float(np.median(va)), "median_b": float(np.median(vb)),
            "difference_median": float(np.median(diff)), "difference_p05": float(np.quantile(diff, 0.05)),
            "difference_p95": float(np.quantile(diff, 0.95)), "prob_met_a": prob(va), "prob_met_b": prob(vb),
        })
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
