"""Calibration on Zhejiang's history up to 2020: the fit.

The model is started from the end of 2016 (the earliest year-end the history gives totals
for: it has no 2015 total, and none can be derived from its series) with the same
population builder as for 2020, run through the policies of 2016-2020
(``calibration/history_policies.toml``), and its uncertain parameters (:data:`FIT_BOUNDS`)
are fitted with scipy's bounded Nelder-Mead to the patterns of
:mod:`sim.calibration.patterns` (history in :mod:`sim.calibration.history`; the check and
the reports in :mod:`sim.calibration.report`). Every trial uses the same seeds (common
random numbers), so the objective is smooth in the parameters.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from sim.calibration.history import CALIBRATION_DIR, HistoryError, load_history
from sim.calibration.patterns import Demography, Pattern, enterprises_now, fit_table, hazard_by_age, patterns, \
    state_measures
from sim.core.population import InitialStock
from sim.inputs.parameters.declare import priors
from sim.inputs.parameters import FITTED_FILE, PARAMETER_SETS, SET_OF, Parameters, read_fitted, split_by_set
from sim.inputs.levers import LAST_YEAR, Path as LeverPath
from sim.inputs.scenario import Scenario, load_scenario
from sim.runs.bench import BenchResult

HISTORY_POLICIES = CALIBRATION_DIR / "history_policies.toml"

# The start of calibration runs: end of 2016 (history: total 528.9, enterprises 31.9%).
COMPANY_SHARE_2016 = 0.87  # assumption: below the 0.89 assumed for 2020

# Uncertain parameters the history cannot inform: the damping acts only after 2020, and the
# regulators' paces and the key-area share are not binding under the slow 2016-2020 lever paths. Neither the point fit
# nor the posterior samples them (more dimensions only thin ABC's weights); runs draw them from
# their priors (sim.inputs.posterior.draws).
PROJECTION_ONLY = ("entry_trend_damping", "dual_random_pace", "credit_application_pace", "key_area_share")
# The point fit's search box: the entity model's priors (declared with each parameter).
FIT_BOUNDS: dict[str, tuple[float, float]] = {name: bounds for name, bounds in priors(Parameters).items()
                                              if name not in PROJECTION_ONLY}


def start_2016(history: pd.DataFrame) -> InitialStock:
    """End-2016 stock from the history file."""
    def value(series: str, period: str) -> float:
        found = history[(history.series == series) & (history.period == period)]
        if found.empty:
            raise HistoryError(f"history has no {series} for {period}; calibration starts from it")
        return float(found.value.iloc[0])

    total = value("market_entities_total", "2016-12")
    share = value("enterprise_share_of_entities", "2016-12") / 100.0
    return InitialStock(2016, total, total * share, COMPANY_SHARE_2016)


def history_policies(after_2020: Scenario | None = None) -> Scenario:
    """The policies of calibration runs: 2016-2020 from ``calibration/history_policies.toml``, then,
    for fits through years after 2020, the levers and uncertainties of ``after_2020`` (the measures
    actually taken and the world as it was, written as a scenario file; ``calibrate --policies``),
    or the 2020 values held if it is None. Its city overrides and parameters are not used."""
    policies = load_scenario(HISTORY_POLICIES)
    if after_2020 is None:
        return policies

    def joined(before: LeverPath, after: LeverPath) -> LeverPath:
        points = [(y, v) for y, v in before.points if y < 2020] + [(2020, before.at(2020))]
        return LeverPath(tuple(points + [(y, after.at(y)) for y in range(2021, LAST_YEAR + 1)]))

    return dataclasses.replace(
        policies, levers={k: joined(p, after_2020.levers[k]) for k, p in policies.levers.items()},
        uncertainties={k: joined(p, after_2020.uncertainties[k]) for k, p in policies.uncertainties.items()})


def simulate(parameters: Parameters, start: InitialStock, through: int, seeds: Sequence[int], scale: float,
             policies: Scenario | None = None,
             submodel_values: Mapping[str, float] | None = None) -> list[dict[int, dict[str, float]]]:
    """Yearly records of history runs (vectorised engine) for each seed.

    ``parameters`` is the entity model's set; ``submodel_values`` changes parameters of the
    submodels' sets by name. The last year's record also holds the end-state measures of
    :func:`sim.calibration.patterns.state_measures`.
    """
    from sim.engines.vector import VectorMarketModel

    scenario = dataclasses.replace(policies or history_policies(), parameters=parameters)
    if submodel_values:
        scenario = scenario.with_parameters(submodel_values)
    out = []
    for seed in seeds:
        model = VectorMarketModel(scenario, scale=scale, seed=seed, horizon=through, start=start)
        demography = Demography()
        before = enterprises_now(model)
        while model.running:
            model.step()
            if model.month_index % 12 == 0:
                demography.add_year(before, model)
                before = enterprises_now(model)
        annual = model.annual_records()
        annual[through].update(state_measures(model, demography))
        out.append(annual)
    return out


def throughput(history: pd.DataFrame, scale: float = 2000.0, runs: int = 4, through: int = 2020) -> float:
    """History runs per second at the calibration's scale (what one evaluation of the fit costs per
    seed): the default parameters, ``runs`` seeds, one after another in this process, after one
    warm-up run."""
    start = start_2016(history)
    simulate(Parameters(), start, start.year + 1, [0], scale)
    started = time.perf_counter()
    simulate(Parameters(), start, through, range(runs), scale)
    return runs / (time.perf_counter() - started)


def with_throughput(result: BenchResult, scale: float, progress: Callable[[str], None]) -> BenchResult:
    """A ``sim bench`` result with the calibration's throughput at ``scale`` (the bench itself, in
    the runs layer, cannot run the calibration)."""
    progress(f"4/4 calibration history runs (2017-2020) at scale {scale:g} ...")
    rate = throughput(load_history(), scale=scale)
    progress(f"    {rate:.2f} runs per second")
    return dataclasses.replace(result, calibration_scale=scale, calibration_runs_per_second=rate)


def objective_value(table: pd.DataFrame, used: list[Pattern]) -> float:
    """Weighted sum of squared relative errors, each scaled by its tolerance."""
    weights = np.array([p.weight for p in used])
    scaled = table["error_pct"].to_numpy() / table["tolerance_pct"].to_numpy()
    return float((weights * scaled ** 2).sum())


@dataclass
class FitResult:
    """A fitted parameter set and how well it reproduces each pattern."""

    values: dict[str, float]
    table: pd.DataFrame
    objective: float
    evaluations: int
    through: int
    skipped: list[str]
    hazards: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit(history: pd.DataFrame, through: int = 2020, seeds: Sequence[int] = (0, 1, 2, 3), scale: float = 2000.0,
        max_evaluations: int = 160, base: Parameters | None = None,
        progress: Callable[[int, float], None] | None = None, after_2020: Scenario | None = None) -> FitResult:
    """Fit FIT_BOUNDS' parameters to the history through ``through`` (bounded Nelder-Mead); after
    2020 the runs follow ``after_2020``'s policies (:func:`history_policies`).

    A parameter of any set may be fitted (``sim.inputs.parameters.PARAMETER_SETS``): the entity
    model's change ``base``, the submodels' change their sets in the runs' scenario.
    """
    base = base or Parameters()
    start, used, skipped = history_patterns(history, through)
    names = list(FIT_BOUNDS)
    low = np.array([FIT_BOUNDS[n][0] for n in names])
    high = np.array([FIT_BOUNDS[n][1] for n in names])
    policies = history_policies(after_2020)
    evaluations = 0

    def to_values(x: np.ndarray) -> dict[str, float]:
        return {n: float(v) for n, v in zip(names, low + np.clip(x, 0.0, 1.0) * (high - low))}

    def objective(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        entity, submodels = apply_by_set(base, to_values(x))
        runs = simulate(entity, start, through, seeds, scale, policies, submodels)
        value = objective_value(fit_table(runs, used), used)
        if progress:
            progress(evaluations, value)
        return value

    start_values = {n: getattr(base if SET_OF[n] == "entity" else PARAMETER_SETS[SET_OF[n]](), n) for n in names}
    x0 = np.array([(start_values[n] - FIT_BOUNDS[n][0]) / (FIT_BOUNDS[n][1] - FIT_BOUNDS[n][0]) for n in names])
    result = optimize.minimize(objective, np.clip(x0, 0.0, 1.0), method="Nelder-Mead",
                               bounds=[(0.0, 1.0)] * len(names),
                               options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-3})
    # The values as the fitted file writes them, so that the report reproduces from the file.
    values = {name: float(f"{value:.6g}") for name, value in to_values(result.x).items()}
    return fit_result(history, values, through, seeds, scale, evaluations, base)


def history_patterns(history: pd.DataFrame, through: int) -> tuple[InitialStock, list[Pattern], list[str]]:
    """The history runs' start (end of 2016), the patterns they are scored on up to ``through``, and
    the history rows left out with why.

    Raises:
        HistoryError: if no pattern falls between the start and ``through``.
    """
    start = start_2016(history)
    used, skipped = patterns(history, start.year, through)
    if not used:
        raise HistoryError(f"no usable patterns in the history between {start.year} and {through}")
    return start, used, skipped


def fit_result(history: pd.DataFrame, values: Mapping[str, float], through: int, seeds: Sequence[int],
               scale: float, evaluations: int, base: Parameters | None = None,
               after_2020: Scenario | None = None) -> FitResult:
    """How a parameter set reproduces the history over ``seeds``: its table, objective and hazards
    by age, as the fit reports show them."""
    start, used, skipped = history_patterns(history, through)
    entity, submodels = apply_by_set(base or Parameters(), values)
    runs = simulate(entity, start, through, seeds, scale, history_policies(after_2020), submodels)
    table = fit_table(runs, used)
    return FitResult(dict(values), table, objective_value(table, used), evaluations, through, skipped,
                     hazard_by_age(runs, through))


def apply_by_set(base: Parameters, values: Mapping[str, float]) -> tuple[Parameters, dict[str, float]]:
    """The entity parameters with their fitted values, and the submodels' fitted values by name."""
    by_set = split_by_set(values)
    entity = by_set.pop("entity")
    return base.replace(**entity), {n: v for changes in by_set.values() for n, v in changes.items()}


