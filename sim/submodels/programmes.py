"""Programme-, regulator- and market-level processes: the plan indicators no firm decides.

Fourteen of the plan's indicators are not the sum of firms' choices. They come from
three kinds of process, each held here as plain numpy state and advanced once a month
after the entity processes (:meth:`Programmes.step`, called from
``sim.engines.base.BaseMarketModel._end_month``):

- Programme level (one province-wide process each): national IP protection centres,
  national quality-inspection and industrial-metrology centres, public measurement
  standards and new international and national standards arrive at random with rates
  that a programme lever scales; China Quality Award winners and nominations come from
  national rounds every two years with fixed quotas, Zhejiang's share of which grows
  with its pool of quality leaders and its quality programme.
- Regulator level (arrays over the 11 cities): food-safety sampling per 1000 residents,
  product-quality spot checks, digital integration of supervision business (with the
  ``digital_effectiveness`` multiplier it implies) and national food-safety
  demonstration cities, which a city wins by applying once its own sampling record
  qualifies and passing a national round.
- Market level (rows of markets): commodity markets whose turnover grows with the
  economy and an upgrading programme, entering and exiting; farm-produce wholesale
  markets upgrading to AA grade.

Every number is a field of :class:`ProgrammeParameters` with its unit, status and
source. Every draw is :func:`sim.core.rules.crn_uniform` on this module's own streams
(:data:`STREAMS`, ids from 101), keyed by (programme, city or market, month), so two
scenarios with the same seed share every draw a lever does not change, and counts
are drawn by inverting a distribution whose mean the lever raises (a higher lever
never gives fewer events on the same draw). The rules below are pure functions that
take scalars and numpy arrays alike; a month runs the regulators' and markets' rules as compiled
passes (:mod:`sim.submodels.programme_loops`) that give the same numbers bit for bit.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple, Protocol

import numpy as np
from numba.extending import register_jitable
from scipy import special

from sim.core import rules
from sim.submodels import programme_loops
from sim.inputs.levers import CITIES, Path
from sim.inputs.resolved import ResolvedLevers
from sim.submodels.base import Submodel
from sim.inputs.scenario import Scenario
from sim.inputs.parameters.programmes import ProgrammeParameters, programme_parameter_table

BASE_YEAR = 2020
N_CITIES = len(CITIES)

# Random streams of this module; they must not collide with sim.core.rules.STREAMS.
STREAMS: dict[str, int] = {name: 101 + i for i, name in enumerate((
    "ip_centers", "award_nominations", "award_winners", "measurement_new", "measurement_retired",
    "intl_standards", "national_standards", "standards_year", "inspection_centers", "metrology_centers",
    "city_init", "food_sampling", "spot_checks", "digital", "demo_accept",
    "market_init", "market_growth", "market_exit", "market_entry", "market_entrant_size",
    "wholesale_init", "wholesale_upgrade",
))}
assert not set(STREAMS.values()) & set(rules.STREAMS.values()), "programme streams collide with rules.STREAMS"

# The indicators this module produces (ids of sim/data/plan_indicators.csv), and extra record fields.
INDICATORS: tuple[str, ...] = (
    "ip_protection_centers", "china_quality_awards", "china_quality_award_nominations",
    "large_commodity_markets", "food_safety_demo_cities", "aa_wholesale_markets",
    "food_sampling_per_1000", "product_quality_spot_checks", "digital_integration_rate",
    "public_measurement_standards", "new_international_standards", "new_national_standards",
    "national_inspection_centers", "industrial_metrology_centers",
)
EXTRA_FIELDS: tuple[str, ...] = ("resident_population",)
# How each field adds up over a year in the engines' records (sim/outputs/records.py holds the same):
# counts and shares at year end; the two batch rates are annual rates, so the year's mean.
AGGREGATION: dict[str, str] = {name: "stock" for name in INDICATORS + EXTRA_FIELDS}
AGGREGATION.update(food_sampling_per_1000="mean", product_quality_spot_checks="mean")


# ---------------------------------------------------------------------------------------- pure rules
def poisson_events(u, annual_rate, months: float = 1.0):
    """Events in ``months`` months at an annual rate, by inverting a uniform (monotone in the rate)."""
    mean = rules.maximum(0.0, annual_rate) * months / 12.0
    return rules.maximum(0, rules.poisson_count(u, mean))


def quota_draw(u, quota, share):
    """Zhejiang's places in a national round of ``quota`` places at a share (binomial, by inversion:
    a larger share never gives fewer places on the same draw)."""
    return rules.binomial_count(u, int(quota), rules.clip(share, 0.0, 1.0))


def round_share(base_share, strength):
    """Zhejiang's share of a national round when its pool is ``strength`` times its 2020 pool
    and the rest of the country's pool is as in 2020 (in 2020 terms)."""
    return base_share * strength / (1.0 - base_share + base_share * strength)


