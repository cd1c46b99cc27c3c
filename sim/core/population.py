"""The initial population of market entities, built as arrays (struct of arrays).

Both engines start from the same arrays: the Mesa engine turns each row into a
``MarketEntity`` agent. Counts are matched exactly to the year-end totals by kind;
each simulated entity carries a weight (the real entities it stands for).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np

from sim.core import compiled, rules
from sim.inputs.levers import CITIES, LEVERS_BY_ID
from sim.inputs.resolved import YearValues
from sim.inputs.parameters import Parameters

ENTITY_FIELDS = ("key", "kind", "city", "sector", "age_months", "log_size", "status", "months_dormant",
                 "honesty", "credit_status", "months_in_status", "months_since_penalty", "memory",
                 "marginal", "violating", "weight")


def _data_rows(name: str) -> list[dict[str, str]]:
    with resources.files("sim.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def city_shares() -> np.ndarray:
    """Share of each city in the province, from 2020 census population (documented proxy)."""
    rows = {r["city"]: float(r["population_10k"]) for r in _data_rows("city_population_2020.csv")}
    pop = np.array([rows[c] for c in CITIES])
    return pop / pop.sum()


@cache
def survival_table() -> tuple[np.ndarray, np.ndarray]:
    """Annual exit hazard by age (year 1 = founding year) from the 2013 survival report."""
    rows = _data_rows("survival_china_2013.csv")
    ages = np.array([float(r["age_year"]) for r in rows])
    hazards = np.array([float(r["annual_exit_hazard_pct"]) / 100.0 for r in rows])
    return ages, hazards


def log_size_floor(p: Parameters) -> float:
    """Log of the smallest size of any kind: where growth reflects."""
    return float(np.log(min(p.size_min_company, p.size_min_other, p.size_min_individual)))


def log_size_min(kind, p: Parameters):
    """Log of the lower size bound of each kind (10k yuan revenue)."""
    mins = np.log(np.array([p.size_min_company, p.size_min_other, p.size_min_individual]))
    result = mins[kind]
    return float(result) if np.ndim(result) == 0 else result


@lru_cache(maxsize=256)
def sector_cdf(p: Parameters) -> np.ndarray:
    """Cumulative sector shares per kind (rows: company, other enterprise, individual)."""
    def row(mfg: float, food: float) -> list[float]:
        trade = p.sector_share_trade
        return [mfg, trade, food, max(0.0, 1.0 - mfg - trade - food)]
    shares = np.array([row(p.sector_share_company_mfg, p.sector_share_company_food),
                       row(p.sector_share_company_mfg, p.sector_share_company_food),
                       row(p.sector_share_individual_mfg, p.sector_share_individual_food)])
    shares /= shares.sum(axis=1, keepdims=True)
    cdf = np.cumsum(shares, axis=1)
    cdf.flags.writeable = False  # (shared by every caller with these parameters)
    return cdf


def draw_sector(kind, u, p: Parameters):
    """Sector of an entity from its kind and a uniform."""
    cdf = sector_cdf(p)
    if np.ndim(u) == 0:
        return min(int((u > cdf[kind]).sum()), len(rules.SECTORS) - 1)
    u = np.ascontiguousarray(u, dtype=np.float64)
    result = np.empty(u.shape, dtype=np.int64)
    compiled.sectors(np.ascontiguousarray(kind, dtype=np.int64).reshape(-1), u.reshape(-1), cdf, result.reshape(-1))
    return result


def draw_log_size(kind, u, p: Parameters):
    """Log size from a Pareto distribution above the kind's minimum (Zipf tail, Axtell 2001)."""
    result = log_size_min(kind, p) - np.log1p(-np.minimum(u, 1 - 1e-12)) / p.size_tail_alpha
    return float(result) if np.ndim(result) == 0 else result


def draw_honesty(u):
    """Standard normal honesty (intrinsic compliance) from a uniform."""
    result = rules.normal_quantile(u)
    return float(result) if np.ndim(result) == 0 else result


def age_distribution(kind_individual: bool, p: Parameters) -> np.ndarray:
    """Probability of each age in months at the end of the build year.

    Cohorts grew at ``entry_growth_before_2020`` a year and thinned by the survival
    table's hazards (scaled for individual businesses).
    """
    ages_table, hazards = survival_table()
    months = np.arange(int(p.max_age_years * 12))
    annual = rules.age_hazard(months / 12.0, ages_table, hazards, p.hazard_after_year_7)
    annual = np.minimum(rules.MAX_ANNUAL_HAZARD, annual * p.hazard_scale * (p.hazard_individual_multiplier if kind_individual else 1.0))
    survival = np.concatenate(([1.0], np.cumprod(1.0 - rules.monthly_probability(annual))[:-1]))
    cohort = np.power(1.0 + p.entry_growth_before_2020, -months / 12.0)
    weights = cohort * survival
    return weights / weights.sum()