# ---------------------------------------------------------------- fitted files
def write_fitted(path: Path, result: FitResult, history_path: str, seeds: Sequence[int], scale: float,
                 how: str | None = None) -> str:
    """The fitted parameters as TOML text with their provenance (the caller writes it atomically);
    ``how`` says how the values were found (default: the optimiser's objective and evaluations)."""
    lines = [
        "# Fitted model parameters: every scenario uses these unless it sets them itself.",
        f"# Written by `python -m sim calibrate --history {history_path} --through {result.through}` on "
        f"{date.today().isoformat()}.",
        f"# Runs from the end of 2016 under calibration/history_policies.toml, seeds {list(seeds)}, "
        f"scale {scale:g}; " + (how or f"objective {result.objective:.4g} after {result.evaluations} evaluations") + ".",
        f"through = {result.through}",
        "",
        "[parameters]",
    ]
    lines += [f"{name} = {value:.6g}" for name, value in result.values.items()]
    return "\n".join(lines) + "\n"


def load_fitted(path: str | Path = FITTED_FILE) -> dict[str, float]:
    """Fitted parameter values from a fitted file (empty if the file does not exist).

    Raises:
        HistoryError: if the file exists but is not a valid fitted file.
    """
    try:
        return read_fitted(path)
    except ValueError as err:
        raise HistoryError(str(err)) from None


def fitted_parameters(path: str | Path = FITTED_FILE) -> Parameters:
    """Default entity parameters with the committed fit applied (a fitted file may also hold
    submodel parameters: :func:`sim.inputs.parameters.default_parameter_sets` applies those)."""
    return apply_by_set(Parameters(), load_fitted(path))[0]