def pool_strength(companies, companies_2020, years, p: ProgrammeParameters, programme):
    """Zhejiang's pool of quality leaders against the rest of China's, relative to 2020."""
    relative = (companies / companies_2020) ** p.leader_pool_elasticity
    national = (1.0 + p.national_pool_growth) ** years
    return relative / national * programme ** p.quality_programme_elasticity


def is_round(year: int, month: int, first_year: float, interval: float, round_month: float) -> bool:
    """Whether a national round falls in this month."""
    return (month == int(round_month) and year >= int(first_year)
            and (year - int(first_year)) % int(interval) == 0)


def year_factor(u, sigma):
    """Mean-one lognormal factor on a year's arrival rate (batches of approvals)."""
    z = rules.normal_quantile(u)
    return rules.exp(sigma * z - 0.5 * sigma * sigma)


def approach(level, target, up, down):
    """One month's move of a level towards its target, at most ``up`` up and ``down`` down."""
    return level + rules.clip(target - level, -down, up)


def realised(level, u, noise):
    """A month's realised activity: the level with symmetric relative noise."""
    return level * (1.0 + noise * (2.0 * u - 1.0))


def capability(u, spread):
    """A city's lasting pace factor from a uniform."""
    return 1.0 + spread * (2.0 * u - 1.0)


def integration_hazard(adoption, investment, city_capability, p: ProgrammeParameters):
    """Annual hazard that a business line not yet integrated is integrated (Bass diffusion)."""
    return investment * city_capability * (p.digital_innovation + p.digital_imitation * adoption)


def digital_effectiveness(adoption, adoption_2020, gain):
    """Regulators' effectiveness multiplier from digital integration: 1 in 2020, rising with it."""
    return 1.0 + gain * rules.maximum(0.0, adoption - adoption_2020)


# The rules the compiled months call (sim.submodels.programme_loops), compiled from these definitions.
for _rule in (approach, realised, digital_effectiveness):
    register_jitable(_rule)


def acceptance_probability(base, support):
    """Probability a qualifying city passes a national round: the support lever scales the odds."""
    odds = base / (1.0 - base) * support
    return odds / (1.0 + odds)


# The programme levers (indices, 2020 practice = 1) whose delivery is uncertain: what the
# programmes submodel reads; the regulators' targets and the entity model's levers are not scaled.
DELIVERED_LEVERS = ("quality_programme", "ip_protection_center_support", "standards_programme",
                    "quality_infrastructure_investment", "food_sampling_effort", "food_safety_city_support",
                    "product_spot_check_effort", "digital_investment", "commodity_market_upgrading",
                    "wholesale_market_standardisation")


