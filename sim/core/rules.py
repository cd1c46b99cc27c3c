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

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from sim.core.streams import (  # noqa: F401  (re-exported: the engines and submodels call rules.crn_uniform, ...)
    STREAMS, _is_array, binomial_count, binomial_inverse, crn_base, crn_uniform, entrant_key, poisson_count,
    poisson_inverse, uniform_from_key)

if TYPE_CHECKING:
    from sim.inputs.parameters import Parameters

# Codes shared by both engines.
COMPANY, OTHER_ENTERPRISE, INDIVIDUAL = 0, 1, 2
KINDS = ("company", "other_enterprise", "individual")
ACTIVE, DORMANT, DEREGISTERED = 0, 1, 2
NORMAL, ABNORMAL, SERIOUS = 0, 1, 2
MANUFACTURING, TRADE, FOOD, SERVICES = 0, 1, 2, 3
SECTORS = ("manufacturing", "trade", "food", "services")
RISK_A, RISK_B, RISK_C, RISK_D = 0, 1, 2, 3
NOT_INSPECTED, RANDOM_INSPECTION, ROUTINE_INSPECTION, LEAD_INSPECTION = 0, 1, 2, 3

MAX_ANNUAL_HAZARD = 0.95  # structural bound: no entity is certain to cease within a year
LOG_100 = math.log(100.0)  # log size of 1M yuan revenue, the reference size
MONTHLY_LAPLACE = 1.0 / math.sqrt(2.0) / math.sqrt(12.0)  # annual sigma -> monthly Laplace scale


# Primitives that take Python scalars or numpy arrays: scalars stay on the fast math path,
# arrays use numpy. Rules below are written once with these.
_ARRAY = np.ndarray


def where(cond, a, b):
    """``a`` where ``cond`` else ``b``."""
    if type(cond) is _ARRAY or type(a) is _ARRAY or type(b) is _ARRAY:
        return np.where(cond, a, b)
    return a if cond else b


def exp(x):
    """Exponential."""
    return np.exp(x) if type(x) is _ARRAY else math.exp(x)


def log(x):
    """Natural logarithm."""
    return np.log(x) if type(x) is _ARRAY else math.log(x)


def log1p(x):
    """log(1 + x)."""
    return np.log1p(x) if type(x) is _ARRAY else math.log1p(x)


def minimum(a, b):
    """Elementwise minimum."""
    return np.minimum(a, b) if (type(a) is _ARRAY or type(b) is _ARRAY) else min(a, b)


def maximum(a, b):
    """Elementwise maximum."""
    return np.maximum(a, b) if (type(a) is _ARRAY or type(b) is _ARRAY) else max(a, b)


def clip(x, low, high):
    """Clip to [low, high]."""
    return np.clip(x, low, high) if type(x) is _ARRAY else min(high, max(low, x))


def sign(x):
    """Sign of x (-1, 0, 1)."""
    return np.sign(x) if type(x) is _ARRAY else float((x > 0) - (x < 0))


def take(table, index):
    """``table[index]`` for an int or an int array; a Python float for an int."""
    return table[index] if _is_array(index) else float(table[index])


def monthly_probability(annual):
    """Monthly probability of an event with the given annual probability."""
    return 1.0 - (1.0 - clip(annual, 0.0, 0.999999)) ** (1.0 / 12.0)


def large_count(u, mean, exact_below: float = 50.0):
    """A count with a Poisson mean for one process-wide draw: exact inversion below ``exact_below``,
    the normal approximation beyond (where the mean has millions, as trademark filings)."""
    if mean <= 0.0:
        return 0
    if mean > exact_below:
        return max(0, int(round(mean + math.sqrt(mean) * normal_quantile(u))))
    return poisson_inverse(u, mean)


def economy_factor(gdp_growth, elasticity, p: Parameters):
    """How a rate moves with the economy: ``1 + elasticity x (GDP growth - reference)``, at least
    ``economy_factor_floor`` (a negative elasticity for hazards that fall in good years)."""
    return maximum(p.economy_factor_floor, 1.0 + elasticity * (gdp_growth - p.gdp_reference))


