"""A Python function from levers to outcomes, for exploratory-modelling tools (EMA Workbench, ...).

``evaluate(levers=..., uncertainties=..., seeds=..., indicators=..., year=...)`` runs the model
once per seed and returns one row per seed with each indicator's value in ``year``; each seed draws
the uncertain parameters from the posterior (``parameters="point"`` for the point fit).

A lever or uncertainty is given as in a scenario file: a number sets it in every year, 2020
included (as a sweep's ``constant`` factor does: a double-random share of 60 means regulators
start 2021 at 60), and a ``{year: value}`` mapping is a path between those years (``{2020: 10,
2025: 60}`` moves from the 2020 value to 60 by 2025, as a sweep's default factor does).
:func:`ema_function` wraps :func:`evaluate` for EMA Workbench's ``ReplicatorModel``
(docs/EXPLORATORY.md has the example, which tests/test_api.py runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from sim.core.calendar import DEFAULT_SCALE
from sim.inputs.posterior import for_seed
from sim.inputs.levers import LEVERS_BY_ID, UNCERTAINTIES_BY_ID, ScenarioError
from sim.inputs.scenario import Scenario, baseline, load_scenario, with_values
from sim.outputs.indicators import indicator_values, registry
from sim.runs.runner import ENGINES


def _indicator_ids(indicators: Sequence[str] | None) -> list[str]:
    modelled = [ind.id for ind in registry() if ind.modelled]
    if indicators is None:
        return modelled
    unknown = [i for i in indicators if i not in modelled]
    if unknown:
        raise ScenarioError(f"indicators: unknown or not modelled {', '.join(unknown)}; allowed: {', '.join(modelled)}")
    return list(indicators)


def evaluate(levers: Mapping[str, object] | None = None, uncertainties: Mapping[str, object] | None = None,
             seeds: int | Sequence[int] = 1, indicators: Sequence[str] | None = None, year: int = 2025,
             scale: float = DEFAULT_SCALE, engine: str = "vector",
             scenario: str | Scenario | None = None, parameters: str = "posterior") -> pd.DataFrame:
    """Run the model over seeds with the given levers and uncertainties.

    Args:
        levers: Lever ids to a number or a ``{year: value}`` path (see the module docstring).
        uncertainties: Uncertainty ids, likewise.
        seeds: How many seeds (0..n-1), or which.
        indicators: Indicator ids to report (default: every modelled indicator).
        year: The year whose values are reported (the run goes to its December).
        scale: Real entities per simulated entity.
        engine: ``vector`` or ``mesa``.
        scenario: The base scenario (a file path or a Scenario; default the 2020-policy baseline).
        parameters: ``posterior`` (each seed draws the uncertain parameters) or ``point``.

    Returns:
        One row per seed: ``seed`` and each indicator's value in ``year``.

    Raises:
        ScenarioError: an unknown lever, uncertainty or indicator, or a value out of its range.
    """
    base = load_scenario(scenario) if isinstance(scenario, str) else (scenario or baseline())
    for given, known, what in ((levers or {}, LEVERS_BY_ID, "lever"), (uncertainties or {}, UNCERTAINTIES_BY_ID,
                                                                      "uncertainty")):
        wrong = [k for k in given if k not in known]
        if wrong:
            raise ScenarioError(f"{what} {', '.join(wrong)}: unknown; allowed: {', '.join(known)}")
    policy = with_values(base, {**(levers or {}), **(uncertainties or {})}, "evaluate()")
    ids = _indicator_ids(indicators)
    rows = []
    for seed in (range(seeds) if isinstance(seeds, int) else seeds):
        model = ENGINES[engine](for_seed(policy, int(seed), parameters), scale=scale, seed=int(seed), horizon=year)
        model.run()
        values = indicator_values(model.annual_records()[year])
        rows.append({"seed": int(seed), **{i: values.get(i) for i in ids}})
    return pd.DataFrame(rows, columns=["seed", *ids])


def ema_function(indicators: Sequence[str], year: int = 2025, scale: float = DEFAULT_SCALE,
                 engine: str = "vector") -> Callable[..., dict[str, float]]:
    """A function for EMA Workbench's ``ReplicatorModel``: called with the experiment's levers and
    uncertainties by id and a replication's ``seed``, it returns each indicator's value in ``year``."""
    ids = _indicator_ids(indicators)

    def run(seed: int = 0, **values: object) -> dict[str, float]:
        uncertainties = {k: v for k, v in values.items() if k in UNCERTAINTIES_BY_ID}
        levers = {k: v for k, v in values.items() if k not in UNCERTAINTIES_BY_ID}  # evaluate refuses unknown ones
        row = evaluate(levers, uncertainties, [seed], ids, year, scale, engine).iloc[0]
        return {i: float(row[i]) for i in ids}

    return run
