"""Many seeds of one scenario: tidy yearly indicators, then medians, bands and P(target met)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np
import pandas as pd

from sim.outputs.indicators import indicator_values, registry
from sim.core.calendar import BASE_YEAR, DEFAULT_HORIZON, DEFAULT_SCALE
from sim.engines.model import MarketModel
from sim.engines.vector import VectorMarketModel
from sim.inputs.scenario import Scenario

ENGINES: dict[str, type] = {"mesa": MarketModel, "vector": VectorMarketModel}
TIDY_COLUMNS = ["scenario", "seed", "year", "indicator", "value"]
SUMMARY_COLUMNS = ["indicator", "name_zh", "name_en", "unit", "attribute", "baseline_2020", "target_2025",
                   "median_2025", "p05_2025", "p95_2025", "prob_target_met"]


def run_seed(scenario: Scenario, seed: int, scale: float = DEFAULT_SCALE, horizon: int = DEFAULT_HORIZON,
             engine: str = "mesa") -> pd.DataFrame:
    """Run one seed and return tidy yearly indicator rows (scenario, seed, year, indicator, value)."""
    model = ENGINES[engine](scenario, scale=scale, seed=seed, horizon=horizon)
    model.run()
    rows = []
    for year, record in model.annual_records().items():
        for iid, value in indicator_values(record, initial=year == BASE_YEAR).items():
            rows.append((scenario.name, seed, year, iid, value))
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


def _run_seed_args(args: tuple) -> pd.DataFrame:
    return run_seed(*args)


def _warm_up() -> None:
    """Run a tiny model so the compiled kernels are loaded before the first real run."""
    ENGINES["vector"](scale=1e6, seed=0, horizon=BASE_YEAR + 1).run()


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def pool_context(*preload: str) -> multiprocessing.context.BaseContext:
    """How worker processes start.

    fork is fastest (workers inherit the loaded model), and safe while the only other threads
    are the idle native ones of OpenBLAS and Arrow's allocator (fork-aware). From a process
    running Python threads (Streamlit's server, a Dask client, a progress bar), which may hold
    locks, workers start from a clean fork server that has imported ``preload`` and this module;
    on Windows they are spawned.
    """
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*preload, "sim.runs.ensemble"])
    return context


@contextlib.contextmanager
def quiet_fork() -> Iterator[None]:
    """Silence Python's warning that forking a process with threads may deadlock: the only other
    threads where :func:`pool_context` forks are idle native ones."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)", category=DeprecationWarning)
        yield


def warm_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose ``workers`` have all started, imported the model and loaded its
    compiled kernels, so the first ensemble on it runs at full speed (the app keeps one; ``bench``
    times one). Workers start as :func:`pool_context` says.
    """
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_warm_up)
    started: set[int] = set()
    with quiet_fork():
        for _ in range(20):  # a task returns only once its worker has warmed up; until every worker has
            started |= {f.result() for f in [pool.submit(_pid_after, 0.05) for _ in range(workers)]}
            if len(started) >= workers:
                break
    return pool


def run_ensemble(scenario: Scenario, seeds: Sequence[int], scale: float = DEFAULT_SCALE,
                 horizon: int = DEFAULT_HORIZON, engine: str = "mesa", workers: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 executor: Executor | None = None) -> pd.DataFrame:
    """Run a scenario over seeds, in parallel processes when ``workers`` > 1.

    Args:
        scenario: The resolved scenario.
        seeds: Seeds to run; results are sorted by seed whatever the worker order.
        scale: Real entities per simulated entity.
        horizon: Last year simulated.
        engine: Engine name (see ENGINES).
        workers: Processes to use; defaults to min(len(seeds), CPU count).
        progress: Called with (done, total) after each seed.
        executor: A pool to run the seeds on (kept by the caller, e.g. the app); if None, a
            process pool of ``workers`` is made for this call.

    Returns:
        Tidy rows for every seed, year and modelled indicator.
    """
    seeds = list(seeds)
    workers = workers or min(len(seeds), os.cpu_count() or 1)
    jobs = [(scenario, s, scale, horizon, engine) for s in seeds]
    frames: list[pd.DataFrame] = []
    if executor is not None:
        for i, frame in enumerate(executor.map(_run_seed_args, jobs)):
            frames.append(frame)
            if progress:
                progress(i + 1, len(jobs))
    elif workers <= 1 or len(seeds) <= 1:
        for i, job in enumerate(jobs):
            frames.append(_run_seed_args(job))
            if progress:
                progress(i + 1, len(jobs))
    else:
        with quiet_fork(), ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            for i, frame in enumerate(pool.map(_run_seed_args, jobs)):
                frames.append(frame)
                if progress:
                    progress(i + 1, len(jobs))
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
    and the share of seeds that meet the target."""
    rows = []
    at_year = tidy[tidy["year"] == year]
    for ind in registry():
        if not ind.modelled:
            continue
        values = at_year.loc[at_year["indicator"] == ind.id, "value"].to_numpy()
        has = values.size > 0
        met = [ind.met(v) for v in values] if ind.target is not None else []
        rows.append({
            "indicator": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit_en,
            "attribute": ind.attribute, "baseline_2020": ind.baseline_2020, "target_2025": ind.target,
            "median_2025": float(np.median(values)) if has else np.nan,
            "p05_2025": float(np.quantile(values, 0.05)) if has else np.nan,
            "p95_2025": float(np.quantile(values, 0.95)) if has else np.nan,
            "prob_target_met": float(np.mean(met)) if (met and has) else np.nan,
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