@dataclass(frozen=True)
class InitialStock:
    """Registered entities at the end of the year a run starts from (10k entities)."""

    year: int
    entities: float
    enterprises: float
    company_share_of_enterprises: float

    @classmethod
    def from_parameters(cls, p: Parameters) -> InitialStock:
        """The end-2020 stock of the plan's baseline."""
        return cls(2020, p.entities_2020, p.enterprises_2020, p.company_share_of_enterprises_2020)


@dataclass(frozen=True)
class Population:
    """Initial entity arrays and the weight of each kind."""

    arrays: dict[str, np.ndarray]
    kind_weights: np.ndarray

    @property
    def size(self) -> int:
        """Number of simulated entities."""
        return len(self.arrays["key"])


def build_population(p: Parameters, scale: float, seed: int, start: InitialStock | None = None) -> Population:
    """Build the year-end population at ``scale`` real entities per simulated one.

    Args:
        p: Model parameters (shares, size and age structure).
        scale: Real entities per simulated entity (1 = the whole province).
        seed: Run seed; draws use the init streams of :func:`rules.crn_uniform`.
        start: The year-end totals to match (the end of 2020 from ``p`` if None).

    Returns:
        The population arrays with exactly matched weighted totals by kind.
    """
    start = start or InitialStock.from_parameters(p)
    real = np.array([
        start.enterprises * start.company_share_of_enterprises,
        start.enterprises * (1.0 - start.company_share_of_enterprises),
        start.entities - start.enterprises,
    ]) * 1e4
    counts = np.maximum(1, np.round(real / scale)).astype(np.int64)
    kind_weights = real / counts
    n = int(counts.sum())
    key = np.arange(n, dtype=np.uint64)
    s = rules.STREAMS
    draw = lambda name: rules.crn_uniform(seed, s[name], key, -1)  # noqa: E731
    kind = np.repeat(np.arange(3), counts)
    city = np.empty(n, dtype=np.int64)
    compiled.buckets(np.cumsum(city_shares()), draw("init_city"), city)
    sector = draw_sector(kind, draw("init_sector"), p)
    age_months = np.empty(n, dtype=np.int64)
    age_cdf = np.array([np.cumsum(age_distribution(k == rules.INDIVIDUAL, p)) for k in range(3)])
    compiled.buckets_by_row(age_cdf, kind, draw("init_age"), age_months)
    log_size = draw_log_size(kind, draw("init_size"), p)
    honesty = draw_honesty(draw("init_honesty"))
    # Dormancy rises with age; scaled so the weighted share matches dormant_share_2020. Dormant entities
    # stop filing annual reports and land on the abnormal list; an enterprise listed for three years
    # moves to the serious-dishonesty list.
    age_factor = 1.0 - np.exp(-age_months / p.dormancy_age_scale_months)
    w = kind_weights[kind]
    status, months_dormant, credit, months_in_status = (np.empty(n, dtype=np.int64) for _ in range(4))
    compiled.initial_dormancy_and_credit(
        kind, age_months, age_factor, draw("init_dormant"), draw("init_credit"), p.dormant_share_2020, w.sum(),
        (age_factor * w).sum(), p.initial_dormancy_max_months, int(p.listing_lag_months), p.abnormal_to_serious_months,
        p.initial_active_listed_share, status, months_dormant, credit, months_in_status)
    arrays = {
        "key": key,
        "kind": np.asarray(kind, dtype=np.int64),  # (no copy where already of that type)
        "city": np.asarray(city, dtype=np.int64),
        "sector": np.asarray(sector, dtype=np.int64),
        "age_months": age_months,
        "log_size": np.asarray(log_size, dtype=np.float64),
        "status": status,
        "months_dormant": months_dormant,
        "honesty": np.asarray(honesty, dtype=np.float64),
        "credit_status": credit,
        "months_in_status": months_in_status,
        "months_since_penalty": np.full(n, 999, dtype=np.int64),
        "memory": np.zeros(n),
        "marginal": np.zeros(n, dtype=bool),
        "violating": np.zeros(n, dtype=bool),
        "weight": np.asarray(w, dtype=np.float64),
    }
    return Population(arrays=arrays, kind_weights=kind_weights)


# Entry is drawn by kind and city: the pairs in the order of the draws, and each pair's key.
_ENTRY_KINDS, _ENTRY_CITIES = (a.ravel() for a in np.meshgrid(np.arange(3), np.arange(len(CITIES)), indexing="ij"))
_ENTRY_KEYS = ((_ENTRY_KINDS << 8) | _ENTRY_CITIES).astype(np.uint64)