def delivered(policy: Scenario, delivery: float) -> Scenario:
    """The scenario with each programme lever's change from 2020 practice (1) scaled by ``delivery``:
    a lever path v becomes 1 + (v - 1) * delivery (never below 0), in the province and every city."""
    def scale(path: Path) -> Path:
        return Path(tuple((year, max(0.0, 1.0 + (value - 1.0) * delivery)) for year, value in path.points))

    levers = {k: scale(v) if k in DELIVERED_LEVERS else v for k, v in policy.levers.items()}
    cities = {c: {k: scale(v) if k in DELIVERED_LEVERS else v for k, v in over.items()}
              for c, over in policy.city_levers.items()}
    return dataclasses.replace(policy, levers=levers, city_levers=cities)


def market_drift(gdp_growth, upgrading, p: ProgrammeParameters):
    """Annual drift of markets' log turnover."""
    return (p.market_turnover_drift + p.market_gdp_elasticity * (gdp_growth - p.market_gdp_reference) / 100.0
            + p.market_upgrading_effect * (upgrading - 1.0))


def market_exit_hazard(log_turnover, p: ProgrammeParameters):
    """Annual hazard that a market closes: small markets (below 100M yuan) close more often."""
    return rules.where(log_turnover < 0.0, p.market_exit_small, p.market_exit_large)


def upgrade_hazard(size_factor, standardisation, scale):
    """Annual hazard that a wholesale market reaches AA grade."""
    return scale * standardisation * size_factor


def largest_remainder(raw, total: int, cap: int):
    """Integers near ``raw`` (each within 0..cap) that add up to ``total``."""
    raw = np.clip(np.asarray(raw, float) * total / max(1e-12, float(np.sum(raw))), 0.0, cap)
    out = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - out), kind="stable").tolist()
    counts, short, i = out.tolist(), total - int(out.sum()), 0
    while short > 0:  # one more to each in turn, largest remainder first, until they add up
        j = order[i % len(counts)]
        if counts[j] < cap:
            counts[j] += 1
            short -= 1
        i += 1
    return np.array(counts, dtype=np.int64)


# The province-wide processes drawn as Poisson events each month (a key-0 draw each), in the order of
# Programmes._programmes, which draws them together: the programmes' and the commodity markets' entry.
POISSON_EVENTS = ("ip_centers", "inspection_centers", "metrology_centers", "measurement_new",
                  "measurement_retired", "intl_standards", "national_standards", "market_entry")
_MASK = (1 << 64) - 1  # a seed as the compiled draws take it (crn_base works modulo 2**64)


class _Year(NamedTuple):
    """What a month of the programmes reads that changes only with the year (levers are paths by year)."""

    growth_factor: float  # the resident population's monthly growth factor
    ip_rate: float  # new IP protection centres per year
    investment: float  # quality-infrastructure investment lever
    inspection_rate: float  # new national inspection centres per year
    metrology_rate: float  # new industrial metrology centres per year
    standards_programme: float  # the standards programme's factor on new standards (before the pool's)
    standards_factors: tuple[float, float]  # the year's batch factors of international and national standards
    award_month: int  # the month of a China Quality Award round this year; 0 without one
    quality_programme: float  # the quality programme lever
    sampling_target: np.ndarray  # funded food-sampling batches per year, by city
    spot_target: np.ndarray  # funded spot checks per year, by city
    join_probability: np.ndarray  # monthly probability a line is integrated, by city and lines integrated
    demo_month: int  # the month of a demonstration-city round this year; 0 without one
    demo_chance: np.ndarray  # probability a qualifying city passes the round, by city
    drift: float  # monthly drift of markets' log turnover
    upgrade_probability: np.ndarray  # monthly probability a wholesale market reaches AA, by market


@dataclass(frozen=True)
class _Ctx:
    year: int
    month: int
    step: int


class MonthLike(Protocol):
    year: int
    month: int
    step: int


def city_population_2020() -> np.ndarray:
    """Resident population by city (10k), 7th national census, in CITIES order."""
    return np.array(_city_population_2020())