def normal_quantile(u):
    """Standard normal draw from a uniform, kept 1e-12 away from 0 and 1 (scipy's ndtri, the
    function behind ``scipy.stats.norm.ppf``, at a fraction of its call cost)."""
    z = special.ndtri(clip(u, 1e-12, 1.0 - 1e-12))
    return z if _is_array(z) else float(z)


def laplace_quantile(u, scale):
    """Laplace(0, scale) draw from a uniform in (0, 1) (tent-shaped growth rates, Stanley et al. 1996)."""
    # 1 - 2|u - 0.5| is 2 min(u, 1 - u), exactly (so log, a third of log1p's cost, loses nothing)
    tail = maximum(minimum(u, 1.0 - u), 1e-7)
    return -scale * sign(u - 0.5) * log(2.0 * tail)


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


def hazard_by_age_month(table_ages, table_hazards, after: float, max_months: int) -> np.ndarray:
    """Annual hazard for every age in whole months, for lookups with :func:`take`."""
    return age_hazard(np.arange(max_months) / 12.0, table_ages, table_hazards, after)


def exit_hazard(base_hazard, kind, log_size, log_size_min, credit_status, marginal, severity,
                gdp_growth, shock, p: Parameters):
    """Annual hazard that an active entity ceases operation.

    Falls with size; rises for individual businesses, listed entities (with the credit
    penalty severity), marginal entrants, weak growth and shocks.
    """
    size_factor = exp(p.hazard_size_elasticity * (log_size - log_size_min))
    kind_factor = where(kind == INDIVIDUAL, p.hazard_individual_multiplier, 1.0)
    listed_factor = 1.0 + p.hazard_listed_effect * severity * (credit_status != NORMAL)
    marginal_factor = where(marginal, p.marginal_entrant_hazard, 1.0)
    economy = economy_factor(gdp_growth, -p.gdp_exit_elasticity, p)
    hazard = p.hazard_scale * base_hazard * size_factor * kind_factor * listed_factor * marginal_factor \
        * economy * shock
    return clip(hazard, 0.0, MAX_ANNUAL_HAZARD)


def deregister_at_exit_probability(simplified_share, kind, credit_status, p: Parameters):
    """Probability that a ceasing entity deregisters at once rather than going dormant.

    Listed entities cannot use simplified deregistration until they are cleared.
    """
    ordinary = where(kind == INDIVIDUAL, p.dereg_ordinary_completion_individual,
                     p.dereg_ordinary_completion_enterprise)
    simplified = simplified_share * (credit_status == NORMAL)
    return simplified * p.dereg_simplified_completion + (1.0 - simplified) * ordinary


def dormant_deregistration_probability(simplified_share, credit_status, p: Parameters):
    """Monthly probability that a dormant entity deregisters voluntarily.

    Simplified deregistration raises it only for entities that may use it (not listed).
    """
    listed = credit_status != NORMAL
    boost = 1.0 + p.dormant_dereg_simplified_boost * simplified_share * (1 - listed)
    return p.dormant_dereg_rate * boost * where(listed, p.dormant_listed_dereg_factor, 1.0)


def compulsory_deregistration_due(switch_on, credit_status, months_dormant, after_months):
    """Whether a dormant entity is eligible for compulsory deregistration."""
    return (switch_on > 0.5) & (credit_status != NORMAL) & (months_dormant >= after_months)


def growth_sigma(log_size, p: Parameters):
    """Annual spread of log growth, falling with size as S^-beta (Stanley et al. 1996)."""
    return p.growth_sigma_ref * exp(-p.growth_size_beta * (log_size - LOG_100))


def grow(log_size, u, credit_status, severity, log_size_floor, p: Parameters):
    """One month of Gibrat growth with Laplace shocks; listed entities grow slower.

    Sizes reflect at ``log_size_floor`` (the smallest size of any kind, so an entity that
    changes kind keeps its size).
    """
    drift = (p.growth_drift - p.listed_growth_penalty * severity * (credit_status != NORMAL)) / 12.0
    scale = growth_sigma(log_size, p) * MONTHLY_LAPLACE
    new = log_size + drift + laplace_quantile(u, scale)
    return where(new < log_size_floor, 2 * log_size_floor - new, new)


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
    return minimum(1.0, 1.0 - exp(-intensity) + p.memory_bump * memory)


