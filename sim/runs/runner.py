"""One seed run: the single place a (scenario, seed, scale, horizon, engine) is simulated.

Every way seeds are run - an ensemble (:mod:`sim.runs.ensemble`), a sweep's batches and the
target search (:mod:`sim.analysis.sweep`), the benchmark (:mod:`sim.runs.bench`) and the app
(:mod:`sim.ui.runner`) - calls :func:`run` (or :func:`run_seed`) here, on whichever backend of
:mod:`sim.runs.pools` it was given; a seed gives the same rows on all of them.

A run returns tidy rows (scenario, seed, year, indicator, value) of every modelled indicator.
With ``extras`` it also returns rows the app's charts need that are not indicators:

- ``record.<field>``: yearly record fields such as ``registered_company`` (in 10k, like the
  indicators of counts);
- ``city.<City>``: registered entities by city at year end (10k; the record's ``registered_<City>``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.core.calendar import BASE_YEAR, DEFAULT_HORIZON, DEFAULT_SCALE
from sim.engines.model import MarketModel
from sim.engines.vector import VectorMarketModel
from sim.inputs.levers import CITIES
from sim.inputs.posterior import for_seed
from sim.inputs.scenario import Scenario
from sim.outputs.indicators import indicator_values
from sim.engines.base import RECORD_FIELDS
from sim.outputs.records import FLOW

ENGINES: dict[str, type] = {"mesa": MarketModel, "vector": VectorMarketModel}
TIDY_COLUMNS = ["scenario", "seed", "year", "indicator", "value"]
RECORD_PREFIX = "record."
CITY_PREFIX = "city."
# Record fields the app's charts use beyond the indicators (divided by 1e4: counts in 10k).
CHART_FIELDS = ("registered_company", "registered_other", "registered_individual", "active",
                 "inspections", "inspections_random", "violations_detected", "dereg_simplified", "dereg_ordinary",
                 "dereg_compulsory")
# Record fields the charts use as they are (shares in %): the regulators' year-end double-random share.
CHART_SHARES = ("dual_random_share",)


@dataclass(frozen=True)
class Job:
    """One seed run: what a backend's worker receives (picklable).

    Attributes:
        scenario: The resolved scenario.
        seed: The seed (common random numbers: the same seed gives the same draws in every scenario).
        scale: Real entities per simulated entity.
        horizon: Last year simulated.
        engine: Engine name (see ENGINES).
        extras: Also the ``record.*`` and ``city.*`` rows of the app's charts.
        parameters: ``posterior`` (one draw of the uncertain parameters per seed,
            :mod:`sim.inputs.posterior`) or ``point`` (the scenario's parameters as they are).
    """

    scenario: Scenario
    seed: int
    scale: float = DEFAULT_SCALE
    horizon: int = DEFAULT_HORIZON
    engine: str = "mesa"
    extras: bool = False
    parameters: str = "posterior"


def run(job: Job) -> pd.DataFrame:
    """Run one seed; tidy rows of every modelled indicator, then (``job.extras``) ``record.*`` and
    ``city.*`` rows. This is the function backends map over jobs."""
    scenario = for_seed(job.scenario, job.seed, job.parameters)
    model = ENGINES[job.engine](scenario, scale=job.scale, seed=job.seed, horizon=job.horizon)
    model.run()
    name, seed = job.scenario.name, job.seed
    rows = []
    for year, record in model.annual_records().items():
        initial = year == BASE_YEAR
        for iid, value in indicator_values(record, initial=initial).items():
            rows.append((name, seed, year, iid, value))
        if not job.extras:
            continue
        for field in CHART_FIELDS:
            if field in record and not (initial and RECORD_FIELDS.get(field) == FLOW):
                rows.append((name, seed, year, RECORD_PREFIX + field, record[field] / 1e4))
        rows += [(name, seed, year, RECORD_PREFIX + field, record[field]) for field in CHART_SHARES if field in record]
        rows += [(name, seed, year, CITY_PREFIX + city, record[f"registered_{city}"] / 1e4) for city in CITIES]
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


def run_seed(scenario: Scenario, seed: int, scale: float = DEFAULT_SCALE, horizon: int = DEFAULT_HORIZON,
             engine: str = "mesa", extras: bool = False, parameters: str = "posterior") -> pd.DataFrame:
    """Run one seed and return tidy yearly rows (scenario, seed, year, indicator, value); see :func:`run`."""
    return run(Job(scenario, seed, scale, horizon, engine, extras, parameters))
