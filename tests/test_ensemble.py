"""Ensembles: summaries equal direct counts over seeds; the same rows on every backend."""

from __future__ import annotations

import os
from concurrent.futures import BrokenExecutor

import numpy as np
import pandas as pd
import pytest

from sim.runs.ensemble import bands, run_ensemble, summarise
from sim.outputs.indicators import by_id
from sim.inputs.scenario import load_scenario
from sim.runs.pools import InProcess, LocalPool, WarmPool, _pid_after


@pytest.fixture(scope="module")
def tidy():
    return run_ensemble(load_scenario("scenarios/plan.toml"), range(6), scale=100000, workers=1)


def test_summary_matches_a_direct_computation_over_seeds(tidy):
    summary = summarise(tidy).set_index("indicator")
    registry = by_id()
    for iid in ("market_entities", "dual_random_share", "company_share_of_enterprises", "compliance_rate"):
        values = tidy[(tidy.year == 2025) & (tidy.indicator == iid)].value.to_numpy()
        assert len(values) == 6
        row = summary.loc[iid]
        assert row.median_2025 == pytest.approx(np.median(values))
        assert row.p05_2025 == pytest.approx(np.quantile(values, 0.05))
        assert row.p95_2025 == pytest.approx(np.quantile(values, 0.95))
        assert row.mc_error_2025 == pytest.approx(np.sqrt(np.pi / 2) * values.std(ddof=1) / np.sqrt(6))
        ind = registry[iid]
        if ind.target is not None:
            assert row.prob_target_met == pytest.approx(np.mean([v >= ind.target for v in values]))
        else:
            assert np.isnan(row.prob_target_met)


def test_probability_uses_the_plan_comparison():
    rows = pd.DataFrame({"scenario": "x", "seed": [0, 1, 2, 3], "year": 2025, "indicator": "dual_random_share",
                         "value": [60.0, 60.5, 59.0, 70.0]})
    summary = summarise(rows).set_index("indicator")
    assert summary.loc["dual_random_share"].prob_target_met == pytest.approx(0.5)  # '>' 60: 60.0 does not count


def test_bands_are_ordered(tidy):
    b = bands(tidy)
    assert (b["low"] <= b["median"]).all() and (b["median"] <= b["high"]).all()
    assert set(b["year"]) == set(range(2020, 2026))


def test_compare_pairs_seeds_and_common_random_numbers_cut_noise():
    from sim.runs.ensemble import compare
    base = run_ensemble(load_scenario("scenarios/baseline.toml"), range(8), scale=40000, engine="vector", workers=1)
    plan = run_ensemble(load_scenario("scenarios/plan.toml"), range(8), scale=40000, engine="vector", workers=1)
    table = compare(base, plan).set_index("indicator")
    a = base[(base.year == 2025) & (base.indicator == "market_entities")].sort_values("seed").value.to_numpy()
    b = plan[(plan.year == 2025) & (plan.indicator == "market_entities")].sort_values("seed").value.to_numpy()
    assert table.loc["market_entities"].difference_median == pytest.approx(np.median(b - a))
    # the plan's lever shows in every seed: at the slowest pace of the prior (3 points a year, cities'
    # capability down to 0.7) five years add at least about 10 points
    assert table.loc["dual_random_share"].difference_p05 > 8
    # paired differences vary less than differences between unrelated seeds
    assert np.std(b - a) < np.std(b - np.roll(a, 1))


def _plan_ensemble(**backend) -> pd.DataFrame:
    return run_ensemble(load_scenario("scenarios/plan.toml"), range(3), scale=100000, horizon=2021,
                        engine="vector", **backend)


def test_same_rows_in_this_process_on_a_local_pool_and_on_a_warm_pool():
    here = _plan_ensemble(workers=1)
    seen = []
    with LocalPool(2) as pool:
        pd.testing.assert_frame_equal(_plan_ensemble(backend=pool, progress=lambda d, t: seen.append((d, t))), here)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with WarmPool(2) as pool:
        pd.testing.assert_frame_equal(_plan_ensemble(backend=pool), here)
    with InProcess() as backend:
        pd.testing.assert_frame_equal(_plan_ensemble(backend=backend), here)


def test_a_broken_warm_pool_runs_the_rest_here_then_starts_a_new_one():
    here = _plan_ensemble(workers=1)
    with WarmPool(2) as pool:
        old = set(pool.map(_pid_after, [0.0] * 4))
        with pytest.raises(BrokenExecutor):
            pool._current().submit(os._exit, 1).result()  # a worker dies: the pool is broken
        pd.testing.assert_frame_equal(_plan_ensemble(backend=pool), here)  # run in this process
        new = set(pool.map(_pid_after, [0.0] * 4))  # on a new pool
    assert new and not new & old and os.getpid() not in new | old


def test_the_monte_carlo_error_is_the_spread_of_medians_over_repeated_ensembles():
    """median_standard_error says how far a median over n seeds moves from one set of seeds to
    another: over 4000 sets of 20 normal draws, the reported error is within 5% of the medians'
    actual spread (its sampling error is about 1.6% here), and it halves with four times the seeds."""
    from sim.runs.ensemble import median_standard_error

    rng = np.random.default_rng(11)
    draws = rng.normal(1000.0, 30.0, size=(4000, 20))
    reported = np.mean([median_standard_error(d) for d in draws])
    actual = np.median(draws, axis=1).std(ddof=1)
    assert reported == pytest.approx(actual, rel=0.05), (reported, actual)
    more = rng.normal(1000.0, 30.0, size=(1000, 80))
    assert np.mean([median_standard_error(d) for d in more]) == pytest.approx(reported / 2, rel=0.05)
    assert np.isnan(median_standard_error(np.array([1.0])))


def test_workers_are_not_forked_once_the_kernels_have_used_every_core():
    """A fork of a process whose numba thread pool runs (GNU OpenMP) cannot use it: pools then start
    from a fork server; in a fresh single-threaded process they are forks. Run in a child process, so
    this test's own process (and what it has started) does not matter."""
    import subprocess
    import sys

    code = (
        "from sim.runs.pools import pool_context, parallel_runtime_started\n"
        "from sim.engines import kernels\n"
        "from sim.engines.vector import VectorMarketModel\n"
        "before = pool_context().get_start_method()\n"
        "kernels.PARALLEL_FROM = 0\n"
        "VectorMarketModel(scale=100000, seed=0, horizon=2021).step()\n"
        "print(before, parallel_runtime_started(), pool_context().get_start_method())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["fork", "True", "forkserver"], done.stdout + done.stderr


@pytest.mark.parametrize("backend", ["warm", "local"])
def test_workers_end_when_their_owner_is_killed(backend):
    """SIGKILL reaches no handler of the pool's owner; its workers notice their parent is gone and end
    (a warm pool's workers otherwise wait for tasks for ever)."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    make = "warm_pool(2)" if backend == "warm" else "LocalPool(2)"
    code = ("from sim.runs.pools import LocalPool, warm_pool\n"
            "from sim.runs.ensemble import run_ensemble\n"
            "from sim.inputs.scenario import load_scenario\n"
            f"pool = {make}\n"
            "with pool:\n"
            "    run_ensemble(load_scenario('scenarios/plan.toml'), range(200), scale=2000, engine='vector', backend=pool)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                       if "resource_tracker" not in " ".join(p.cmdline())]
        assert len(workers) >= 2, "the pool started its two workers"
        time.sleep(2.0)  # they are running seeds
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"workers left after their owner was killed: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