def violation_probability(honesty, peer_violation, expected_cost, p: Parameters):
    """Probability that an active entity violates this month.

    A logit in the entity's honesty, its peers' violation share (norms) and the
    expected sanction cost (deterrence).
    """
    logit = p.violation_intercept - honesty + p.peer_weight * (peer_violation - p.peer_reference) \
        - p.deterrence_weight * expected_cost
    return 1.0 / (1.0 + exp(-logit))


def risk_class(credit_status, months_since_penalty, age_months, p: Parameters):
    """Credit-risk class A-D: D serious list; C abnormal list or a penalty within a year;
    B young or penalised within the memory; A otherwise."""
    return where(credit_status == SERIOUS, RISK_D,
                 where((credit_status == ABNORMAL) | (months_since_penalty < 12), RISK_C,
                       where((age_months < 12) | (months_since_penalty < p.penalty_memory_months),
                             RISK_B, RISK_A)))


def risk_weights(p: Parameters) -> np.ndarray:
    """Relative double-random sampling weight of each risk class (Henan 2021 ratios)."""
    return np.array([p.risk_weight_a, p.risk_weight_b, p.risk_weight_c, p.risk_weight_d])


def routine_visibility(log_size, sector, p: Parameters):
    """Relative chance of a routine (non-random) inspection: larger and food businesses first."""
    return exp(p.routine_size_exponent * (log_size - LOG_100)) * where(sector == FOOD, p.routine_food_factor, 1.0)


def inspection_type(u, p_random, p_routine, p_lead):
    """Which inspection (if any) falls on an entity this month, from one uniform."""
    first = p_random
    second = first + p_routine
    third = second + p_lead
    return where(u < first, RANDOM_INSPECTION,
                 where(u < second, ROUTINE_INSPECTION, where(u < third, LEAD_INSPECTION, NOT_INSPECTED)))


def detection_probabilities(p: Parameters) -> np.ndarray:
    """Chance that an inspection finds an ongoing violation, by inspection type
    (none, random, routine, lead)."""
    return np.array([0.0, p.detection_random, p.detection_random * (1.0 - p.routine_predictability),
                     p.detection_lead])


def serious_listing_probability(severity, p: Parameters):
    """Chance that a detected violation puts the entity on the serious-dishonesty list."""
    return minimum(1.0, p.serious_violation_share * severity)


def conversion_size_factor(log_size, exponent):
    """An individual business's propensity to convert by its size, before it is divided by the mean
    over the active individual businesses: ``(size / 1M yuan) ** exponent``."""
    return exp((log_size - LOG_100) * exponent)


def conversion_probability(rate_percent, size_factor):
    """Monthly probability that an individual business converts to a company (个转企).

    ``size_factor`` is the entity's relative propensity with population mean 1.
    """
    return minimum(1.0, rate_percent / 100.0 / 12.0 * size_factor)


def regulator_move(current, target, pace_per_month, u, noise):
    """A regulator's share after one month of moving towards a target at its pace.

    Upward moves are limited by the pace (scaled by uniform noise of half-width
    ``noise``); a lower target is followed at once.
    """
    step_up = pace_per_month * (1.0 + noise * (2.0 * u - 1.0))
    return where(target > current, minimum(target, current + step_up), target)


def trend_years(years_since_2020, damping):
    """Years of trend accumulated by a year: the years themselves up to 2020 (the fitted history),
    then a damped sum, damping + damping^2 + ... (Gardner & McKenzie 1985), after it."""
    if years_since_2020 <= 0 or damping >= 1.0:
        return float(years_since_2020)
    return damping * (1.0 - damping ** years_since_2020) / (1.0 - damping)


def entry_multiplier(entry_cost_index, licence_coverage, licence_2020, gdp_growth, years_since_2020,
                     p: Parameters):
    """Entries relative to 2020 from registration cost, licence reform, the economy and the
    (damped after 2020) trend."""
    return entry_cost_index ** (-p.entry_cost_elasticity) \
        * (1.0 + p.licence_entry_effect * (licence_coverage - licence_2020)) \
        * economy_factor(gdp_growth, p.gdp_entry_elasticity, p) \
        * (1.0 + p.entry_trend) ** trend_years(years_since_2020, p.entry_trend_damping)