@lru_cache(maxsize=256)
def _entry_year(p: Parameters, cost: tuple[float, ...], licence: tuple[float, ...], gdp: float,
                year: int) -> tuple[np.ndarray, np.ndarray]:
    """What entry depends on that changes only with the year: each (kind, city) pair's expected
    monthly entrants before the room left and the kind's weight, and each city's marginal share."""
    licence_2020 = LEVERS_BY_ID["licence_reform_coverage"].value_2020
    base = np.array([p.entries_enterprise_2020 * p.company_share_of_new_enterprises,
                     p.entries_enterprise_2020 * (1.0 - p.company_share_of_new_enterprises),
                     p.entries_individual_2020]) * 1e4 / 12.0
    cost, licence = np.array(cost), np.array(licence)
    multiplier = rules.entry_multiplier(cost, licence, licence_2020, gdp, year - 2020, p)
    marginal_share = rules.marginal_entrant_share(rules.entry_multiplier(cost, licence, licence_2020,
                                                                         p.gdp_reference, 0, p))
    year_mean = base[_ENTRY_KINDS] * city_shares()[_ENTRY_CITIES] * multiplier[_ENTRY_CITIES]
    year_mean.flags.writeable = marginal_share.flags.writeable = False  # shared by every run with these values
    return year_mean, marginal_share


def draw_entrants(p: Parameters, values: YearValues, kind_weights: np.ndarray, seed: int,
                  step: int, registered: float) -> dict[str, np.ndarray]:
    """New registrations in one month, by kind and city, as entity arrays.

    The expected number responds to registration cost, licence reform, the economy and
    the 2016-2020 trend (:func:`rules.entry_multiplier`) and to the room left below the
    density ceiling at ``registered`` real entities (:func:`rules.entry_room`); counts are Poisson draws by inversion of
    one uniform per kind and city, and each entrant's attributes are drawn from its own
    key, so scenarios with the same seed share their entrants (common random numbers).
    Entrants that come only because entry got cheaper are marked marginal.
    """
    kinds, cities = _ENTRY_KINDS, _ENTRY_CITIES
    year_mean, marginal_share = _entry_year(p, values.city.entry_cost_index, values.city.licence_reform_coverage,
                                            values.world.gdp_growth, values.year)
    mean = year_mean * rules.entry_room(registered, p) / kind_weights[kinds]
    u = rules.crn_uniform(seed, rules.STREAMS["entry"], _ENTRY_KEYS, step)
    counts = rules.poisson_count(u, mean)
    n = int(counts.sum())
    # keys, kinds, cities, sectors and marginal flags in one compiled pass (the sector and marginal
    # uniforms compared there); sizes and honesty from their uniforms by the rules' own functions
    bases = np.array([rules.crn_base(seed, rules.STREAMS[name], step) for name in compiled.ENTRANT_STREAMS],
                     dtype=np.uint64)
    keys, kind, city, sector = np.empty(n, np.uint64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    weight, marginal, u_size, u_honesty = np.empty(n), np.empty(n, bool), np.empty(n), np.empty(n)
    compiled.entrants(step, counts, kinds, cities, bases, sector_cdf(p), kind_weights, marginal_share, keys, kind,
                      city, sector, weight, marginal, u_size, u_honesty)
    return {
        "key": keys,
        "kind": kind,
        "city": city,
        "sector": sector,
        "age_months": np.zeros(n, dtype=np.int64),
        "log_size": np.asarray(draw_log_size(kind, u_size, p), dtype=np.float64).reshape(n),
        "status": np.full(n, rules.ACTIVE, dtype=np.int64),
        "months_dormant": np.zeros(n, dtype=np.int64),
        "honesty": np.asarray(draw_honesty(u_honesty), dtype=np.float64).reshape(n),
        "credit_status": np.full(n, rules.NORMAL, dtype=np.int64),
        "months_in_status": np.zeros(n, dtype=np.int64),
        "months_since_penalty": np.full(n, 999, dtype=np.int64),
        "memory": np.zeros(n),
        "marginal": marginal,
        "violating": np.zeros(n, dtype=bool),
        "weight": weight,
    }


def count_entries(record: dict[str, float], entrants: dict[str, np.ndarray]) -> None:
    """Add a month's entrants to the record, in real entities, in total and by kind."""
    by_kind = np.bincount(entrants["kind"], weights=entrants["weight"], minlength=3)
    record["entries"] += float(by_kind.sum())
    for name, value in zip(("entries_company", "entries_other", "entries_individual"), by_kind):
        record[name] += float(value)
