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
take scalars and numpy arrays alike.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
from scipy import stats

from sim.core import rules
from sim.inputs.levers import CITIES
from sim.inputs.scenario import Scenario
from sim.inputs.parameters import documented, parameter_rows, replaced

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


_p = documented


@dataclass(frozen=True)
class ProgrammeParameters:
    """Numbers of the programme, regulator and market processes; defaults describe 2020."""

    # --- IP protection centres (indicator 8) -------------------------------------------------------
    ip_centers_2020: float = _p(5.0, "centres", "source", "plan indicator 8, 2020 baseline")
    ip_center_rate: float = _p(1.0, "new centres per year at support 1", "assumption",
                               "no yearly history in the data: the 5 centres of 2020 built up over about "
                               "five years of the national protection-centre programme (from 2016)")
    # --- China Quality Award (indicators 9, 10) -------------------------------------------------------
    awards_2020: float = _p(0.0, "awards", "source", "plan indicator 9, 2020 baseline")
    nominations_2020: float = _p(16.0, "nomination awards", "source", "plan indicator 10, 2020 baseline")
    award_first_round_year: float = _p(2021.0, "year", "source",
                                       "4th round decided 2021-09-16 at the China Quality (Hangzhou) conference, "
                                       "which the plan says Zhejiang hosts (三(一) 全力办好第4届中国质量大会)")
    award_round_interval_years: float = _p(2.0, "years", "source", "China Quality Award rules: one round every "
                                           "two years (Anhui Daily 2013-08-28)")
    award_round_month: float = _p(9.0, "month", "source", "the 4th round was announced in September 2021")
    award_quota: float = _p(10.0, "awards per round", "source",
                            "at most 10 organisations and individuals per round (award rules, Anhui Daily 2013-08-28)")
    nomination_quota: float = _p(90.0, "nominations per round", "source",
                                 "at most 90 nominations per round (award rules); 89 were named in 2021")
    nomination_share_2020: float = _p(16.0 / 226.0, "share of a round's nominations", "derived",
                                      "16 Zhejiang nominations in the rounds of 2013 (46 named), 2016 and 2018 "
                                      "(taken at the quota of 90): 16 / 226")
    award_winner_factor: float = _p(0.5, "winner share / nomination share", "assumption",
                                    "no Zhejiang winner in three rounds to 2020 (plan baseline 0; the 2016 "
                                    "quality plan still aimed at a first one) against 16 nominations")
    national_pool_growth: float = _p(0.10, "per year", "assumption",
                                     "the rest of China's pool of candidate firms grows like the national "
                                     "enterprise stock, about 10% a year in the late 2010s")
    leader_pool_elasticity: float = _p(1.0, "elasticity", "assumption",
                                       "Zhejiang's pool of quality leaders grows with its registered companies")
    quality_programme_elasticity: float = _p(1.0, "elasticity", "assumption",
                                             "the quality programme multiplies the leaders ready to compete")
    # --- standards (indicators 20-22) ----------------------------------------------------------------
    measurement_standards_2020: float = _p(3472.0, "standards", "source", "plan indicator 20, 2020 baseline")
    measurement_net_growth: float = _p(0.0225, "per year", "derived",
                                       "3308 standards in October 2018 (Zhejiang quality bureau via cncal.com, "
                                       "2018-10-09) to 3472 at the end of 2020: +2.25% a year")
    measurement_retire_rate: float = _p(0.02, "per year", "assumption",
                                        "standards retired or lapsed; only the net growth is known")
    intl_standards_rate: float = _p(8.0, "new standards per year at programme 1", "assumption",
                                    "no history in the data; above the 2016 quality plan's aim of 15 in "
                                    "2016-2020, below the 14th plan's 50 in 2021-2025")
    national_standards_rate: float = _p(100.0, "new standards per year at programme 1", "assumption",
                                        "no history in the data; above the 2016 quality plan's aim of 300 in "
                                        "2016-2020, below the 14th plan's 600 in 2021-2025")
    standards_year_sigma: float = _p(0.25, "log sd of a year's rate", "assumption",
                                     "standards are approved in batches: some years bring more than others")
    standards_elasticity: float = _p(1.0, "elasticity", "assumption", "new standards in proportion to the programme")
    standards_pool_elasticity: float = _p(0.5, "elasticity", "assumption",
                                          "more registered companies, more firms drafting standards (less than "
                                          "in proportion: few firms lead standards)")
    # --- national centres (indicators 23, 24) ---------------------------------------------------------
    inspection_centers_2020: float = _p(55.0, "centres", "source", "plan indicator 23, 2020 baseline")
    inspection_center_rate: float = _p(2.2, "new centres per year at investment 1", "derived",
                                       "44 (2015) to 55 (2020) national inspection centres (history_zhejiang.csv)")
    metrology_centers_2020: float = _p(3.0, "centres", "source", "plan indicator 24, 2020 baseline")
    metrology_center_rate: float = _p(0.5, "new centres per year at investment 1", "assumption",
                                      "no history in the data: 3 centres since the national programme's first "
                                      "approvals around 2015 (Metrology Development Plan 2013-2020)")
    # --- city regulators (indicators 15, 17, 18, 19) ---------------------------------------------------
    city_capability_spread: float = _p(0.3, "half-width of a city's lasting pace factor", "assumption",
                                       "cities differ in staff, labs and systems (as regulator_capability_spread)")
    food_sampling_2020: float = _p(4.4, "batches per 1000 residents per year", "source",
                                   "plan indicator 17, 2020 baseline (national requirement for 2020: 4, "
                                   "CPC/State Council food-safety opinions 2019)")
    food_sampling_city_spread: float = _p(0.15, "half-width, relative", "assumption",
                                          "cities' 2020 sampling per 1000 residents around the provincial value")
    food_sampling_pace: float = _p(0.15, "share of 2020 batches per year", "assumption",
                                   "labs and purchased testing can grow a city's batches this much a year")
    food_sampling_cut_pace: float = _p(0.3, "share of 2020 batches per year", "assumption",
                                       "how fast a city can cut sampling when the budget falls")
    sampling_month_noise: float = _p(0.15, "half-width, relative", "assumption",
                                     "month-to-month variation of batches tested")
    spot_checks_2020: float = _p(7000.0, "batches per year", "source", "plan indicator 18, 2020 baseline")
    spot_check_pace: float = _p(0.30, "relative growth per year", "assumption",
                                "how fast a city can expand product spot checks (procurement of testing, "
                                "抽检分离 reform), relative to its current level")
    spot_check_cut_pace: float = _p(0.3, "share of 2020 batches per year", "assumption",
                                    "how fast a city can cut spot checks when the budget falls")
    digital_2020: float = _p(0.70, "share", "source", "plan indicator 19, 2020 baseline (70%)")
    digital_items_per_city: float = _p(20.0, "business lines per city", "assumption",
                                       "supervision business lines that are integrated one by one")
    digital_city_spread: float = _p(0.10, "half-width of the 2020 share", "assumption",
                                    "cities' 2020 integration around the provincial 70%")
    digital_innovation: float = _p(0.05, "per year", "assumption",
                                   "Bass p: integration hazard of a line independent of the city's progress")
    digital_imitation: float = _p(0.25, "per year per unit share integrated", "assumption",
                                  "Bass q: integrated lines make the next easier (shared platform); with p "
                                  "gives about 90% by 2025 at 2020 investment (no history in the data)")
    digital_effect_gain: float = _p(0.5, "effectiveness per unit share integrated", "assumption",
                                    "digital_effectiveness = 1 + gain x (integration - 2020 integration)")
    demo_first_round_year: float = _p(2021.0, "year", "assumption",
                                      "national demonstration-city evaluation rounds, first in the plan period")
    demo_round_interval_years: float = _p(2.0, "years", "assumption", "evaluation rounds every two years")
    demo_round_month: float = _p(12.0, "month", "assumption", "a round's decisions at year end")
    demo_sampling_threshold: float = _p(4.5, "batches per 1000 residents per year", "assumption",
                                        "a qualifying food-safety record: sampling clearly above the national "
                                        "requirement of 4 per 1000 (2019 food-safety opinions)")
    demo_years_required: float = _p(3.0, "consecutive years", "assumption",
                                    "years of adequate sampling before a city applies (a creation cycle of "
                                    "about three years; 2020 counts as the first)")
    demo_accept_probability: float = _p(0.5, "probability per round at support 1", "assumption",
                                        "national evaluation passes half of qualifying applicants")
    # --- commodity markets (indicator 14) --------------------------------------------------------------
    markets_2020: float = _p(4000.0, "markets", "assumption",
                             "near the 4212 commodity markets of 2011-12 (provincial AIC via lygaw.com)")
    large_markets_2020: float = _p(1200.0, "markets above 100M yuan", "source", "plan indicator 14, 2020 baseline")
    market_turnover_sigma: float = _p(2.2, "log sd of turnover", "assumption",
                                      "with 4000 markets and 1200 above 100M yuan puts total turnover near "
                                      "1.4 trillion yuan (1.4 trillion in 2011, provincial AIC)")
    market_drift: float = _p(0.10, "log turnover per year at GDP reference", "calibrate",
                             "markets above 100M yuan 731 (2011) to 1200 (2020), +5.7% a year "
                             "(history_zhejiang.csv; definitions may differ); turnover grew over 10% a "
                             "year for a decade to 2011 (provincial AIC)")
    market_growth_sigma: float = _p(0.15, "log sd per year", "assumption", "markets' idiosyncratic turnover growth")
    market_gdp_elasticity: float = _p(1.5, "log turnover per unit GDP growth", "assumption",
                                      "wholesale trade moves more than GDP")
    market_gdp_reference: float = _p(6.0, "% per year", "assumption", "growth at which market_drift applies")
    market_upgrading_effect: float = _p(0.03, "log turnover per year per unit of the lever above 1", "assumption",
                                        "upgraded markets (五化改造) trade more")
    market_exit_small: float = _p(0.03, "per year", "assumption", "markets below 100M yuan close")
    market_exit_large: float = _p(0.01, "per year", "assumption", "large markets rarely close")
    market_entry_rate: float = _p(0.024, "new markets per year per 2020 market", "assumption",
                                  "entries about balance exits: the stock stays near the 2011 count")
    market_entrant_offset: float = _p(-1.0, "log turnover relative to the 2020 median", "assumption",
                                      "new markets start smaller")
    # --- AA wholesale markets (indicator 16) --------------------------------------------------------
    wholesale_markets: float = _p(100.0, "farm-produce wholesale markets", "assumption", "no count in the data")
    aa_markets_2020: float = _p(4.0, "markets", "source", "plan indicator 16, 2020 baseline")
    aa_upgrades_2020: float = _p(1.3, "upgrades per year at standardisation 1", "assumption",
                                 "no history in the data: 4 AA markets since grading began about 2018")
    wholesale_size_sigma: float = _p(0.8, "log sd of market size", "assumption", "larger markets upgrade first")

    def replace(self, **changes: float) -> ProgrammeParameters:
        """A copy with some values changed; unknown names raise ValueError."""
        return replaced(self, "programme parameter", changes)


