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
from sim.inputs.scenario import Scenario, baseline
from sim.core.population import InitialStock, log_size_floor, log_size_min, survival_table
from sim.submodels.innovation import Innovation
from sim.submodels.programmes import Programmes
from sim.outputs.records import MONTHLY_FIELDS, annual, empty_record

@dataclass
class MonthContext:
    """Lever values and shared quantities for one month, per city where levers differ."""

    year: int
    month: int
    step: int
    fine_level: list[float]
    severity: list[float]
    simplified: list[float]
    compulsory_on: list[float]
    compulsory_months: list[float]
    conversion_rate: list[float]
    gdp_growth: float
    exit_shock: float
    peer_violation: list[list[float]]
    log_size_min: list[float]
    log_size_floor: float
    hazard_table: np.ndarray
    detection: list[float]
    size_factor_mean: float = 1.0


def city_lever(scenario: Scenario, lever_id: str, year: int) -> list[float]:
    """A lever's value in each city (provincial value unless the city overrides it)."""
    return [scenario.lever(lever_id, year, city) for city in CITIES]


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

    def __init__(self, scenario: Scenario | None = None, scale: float = DEFAULT_SCALE, seed: int = 0,
                 horizon: int = DEFAULT_HORIZON, start: InitialStock | None = None) -> None:
        super().__init__(rng=seed)
        self.policy = scenario or baseline()
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
        self.record = empty_record()
        self.monthly: list[dict[str, float]] = []
        self.initial_record: dict[str, float] = {}
        ages, hazards = survival_table()
        self.hazard_table = rules.hazard_by_age_month(ages, hazards, self.p.hazard_after_year_7,
                                                      int(self.p.max_age_years * 12) + 12 * 20)
        self.peer_violation = [[self.p.peer_reference] * len(rules.SECTORS) for _ in CITIES]
        # Programme, city-regulator and market processes behind the institution-level indicators;
        # they start from the plan's 2020 baselines, so only runs from the end of 2020 have them.
        self.programmes = Programmes(self.policy, self.seed) if self.base_year == BASE_YEAR else None
        # Trademarks and the simulated firm strata behind the firm-level indicators 4-7 and 11-13
        # (sim/submodels/innovation.py); they too start from the plan's 2020 baselines.
        self.firm_scale = firm_scale(self.scale)
        self.innovation = (Innovation(self.policy, self.seed, firm_scale=self.firm_scale)
                           if self.base_year == BASE_YEAR else None)

    @property
    def digital_effectiveness(self) -> np.ndarray:
        """Per-city multiplier on inspection capacity from digital integration (1 without programmes)."""
        if self.programmes is None:
            return np.ones(len(CITIES))
        return self.programmes.digital_effectiveness

    def _model_reporters(self) -> dict:
        return {name: (lambda m, n=name: m.record[n]) for name in MONTHLY_FIELDS}

    def _context(self, year: int, month: int) -> MonthContext:
        return MonthContext(year=year, month=month, step=self.month_index, peer_violation=self.peer_violation,
                            hazard_table=self.hazard_table, **self._year_values(year))

    def _year_values(self, year: int) -> dict:
        """The month context's values that change only with the year (levers are paths by year)."""
        if year not in self._by_year:
            self._by_year[year] = self._compute_year_values(year)
        return self._by_year[year]

    def _compute_year_values(self, year: int) -> dict:
        s = self.policy
        return dict(
            fine_level=city_lever(s, "fine_level", year),
            severity=city_lever(s, "credit_penalty_severity", year),
            simplified=city_lever(s, "simplified_deregistration", year),
            compulsory_on=city_lever(s, "compulsory_deregistration", year),
            compulsory_months=city_lever(s, "compulsory_deregistration_months", year),
            conversion_rate=city_lever(s, "individual_to_company_rate", year),
            gdp_growth=s.uncertainty("gdp_growth", year),
            exit_shock=s.uncertainty("exit_shock", year),
            log_size_min=[log_size_min(k, self.p) for k in range(3)],
            log_size_floor=log_size_floor(self.p),
            detection=rules.detection_probabilities(self.p).tolist(),
        )

    def _begin_month(self) -> MonthContext:
        self.record = empty_record()
        year = self.start_year + self.month_index // 12
        self.ctx = self._context(year, self.month_index % 12 + 1)
        return self.ctx

    def _end_month(self) -> None:
        if self.programmes is not None:
            self.programmes.step(self.ctx, self.record)
            self.record.update(self.programmes.values())
        if self.innovation is not None:
            self.innovation.step(self.ctx, self.record)
            self.record.update(self.innovation.values())
        self.monthly.append(dict(self.record))
        self.datacollector.collect(self)
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
        if self.programmes is not None:
            out[self.base_year].update(self.programmes.initial_values)
        if self.innovation is not None:
            out[self.base_year].update(self.innovation.initial_values)
        for i in range(len(self.monthly) // 12):
            out[self.start_year + i] = annual(self.monthly[12 * i: 12 * (i + 1)])
        return out