def entry_room(registered, p: Parameters):
    """Entries relative to 2020 from the room left below the density ceiling: (ceiling - density) /
    (ceiling - density in 2020), never below 0, where density is registered entities (real ones)
    per 1,000 residents. Above 1 before 2020 (a thinner register), falling towards 0 as the
    register fills, so growth levels off."""
    density = registered / (p.resident_population_2020 * 10.0)
    density_2020 = 1000.0 * p.entities_2020 / p.resident_population_2020
    return maximum(0.0, (p.entity_density_ceiling - density) / (p.entity_density_ceiling - density_2020))


def marginal_entrant_share(policy_multiplier):
    """Share of entrants that enter only because entry got cheaper (Branstetter et al. 2014)."""
    return maximum(0.0, 1.0 - 1.0 / maximum(policy_multiplier, 1e-9))


# ---------------------------------------------------------------- decisions shared by both engines
NO_EVENT, CONVERSION, CORPORATISATION = 0, 1, 2
STAY, DEREG_SIMPLIFIED, DEREG_ORDINARY, DEREG_COMPULSORY, GO_DORMANT, REACTIVATE = 0, 1, 2, 3, 4, 5
DEREG_ROUTES = {DEREG_SIMPLIFIED: "simplified", DEREG_ORDINARY: "ordinary", DEREG_COMPULSORY: "compulsory"}


def conversion_event(kind, eligible, u, conversion_prob, p: Parameters):
    """Whether an active, normal-credit entity changes kind this month: an individual business
    converts (个转企, ``conversion_prob``), another enterprise corporatises."""
    corporatise = u < p.corporatisation_rate / 12.0
    return where(eligible & (kind == INDIVIDUAL) & (u < conversion_prob), CONVERSION,
                 where(eligible & (kind == OTHER_ENTERPRISE) & corporatise, CORPORATISATION, NO_EVENT))


def in_random_pool(status, credit_status):
    """Whether an entity can be drawn for a double-random inspection: every registered entity
    except dormant ones already listed (regulators know they cannot be found at their address;
    compulsory deregistration deals with them)."""
    return (status == ACTIVE) | ((status == DORMANT) & (credit_status == NORMAL))


def random_share_cap(budget: float, expected_leads: float, p: Parameters) -> float:
    """The largest share of a month's inspections a regulator can draw at random: what is left after
    the key-area and risk-targeted work (``key_area_share``) and the complaints it expects to follow
    (``expected_leads``, as far as its budget goes)."""
    leads = where(budget > 0.0, minimum(1.0, expected_leads / _nonzero(budget)), 0.0)
    return maximum(0.0, 1.0 - p.key_area_share - leads)


def _nonzero(x):
    """x with zeros replaced by ones: a denominator for ``where(x != 0, a / x, b)`` on arrays."""
    return where(x != 0.0, x, 1.0)


def _column(x):
    """A per-city array as a column (to broadcast over risk classes); a scalar as it is."""
    return x[..., None] if _is_array(x) else x


