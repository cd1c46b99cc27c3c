"""The app's fair, cancellable seed runs on one shared pool (sim/ui/scheduler.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import BrokenExecutor, Executor, ThreadPoolExecutor

import pandas as pd
import pytest

from sim.inputs.scenario import load_scenario
from sim.runs.pools import warm_pool
from sim.ui import runner
from sim.ui import scenario as sc
from sim.ui.scheduler import RETRIES, FairScheduler, SchedulerError

ROOT_PLAN = load_scenario("scenarios/plan.toml")


class _Breaking(Executor):
    def submit(self, fn, /, *args, **kwargs):
        raise BrokenExecutor("a worker died")


class FakePool:
    """A pool of threads standing for worker processes; the first ``breaks`` executors are broken."""

    def __init__(self, workers: int = 1, breaks: int = 0) -> None:
        self.workers, self.breaks, self.replaced = workers, breaks, 0
        self._executor = None

    def slots(self) -> int:
        return self.workers

    def _current(self):
        if self._executor is None:
            self._executor = _Breaking() if self.replaced < self.breaks else ThreadPoolExecutor(self.workers)
        return self._executor

    def _found_broken(self, executor) -> None:
        if self._executor is executor:
            self._executor = None
            self.replaced += 1


def _work(job):
    time.sleep(job[1])
    return job[0], threading.get_ident()


def test_a_second_session_is_served_in_turn_not_after_the_first_sessions_ensemble():
    pool = FakePool(workers=1)
    sched = FairScheduler(pool, _work, in_flight=1)  # one run handed to the worker at a time: exact order
    long = sched.submit("a", [("a", 0.02)] * 20)
    time.sleep(0.01)  # a's first run is on the worker
    short = sched.submit("b", [("b", 0.02)] * 2)
    assert [i for i, _ in short.wait(timeout=10)] and len(list(long.wait(timeout=10))) == 20
    order = list(sched.dispatched)
    first_b = order.index("b")
    assert first_b <= 2, order  # behind at most a's run on the worker and one more, not 19
    assert order[first_b:first_b + 3] == ["b", "a", "b"], order  # then one each in turn


def test_a_new_request_replaces_the_sessions_queued_runs_and_a_cancel_drops_them():
    pool = FakePool(workers=1)
    sched = FairScheduler(pool, _work, in_flight=1)  # one run handed to the worker at a time: exact order
    stored = []
    old = sched.submit("a", [("old", 0.05)] * 10, on_result=lambda i, r: stored.append(r[0]))
    time.sleep(0.01)
    new = sched.submit("a", [("new", 0.0)] * 3)
    assert old.cancelled and sched.queued() == {"a": 3}  # old's first run still on the worker
    assert sorted(r[0] for _, r in new.wait(timeout=10)) == ["new"] * 3
    assert stored == ["old"]  # the run already on a worker finished and was kept; the other nine never ran
    assert sched.dispatched.count("a") == 4
    waiting = sched.submit("b", [("b", 0.05)] * 5)
    sched.cancel(waiting)
    assert sched.queued() == {} and waiting.cancelled


def test_a_broken_pool_is_replaced_and_no_seed_runs_in_the_servers_thread():
    pool = FakePool(workers=2, breaks=1)
    sched = FairScheduler(pool, _work, in_flight=1)  # one run handed to the worker at a time: exact order
    ticket = sched.submit("a", [("a", 0.0)] * 4)
    results = list(ticket.wait(timeout=10))
    assert len(results) == 4 and pool.replaced == 1
    assert threading.get_ident() not in {tid for _, (_, tid) in results}


def test_a_pool_that_keeps_breaking_fails_the_ticket_with_a_message():
    sched = FairScheduler(FakePool(workers=1, breaks=RETRIES + 5), _work)
    with pytest.raises(SchedulerError, match="not run in the server's own process"):
        list(sched.submit("a", [("a", 0.0)]).wait(timeout=10))


def test_the_apps_compute_through_the_scheduler_gives_the_same_rows_as_this_process():
    request = runner.Request(sc.run_key(ROOT_PLAN), "p")
    keys = runner.missing(runner.SeedCache(), [request], range(3), 100000, 2021)
    here, pooled, seen = runner.SeedCache(), runner.SeedCache(), []
    runner.compute(here, keys, sc.from_key)
    pool = warm_pool(2)
    try:
        sched = FairScheduler(pool, runner.run)
        runner.compute(pooled, keys, sc.from_key, lambda done, total, left: seen.append((done, total)),
                       scheduler=sched)
    finally:
        pool.shutdown()
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for k in keys:
        pd.testing.assert_frame_equal(pooled.get(k), here.get(k))


def test_a_request_beyond_the_cost_cap_is_refused_before_it_runs():
    cost = runner.request_cost(ROOT_PLAN, 100, 1000, 2035)
    assert cost <= runner.MAX_REQUEST_COST  # the sliders' largest request fits
    big = ROOT_PLAN.with_parameters({"entities_2020": 3000.0})
    assert runner.request_cost(big, 100, 1000, 2035) > runner.MAX_REQUEST_COST
