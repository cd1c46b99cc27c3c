"""The app's runs: one seed at a time, cached, with stocks by kind and by city beside the indicators.

A run gives the same indicator rows as :func:`sim.runs.ensemble.run_seed` (a test holds them
equal) plus rows the app's charts need that are not indicators:

- ``record.<field>``: yearly record fields such as ``registered_company`` (in 10k, like
  the indicators of counts);
- ``city.<City>``: registered entities by city at year end (10k), where the engine keeps
  entities in arrays (the vector engine).

Results are cached per seed, keyed by the scenario's run key (its TOML without the name),
scale, horizon and engine: raising the seed count runs only the new seeds, and scenarios
compared on the same seeds share nothing but the seeds (common random numbers). Seeds run on
the app's worker pool (:func:`sim.runs.ensemble.warm_pool`: processes started from a clean fork
server, not forks of Streamlit's multi-threaded server), or one after another in the app's
process when it has none.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.calendar import BASE_YEAR, START_YEAR
from sim.runs.ensemble import ENGINES, TIDY_COLUMNS
from sim.outputs.indicators import by_id, indicator_values
from sim.inputs.levers import CITIES
from sim.inputs.scenario import Scenario
from sim.outputs.records import FLOW, MONTHLY_FIELDS

ENGINE = "vector"
RECORD_PREFIX = "record."
CITY_PREFIX = "city."
# Record fields the charts use beyond the indicators (divided by 1e4: counts in 10k).
RECORD_FIELDS = ("registered_company", "registered_other", "registered_individual", "active",
                 "inspections_random", "violations_detected", "dereg_simplified", "dereg_ordinary",
                 "dereg_compulsory")

Key = tuple[str, float, int, str, int]


def city_stock(model) -> np.ndarray | None:
    """Registered entities (real, weighted) by city now, or None if the engine does not hold arrays."""
    try:
        e = model.e
        return np.bincount(e["city"].astype(np.intp), weights=e["weight"], minlength=len(CITIES))[:len(CITIES)]
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def run_seed_rows(scenario: Scenario, seed: int, scale: float, horizon: int, engine: str = ENGINE) -> pd.DataFrame:
    """One seed's tidy rows: every modelled indicator, then ``record.*`` and ``city.*`` rows."""
    model = ENGINES[engine](scenario, scale=scale, seed=seed, horizon=horizon)
    cities: dict[int, np.ndarray | None] = {BASE_YEAR: city_stock(model)}
    while model.running:
        model.step()
        if model.month_index % 12 == 0:
            cities[START_YEAR + model.month_index // 12 - 1] = city_stock(model)
    rows = []
    for year, record in model.annual_records().items():
        initial = year == BASE_YEAR
        for iid, value in indicator_values(record, initial=initial).items():
            rows.append((scenario.name, seed, year, iid, value))
        for name in RECORD_FIELDS:
            if name in record and not (initial and MONTHLY_FIELDS.get(name) == FLOW):
                rows.append((scenario.name, seed, year, RECORD_PREFIX + name, record[name] / 1e4))
        by_city = cities.get(year)
        if by_city is not None:
            rows += [(scenario.name, seed, year, CITY_PREFIX + c, float(v) / 1e4) for c, v in zip(CITIES, by_city)]
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


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


def seed_keys(key: str, seeds: Sequence[int], scale: float, horizon: int, engine: str = ENGINE) -> list[Key]:
    """Cache keys of each seed of an ensemble."""
    return [(key, float(scale), int(horizon), engine, int(s)) for s in seeds]


def missing(cache: SeedCache, requests: Sequence[Request], seeds: Sequence[int], scale: float, horizon: int,
            engine: str = ENGINE) -> list[Key]:
    """Seed runs not in the cache yet, without duplicates, in request order."""
    out: dict[Key, None] = {}
    for req in requests:
        for k in seed_keys(req.key, seeds, scale, horizon, engine):
            if k not in cache:
                out[k] = None
    return list(out)


def compute(cache: SeedCache, keys: Sequence[Key], build: Callable[[str], Scenario],
            progress: Callable[[int, int, float], None] | None = None, executor: Executor | None = None) -> None:
    """Run the given seed runs and store each as it finishes; ``progress(done, total, seconds_left)``
    after each. With an ``executor`` (the app's worker pool) the runs go to its processes; if the
    pool has broken, the runs not done are made here."""
    started = time.perf_counter()
    scenarios = {k[0]: build(k[0]) for k in keys}
    done = 0

    def finished(k: Key, frame: pd.DataFrame) -> None:
        nonlocal done
        cache.put(k, frame)
        done += 1
        if progress:
            elapsed = time.perf_counter() - started
            progress(done, len(keys), elapsed / done * (len(keys) - done))

    todo = list(keys)
    if executor is not None and len(todo) > 1:
        try:
            futures = {executor.submit(run_seed_rows, scenarios[k[0]], k[4], k[1], k[2], k[3]): k for k in todo}
            for future in as_completed(futures):
                finished(futures[future], future.result())
            return
        except BrokenExecutor:
            todo = [k for k in todo if k not in cache]
    for k in todo:
        key, scale, horizon, engine, seed = k
        finished(k, run_seed_rows(scenarios[key], seed, scale, horizon, engine))


def ensemble(cache: SeedCache, request: Request, seeds: Sequence[int], scale: float, horizon: int,
             build: Callable[[str], Scenario], engine: str = ENGINE) -> pd.DataFrame:
    """Tidy rows of every seed, named ``request.name`` (seeds missing from the cache are run)."""
    keys = seed_keys(request.key, seeds, scale, horizon, engine)
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