def inspection_plan(capacity, registered, dual_random_share, credit_share, risk_mass, visibility_mass, violating_mass,
                    p: Parameters):
    """A city regulator's monthly selection probabilities from its capacity and register (scalars for
    one city; or arrays over the cities, ``risk_mass`` then by city and class, for every city at once).

    Args:
        capacity: Inspections per 100 registered entities per year.
        registered: Registered real entities in the city.
        dual_random_share: Current double-random share, %.
        credit_share: Current share of random inspections weighted by risk class, %.
        risk_mass: Real entities in the double-random pool in each risk class A-D.
        visibility_mass: Active real entities weighted by routine visibility.
        violating_mass: Active real entities violating this month; ``complaint_rate`` of them are
            expected to draw a complaint. The regulator plans for the expected complaints, not
            this month's count, so its follow-up share does not depend on how many simulated
            entities stand for the city (with none expected, every complaint would be followed).

    Returns:
        (probability of a random inspection for each risk class, routine probability per unit
        of visibility, share of complaints followed up).
    """
    budget = capacity / 100.0 * registered / 12.0
    expected_leads = p.complaint_rate * violating_mass
    random_budget = budget * minimum(dual_random_share / 100.0, random_share_cap(budget, expected_leads, p))
    other_budget = budget - random_budget
    weights = risk_weights(p)
    mass = np.asarray(risk_mass, dtype=float)
    uniform_mass = mass.sum(axis=-1)
    weighted_mass = (mass * weights).sum(axis=-1)
    credit = credit_share / 100.0
    uniform_part = where(uniform_mass != 0.0, (1.0 - credit) / _nonzero(uniform_mass), 0.0)
    weighted_part = where(_column(weighted_mass) != 0.0, _column(credit) * weights / _column(_nonzero(weighted_mass)),
                          0.0 * weights)
    random_by_class = _column(random_budget) * (_column(uniform_part) + weighted_part)
    lead_coverage = where(expected_leads > 0.0,
                          minimum(1.0, other_budget * p.lead_share_cap / _nonzero(expected_leads)), 1.0)
    routine_budget = other_budget - lead_coverage * expected_leads
    routine_unit = where(visibility_mass != 0.0, routine_budget / _nonzero(visibility_mass), 0.0)
    return random_by_class, routine_unit, lead_coverage


def after_sanction(credit_status, detected, u, severity, p: Parameters):
    """Credit status after sanctions: a detected violation may put the entity on the
    serious-dishonesty list."""
    return where(detected & (u < serious_listing_probability(severity, p)), SERIOUS, credit_status)


def annual_report_filed(status, u, p: Parameters):
    """Whether an entity files its annual report (June); non-filers go on the abnormal list."""
    return u < where(status == ACTIVE, p.annual_report_file_active, p.annual_report_file_dormant)


def credit_transition(credit_status, months_in_status, kind, active, u, p: Parameters):
    """Monthly credit-list dynamics: three years on the abnormal list moves an enterprise to the
    serious-dishonesty list; active listed entities repair (the serious list after a minimum time)."""
    abnormal = credit_status == ABNORMAL
    escalate = abnormal & (kind != INDIVIDUAL) & (months_in_status >= p.abnormal_to_serious_months)
    repair_abnormal = abnormal & active & (u < p.abnormal_repair_rate)
    repair_serious = (credit_status == SERIOUS) & active & (months_in_status >= p.serious_min_months) \
        & (u < p.serious_repair_rate)
    return where(escalate, SERIOUS, where(repair_abnormal | repair_serious, NORMAL, credit_status))


def active_exit(u_exit, u_route, hazard, simplified_share, kind, credit_status, p: Parameters):
    """An active entity's exit outcome: stay, cease and deregister (simplified or ordinary), or
    cease and go dormant on the register."""
    ceases = u_exit < monthly_probability(hazard)
    eligible = credit_status == NORMAL
    p_simplified = simplified_share * eligible * p.dereg_simplified_completion
    p_now = deregister_at_exit_probability(simplified_share, kind, credit_status, p)
    return where(ceases, where(u_route < p_simplified, DEREG_SIMPLIFIED,
                               where(u_route < p_now, DEREG_ORDINARY, GO_DORMANT)), STAY)


def dormant_exit(u_dormant, u_route, due, simplified_share, credit_status, p: Parameters):
    """A dormant entity's outcome: compulsory deregistration (if due), voluntary deregistration
    (simplified only for normal credit), resuming business, or staying dormant."""
    p_compulsory = p.compulsory_processing_rate * due
    p_voluntary = dormant_deregistration_probability(simplified_share, credit_status, p)
    simplified = (credit_status == NORMAL) & (u_route < simplified_share)
    return where(u_dormant < p_compulsory, DEREG_COMPULSORY,
                 where(u_dormant < p_compulsory + p_voluntary, where(simplified, DEREG_SIMPLIFIED, DEREG_ORDINARY),
                       where(u_dormant < p_compulsory + p_voluntary + p.dormant_reactivation_rate,
                             REACTIVATE, STAY)))