def programme_parameter_table() -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source, for docs and the CLI."""
    return parameter_rows(ProgrammeParameters)


# ---------------------------------------------------------------------------------------- pure rules
def _binomial_inverse(u: float, n: int, share: float) -> int:
    """Smallest k with P(X <= k) > u for X ~ Binomial(n, share)."""
    if n <= 0 or share <= 0.0:
        return 0
    if share >= 1.0:
        return n
    ratio = share / (1.0 - share)
    term = (1.0 - share) ** n
    cdf, k = term, 0
    while u >= cdf and k < n:
        term *= (n - k) / (k + 1) * ratio
        k += 1
        cdf += term
    return k


def poisson_events(u, annual_rate, months: float = 1.0):
    """Events in ``months`` months at an annual rate, by inverting a uniform (monotone in the rate)."""
    mean = rules.maximum(0.0, annual_rate) * months / 12.0
    return rules.maximum(0, rules.poisson_count(u, mean))


def quota_draw(u, quota, share):
    """Zhejiang's places in a national round of ``quota`` places at a share (binomial, by inversion:
    a larger share never gives fewer places on the same draw)."""
    share = rules.clip(share, 0.0, 1.0)
    if isinstance(u, np.ndarray) or isinstance(share, np.ndarray):
        return np.maximum(0, stats.binom.ppf(u, int(quota), share).astype(np.int64))
    return _binomial_inverse(float(u), int(quota), float(share))


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


def acceptance_probability(base, support):
    """Probability a qualifying city passes a national round: the support lever scales the odds."""
    odds = base / (1.0 - base) * support
    return odds / (1.0 + odds)


def market_drift(gdp_growth, upgrading, p: ProgrammeParameters):
    """Annual drift of markets' log turnover."""
    return (p.market_drift + p.market_gdp_elasticity * (gdp_growth - p.market_gdp_reference) / 100.0
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
    order = np.argsort(-(raw - out), kind="stable")
    i = 0
    while out.sum() < total:
        j = order[i % len(out)]
        if out[j] < cap:
            out[j] += 1
        i += 1
    return out


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
    with resources.files("sim.data").joinpath("city_population_2020.csv").open(encoding="utf-8") as fh:
        rows = {r["city"]: float(r["population_10k"]) for r in csv.DictReader(fh)}
    return np.array([rows[c] for c in CITIES])


# ---------------------------------------------------------------------------------------- state
class Programmes:
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

    def __init__(self, policy: Scenario, seed: int, params: ProgrammeParameters | None = None) -> None:
        self.policy = policy
        self.seed = int(seed)
        self.p = p = params or ProgrammeParameters()
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
        self._year_factor: dict[int, tuple[float, float]] = {}
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
        weights = self.population * (1.0 + 0.2 * (2.0 * u(2) - 1.0))
        self.spot_2020 = p.spot_checks_2020 * weights / weights.sum()
        self.spot_level = self.spot_2020.copy()
        self.spot_now = self.spot_2020.copy()
        items = int(p.digital_items_per_city)
        share = p.digital_2020 + p.digital_city_spread * (2.0 * u(3) - 1.0)
        counts = largest_remainder(share * items, int(round(p.digital_2020 * items * N_CITIES)), items)
        self.integrated = np.arange(items)[None, :] < counts[:, None]
        self.adoption_2020 = counts / items
        self.digital_effectiveness = np.ones(N_CITIES)
        # commodity markets: stratified quantiles, so exactly large_markets_2020 start above 100M yuan
        n = int(p.markets_2020)
        self.market_key = np.arange(n, dtype=np.uint64)
        q = (np.arange(n) + rules.crn_uniform(self.seed, STREAMS["market_init"], self.market_key, -1)) / n
        self.market_mu = -p.market_turnover_sigma * rules.normal_quantile(1.0 - p.large_markets_2020 / n)
        self.log_turnover = self.market_mu + p.market_turnover_sigma * rules.normal_quantile(q)  # log of 100M yuan
        # wholesale markets: the largest aa_markets_2020 are AA in 2020
        w = int(p.wholesale_markets)
        wq = (np.arange(w) + rules.crn_uniform(self.seed, STREAMS["wholesale_init"], np.arange(w, dtype=np.uint64),
                                               -1)) / w
        size = np.exp(p.wholesale_size_sigma * rules.normal_quantile(wq))
        self.wholesale_size = size / size.mean()
        self.aa = np.arange(w) >= w - int(p.aa_markets_2020)
        self.aa_scale = p.aa_upgrades_2020 / self.wholesale_size[~self.aa].sum()
        self.initial_values = self.values()

    # ------------------------------------------------------------------ helpers
    def _u(self, stream: str, key, step: int):
        return rules.crn_uniform(self.seed, STREAMS[stream], key, step)

    def _city_lever(self, lever: str, year: int) -> np.ndarray:
        return np.array([self.policy.lever(lever, year, c) for c in CITIES])

    def _standards_factor(self, year: int) -> tuple[float, float]:
        if year not in self._year_factor:
            u = self._u("standards_year", np.arange(2, dtype=np.uint64), year)
            self._year_factor[year] = (float(year_factor(u[0], self.p.standards_year_sigma)),
                                       float(year_factor(u[1], self.p.standards_year_sigma)))
        return self._year_factor[year]

    # ------------------------------------------------------------------ the month
    def step(self, ctx: MonthLike, summary: dict[str, float]) -> None:
        """Advance every programme, city regulator and market by one month."""
        year, month, step = int(ctx.year), int(ctx.month), int(ctx.step)
        growth = self.policy.uncertainty("population_growth", year) / 100.0
        self.population = self.population * (1.0 + growth) ** (1.0 / 12.0)
        self._programmes(year, month, step, summary)
        self._regulators(year, month, step)
        self._markets(year, step)

    def _programmes(self, year: int, month: int, step: int, summary: dict[str, float]) -> None:
        p, lever = self.p, self.policy.lever
        self.ip_centers += poisson_events(self._u("ip_centers", 0, step),
                                          p.ip_center_rate * lever("ip_protection_center_support", year))
        invest = lever("quality_infrastructure_investment", year)
        self.inspection_centers += poisson_events(self._u("inspection_centers", 0, step),
                                                  p.inspection_center_rate * invest)
        self.metrology_centers += poisson_events(self._u("metrology_centers", 0, step),
                                                 p.metrology_center_rate * invest)
        n = self.measurement_standards
        new = poisson_events(self._u("measurement_new", 0, step),
                             n * (p.measurement_net_growth + p.measurement_retire_rate) * invest)
        retired = poisson_events(self._u("measurement_retired", 0, step), n * p.measurement_retire_rate)
        self.measurement_standards = max(0.0, n + new - retired)
        companies = summary.get("registered_company", 0.0) or self.companies_2020
        programme = lever("standards_programme", year) ** p.standards_elasticity \
            * (companies / self.companies_2020) ** p.standards_pool_elasticity
        f_intl, f_nat = self._standards_factor(year)
        self.intl_standards += poisson_events(self._u("intl_standards", 0, step),
                                              p.intl_standards_rate * programme * f_intl)
        self.national_standards += poisson_events(self._u("national_standards", 0, step),
                                                  p.national_standards_rate * programme * f_nat)
        if is_round(year, month, p.award_first_round_year, p.award_round_interval_years, p.award_round_month):
            strength = pool_strength(companies, self.companies_2020, (step + 1) / 12.0, p,
                                     lever("quality_programme", year))
            share = round_share(p.nomination_share_2020, strength)
            self.nominations += quota_draw(self._u("award_nominations", 0, step), p.nomination_quota, share)
            self.awards += quota_draw(self._u("award_winners", 0, step), p.award_quota,
                                      p.award_winner_factor * share)

    def _regulators(self, year: int, month: int, step: int) -> None:
        p = self.p
        keys = np.arange(N_CITIES, dtype=np.uint64)
        # food-safety sampling: funded batches (effort x 2020 batches), reached at a limited pace
        target = self._city_lever("food_sampling_effort", year) * self.sampling_2020
        self.sampling_level = approach(self.sampling_level, target,
                                       p.food_sampling_pace * self.capability * self.sampling_2020 / 12.0,
                                       p.food_sampling_cut_pace * self.sampling_2020 / 12.0)
        self.sampling_now = realised(self.sampling_level, self._u("food_sampling", keys, step),
                                     p.sampling_month_noise)
        self._sampling_year += self.sampling_now / 12.0
        # product-quality spot checks: growth relative to the current level
        target = self._city_lever("product_spot_check_effort", year) * self.spot_2020
        self.spot_level = approach(self.spot_level, target,
                                   p.spot_check_pace * self.capability * self.spot_level / 12.0,
                                   p.spot_check_cut_pace * self.spot_2020 / 12.0)
        self.spot_now = realised(self.spot_level, self._u("spot_checks", keys + np.uint64(N_CITIES), step),
                                 p.sampling_month_noise)
        # digital integration: each line not yet integrated joins with a Bass hazard
        adoption = self.integrated.mean(axis=1)
        hazard = integration_hazard(adoption, self._city_lever("digital_investment", year), self.capability, p)
        items = self.integrated.shape[1]
        line_keys = (keys[:, None] * np.uint64(1000) + np.arange(items, dtype=np.uint64)[None, :])
        joins = self._u("digital", line_keys, step) < rules.monthly_probability(hazard)[:, None]
        self.integrated |= joins
        self.digital_effectiveness = digital_effectiveness(self.integrated.mean(axis=1), self.adoption_2020,
                                                           p.digital_effect_gain)
        if month == 12:
            self.city_sampling_rate = self._sampling_year / (self.population * 10.0)
            adequate = self.city_sampling_rate >= p.demo_sampling_threshold
            self.adequate_years = np.where(adequate, self.adequate_years + 1, 0)
            self._sampling_year = np.zeros(N_CITIES)
        if is_round(year, month, p.demo_first_round_year, p.demo_round_interval_years, p.demo_round_month):
            applies = ~self.demo_named & (self.adequate_years >= p.demo_years_required)
            chance = acceptance_probability(p.demo_accept_probability,
                                            self._city_lever("food_safety_city_support", year))
            self.demo_named |= applies & (self._u("demo_accept", keys, step) < chance)

    def _markets(self, year: int, step: int) -> None:
        p, lever = self.p, self.policy.lever
        # commodity markets: growth, exit, entry
        drift = market_drift(self.policy.uncertainty("gdp_growth", year), lever("commodity_market_upgrading", year), p)
        noise = rules.laplace_quantile(self._u("market_growth", self.market_key, step),
                                       p.market_growth_sigma * rules.MONTHLY_LAPLACE)
        self.log_turnover = self.log_turnover + drift / 12.0 + noise
        leaving = self._u("market_exit", self.market_key, step) < rules.monthly_probability(
            market_exit_hazard(self.log_turnover, p))
        self.market_key, self.log_turnover = self.market_key[~leaving], self.log_turnover[~leaving]
        entrants = poisson_events(self._u("market_entry", 0, step), p.market_entry_rate * p.markets_2020)
        if entrants:
            keys = (np.uint64(step + 1) << np.uint64(20)) | np.arange(entrants, dtype=np.uint64)
            z = rules.normal_quantile(self._u("market_entrant_size", keys, step))
            self.market_key = np.concatenate((self.market_key, keys))
            self.log_turnover = np.concatenate((
                self.log_turnover, self.market_mu + p.market_entrant_offset + p.market_turnover_sigma * z))
        # wholesale markets upgrading to AA
        hazard = upgrade_hazard(self.wholesale_size, lever("wholesale_market_standardisation", year), self.aa_scale)
        u = self._u("wholesale_upgrade", np.arange(len(self.aa), dtype=np.uint64), step)
        self.aa |= u < rules.monthly_probability(hazard)

    # ------------------------------------------------------------------ outputs
    def values(self) -> dict[str, float]:
        """The current value of each indicator, in the plan's units (and the resident population)."""
        thousands = float(self.population.sum()) * 10.0
        return {
            "ip_protection_centers": float(self.ip_centers),
            "china_quality_awards": float(self.awards),
            "china_quality_award_nominations": float(self.nominations),
            "large_commodity_markets": float(np.count_nonzero(self.log_turnover >= 0.0)),
            "food_safety_demo_cities": float(np.count_nonzero(self.demo_named)),
            "aa_wholesale_markets": float(np.count_nonzero(self.aa)),
            "food_sampling_per_1000": float(self.sampling_now.sum()) / thousands,
            "product_quality_spot_checks": float(self.spot_now.sum()),
            "digital_integration_rate": 100.0 * float(self.integrated.mean()),
            "public_measurement_standards": float(self.measurement_standards),
            "new_international_standards": float(self.intl_standards),
            "new_national_standards": float(self.national_standards),
            "national_inspection_centers": float(self.inspection_centers),
            "industrial_metrology_centers": float(self.metrology_centers),
            "resident_population": float(self.population.sum()),
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
