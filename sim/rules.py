"""Pure rules of the model: hazards, probabilities and decisions.

Every function works on Python scalars and on numpy arrays alike, so the per-agent
Mesa engine and a vectorised engine share them. None keeps state or draws random
numbers of its own: randomness comes in as uniforms from :func:`crn_uniform`, a
counter-based generator keyed by (seed, process, entity, month). Two runs with the
same seed therefore give every entity the same draw in every process and month,
whatever the other levers did (common random numbers), and the two engines draw
the same numbers for the same entity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from sim.parameters import Parameters

# Codes shared by both engines.
COMPANY, OTHER_ENTERPRISE, INDIVIDUAL = 0, 1, 2
KINDS = ("company", "other_enterprise", "individual")
ACTIVE, DORMANT, DEREGISTERED = 0, 1, 2
NORMAL, ABNORMAL, SERIOUS = 0, 1, 2
MANUFACTURING, TRADE, FOOD, SERVICES = 0, 1, 2, 3
SECTORS = ("manufacturing", "trade", "food", "services")
RISK_A, RISK_B, RISK_C, RISK_D = 0, 1, 2, 3
NOT_INSPECTED, RANDOM_INSPECTION, ROUTINE_INSPECTION, LEAD_INSPECTION = 0, 1, 2, 3

# One random stream per process (common random numbers).
STREAMS = {name: i + 1 for i, name in enumerate((
    "init", "init_age", "init_size", "init_sector", "init_honesty", "init_dormant", "init_credit",
    "entry", "entrant", "conversion", "corporatisation", "growth", "compliance", "complaint", "inspection",
    "detection", "sanction", "exit", "deregistration", "dormancy", "annual_report", "repair",
    "regulator", "init_city", "init_kind", "entrant_size", "entrant_honesty", "entrant_sector",
    "entrant_marginal",
))}

_MASK = (1 << 64) - 1


def _mix(x):
    """splitmix64 finaliser on Python ints or uint64 arrays."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def crn_uniform(seed: int, stream: int, key, step: int):
    """Uniform draw in [0, 1) for (seed, stream, entity key, step).

    Args:
        seed: Run seed.
        stream: Process id from STREAMS.
        key: Entity key (int, or uint64 array of keys).
        step: Month index (any integer, -1 for initialisation).

    Returns:
        A float, or a float64 array shaped like ``key``.
    """
    base = _mix((seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03
                 + (step + 7) * 0xAEF17502108EF2D9) & _MASK)
    if isinstance(key, (int, np.integer)):
        x = _mix(_mix((int(key) * 0xDB4F0B9175AE2165 + base) & _MASK))
        return (x >> 11) * (1.0 / 9007199254740992.0)
    keys = np.asarray(key, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = _mix(_mix(keys * np.uint64(0xDB4F0B9175AE2165) + np.uint64(base)))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def entrant_key(step: int, kind: int, city: int, index):
    """Key of the index-th entrant of a kind and city in a month: the same across scenarios."""
    return ((step + 1) << 40) | (kind << 36) | (city << 32) | index


def monthly_probability(annual):
    """Monthly probability of an event with the given annual probability."""
    return 1.0 - np.power(1.0 - np.clip(annual, 0.0, 0.999999), 1.0 / 12.0)


def poisson_count(u, mean):
    """Number of events with a Poisson mean, by inversion of a uniform (monotone in the mean)."""
    return stats.poisson.ppf(u, mean).astype(np.int64) if np.ndim(u) else int(stats.poisson.ppf(u, mean))


def laplace_quantile(u, scale):
    """Laplace(0, scale) draw from a uniform in (0, 1) (tent-shaped growth rates, Stanley et al. 1996)."""
    centred = np.asarray(u) - 0.5
    result = -scale * np.sign(centred) * np.log1p(-2.0 * np.minimum(np.abs(centred), 0.4999999))
    return float(result) if np.ndim(result) == 0 else result


def age_hazard(age_years, table_ages, table_hazards, after: float, fade_years: float = 5.0):
    """Annual hazard of ceasing operation by age, from the survival table.

    Ages inside the table interpolate its values (year 1 is the founding year);
    beyond the last tabulated year the hazard falls linearly to ``after`` over
    ``fade_years``.
    """
    age_index = np.asarray(age_years, dtype=float) + 1.0
    last_age, last_h = table_ages[-1], table_hazards[-1]
    inside = np.interp(age_index, table_ages, table_hazards)
    fade = np.clip((age_index - last_age) / fade_years, 0.0, 1.0)
    beyond = last_h + (after - last_h) * fade
    result = np.where(age_index > last_age, beyond, inside)
    return float(result) if np.ndim(result) == 0 else result


def exit_hazard(base_hazard, kind, log_size, log_size_min, credit_status, marginal, severity,
                gdp_growth, shock, p: Parameters):
    """Annual hazard that an active entity ceases operation.

    Falls with size; rises for individual businesses, listed entities (with the credit
    penalty severity), marginal entrants, weak growth and shocks.
    """
    size_factor = np.exp(p.hazard_size_elasticity * (log_size - log_size_min))
    kind_factor = np.where(kind == INDIVIDUAL, p.hazard_individual_multiplier, 1.0)
    listed_factor = 1.0 + p.hazard_listed_effect * severity * (credit_status != NORMAL)
    marginal_factor = np.where(marginal, p.marginal_entrant_hazard, 1.0)
    economy = np.maximum(0.2, 1.0 - p.gdp_exit_elasticity * (gdp_growth - p.gdp_reference))
    hazard = p.hazard_scale * base_hazard * size_factor * kind_factor * listed_factor * marginal_factor * economy * shock
    result = np.clip(hazard, 0.0, 0.95)
    return float(result) if np.ndim(result) == 0 else result


def deregister_at_exit_probability(simplified_share, kind, credit_status, p: Parameters):
    """Probability that a ceasing entity deregisters at once rather than going dormant.

    Listed entities cannot use simplified deregistration until they are cleared.
    """
    ordinary = np.where(kind == INDIVIDUAL, p.dereg_ordinary_completion_individual,
                        p.dereg_ordinary_completion_enterprise)
    eligible = credit_status == NORMAL
    simplified = np.where(eligible, simplified_share, 0.0)
    result = simplified * p.dereg_simplified_completion + (1.0 - simplified) * ordinary
    return float(result) if np.ndim(result) == 0 else result


def dormant_deregistration_probability(simplified_share, credit_status, p: Parameters):
    """Monthly probability that a dormant entity deregisters voluntarily."""
    listed = np.where(credit_status != NORMAL, p.dormant_listed_dereg_factor, 1.0)
    result = p.dormant_dereg_rate * (0.5 + simplified_share) * listed
    return float(result) if np.ndim(result) == 0 else result


def compulsory_deregistration_due(switch_on, credit_status, months_dormant, after_months):
    """Whether a dormant entity is eligible for compulsory deregistration."""
    return (switch_on > 0.5) & (credit_status != NORMAL) & (months_dormant >= after_months)


def growth_sigma(log_size, p: Parameters):
    """Annual spread of log growth, falling with size as S^-beta (Stanley et al. 1996)."""
    return p.growth_sigma_ref * np.exp(-p.growth_size_beta * (log_size - np.log(100.0)))


def grow(log_size, u, credit_status, severity, log_size_min, p: Parameters):
    """One month of Gibrat growth with Laplace shocks; listed entities grow slower.

    The lower bound of the size distribution reflects.
    """
    drift = (p.growth_drift - p.listed_growth_penalty * severity * (credit_status != NORMAL)) / 12.0
    scale = growth_sigma(log_size, p) / np.sqrt(2.0) / np.sqrt(12.0)
    new = log_size + drift + laplace_quantile(u, scale)
    result = np.where(new < log_size_min, 2 * log_size_min - new, new)
    return float(result) if np.ndim(result) == 0 else result


def expected_sanction_cost(perceived_detection, fine_level, severity, p: Parameters):
    """Perceived expected cost of violating, relative to the gain (Allingham-Sandmo)."""
    return perceived_detection * (fine_level * p.fine_to_gain + severity * p.credit_cost_to_gain)


def perceived_detection(rate_random, rate_routine, rate_lead, memory, p: Parameters):
    """Perceived annual probability that a violation would be found.

    Random inspections are unannounced and detect at full strength; routine ones are
    predictable and detect less (Makofske); a recent inspection adds specific deterrence
    that decays (Ko et al. 2010).
    """
    detect_routine = p.detection_random * (1.0 - p.routine_predictability)
    intensity = rate_random * p.detection_random + rate_routine * detect_routine + rate_lead * p.detection_lead
    result = np.minimum(1.0, 1.0 - np.exp(-intensity) + p.memory_bump * memory)
    return float(result) if np.ndim(result) == 0 else result


def violation_probability(honesty, peer_violation, expected_cost, p: Parameters):
    """Probability that an active entity violates this month.

    A logit in the entity's honesty, its peers' violation share (norms) and the
    expected sanction cost (deterrence).
    """
    logit = p.violation_intercept - honesty + p.peer_weight * (peer_violation - 0.12) \
        - p.deterrence_weight * expected_cost
    result = 1.0 / (1.0 + np.exp(-logit))
    return float(result) if np.ndim(result) == 0 else result


def risk_class(credit_status, months_since_penalty, age_months, p: Parameters):
    """Credit-risk class A-D: D serious list; C abnormal list or a penalty within a year;
    B young or penalised within the memory; A otherwise."""
    result = np.where(
        credit_status == SERIOUS, RISK_D,
        np.where((credit_status == ABNORMAL) | (months_since_penalty < 12), RISK_C,
                 np.where((age_months < 12) | (months_since_penalty < p.penalty_memory_months),
                          RISK_B, RISK_A)))
    return int(result) if np.ndim(result) == 0 else result


def risk_weight(risk, p: Parameters):
    """Relative double-random sampling weight of a risk class (Henan 2021 ratios)."""
    weights = np.array([p.risk_weight_a, p.risk_weight_b, p.risk_weight_c, p.risk_weight_d])
    result = weights[risk]
    return float(result) if np.ndim(result) == 0 else result


def routine_visibility(log_size, sector, p: Parameters):
    """Relative chance of a routine (non-random) inspection: larger and food businesses first."""
    result = np.exp(p.routine_size_exponent * (log_size - np.log(100.0))) \
        * np.where(sector == FOOD, p.routine_food_factor, 1.0)
    return float(result) if np.ndim(result) == 0 else result


def inspection_type(u, p_random, p_routine, p_lead):
    """Which inspection (if any) falls on an entity this month, from one uniform."""
    first = p_random
    second = first + p_routine
    third = second + p_lead
    result = np.where(u < first, RANDOM_INSPECTION,
                      np.where(u < second, ROUTINE_INSPECTION,
                               np.where(u < third, LEAD_INSPECTION, NOT_INSPECTED)))
    return int(result) if np.ndim(result) == 0 else result


def detection_probability(kind_of_inspection, p: Parameters):
    """Chance that an inspection of a given type finds an ongoing violation."""
    table = np.array([0.0, p.detection_random, p.detection_random * (1.0 - p.routine_predictability),
                      p.detection_lead])
    result = table[kind_of_inspection]
    return float(result) if np.ndim(result) == 0 else result


def serious_listing_probability(severity, p: Parameters):
    """Chance that a detected violation puts the entity on the serious-dishonesty list."""
    return np.minimum(1.0, p.serious_violation_share * severity)


def conversion_probability(rate_percent, size_factor):
    """Monthly probability that an individual business converts to a company (个转企).

    ``size_factor`` is the entity's relative propensity with population mean 1.
    """
    result = np.minimum(1.0, rate_percent / 100.0 / 12.0 * size_factor)
    return float(result) if np.ndim(result) == 0 else result


def regulator_move(current, target, pace_per_month, u, noise):
    """A regulator's share after one month of moving towards a target at its pace.

    Upward moves are limited by the pace (scaled by uniform noise of half-width
    ``noise``); a lower target is followed at once.
    """
    step_up = pace_per_month * (1.0 + noise * (2.0 * u - 1.0))
    result = np.where(target > current, np.minimum(target, current + step_up), target)
    return float(result) if np.ndim(result) == 0 else result


def entry_multiplier(entry_cost_index, licence_coverage, licence_2020, gdp_growth, years_since_2020,
                     p: Parameters):
    """Entries relative to 2020 from registration cost, licence reform, the economy and trend."""
    result = np.power(entry_cost_index, -p.entry_cost_elasticity) \
        * (1.0 + p.licence_entry_effect * (licence_coverage - licence_2020)) \
        * np.maximum(0.2, 1.0 + p.gdp_entry_elasticity * (gdp_growth - p.gdp_reference)) \
        * np.power(1.0 + p.entry_trend, years_since_2020)
    return float(result) if np.ndim(result) == 0 else result


def marginal_entrant_share(policy_multiplier):
    """Share of entrants that enter only because entry got cheaper (Branstetter et al. 2014)."""
    result = np.maximum(0.0, 1.0 - 1.0 / np.maximum(policy_multiplier, 1e-9))
    return float(result) if np.ndim(result) == 0 else result
