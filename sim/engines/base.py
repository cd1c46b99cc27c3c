"""What both engines share: the month's context, the calendar and the yearly records.

The per-agent Mesa engine (:mod:`sim.engines.model`) and the vectorised engine
(:mod:`sim.engines.vector`) differ only in how they hold entities and loop over them; the
rules (:mod:`sim.core.rules`), the population and entrants (:mod:`sim.core.population`) and
everything in this module are common to both.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.core import rules
from sim.core.calendar import BASE_YEAR, DEFAULT_HORIZON, DEFAULT_SCALE, firm_scale
from sim.inputs.levers import CITIES
from sim.inputs.resolved import CityLevers, ResolvedLevers, World
from sim.inputs.scenario import Scenario, baseline, with_values
from sim.core.population import InitialStock, log_size_floor, log_size_min, survival_table
from sim.submodels import SUBMODELS
from sim.submodels.base import Submodel
from sim.outputs.indicators import indicator_values, registry
from sim.outputs.records import annual, empty_record, record_fields

# Every field a run records each month: the entity model's, then each submodel's, with how it adds up
# over a year (sim/outputs/records.py).
RECORD_FIELDS: dict[str, str] = record_fields(*(sub.aggregation for sub in SUBMODELS))


@dataclass
class MonthContext:
    """Lever values and shared quantities for one month, per city where levers differ."""

    year: int
    month: int
    step: int
    levers: CityLevers
    world: World
    peer_violation: list[list[float]]
    log_size_min: list[float]
    log_size_floor: float
    hazard_table: np.ndarray
    detection: list[float]
    size_factor_mean: float = 1.0


SEED_LIMIT = 2 ** 64  # the random streams take seeds modulo 2**64


def resolve_seed(seed: int | None, rng=None) -> int:
    """A run's seed: ``seed``; else Mesa's ``rng`` (a whole number, or a numpy Generator to draw one
    from); else a fresh random one (kept as the model's ``seed``, so the run can be repeated).

    Raises:
        ValueError: for a seed outside 0 to 2**64 - 1 (the random streams repeat beyond).
    """
    if seed is None:
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(0, 2 ** 63))
        elif rng is not None:
            seed = rng
        else:
            seed = int(np.random.SeedSequence().entropy % 2 ** 63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed {seed!r} is not allowed; allowed: a whole number from 0 to 2**64 - 1")
    return int(seed)


def indicator_reporters() -> dict[str, object]:
    """Model reporters of the DataCollector: each modelled plan indicator by its id, its value in the
    last year ended (None before the first December)."""
    return {ind.id: (lambda m, i=ind.id: m.year_indicators.get(i)) for ind in registry() if ind.modelled}


def regulator_capability(seed: int, p, n_cities: int = len(CITIES)) -> np.ndarray:
    """Each city's lasting factor on how fast it can reform (staff, systems), drawn once."""
    u = rules.crn_uniform(seed, rules.STREAMS["regulator"], np.arange(1000, 1000 + n_cities, dtype=np.uint64), -1)
    return 1.0 + p.regulator_capability_spread * (2.0 * u - 1.0)


class BaseMarketModel(mesa.Model):
    """Calendar, context and records common to both engines.

    Args:
        scenario: Levers, uncertainties and parameters; the 2020-policy baseline if None.
        scale: Real entities per simulated entity (1 = the whole province).
        seed: Run seed; the same seed gives the same numbers bit for bit.
        horizon: Last simulated year (December).
    """

    engine = "base"

    def __init__(self, scenario: Scenario | None = None, scale: float = DEFAULT_SCALE, seed: int | None = 0,
                 horizon: int = DEFAULT_HORIZON, start: InitialStock | None = None, rng=None,
                 **values: object) -> None:
        seed = resolve_seed(seed, rng)
        super().__init__(rng=seed)
        self.policy = with_values(scenario or baseline(), values) if values else (scenario or baseline())
        self.levers = ResolvedLevers(self.policy)  # every lever and uncertainty by year and city
        self.p = self.policy.parameters
        self.scale = float(scale)
        self.seed = int(seed)
        self.horizon = int(horizon)
        # The stock the run starts from (end of 2020 by default; calibration starts earlier).
        self.start = start or InitialStock.from_parameters(self.p)
        self.base_year = self.start.year
        self.start_year = self.base_year + 1
        self.month_index = 0
        self._by_year: dict[int, dict] = {}
        self.record = empty_record(RECORD_FIELDS)
        self._months: list[dict[str, float]] = []
        self.initial_record: dict[str, float] = {}
        ages, hazards = survival_table()
        self.hazard_table = rules.hazard_by_age_month(ages, hazards, self.p.hazard_after_year_7,
                                                      int(self.p.max_age_years * 12) + 12 * 20)
        self.peer_violation = [[self.p.peer_reference] * len(rules.SECTORS) for _ in CITIES]
        # The submodels (sim/submodels: programmes, regulators' programmes and markets; the innovating
        # firms) start from the plan's 2020 baselines, so only runs from the end of 2020 have them.
        self.firm_scale = firm_scale(self.scale)
        self.submodels: list[Submodel] = ([cls.for_run(self.policy, self.levers, self.seed, self.scale)
                                           for cls in SUBMODELS] if self.base_year == BASE_YEAR else [])
        # The plan indicators of the last year ended (Mesa's batch_run reads them off the DataCollector).
        self.year_indicators: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(model_reporters=indicator_reporters())

    def submodel(self, name: str) -> Submodel:
        """A submodel of this run by its name (``programmes``, ``innovation``)."""
        for sub in self.submodels:
            if sub.name == name:
                return sub
        raise KeyError(f"no submodel '{name}' in this run (runs from before 2020 have none)")

    @property
    def regulator_effectiveness(self) -> np.ndarray:
        """Per-city multiplier on regulators' capacity and reform pace from the submodels (digital
        integration); 1 without submodels."""
        factor = np.ones(len(CITIES))
        for sub in self.submodels:
            factor = factor * sub.regulator_effectiveness()
        return factor

    @property
    def monthly(self) -> list[dict[str, float]]:
        """Every month's record so far, in calendar order."""
        return self._months

    def _store_month(self) -> None:
        """Keep the month's record and collect the indicator reporters (the Mesa engine keeps the
        records in its DataCollector instead)."""
        self._months.append(dict(self.record))
        self.datacollector.collect(self)

    def _context(self, year: int, month: int) -> MonthContext:
        return MonthContext(year=year, month=month, step=self.month_index, peer_violation=self.peer_violation,
                            hazard_table=self.hazard_table, **self._year_values(year))

    def _year_values(self, year: int) -> dict:
        """The month context's values that change only with the year (levers are paths by year)."""
        if year not in self._by_year:
            self._by_year[year] = self._compute_year_values(year)
        return self._by_year[year]

    def _compute_year_values(self, year: int) -> dict:
        values = self.levers.year(year)
        return dict(
            levers=values.city,
            world=values.world,
            log_size_min=[log_size_min(k, self.p) for k in range(3)],
            log_size_floor=log_size_floor(self.p),
            detection=rules.detection_probabilities(self.p).tolist(),
        )

    def _begin_month(self) -> MonthContext:
        self.record = empty_record(RECORD_FIELDS)
        year = self.start_year + self.month_index // 12
        self.ctx = self._context(year, self.month_index % 12 + 1)
        return self.ctx

    @property
    def registered_total(self) -> float:
        """Registered entities (real ones) at the end of the last month; the start stock before the
        first month."""
        return self._registered if self.month_index else float(self.initial_record["registered"])

    def _end_month(self) -> None:
        self._registered = float(self.record["registered"])
        for sub in self.submodels:
            sub.step(self.ctx, self.record)
            self.record.update(sub.values())
        if self.ctx.month == 12 and len(self.monthly) >= 11:
            self.year_indicators = indicator_values(annual([*self.monthly[-11:], dict(self.record)], RECORD_FIELDS))
        self._store_month()
        self.month_index += 1
        if self.month_index >= (self.horizon - self.start_year + 1) * 12:
            self.running = False

    def run(self) -> None:
        """Run every month to December of the horizon year."""
        while self.running:
            self.step()

    def annual_records(self) -> dict[int, dict[str, float]]:
        """Yearly records: the start year-end (2020 by default) from the initial population (stocks
        only), then each simulated year."""
        out = {self.base_year: dict(self.initial_record)}
        for sub in self.submodels:
            out[self.base_year].update(sub.initial_values)
        for i in range(len(self.monthly) // 12):
            out[self.start_year + i] = annual(self.monthly[12 * i: 12 * (i + 1)], RECORD_FIELDS)
        return out
