"""The app's runs: one seed at a time, cached, with stocks by kind and by city beside the indicators.

Each seed is one run of :func:`sim.runs.runner.run` with ``extras``: the indicator rows
:func:`sim.runs.ensemble.run_seed` gives (a test holds them equal) plus the ``record.*`` and
``city.*`` rows the app's charts need (see :mod:`sim.runs.runner`).

Results are cached per seed, keyed by the scenario's run key (its TOML without the name),
scale, horizon and engine: raising the seed count runs only the new seeds, and scenarios
compared on the same seeds share nothing but the seeds (common random numbers). Seeds run on
the app's worker pool (:class:`sim.runs.pools.WarmPool`: processes started from a clean fork
server, not forks of Streamlit's multi-threaded server, replaced if it breaks), or one after
another in the app's process when it has none.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import pandas as pd

from sim.inputs.scenario import Scenario
from sim.outputs.indicators import by_id
from sim.runs.pools import Backend, InProcess, as_backend
from sim.runs.runner import CITY_PREFIX, CHART_FIELDS, RECORD_PREFIX, Job, run, run_seed  # noqa: F401
from sim.ui.scheduler import FairScheduler, session_id

ENGINE = "vector"
MAX_REQUEST_COST = 15_000_000  # simulated entity-years in one request: 100 seeds at scale 1000 to 2035

Key = tuple[str, float, int, str, int, str]  # scenario key, scale, horizon, engine, seed, parameters


def run_seed_rows(scenario: Scenario, seed: int, scale: float, horizon: int, engine: str = ENGINE) -> pd.DataFrame:
    """One seed's tidy rows: every modelled indicator, then ``record.*`` and ``city.*`` rows."""
    return run_seed(scenario, seed, scale, horizon, engine, extras=True)


class SeedCache:
    """A thread-safe least-recently-used store of one seed's rows (shared by the app's sessions)."""

    def __init__(self, max_entries: int = 4000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Key, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> pd.DataFrame | None:
        with self._lock:
            frame = self._data.get(key)
            if frame is not None:
                self._data.move_to_end(key)
            return frame

    def put(self, key: Key, frame: pd.DataFrame) -> None:
        with self._lock:
            self._data[key] = frame
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __contains__(self, key: Key) -> bool:
        with self._lock:
            return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass(frozen=True)
class Request:
    """An ensemble to show: a scenario (by run key) under a display name."""

    key: str
    name: str


def seed_keys(key: str, seeds: Sequence[int], scale: float, horizon: int, engine: str = ENGINE,
              parameters: str = "posterior") -> list[Key]:
    """Cache keys of each seed of an ensemble (``parameters``: posterior draws or the point fit)."""
    return [(key, float(scale), int(horizon), engine, int(s), parameters) for s in seeds]


def missing(cache: SeedCache, requests: Sequence[Request], seeds: Sequence[int], scale: float, horizon: int,
            engine: str = ENGINE, parameters: str = "posterior") -> list[Key]:
    """Seed runs not in the cache yet, without duplicates, in request order."""
    out: dict[Key, None] = {}
    for req in requests:
        for k in seed_keys(req.key, seeds, scale, horizon, engine, parameters):
            if k not in cache:
                out[k] = None
    return list(out)


def compute(cache: SeedCache, keys: Sequence[Key], build: Callable[[str], Scenario],
            progress: Callable[[int, int, float], None] | None = None,
            executor: Backend | Executor | None = None, scheduler: FairScheduler | None = None) -> None:
    """Run the given seed runs and store each as it finishes; ``progress(done, total, seconds_left)``
    after each. With ``scheduler`` (the app's server) the runs are this session's ticket on the
    shared pool, served in turn with other sessions' and cancelled if this session stops waiting
    (it reran, or its page closed); with ``executor`` they go to its processes; else here."""
    started = time.perf_counter()
    scenarios = {k[0]: build(k[0]) for k in keys}
    jobs = [Job(scenarios[key], seed, scale, horizon, engine, extras=True, parameters=parameters)
            for key, scale, horizon, engine, seed, parameters in keys]
    if scheduler is not None:
        ticket = scheduler.submit(session_id(), jobs, on_result=lambda i, frame: cache.put(keys[i], frame))
        finished = ticket.wait()
    else:
        ticket = None
        backend = as_backend(executor) if len(jobs) > 1 else InProcess()
        finished = backend.imap_unordered(run, jobs)
    try:
        for done, (i, frame) in enumerate(finished, 1):
            cache.put(keys[i], frame)
            if progress:
                elapsed = time.perf_counter() - started
                progress(done, len(keys), elapsed / done * (len(keys) - done))
    finally:
        if ticket is not None:
            scheduler.cancel(ticket)  # nothing left when all finished; else this session's queued runs


def request_cost(scenario: Scenario, seeds: int, scale: float, horizon: int) -> float:
    """What a request asks of the server: simulated entity-years, seeds x the 2020 register over the
    scale x the years simulated."""
    return seeds * scenario.parameters.entities_2020 * 1e4 / scale * (horizon - 2020)


def ensemble(cache: SeedCache, request: Request, seeds: Sequence[int], scale: float, horizon: int,
             build: Callable[[str], Scenario], engine: str = ENGINE, parameters: str = "posterior") -> pd.DataFrame:
    """Tidy rows of every seed, named ``request.name`` (seeds missing from the cache are run)."""
    keys = seed_keys(request.key, seeds, scale, horizon, engine, parameters)
    frames = []
    for k in keys:
        frame = cache.get(k)
        if frame is None:
            compute(cache, [k], build)
            frame = cache.get(k)
        frames.append(frame)
    tidy = pd.concat(frames, ignore_index=True)
    tidy["scenario"] = request.name
    return tidy


def indicators_only(tidy: pd.DataFrame) -> pd.DataFrame:
    """The rows of registry indicators (what ``python -m sim run`` writes to indicators.csv)."""
    return tidy[tidy["indicator"].isin(by_id())].reset_index(drop=True)
