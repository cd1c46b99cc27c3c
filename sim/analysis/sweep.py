"""Batch sweeps: a design over levers and uncertainties, many seeds, resumable, local or on Dask.

A sweep file (TOML) names the factors - levers and uncertainties with a range or a
list of values - a design (grid, Latin hypercube, Sobol, Morris; the random designs
come from SALib), the seeds, the horizon, scale and engine, and which outputs to
keep. ``run_sweep`` computes every (design point, seed) run, in batches of
consecutive run ids; each finished batch is one Parquet file written under a
temporary name and renamed into place, so the set of files present *is* the
manifest of completed runs. Re-running the same sweep into the same folder
computes only the batches that are missing.

How a sweep value becomes a scenario: a lever in ``path`` mode (the default for
levers) gets the path ``{2020 = <base scenario's 2020 value>, 2025 = <value>}`` -
linear in between, flat after 2025; in ``constant`` mode (the default for
uncertainties and switch-like integer levers) it takes the value in every year,
2020 included. Every other lever, city override and parameter comes from the base
scenario (the sweep's ``base`` file, or the 2020-policy baseline).

The numbers depend only on the design, the seeds and the settings, never on the
backend: one process, a local process pool or a Dask cluster give the same rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import itertools
import json
import math
import os
import platform
import queue
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath

import numpy as np
import pandas as pd

import sim
from sim.inputs.files import atomic_write_bytes, atomic_write_text, read_toml
from sim.inputs.levers import LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever, Path, ScenarioError
from sim.inputs.scenario import Scenario, baseline, load_scenario

DESIGNS = ("grid", "lhs", "sobol", "morris")
MODES = ("path", "constant")
RESULT_COLUMNS = ["run_id", "point", "seed", "year", "indicator", "value"]
PATH_END_YEAR = 2025
RESULTS_DIR = "results"
_PART = re.compile(r"^part-(\d{7})\.parquet$")


class SweepError(ScenarioError):
    """A sweep file, cost file or sweep folder is wrong; the message names the file, key and what is allowed."""


def _fail(source: str, key: str, message: str) -> SweepError:
    return SweepError(f"{source}: {key}: {message}")


# --------------------------------------------------------------------------------------------
# The sweep file


@dataclass(frozen=True)
class Factor:
    """One swept lever or uncertainty.

    Attributes:
        id: Lever or uncertainty id.
        kind: ``lever`` or ``uncertainty``.
        low: Smallest value swept.
        high: Largest value swept.
        values: Explicit values (grid designs only), else empty.
        points: Evenly spaced points from low to high (grid designs with a range).
        mode: ``path`` (the 2025 value of a path from the base's 2020 value) or ``constant``.
        integer: Whether only whole numbers are allowed (values are rounded).
    """

    id: str
    kind: str
    low: float
    high: float
    values: tuple[float, ...] = ()
    points: int = 0
    mode: str = "path"
    integer: bool = False

    def grid_values(self) -> tuple[float, ...]:
        """The values this factor takes in a grid design."""
        if self.values:
            return self.values
        vals = np.linspace(self.low, self.high, self.points)
        if self.integer:
            vals = np.unique(np.round(vals))
        return tuple(float(v) for v in vals)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    name: str
    source: str
    base: Scenario
    base_file: str | None
    design: str
    factors: tuple[Factor, ...]
    seeds: tuple[int, ...]
    samples: int = 0
    design_seed: int = 0
    second_order: bool = False
    levels: int = 4
    horizon: int = 2025
    scale: float = 8000.0
    engine: str = "vector"
    indicators: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    batch_runs: int = 0  # 0: chosen from the size of the sweep
    description: str = ""
    all_indicators: bool = False  # outputs.indicators not given: every modelled indicator

    @property
    def factor_ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def problem(self) -> dict:
        """The SALib problem: names and bounds of the factors."""
        return {"num_vars": len(self.factors), "names": self.factor_ids,
                "bounds": [[f.low, f.high] for f in self.factors]}


_TOP_KEYS = ("name", "description", "base", "design", "samples", "design_seed", "second_order", "levels",
             "seeds", "first_seed", "horizon", "scale", "engine", "batch_runs", "levers", "uncertainties",
             "outputs")
_FACTOR_KEYS = ("range", "values", "points", "as")


def _int(source: str, key: str, raw: object, low: int, high: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _fail(source, key, f"expected a whole number, got {type(raw).__name__} {raw!r}")
    if raw < low or (high is not None and raw > high):
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise _fail(source, key, f"{raw} is out of range; allowed: a whole number {allowed}")
    return raw


def _num(source: str, key: str, raw: object, spec: Lever) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _fail(source, key, f"expected {spec.allowed()}, got {type(raw).__name__} {raw!r}")
    value = float(raw)
    if not math.isfinite(value) or not spec.low <= value <= spec.high:
        raise _fail(source, key, f"{raw!r} is out of range; allowed: {spec.allowed()}")
    if spec.integer and value != round(value):
        raise _fail(source, key, f"{raw!r} is not allowed; allowed: {spec.allowed()}")
    return value


def _parse_factor(source: str, key: str, raw: object, spec: Lever, kind: str, design: str) -> Factor:
    if isinstance(raw, list):
        raw = {"values": raw}
    if not isinstance(raw, Mapping):
        raise _fail(source, key, "expected a table { range = [low, high] } or { values = [...] }, "
                                 "or a list of values")
    for k in raw:
        if k not in _FACTOR_KEYS:
            raise _fail(source, f"{key}.{k}", f"unknown key; allowed: {', '.join(_FACTOR_KEYS)}")
    default_mode = "constant" if (kind == "uncertainty" or spec.integer) else "path"
    mode = raw.get("as", default_mode)
    if mode not in MODES:
        raise _fail(source, f"{key}.as", f"{mode!r} is not allowed; allowed: {', '.join(MODES)}")
    has_range, has_values = "range" in raw, "values" in raw
    if has_range == has_values:
        raise _fail(source, key, "give exactly one of range = [low, high] or values = [...]")
    if has_values:
        vals = raw["values"]
        if design != "grid":
            raise _fail(source, f"{key}.values", f"a list of values is for design = \"grid\"; "
                                                 f"design {design!r} needs range = [low, high]")
        if not isinstance(vals, list) or not vals:
            raise _fail(source, f"{key}.values", "expected a non-empty list of numbers")
        values = tuple(sorted({_num(source, f"{key}.values", v, spec) for v in vals}))
        if "points" in raw:
            raise _fail(source, f"{key}.points", "points goes with range, not with values")
        return Factor(spec.id, kind, values[0], values[-1], values=values, mode=mode, integer=spec.integer)
    rng = raw["range"]
    if not isinstance(rng, list) or len(rng) != 2:
        raise _fail(source, f"{key}.range", "expected [low, high], two numbers")
    low, high = (_num(source, f"{key}.range", v, spec) for v in rng)
    if not low < high:
        raise _fail(source, f"{key}.range", f"low {low:g} must be below high {high:g}")
    points = 0
    if design == "grid":
        if "points" not in raw:
            raise _fail(source, f"{key}.points", "a grid over a range needs points = N (2 or more)")
        points = _int(source, f"{key}.points", raw["points"], 2, 1000)
    elif "points" in raw:
        raise _fail(source, f"{key}.points", f"points is for design = \"grid\"; design {design!r} sets the "
                                             "number of points with samples")
    if spec.integer and design == "morris":
        raise _fail(source, key, "an integer (switch-like) lever cannot be in a Morris design; "
                                 "use design = \"grid\" or \"sobol\", or leave it out")
    return Factor(spec.id, kind, low, high, points=points, mode=mode, integer=spec.integer)


def parse_sweep(data: Mapping, source: str = "<sweep>", folder: FilePath | None = None) -> SweepSpec:
    """Validate a sweep mapping (as read from TOML) into a SweepSpec.

    Raises:
        SweepError: naming the source, the key and what is allowed.
    """
    from sim.runs.ensemble import ENGINES
    from sim.outputs.indicators import registry

    for key in data:
        if key not in _TOP_KEYS:
            raise _fail(source, key, f"unknown top-level key; allowed: {', '.join(_TOP_KEYS)}")
    for key in ("name", "description", "base", "design", "engine"):
        if key in data and not isinstance(data[key], str):
            raise _fail(source, key, f"expected text, got {type(data[key]).__name__}")
    design = data.get("design", "grid")
    if design not in DESIGNS:
        raise _fail(source, "design", f"{design!r} is not allowed; allowed: {', '.join(DESIGNS)}")
    base_file = data.get("base")
    if base_file is not None:
        path = FilePath(base_file)
        if not path.is_absolute() and folder is not None:
            path = folder / path
        if not path.is_file():
            raise _fail(source, "base", f"scenario file {str(path)!r} not found (a relative path is read from "
                                        "the sweep file's folder)")
        base = load_scenario(path)
        base_file = str(path)
    else:
        base = baseline()

    factors: list[Factor] = []
    for table, specs, kind in (("levers", LEVERS_BY_ID, "lever"), ("uncertainties", UNCERTAINTIES_BY_ID,
                                                                   "uncertainty")):
        raw = data.get(table, {})
        if not isinstance(raw, Mapping):
            raise _fail(source, table, f"expected tables [{table}.<id>]")
        for fid, fraw in raw.items():
            if fid not in specs:
                raise _fail(source, f"{table}.{fid}", f"unknown {kind}; allowed: {', '.join(specs)}")
            factors.append(_parse_factor(source, f"{table}.{fid}", fraw, specs[fid], kind, design))
    if not factors:
        raise _fail(source, "levers", "no factor to sweep; add [levers.<id>] or [uncertainties.<id>] "
                                      "with range = [low, high] or values = [...]")

    samples = 0
    if design == "grid":
        if "samples" in data:
            raise _fail(source, "samples", "a grid's size comes from each factor's values or points; remove samples")
        size = math.prod(len(f.grid_values()) for f in factors)
        if size > 10_000_000:
            raise _fail(source, "levers", f"the grid has {size} points; allowed: at most 10000000")
    else:
        if "samples" not in data:
            what = {"lhs": "the number of points", "sobol": "N, a power of two (points = N x (factors + 2))",
                    "morris": "the number of trajectories (points = N x (factors + 1))"}[design]
            raise _fail(source, "samples", f"design {design!r} needs samples = {what}")
        samples = _int(source, "samples", data["samples"], 2 if design != "lhs" else 1, 10_000_000)
        if design == "sobol" and samples & (samples - 1):
            raise _fail(source, "samples", f"{samples} is not allowed; a Sobol design needs a power of two "
                                           "(e.g. 64, 128, 256)")
    second_order = data.get("second_order", False)
    if not isinstance(second_order, bool):
        raise _fail(source, "second_order", "expected true or false")
    if "second_order" in data and design != "sobol":
        raise _fail(source, "second_order", "second_order is for design = \"sobol\"")
    levels = _int(source, "levels", data.get("levels", 4), 2, 100)
    if "levels" in data and design != "morris":
        raise _fail(source, "levels", "levels is for design = \"morris\"")
    design_seed = _int(source, "design_seed", data.get("design_seed", 0), 0)
    n_seeds = _int(source, "seeds", data.get("seeds", 1), 1, 100_000)
    first_seed = _int(source, "first_seed", data.get("first_seed", 0), 0)
    horizon = _int(source, "horizon", data.get("horizon", 2025), 2021, 2035)
    scale_raw = data.get("scale", 8000)
    if isinstance(scale_raw, bool) or not isinstance(scale_raw, (int, float)) or not scale_raw >= 1 \
            or not math.isfinite(scale_raw):
        raise _fail(source, "scale", f"{scale_raw!r} is not allowed; allowed: a number of at least 1 "
                                     "(real entities per simulated entity)")
    engine = data.get("engine", "vector")
    if engine not in ENGINES:
        raise _fail(source, "engine", f"{engine!r} is not allowed; allowed: {', '.join(sorted(ENGINES))}")
    batch_runs = _int(source, "batch_runs", data["batch_runs"], 1, 100_000) if "batch_runs" in data else 0

    outputs = data.get("outputs", {})
    if not isinstance(outputs, Mapping):
        raise _fail(source, "outputs", "expected a table [outputs] with indicators = [...] and years = [...]")
    for key in outputs:
        if key not in ("indicators", "years"):
            raise _fail(source, f"outputs.{key}", "unknown key; allowed: indicators, years")
    modelled = [ind.id for ind in registry() if ind.modelled]
    known = {ind.id for ind in registry()}
    indicators = outputs.get("indicators", modelled)
    if not isinstance(indicators, list) or not indicators or not all(isinstance(i, str) for i in indicators):
        raise _fail(source, "outputs.indicators", "expected a non-empty list of indicator ids")
    for iid in indicators:
        if iid not in modelled:
            why = "is not modelled yet" if iid in known else "is not an indicator"
            raise _fail(source, "outputs.indicators", f"{iid!r} {why}; allowed: {', '.join(modelled)}")
    years = outputs.get("years", list(range(2020, horizon + 1)))
    if not isinstance(years, list) or not years:
        raise _fail(source, "outputs.years", "expected a non-empty list of years")
    for y in years:
        _int(source, "outputs.years", y, 2020, horizon)
    name = data.get("name") or (FilePath(source).stem if source.endswith(".toml") else "sweep")
    return SweepSpec(name=name, source=source, base=base, base_file=base_file, design=design,
                     factors=tuple(factors), seeds=tuple(range(first_seed, first_seed + n_seeds)),
                     samples=samples, design_seed=design_seed, second_order=second_order, levels=levels,
                     horizon=horizon, scale=float(scale_raw), engine=engine,
                     indicators=tuple(dict.fromkeys(indicators)), years=tuple(sorted(set(years))),
                     batch_runs=batch_runs, description=data.get("description", ""),
                     all_indicators="indicators" not in outputs)


def load_sweep(path: str | FilePath) -> SweepSpec:
    """Read and validate a sweep TOML file.

    Raises:
        SweepError: if the file is missing, not TOML or invalid (one line naming file, key, what is allowed).
    """
    return parse_sweep(read_toml(path, "sweep", SweepError), str(path), FilePath(path).resolve().parent)


# --------------------------------------------------------------------------------------------
# Designs


def sample(design: str, bounds: Sequence[Sequence[float]], samples: int = 0, seed: int = 0,
           second_order: bool = False, levels: int = 4, names: Sequence[str] | None = None,
           grid: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """A design matrix (points x factors) from SALib (lhs, sobol, morris) or a full grid.

    Args:
        design: grid, lhs, sobol or morris.
        bounds: [low, high] per factor.
        samples: lhs: points; sobol: N (power of two); morris: trajectories.
        seed: Seed of the random designs.
        second_order: Sobol: also the cross-sample rows for second-order indices.
        levels: Morris: grid levels.
        names: Factor names (for SALib's problem).
        grid: For a grid: the values of each factor (product in factor order).
    """
    names = list(names or [f"x{i + 1}" for i in range(len(bounds))])
    problem = {"num_vars": len(bounds), "names": names, "bounds": [list(map(float, b)) for b in bounds]}
    if design == "grid":
        return np.array(list(itertools.product(*grid)), dtype=float).reshape(-1, len(bounds))
    if design == "lhs":
        from SALib.sample import latin
        return latin.sample(problem, samples, seed=seed)
    if design == "sobol":
        from SALib.sample import sobol
        return sobol.sample(problem, samples, calc_second_order=second_order, scramble=True, seed=seed)
    if design == "morris":
        from SALib.sample import morris
        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown design {design!r}; allowed: {', '.join(DESIGNS)}")


def design_table(spec: SweepSpec) -> pd.DataFrame:
    """The design: one row per point (``point``, then one column per factor)."""
    x = sample(spec.design, [[f.low, f.high] for f in spec.factors], spec.samples, spec.design_seed,
               spec.second_order, spec.levels, spec.factor_ids, [f.grid_values() for f in spec.factors])
    table = pd.DataFrame(x, columns=spec.factor_ids)
    for f in spec.factors:
        if f.integer:
            table[f.id] = table[f.id].round().astype("int64")
    table.insert(0, "point", np.arange(len(table), dtype="int64"))
    return table


def _path_for(factor: Factor, base: Scenario, value: float) -> Path:
    if factor.mode == "constant":
        return Path.constant(value)
    source = base.levers[factor.id] if factor.kind == "lever" else base.uncertainties[factor.id]
    return Path(((2020, source.at(2020)), (PATH_END_YEAR, float(value))))


def point_scenario(base: Scenario, factors: Sequence[Factor], values: Mapping[str, float],
                   name: str | None = None) -> Scenario:
    """The base scenario with each factor set to its value (a path to 2025, or a constant)."""
    levers, uncertainties = dict(base.levers), dict(base.uncertainties)
    for f in factors:
        target = levers if f.kind == "lever" else uncertainties
        target[f.id] = _path_for(f, base, values[f.id])
    return dataclasses.replace(base, name=name or base.name, levers=levers, uncertainties=uncertainties)


# --------------------------------------------------------------------------------------------
# Runs and batches


def run_rows(scenario: Scenario, seed: int, scale: float, horizon: int, engine: str,
             indicators: Iterable[str] | None = None, years: Iterable[int] | None = None) -> pd.DataFrame:
    """One run as tidy rows (seed, year, indicator, value), kept to the given indicators and years."""
    from sim.runs.ensemble import run_seed

    tidy = run_seed(scenario, seed, scale=scale, horizon=horizon, engine=engine)
    if indicators is not None:
        tidy = tidy[tidy["indicator"].isin(list(indicators))]
    if years is not None:
        tidy = tidy[tidy["year"].isin(list(years))]
    return tidy.drop(columns="scenario")


@dataclass(frozen=True)
class Batch:
    """Consecutive runs of a sweep; what a worker computes in one task."""

    index: int
    runs: tuple[tuple[int, int, int], ...]  # (run_id, point, seed)
    values: Mapping[int, Mapping[str, float]]  # point -> factor values
    base: Scenario
    factors: tuple[Factor, ...]
    scale: float
    horizon: int
    engine: str
    indicators: tuple[str, ...]
    years: tuple[int, ...]


def run_batch(batch: Batch) -> pd.DataFrame:
    """Compute every run of a batch: tidy rows run_id, point, seed, year, indicator, value."""
    frames = []
    scenarios: dict[int, Scenario] = {}
    for run_id, point, seed in batch.runs:
        if point not in scenarios:
            scenarios[point] = point_scenario(batch.base, batch.factors, batch.values[point], f"p{point}")
        try:
            rows = run_rows(scenarios[point], seed, batch.scale, batch.horizon, batch.engine,
                            batch.indicators, batch.years)
        except Exception as err:  # say which run failed; the sweep stops, finished batches stay
            raise RuntimeError(f"run {run_id} (design point {point}, seed {seed}) failed: "
                               f"{type(err).__name__}: {err}") from err
        rows.insert(0, "point", point)
        rows.insert(0, "run_id", run_id)
        frames.append(rows)
    out = pd.concat(frames, ignore_index=True)
    out = out.astype({"run_id": "int64", "point": "int64", "seed": "int64", "year": "int64", "value": "float64"})
    return out[RESULT_COLUMNS]


def default_batch_runs(n_runs: int) -> int:
    """Runs per batch (and per file) when the sweep file does not say: about 64 files, 1 to 64 runs each."""
    return max(1, min(64, math.ceil(n_runs / 64)))


@dataclass(frozen=True)
class Layout:
    """How a sweep's runs are numbered and batched (fixed by the sweep file, not by the backend)."""

    n_points: int
    seeds: tuple[int, ...]
    batch_runs: int

    @property
    def n_runs(self) -> int:
        return self.n_points * len(self.seeds)

    @property
    def n_batches(self) -> int:
        return math.ceil(self.n_runs / self.batch_runs)

    def runs(self, batch: int) -> tuple[tuple[int, int, int], ...]:
        """(run_id, point, seed) of a batch; run_id = point x seeds + seed index."""
        first = batch * self.batch_runs
        last = min(self.n_runs, first + self.batch_runs)
        s = len(self.seeds)
        return tuple((r, r // s, self.seeds[r % s]) for r in range(first, last))


def layout(spec: SweepSpec, n_points: int) -> Layout:
    n_runs = n_points * len(spec.seeds)
    return Layout(n_points, spec.seeds, spec.batch_runs or default_batch_runs(n_runs))


def make_batch(spec: SweepSpec, design: pd.DataFrame, lay: Layout, index: int) -> Batch:
    runs = lay.runs(index)
    points = sorted({p for _, p, _ in runs})
    values = {p: {f.id: float(design.at[p, f.id]) for f in spec.factors} for p in points}
    return Batch(index, runs, values, spec.base, spec.factors, spec.scale, spec.horizon, spec.engine,
                 spec.indicators, spec.years)


# --------------------------------------------------------------------------------------------
# Backends: serial, a local process pool, a Dask cluster


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Backend:
    """Where tasks run: in this process, a local process pool, or a Dask cluster.

    Use as a context manager; ``imap_unordered`` yields (index, result) as tasks finish,
    keeping at most a few tasks per worker in flight so huge sweeps stay small in memory.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None):
        if scheduler and dask_local:
            raise ValueError("give either a Dask scheduler address or a local Dask cluster size, not both")
        self.workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self.dask_local = dask_local
        self._pool = None
        self._client = None
        self._cluster = None

    @property
    def kind(self) -> str:
        if self.scheduler:
            return "dask"
        if self.dask_local:
            return "dask-local"
        return "serial" if self.workers <= 1 else "pool"

    def describe(self) -> str:
        return {"serial": "this process", "pool": f"a local pool of {self.workers} processes",
                "dask": f"the Dask scheduler at {self.scheduler}",
                "dask-local": f"a local Dask cluster of {self.dask_local} worker processes"}[self.kind]

    def __enter__(self) -> Backend:
        kind = self.kind
        if kind == "pool":
            from sim.runs.ensemble import pool_context, quiet_fork

            with quiet_fork():
                self._pool = pool_context("sim.analysis.sweep").Pool(self.workers, initializer=_ignore_sigint)
        elif kind in ("dask", "dask-local"):
            from dask.distributed import Client, LocalCluster

            if kind == "dask-local":
                import logging

                self._cluster = LocalCluster(n_workers=self.dask_local, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.scheduler, timeout="15s")
                except (OSError, TimeoutError) as err:
                    raise SweepError(f"--scheduler {self.scheduler}: cannot connect to a Dask scheduler "
                                     f"({err}); give an address like tcp://host:8786") from None
        return self

    def slots(self) -> int:
        """Tasks that can run at once."""
        if self._client is not None:
            n = sum(self._client.nthreads().values())
            return max(1, n)
        return self.workers if self._pool is not None else 1

    def imap_unordered(self, fn: Callable, jobs: Iterable, window: int | None = None) -> Iterator[tuple[int, object]]:
        """Run ``fn`` on each job; yield (job index, result) as results arrive."""
        if self._pool is None and self._client is None:
            for i, job in enumerate(jobs):
                yield i, fn(job)
            return
        window = window or 2 * self.slots()
        if self._pool is not None:
            yield from self._pool_imap(fn, jobs, window)
        else:
            yield from self._dask_imap(fn, jobs, window)

    def _pool_imap(self, fn, jobs, window):
        done: queue.Queue = queue.Queue()
        it = enumerate(jobs)
        in_flight = 0

        def submit() -> bool:
            nonlocal in_flight
            try:
                i, job = next(it)
            except StopIteration:
                return False
            self._pool.apply_async(fn, (job,), callback=lambda r, i=i: done.put((i, r, None)),
                                   error_callback=lambda e, i=i: done.put((i, None, e)))
            in_flight += 1
            return True

        while in_flight < window and submit():
            pass
        while in_flight:
            i, result, error = done.get()
            in_flight -= 1
            if error is not None:
                raise error
            yield i, result
            while in_flight < window and submit():
                pass

    def _dask_imap(self, fn, jobs, window):
        from dask.distributed import as_completed

        it = enumerate(jobs)
        index = {}
        ac = as_completed()
        for i, job in itertools.islice(it, window):
            fut = self._client.submit(fn, job, pure=False)
            index[fut.key] = i
            ac.add(fut)
        for fut in ac:
            i = index.pop(fut.key)
            result = fut.result()  # raises the task's error here
            fut.release()
            yield i, result
            nxt = next(it, None)
            if nxt is not None:
                new = self._client.submit(fn, nxt[1], pure=False)
                index[new.key] = nxt[0]
                ac.add(new)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            if exc_type is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


# --------------------------------------------------------------------------------------------
# The sweep folder: design, metadata, one Parquet file per finished batch


_atomic_bytes = atomic_write_bytes
_atomic_text = atomic_write_text


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj).__name__)


def _scenario_changes(scenario: Scenario) -> dict:
    """What a scenario's policy sets away from the declared 2020 values (levers added to the code
    later, at their 2020 values, do not change it)."""
    def changed(paths: Mapping[str, Path], specs: Mapping[str, Lever]) -> dict:
        return {k: [list(p) for p in v.points] for k, v in paths.items()
                if k not in specs or v != Path.constant(specs[k].value_2020)}

    return {"levers": changed(scenario.levers, LEVERS_BY_ID),
            "city_levers": {c: {k: [list(p) for p in v.points] for k, v in d.items()}
                            for c, d in scenario.city_levers.items() if d},
            "uncertainties": changed(scenario.uncertainties, UNCERTAINTIES_BY_ID)}


def _git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=FilePath(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def fingerprint_parts(spec: SweepSpec, design: pd.DataFrame, lay: Layout) -> dict[str, str]:
    """What makes two sweeps the same, each part hashed (so a mismatch can say what differs)."""
    base = _scenario_changes(spec.base)
    parts = {
        "design": design.to_json(orient="split", double_precision=15),
        "factor modes": [[f.id, f.kind, f.mode] for f in spec.factors],
        "seeds": list(spec.seeds),
        "horizon": spec.horizon,
        "scale": spec.scale,
        "engine": spec.engine,
        "indicators": "every modelled indicator" if spec.all_indicators else list(spec.indicators),
        "years": list(spec.years),
        "batch_runs": lay.batch_runs,
        "base scenario": base,
        # every parameter value the model runs with (a recalibration changes the numbers)
        "model parameters": dataclasses.asdict(spec.base.parameters),
    }
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True, default=_json_default).encode()).hexdigest()[:16]
            for k, v in parts.items()}


def completed_batches(out: str | FilePath) -> set[int]:
    """Batches with a finished results file: the sweep's manifest, read from the files present."""
    folder = FilePath(out) / RESULTS_DIR
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for name in os.listdir(folder) if (m := _PART.match(name))}


def part_path(out: FilePath, batch: int) -> FilePath:
    return out / RESULTS_DIR / f"part-{batch:07d}.parquet"


def _write_part(out: FilePath, batch: int, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    _atomic_bytes(part_path(out, batch), lambda tmp: pq.write_table(table, tmp))


@dataclass
class SweepReport:
    """What ``run_sweep`` did."""

    out: str
    n_points: int
    n_runs: int
    runs_before: int
    runs_computed: int
    seconds: float
    backend: str

    @property
    def complete(self) -> bool:
        return self.runs_before + self.runs_computed == self.n_runs

    @property
    def runs_per_second(self) -> float:
        return self.runs_computed / self.seconds if self.seconds > 0 else float("nan")


class _FolderLock:
    def __init__(self, out: FilePath):
        self.path = out / ".lock"
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise SweepError(f"--out {self.path.parent}: another sweep is writing to this folder; "
                             "wait for it or give another folder") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _plan_folder(spec: SweepSpec, out: FilePath) -> tuple[pd.DataFrame, Layout, dict, str, bool, dict | None]:
    """The design and layout, checked against what the folder already holds (reads JSON only).

    Returns:
        (design, layout, fingerprint parts, fingerprint, whether the folder already holds this sweep,
        its sweep.json if so).
    """
    design = design_table(spec)
    lay = layout(spec, len(design))
    parts = fingerprint_parts(spec, design, lay)
    fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    meta_path = out / "sweep.json"
    if meta_path.exists():
        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SweepError(f"--out {out}: sweep.json is unreadable; give a new folder") from None
        if old.get("fingerprint") != fingerprint:
            differ = [k for k, v in parts.items() if old.get("fingerprint_parts", {}).get(k) != v]
            raise SweepError(f"--out {out}: holds results of a different sweep (differs in: "
                             f"{', '.join(differ) or 'everything'}); give a new folder or delete this one")
        return design, lay, parts, fingerprint, True, old
    if completed_batches(out):
        raise SweepError(f"--out {out}: has results but no sweep.json; give a new folder or delete this one")
    return design, lay, parts, fingerprint, False, None


def _write_folder(spec: SweepSpec, out: FilePath, design: pd.DataFrame, lay: Layout, parts: dict,
                  fingerprint: str, command: str) -> None:
    """Write the design table, a copy of the sweep file and sweep.json (each atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    _atomic_bytes(out / "design.parquet",
                  lambda tmp: pq.write_table(pa.Table.from_pandas(design, preserve_index=False), tmp))
    _atomic_text(out / "design.csv", design.to_csv(index=False, float_format="%.12g"))
    try:
        _atomic_text(out / "sweep.toml", FilePath(spec.source).read_text(encoding="utf-8"))
    except OSError:
        pass
    meta = {
        "name": spec.name, "description": spec.description, "source": spec.source, "base": spec.base_file,
        "design": spec.design, "samples": spec.samples, "design_seed": spec.design_seed,
        "second_order": spec.second_order, "levels": spec.levels,
        "factors": [dataclasses.asdict(f) for f in spec.factors],
        "seeds": list(spec.seeds), "horizon": spec.horizon, "scale": spec.scale, "engine": spec.engine,
        "indicators": "every modelled indicator" if spec.all_indicators else list(spec.indicators), "years": list(spec.years),
        "n_points": lay.n_points, "n_runs": lay.n_runs, "batch_runs": lay.batch_runs, "n_batches": lay.n_batches,
        "run_id": "point * len(seeds) + index of the seed; seed = seeds[run_id % len(seeds)]",
        "fingerprint": fingerprint, "fingerprint_parts": parts,
        "base_scenario": spec.base.to_dict(),
        "package_version": sim.__version__, "git_commit": _git_commit(), "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command,
    }
    # sweep.json last: a folder with sweep.json has its design
    _atomic_text(out / "sweep.json", json.dumps(meta, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def prepare_folder(spec: SweepSpec, out: str | FilePath, command: str = "") -> tuple[pd.DataFrame, Layout]:
    """Create or check the sweep folder: design table and metadata; refuse a folder of another sweep."""
    out = FilePath(out)
    out.mkdir(parents=True, exist_ok=True)
    design, lay, parts, fingerprint, exists, _ = _plan_folder(spec, out)
    if not exists:
        _write_folder(spec, out, design, lay, parts, fingerprint, command)
    return design, lay


def run_sweep(spec: SweepSpec, out: str | FilePath, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, progress: bool = True, max_batches: int | None = None,
              command: str = "", log: Callable[[str], None] | None = None,
              backend: Backend | None = None) -> SweepReport:
    """Compute the sweep's missing runs into ``out``; finished batches are never recomputed.

    Args:
        spec: The validated sweep.
        out: Sweep folder (created; re-use it to resume).
        workers: Local pool processes (1: this process). Ignored with a Dask backend.
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``).
        dask_local: Start a local Dask cluster of this many worker processes.
        progress: Show a progress bar with time left on stderr.
        max_batches: Stop after this many batches (a partial sweep, e.g. to spread it over sessions).
        command: The command line, recorded in sweep.json.
        log: Where to say what is happening (stderr by default when progress is on).
        backend: An already started Backend to use (then workers, scheduler and dask_local are ignored).

    Returns:
        Counts and timing of what was done.
    """
    out = FilePath(out)
    out.mkdir(parents=True, exist_ok=True)
    say = log or ((lambda line: print(line, file=sys.stderr, flush=True)) if progress else (lambda line: None))
    own = backend is None
    backend = backend or Backend(workers, scheduler, dask_local)
    with _FolderLock(out):
        design, lay, parts, fingerprint, exists, old = _plan_folder(spec, out)
        done = completed_batches(out)
        done_runs = sum(len(lay.runs(b)) for b in done if b < lay.n_batches)
        missing = [b for b in range(lay.n_batches) if b not in done]
        if max_batches is not None:
            missing = missing[:max_batches]
        if old and missing and done and old.get("git_commit") and old.get("git_commit") != _git_commit():
            say(f"note: this sweep was started at commit {old['git_commit'][:10]}, the code is now at "
                f"{(_git_commit() or 'unknown')[:10]}; if the model changed, its runs mix two versions")
        if exists and not missing:
            say(f"{spec.name}: all {lay.n_runs} runs are done in {out}")
            return SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, 0, 0.0, backend.describe())
        with backend if own else contextlib.nullcontext():
            # workers start before this process writes Parquet (Arrow's threads) or shows the progress bar:
            # a local pool then forks a single-threaded process
            if not exists:
                _write_folder(spec, out, design, lay, parts, fingerprint, command)
            for name in os.listdir(out / RESULTS_DIR):  # leftovers of an interrupted write: never results
                if name.startswith(".tmp-"):
                    (out / RESULTS_DIR / name).unlink(missing_ok=True)
            started = time.perf_counter()
            computed = 0
            if not missing:
                return SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, 0, 0.0, backend.describe())
            say(f"{spec.name}: {lay.n_points} design points x {len(spec.seeds)} seeds = {lay.n_runs} runs; "
                f"{done_runs} done before, {sum(len(lay.runs(b)) for b in missing)} to run on "
                f"{backend.describe()}")
            from tqdm import tqdm

            bar = tqdm(total=lay.n_runs, initial=done_runs, unit="run", disable=not progress, file=sys.stderr,
                       desc=spec.name, dynamic_ncols=True)
            try:
                jobs = (make_batch(spec, design, lay, b) for b in missing)
                for i, frame in backend.imap_unordered(run_batch, jobs):
                    _write_part(out, missing[i], frame)
                    n = len(lay.runs(missing[i]))
                    computed += n
                    bar.update(n)
            finally:
                bar.close()
            seconds = time.perf_counter() - started
    report = SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, computed, seconds, backend.describe())
    if report.complete:
        say(f"{spec.name}: complete, {lay.n_runs} runs in {out / RESULTS_DIR} "
            f"({computed} computed now in {seconds:.1f}s, {report.runs_per_second:.1f} runs/s)")
    return report


def load_design(out: str | FilePath) -> pd.DataFrame:
    """The design table of a sweep folder."""
    return pd.read_parquet(FilePath(out) / "design.parquet")


def load_meta(out: str | FilePath) -> dict:
    """sweep.json of a sweep folder."""
    return json.loads((FilePath(out) / "sweep.json").read_text(encoding="utf-8"))


def load_results(out: str | FilePath) -> pd.DataFrame:
    """Every finished run's rows (run_id, point, seed, year, indicator, value), sorted by run_id.

    Only complete files are read: a file is renamed into place after it is fully written,
    and temporary files (dot-named) are never matched.
    """
    out = FilePath(out)
    batches = sorted(completed_batches(out))
    if not batches:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else
                                          ("object" if c == "indicator" else "int64")) for c in RESULT_COLUMNS})
    frames = [pd.read_parquet(part_path(out, b)) for b in batches]
    return pd.concat(frames, ignore_index=True).sort_values(["run_id", "year", "indicator"],
                                                            kind="stable", ignore_index=True)


def ensure_complete(out: str | FilePath) -> None:
    """Raise SweepError unless every run of the sweep in ``out`` is there."""
    meta = load_meta(out)
    done = completed_batches(out)
    missing = meta["n_batches"] - len([b for b in done if b < meta["n_batches"]])
    if missing:
        raise SweepError(f"--out {out}: the sweep is incomplete ({missing} of {meta['n_batches']} batches "
                         "missing); run the sweep command again to finish it")


# --------------------------------------------------------------------------------------------
# In-memory evaluation (target search): a point's runs over seeds, on any backend


def evaluate(backend: Backend, scenarios: Sequence[Scenario], seeds: Sequence[int], scale: float, horizon: int,
             engine: str, indicators: Sequence[str], years: Sequence[int]) -> list[pd.DataFrame]:
    """Tidy rows (seed, year, indicator, value) for each scenario over the seeds, in scenario order."""
    jobs = [(k, s) for k in range(len(scenarios)) for s in seeds]
    frames: dict[int, pd.DataFrame] = {}
    tasks = ((scenarios[k], s, scale, horizon, engine, tuple(indicators), tuple(years)) for k, s in jobs)
    for i, frame in backend.imap_unordered(_run_rows_args, tasks):
        frames[i] = frame
    out = []
    for k in range(len(scenarios)):
        parts = [frames[i] for i, (kk, _) in enumerate(jobs) if kk == k]
        out.append(pd.concat(parts, ignore_index=True).sort_values(["seed", "year", "indicator"],
                                                                   ignore_index=True))
    return out


def _run_rows_args(args: tuple) -> pd.DataFrame:
    return run_rows(*args)