@cache
def _city_population_2020() -> tuple[float, ...]:
    """The census file's populations, read once per process (every run starts from them)."""
    with resources.files("sim.data").joinpath("city_population_2020.csv").open(encoding="utf-8") as fh:
        rows = {r["city"]: float(r["population_10k"]) for r in csv.DictReader(fh)}
    return tuple(rows[c] for c in CITIES)


# ---------------------------------------------------------------------------------------- state
class Programmes(Submodel):
    """Programme, city-regulator and market state behind fourteen plan indicators.

    Args:
        policy: The scenario (levers by year and city, uncertainties).
        seed: Run seed; the same seed gives identical numbers.
        params: Programme parameters; the defaults if None.

    Attributes:
        initial_values: The indicators at the end of 2020 (the plan's baselines).
        digital_effectiveness: Per-city multiplier (>= 1, 1 in 2020) on regulators'
            effectiveness from digital integration, for the engines to use.
    """

    name = "programmes"
    streams = STREAMS
    indicators = INDICATORS
    aggregation = AGGREGATION

    @classmethod
    def for_run(cls, policy: Scenario, levers: ResolvedLevers, seed: int, scale: float) -> Programmes:
        """The programmes at the end of 2020 for one run (province-wide: the scale does not enter);
        their levers are delivered at ``programme_delivery`` of their change from 2020 practice."""
        delivery = policy.submodel_parameters["programmes"].programme_delivery
        if delivery != 1.0:
            levers = ResolvedLevers(delivered(policy, delivery))
        return cls(policy, seed, levers=levers)

    def regulator_effectiveness(self) -> np.ndarray:
        """Digital integration's multiplier on each city regulator's capacity and reform pace."""
        return self.digital_effectiveness

    def __init__(self, policy: Scenario, seed: int, params: ProgrammeParameters | None = None,
                 levers: ResolvedLevers | None = None) -> None:
        self.policy = policy
        self.levers = levers or ResolvedLevers(policy)
        self.seed = int(seed)
        self.params = p = params or policy.submodel_parameters["programmes"]
        base = policy.parameters
        self.companies_2020 = base.enterprises_2020 * 1e4 * base.company_share_of_enterprises_2020
        # programme level
        self.ip_centers = p.ip_centers_2020
        self.awards = p.awards_2020
        self.nominations = p.nominations_2020
        self.measurement_standards = p.measurement_standards_2020
        self.intl_standards = 0.0
        self.national_standards = 0.0
        self.inspection_centers = p.inspection_centers_2020
        self.metrology_centers = p.metrology_centers_2020
        # city regulators
        cities = np.arange(N_CITIES, dtype=np.uint64)
        u = lambda k: rules.crn_uniform(self.seed, STREAMS["city_init"], cities + np.uint64(100 * k), -1)  # noqa: E731
        self.capability = capability(u(0), p.city_capability_spread)
        self.population = city_population_2020()
        thousands = self.population * 10.0
        rate = p.food_sampling_2020 * (1.0 + p.food_sampling_city_spread * (2.0 * u(1) - 1.0))
        rate *= p.food_sampling_2020 * thousands.sum() / (rate * thousands).sum()
        self.sampling_2020 = rate * thousands  # batches per year by city
        self.sampling_level = self.sampling_2020.copy()
        self.sampling_now = self.sampling_2020.copy()
        self._sampling_year = np.zeros(N_CITIES)
        self.city_sampling_rate = rate.copy()  # last full year's batches per 1000 residents
        self.adequate_years = (rate >= p.demo_sampling_threshold).astype(np.int64)
        self.demo_named = np.zeros(N_CITIES, dtype=bool)
        self._demo_count = 0
        weights = self.population * (1.0 + 0.2 * (2.0 * u(2) - 1.0))
        self.spot_2020 = p.spot_checks_2020 * weights / weights.sum()
        self.spot_level = self.spot_2020.copy()
        self.spot_now = self.spot_2020.copy()
        items = int(p.digital_items_per_city)
        share = p.digital_2020 + p.digital_city_spread * (2.0 * u(3) - 1.0)
        counts = largest_remainder(share * items, int(round(p.digital_2020 * items * N_CITIES)), items)
        self.integrated = np.arange(items)[None, :] < counts[:, None]
        self._integrated_count = int(counts.sum())
        self.adoption_2020 = counts / items
        self._adoption_grid = (np.arange(items + 1) / items)[None, :]  # each possible share integrated
        self.digital_effectiveness = np.ones(N_CITIES)
        # the monthly moves that do not change with the year (as _regulators' rules compute them)
        self._sampling_up = p.food_sampling_pace * self.capability * self.sampling_2020 / 12.0
        self._sampling_down = p.food_sampling_cut_pace * self.sampling_2020 / 12.0
        self._spot_pace = p.spot_check_pace * self.capability
        self._spot_down = p.spot_check_cut_pace * self.spot_2020 / 12.0
        # commodity markets: stratified quantiles, so exactly large_markets_2020 start above 100M yuan
        n = int(p.markets_2020)
        key = np.arange(n, dtype=np.uint64)
        q = (np.arange(n) + rules.crn_uniform(self.seed, STREAMS["market_init"], key, -1)) / n
        self.market_mu = -p.market_turnover_sigma * rules.normal_quantile(1.0 - p.large_markets_2020 / n)
        log_turnover = self.market_mu + p.market_turnover_sigma * rules.normal_quantile(q)  # log of 100M yuan
        # The markets are the first _rows rows of arrays with room for entrants: a month marks the
        # markets that close and appends entrants in place; closed rows go when the room runs out.
        self._rows = n
        self._large_markets = int(np.count_nonzero(log_turnover >= 0.0))
        self._market_key, self._log_turnover, self._is_open = key, log_turnover, np.ones(n, dtype=bool)
        self._growth_u, self._log_tail, self._entrant_u = np.empty(0), np.empty(0), np.empty(0)
        self._make_room(entrants=max(64, n // 8))
        self._growth_scale = -(p.market_growth_sigma * rules.MONTHLY_LAPLACE)  # minus laplace_quantile's scale
        self._exit_probability = rules.monthly_probability(market_exit_hazard(np.array([-1.0, 0.0]), p))
        self._entrant_base = self.market_mu + p.market_entrant_offset
        # wholesale markets: the largest aa_markets_2020 are AA in 2020
        w = int(p.wholesale_markets)
        wq = (np.arange(w) + rules.crn_uniform(self.seed, STREAMS["wholesale_init"], np.arange(w, dtype=np.uint64),
                                               -1)) / w
        size = np.exp(p.wholesale_size_sigma * rules.normal_quantile(wq))
        self.wholesale_size = size / size.mean()
        self.aa = np.arange(w) >= w - int(p.aa_markets_2020)
        self._aa_count = int(np.count_nonzero(self.aa))
        self.aa_scale = p.aa_upgrades_2020 / self.wholesale_size[~self.aa].sum()
        # the compiled passes' seed; the Poisson processes' streams, annual rates and counts
        self._seed = np.uint64(self.seed & _MASK)
        self._event_streams = np.array([STREAMS[name] for name in POISSON_EVENTS])
        self._event_rates = np.zeros(len(POISSON_EVENTS))
        self._event_rates[-1] = p.market_entry_rate * p.markets_2020
        self._events, self._entrants = np.zeros(len(POISSON_EVENTS), dtype=np.int64), 0
        self._years: dict[int, _Year] = {}
        self.initial_values = self.values()

    @property
    def market_key(self) -> np.ndarray:
        """The open commodity markets' keys (entrants: ``(step + 1) << 20 | index``), a copy."""
        return self._market_key[:self._rows][self._is_open[:self._rows]]

    @property
    def log_turnover(self) -> np.ndarray:
        """The open commodity markets' log turnover (log of 100M yuan), a copy."""
        return self._log_turnover[:self._rows][self._is_open[:self._rows]]

    # ------------------------------------------------------------------ helpers
    def _u(self, stream: str, key, step: int):
        return rules.crn_uniform(self.seed, STREAMS[stream], key, step)

    def _standards_factor(self, year: int) -> tuple[float, float]:
        u = self._u("standards_year", np.arange(2, dtype=np.uint64), year)
        return (float(year_factor(u[0], self.params.standards_year_sigma)),
                float(year_factor(u[1], self.params.standards_year_sigma)))

    def _year(self, year: int) -> _Year:
        """The year's values of every process (computed on the year's first month)."""
        values = self._years.get(year)
        if values is None:
            values = self._years[year] = self._compute_year(year)
        return values

    def _compute_year(self, year: int) -> _Year:
        p, levers = self.params, self.levers.year(year)
        lever, city = levers.province, levers.city
        growth = levers.world.population_growth / 100.0
        invest = lever.quality_infrastructure_investment
        award_month, demo_month = int(p.award_round_month), int(p.demo_round_month)
        # Monthly probabilities of the Bass hazard by lines integrated (adoption k / items, as integrated.mean
        # gives it) and of upgrading, in one numpy pass: its power is not the C library's (programme_loops).
        hazard = integration_hazard(self._adoption_grid, np.array(city.digital_investment)[:, None],
                                    self.capability[:, None], p)
        monthly = rules.monthly_probability(np.concatenate((hazard.ravel(), upgrade_hazard(
            self.wholesale_size, lever.wholesale_market_standardisation, self.aa_scale))))
        return _Year(
            growth_factor=(1.0 + growth) ** (1.0 / 12.0),
            ip_rate=p.ip_center_rate * lever.ip_protection_center_support,
            investment=invest,
            inspection_rate=p.inspection_center_rate * invest,
            metrology_rate=p.metrology_center_rate * invest,
            standards_programme=lever.standards_programme ** p.led_standards_elasticity,
            standards_factors=self._standards_factor(year),
            award_month=award_month if is_round(year, award_month, p.award_first_round_year,
                                                p.award_round_interval_years, p.award_round_month) else 0,
            quality_programme=lever.quality_programme,
            sampling_target=np.array(city.food_sampling_effort) * self.sampling_2020,
            spot_target=np.array(city.product_spot_check_effort) * self.spot_2020,
            join_probability=monthly[:hazard.size].reshape(hazard.shape),
            demo_month=demo_month if is_round(year, demo_month, p.demo_first_round_year, p.demo_round_interval_years,
                                              p.demo_round_month) else 0,
            demo_chance=acceptance_probability(p.demo_accept_probability, np.array(city.food_safety_city_support)),
            drift=market_drift(levers.world.gdp_growth, lever.commodity_market_upgrading, p) / 12.0,
            upgrade_probability=monthly[hazard.size:])

    def _event_counts(self, step: int) -> list[int]:
        """Each of POISSON_EVENTS' events this month at its annual rate (:func:`poisson_events`)."""
        rates = self._event_rates
        everyone = programme_loops.event_counts(self._seed, step, self._event_streams, rates, self._events)
        counts = self._events.tolist()
        if not everyone:
            for i, count in enumerate(counts):
                if count < 0:  # a mean too large to sum term by term: scipy's inversion, as poisson_events does
                    counts[i] = poisson_events(self._u(POISSON_EVENTS[i], 0, step), float(rates[i]))
        return counts

    def _make_room(self, entrants: int) -> None:
        """Room in the market arrays for ``entrants`` more rows: closed markets' rows are dropped
        (the open ones keep their order), then the arrays grow if that is not enough."""
        if self._rows + entrants > self._market_key.size:
            key, log_turnover = self.market_key, self.log_turnover
            self._rows = n = key.size
            size = max(self._market_key.size, n + entrants + n // 8)
            self._market_key, self._log_turnover = np.empty(size, dtype=np.uint64), np.empty(size)
            self._is_open = np.zeros(size, dtype=bool)
            self._market_key[:n], self._log_turnover[:n], self._is_open[:n] = key, log_turnover, True
            self._growth_u, self._log_tail = np.empty(size), np.empty(size)
        if entrants > self._entrant_u.size:
            self._entrant_u = np.empty(entrants)

    # ------------------------------------------------------------------ the month
    def step(self, ctx: MonthLike, summary: dict[str, float]) -> None:
        """Advance every programme, city regulator and market by one month (the resident population
        grows first, in :meth:`_regulators`; the markets' entrants are drawn in :meth:`_programmes`)."""
        year, month, step = int(ctx.year), int(ctx.month), int(ctx.step)
        self._programmes(year, month, step, summary)
        self._regulators(year, month, step)
        self._markets(year, step)

    def _programmes(self, year: int, month: int, step: int, summary: dict[str, float]) -> None:
        p, y = self.params, self._year(year)
        n = self.measurement_standards
        companies = summary.get("registered_company", 0.0) or self.companies_2020
        programme = y.standards_programme * (companies / self.companies_2020) ** p.standards_pool_elasticity
        f_intl, f_nat = y.standards_factors
        rates = self._event_rates  # annual rates in the order of POISSON_EVENTS (the last, entry, is fixed)
        rates[0], rates[1], rates[2] = y.ip_rate, y.inspection_rate, y.metrology_rate
        rates[3] = n * (p.measurement_net_growth + p.measurement_retire_rate) * y.investment
        rates[4] = n * p.measurement_retire_rate
        rates[5] = p.intl_standards_rate * programme * f_intl
        rates[6] = p.national_standards_rate * programme * f_nat
        ip, inspection, metrology, new, retired, intl, national, self._entrants = self._event_counts(step)
        self.ip_centers += ip
        self.inspection_centers += inspection
        self.metrology_centers += metrology
        self.measurement_standards = max(0.0, n + new - retired)
        self.intl_standards += intl
        self.national_standards += national
        if month == y.award_month:
            strength = pool_strength(companies, self.companies_2020, (step + 1) / 12.0, p, y.quality_programme)
            share = round_share(p.nomination_share_2020, strength)
            self.nominations += quota_draw(self._u("award_nominations", 0, step), p.nomination_quota, share)
            self.awards += quota_draw(self._u("award_winners", 0, step), p.award_quota,
                                      p.award_winner_factor * share)

    def _regulators(self, year: int, month: int, step: int) -> None:
        p, y = self.params, self._year(year)
        # the population grows; sampling and spot checks approach their targets; lines integrate
        self._integrated_count = programme_loops.regulator_month(
            self._seed, step, STREAMS["food_sampling"], STREAMS["spot_checks"], STREAMS["digital"], y.growth_factor,
            self.population, p.sampling_month_noise,
            y.sampling_target, self._sampling_up, self._sampling_down, self.sampling_level, self.sampling_now,
            self._sampling_year, y.spot_target, self._spot_pace, self._spot_down, self.spot_level, self.spot_now,
            y.join_probability, self.integrated, self.adoption_2020, p.digital_effect_gain, self.digital_effectiveness)
        if month == 12:
            self.city_sampling_rate = self._sampling_year / (self.population * 10.0)
            adequate = self.city_sampling_rate >= p.demo_sampling_threshold
            self.adequate_years = np.where(adequate, self.adequate_years + 1, 0)
            self._sampling_year[:] = 0.0
        if month == y.demo_month:
            keys = np.arange(N_CITIES, dtype=np.uint64)
            applies = ~self.demo_named & (self.adequate_years >= p.demo_years_required)
            self.demo_named |= applies & (self._u("demo_accept", keys, step) < y.demo_chance)
            self._demo_count = int(np.count_nonzero(self.demo_named))

    def _markets(self, year: int, step: int) -> None:
        p, y = self.params, self._year(year)
        # commodity markets: growth, exit, entry (the month's entrants drawn in _programmes)
        entrants = self._entrants
        if self._rows + entrants > self._market_key.size or entrants > self._entrant_u.size:
            self._make_room(entrants)
        rows = self._rows
        programme_loops.market_draws(self._seed, STREAMS["market_growth"], STREAMS["market_entrant_size"], step,
                                     self._market_key, rows, entrants, self._growth_u, self._log_tail, self._entrant_u)
        log_tail = self._log_tail[:rows]
        np.log(log_tail, out=log_tail)  # numpy's log, as rules.laplace_quantile takes it
        z = special.ndtri(self._entrant_u[:entrants])  # rules.normal_quantile of the clipped uniforms
        self._large_markets = programme_loops.market_month(
            self._seed, STREAMS["market_exit"], step, self._market_key, self._log_turnover, self._is_open, rows,
            self._growth_u, self._log_tail, self._growth_scale, y.drift, self._exit_probability, z,
            self._entrant_base, p.market_turnover_sigma)
        self._rows = rows + entrants
        # wholesale markets upgrading to AA
        self._aa_count = programme_loops.upgrade_month(self._seed, STREAMS["wholesale_upgrade"], step, self.aa,
                                                       y.upgrade_probability)

    # ------------------------------------------------------------------ outputs
    def values(self) -> dict[str, float]:
        """The current value of each indicator, in the plan's units (and the resident population)."""
        population = float(self.population.sum())
        thousands = population * 10.0
        return {
            "ip_protection_centers": float(self.ip_centers),
            "china_quality_awards": float(self.awards),
            "china_quality_award_nominations": float(self.nominations),
            "large_commodity_markets": float(self._large_markets),
            "food_safety_demo_cities": float(self._demo_count),
            "aa_wholesale_markets": float(self._aa_count),
            "food_sampling_per_1000": float(self.sampling_now.sum()) / thousands,
            "product_quality_spot_checks": float(self.spot_now.sum()),
            "digital_integration_rate": 100.0 * (self._integrated_count / self.integrated.size),
            "public_measurement_standards": float(self.measurement_standards),
            "new_international_standards": float(self.intl_standards),
            "new_national_standards": float(self.national_standards),
            "national_inspection_centers": float(self.inspection_centers),
            "industrial_metrology_centers": float(self.metrology_centers),
            "resident_population": population,
        }


def run_programmes(policy: Scenario, seed: int, horizon: int = 2025, company_growth: float = 0.0,
                   params: ProgrammeParameters | None = None) -> dict[int, dict[str, float]]:
    """Programmes alone, month by month, with registered companies growing from their 2020 count
    at ``company_growth`` a year instead of an engine's count (tests, quick looks).

    Returns:
        Yearly values: 2020 from the initial state, then each year's December value (the
        two batch rates as the year's monthly mean, as the engines' records do).
    """
    prog = Programmes(policy, seed, params)
    out = {BASE_YEAR: dict(prog.initial_values)}
    step = 0
    for year in range(BASE_YEAR + 1, horizon + 1):
        months = []
        for month in range(1, 13):
            companies = prog.companies_2020 * (1.0 + company_growth) ** ((step + 1) / 12.0)
            prog.step(_Ctx(year, month, step), {"registered_company": companies})
            months.append(prog.values())
            step += 1
        out[year] = {name: (float(np.mean([m[name] for m in months])) if how == "mean" else months[-1][name])
                     for name, how in AGGREGATION.items()}
    return out


__all__ = ["AGGREGATION", "INDICATORS", "EXTRA_FIELDS", "STREAMS", "ProgrammeParameters", "Programmes",
           "programme_parameter_table", "run_programmes", "city_population_2020"]
