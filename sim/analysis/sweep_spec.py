"""Sweep files: the factors (levers and uncertainties), the design over them, the scenario of a point.

A sweep file (TOML) names the factors - levers and uncertainties with a range or a
list of values - a design (grid, Latin hypercube, Sobol, Morris; the random designs
come from SALib), the seeds, the horizon, scale and engine, and which outputs to
keep. :func:`load_sweep` validates it into a :class:`SweepSpec`; :func:`design_table`
gives its design points; :mod:`sim.analysis.sweep` runs them.

How a sweep value becomes a scenario: a lever in ``path`` mode (the default for
levers) gets the path ``{2020 = <base scenario's 2020 value>, 2025 = <value>}`` -
linear in between, flat after 2025; in ``constant`` mode (the default for
uncertainties and switch-like integer levers) it takes the value in every year,
2020 included. Every other lever, city override and parameter comes from the base
scenario (the sweep's ``base`` file, or the 2020-policy baseline).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath

import numpy as np
import pandas as pd

from sim.inputs.files import read_toml
from sim.inputs.levers import LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever, Path, ScenarioError
from sim.inputs.posterior import MODES as PARAMETER_MODES
from sim.inputs.scenario import Scenario, baseline, load_scenario

DESIGNS = ("grid", "lhs", "sobol", "morris")
MODES = ("path", "constant")
MAX_RUNS = 10_000_000  # runs (design points x seeds) in one sweep
PATH_END_YEAR = 2025


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
    parameters: str = "posterior"  # each seed draws the uncertain parameters, or "point"
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
             "seeds", "first_seed", "horizon", "scale", "engine", "parameters", "batch_runs", "levers",
             "uncertainties", "outputs")
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
    from sim.runs.runner import ENGINES
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

    samples = size = 0  # size: a grid's points
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
    k = len(factors)
    points = _n_points(design, k, samples, second_order, size)
    if design != "grid" and points * k > MAX_SAMPLED_CELLS:
        raise _fail(source, "samples", f"{points} design points x {k} factors = {points * k} values; allowed: at "
                                       f"most {MAX_SAMPLED_CELLS} values in a sampled design (its matrix is held in "
                                       "memory): fewer samples, or a grid, which is produced in slices")
    if points * n_seeds > MAX_RUNS:
        raise _fail(source, "seeds", f"{points} design points x {n_seeds} seeds = {points * n_seeds} runs; allowed: "
                                     f"at most {MAX_RUNS} runs in one sweep (about a month of two cores at the "
                                     "default scale): fewer points or seeds")
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
    parameters = data.get("parameters", "posterior")
    if parameters not in PARAMETER_MODES:
        raise _fail(source, "parameters", f"{parameters!r} is not allowed; allowed: {', '.join(PARAMETER_MODES)} (each seed "
                                          "draws the uncertain parameters, or the point fit for every seed)")
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
                     horizon=horizon, scale=float(scale_raw), engine=engine, parameters=parameters,
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


MAX_SAMPLED_CELLS = 50_000_000  # points x factors of a sampled design (its matrix is held: 400 MB)
DESIGN_CHUNK = 100_000  # design rows produced at a time when the whole design is written or hashed


@dataclass(frozen=True, eq=False)
class Design:
    """A sweep's design points, produced in slices so a large design costs memory per slice.

    A grid's rows come from index arithmetic over the factors' values (no table of the grid is
    held); a sampled design (lhs, sobol, morris) is SALib's matrix, which the sweep file's check
    keeps under :data:`MAX_SAMPLED_CELLS` values.
    """

    factor_ids: tuple[str, ...]
    integer: tuple[bool, ...]
    n_points: int
    grid: tuple[tuple[float, ...], ...] | None = None
    matrix: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Design points ``start`` to ``stop - 1``: ``point``, then one column per factor."""
        stop = min(stop, self.n_points)
        index = np.arange(start, stop, dtype="int64")
        if self.grid is not None:  # row-major order: the last factor varies fastest, as itertools.product
            cols = np.unravel_index(index, [len(g) for g in self.grid])
            x = np.column_stack([np.asarray(g, dtype=float)[c] for g, c in zip(self.grid, cols)])
        else:
            x = self.matrix[start:stop]
        table = pd.DataFrame(x.reshape(len(index), len(self.factor_ids)), columns=list(self.factor_ids))
        for fid, whole in zip(self.factor_ids, self.integer):
            if whole:
                table[fid] = table[fid].round().astype("int64")
        table.insert(0, "point", index)
        return table

    def chunks(self, size: int | None = None):
        """The whole design as consecutive tables of at most ``size`` rows (:data:`DESIGN_CHUNK`)."""
        size = size or DESIGN_CHUNK
        for start in range(0, self.n_points, size):
            yield self.rows(start, start + size)

    def digest(self) -> str:
        """SHA-256 of what fixes the design's values: a grid's factor values, a sampled design's matrix."""
        h = hashlib.sha256(json.dumps([self.factor_ids, self.integer, self.n_points, self.grid]).encode())
        if self.matrix is not None:
            h.update(np.ascontiguousarray(self.matrix, dtype=float).tobytes())
        return h.hexdigest()


def design_points(spec: SweepSpec) -> int:
    """How many design points the sweep has (without producing them)."""
    return _n_points(spec.design, len(spec.factors), spec.samples, spec.second_order,
                     math.prod(len(f.grid_values()) for f in spec.factors))


def _n_points(design: str, k: int, samples: int, second_order: bool, grid_size: int) -> int:
    return {"grid": grid_size, "lhs": samples, "sobol": samples * (2 * k + 2 if second_order else k + 2),
            "morris": samples * (k + 1)}[design]


def design_of(spec: SweepSpec) -> Design:
    """The sweep's design: lazy for a grid, SALib's matrix for a sampled design."""
    ids, integer = tuple(spec.factor_ids), tuple(f.integer for f in spec.factors)
    if spec.design == "grid":
        return Design(ids, integer, design_points(spec), grid=tuple(f.grid_values() for f in spec.factors))
    x = sample(spec.design, [[f.low, f.high] for f in spec.factors], spec.samples, spec.design_seed,
               spec.second_order, spec.levels, spec.factor_ids)
    return Design(ids, integer, len(x), matrix=x)


def design_table(spec: SweepSpec) -> pd.DataFrame:
    """The whole design as one table: one row per point (``point``, then one column per factor)."""
    d = design_of(spec)
    return d.rows(0, d.n_points)


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
