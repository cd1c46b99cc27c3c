"""The pure rules of the innovation submodel: functions of scalars and numpy arrays alike, with no
state (sizes, hazards, counts at uniforms, allocations, the trademark back-cast and the overseas
pipeline). The ones the compiled clocks call are registered with numba (``register_jitable``).
Counts are drawn with the model's one count inversion (:func:`sim.core.rules.binomial_count`,
:func:`sim.core.rules.large_count`)."""

from __future__ import annotations

import math
from functools import cache

import numba
import numpy as np
from numba.extending import register_jitable
from scipy import optimize

from sim.core import compiled  # noqa: F401  (registers the rules numba compiles: rules.uniform_from_key, ...)
from sim.core import rules
from sim.inputs.parameters import Parameters
from sim.submodels.innovation.parameters import BASE_YEAR, InnovationParameters

_compiled = numba.njit(cache=True, nogil=True)


@register_jitable
def exponential_threshold(u):
    """An Exp(1) clock threshold from a uniform (a float; ``rules.log1p`` takes arrays too)."""
    return -rules.log1p(-u)


def tail_log_excess(quantile, alpha, largest=math.inf):
    """Log size above the threshold at ``quantile`` of the Pareto tail (exponent alpha, Axtell 2001),
    cut at ``largest``."""
    mass = 1.0 - math.exp(-alpha * largest)
    if isinstance(quantile, np.ndarray):
        return -np.log1p(-quantile * mass) / alpha
    return -math.log1p(-quantile * mass) / alpha


def band_log_excess(quantile, alpha, width):
    """Log size below the threshold (in [-width, 0)) at ``quantile``, the Pareto density continued."""
    top = math.exp(alpha * width)
    return -np.log(top - quantile * (top - 1.0)) / alpha


@register_jitable
def annual_growth(log_size, u, listed, severity, p: Parameters):
    """A year of Gibrat growth with a Laplace shock (``rules.grow`` over twelve months at once):
    drift ``growth_drift`` less the credit penalty of listed firms, spread falling with size."""
    drift = p.growth_drift - p.listed_growth_penalty * severity * listed
    return log_size + drift + rules.laplace_quantile(u, rules.growth_sigma(log_size, p) / math.sqrt(2.0))


def drop_probability(log_excess, drift, scale, width):
    """Probability that a year's Laplace step (location ``drift``, scale ``scale``) takes a firm below
    the band's lower edge ``-width``."""
    gap = log_excess + drift + width
    return np.where(gap >= 0.0, 0.5 * np.exp(-np.abs(gap) / scale), 1.0 - 0.5 * np.exp(-np.abs(gap) / scale))


@register_jitable
def exit_size_factor(log_size, p: Parameters):
    """Size factor of the annual exit hazard (larger firms survive longer, survival report 2013)."""
    return rules.exp(p.hazard_size_elasticity * (log_size - rules.LOG_100))


@register_jitable
def firm_exit_hazard(size_factor, listed, severity, gdp_growth, shock, p: Parameters):
    """Annual exit hazard of a simulated firm: the entity model's hazard for established firms
    (``hazard_after_year_7``) by size, raised for listed firms and in bad years."""
    economy = rules.economy_factor(gdp_growth, -p.gdp_exit_elasticity, p)
    return p.hazard_after_year_7 * size_factor * (1.0 + p.hazard_listed_effect * severity * listed) * economy * shock


def listing_hazard(detection_ratio, severity, params: InnovationParameters, p: Parameters):
    """Annual hazard that a simulated firm with a clean record is listed, and the abnormal-list part.

    The detected-violation part follows the main model's detection rate (relative to 2020) and
    the chance that a detected violation leads to listing, which grows with the credit penalty
    severity as ``rules.serious_listing_probability`` does.
    """
    severity_ratio = rules.serious_listing_probability(severity, p) / rules.serious_listing_probability(1.0, p)
    detected = params.listing_detected_2020 * detection_ratio * severity_ratio
    return params.listing_abnormal_2020 + detected, params.listing_abnormal_2020


def systematic_allocation(weights, total: int, u0: float) -> np.ndarray:
    """Integers adding up to ``total``, each within one of ``total x weight share`` (systematic sampling)."""
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    edges = np.cumsum(w) / w.sum() * total
    taken = np.floor(edges + u0).astype(np.int64)
    return np.diff(np.concatenate(([int(np.floor(u0))], taken)))


def weighted_choice(u, weights, k: int) -> np.ndarray:
    """Indices of k items drawn without replacement with probability by weight (Efraimidis-Spirakis keys)."""
    w = np.asarray(weights, float)
    keys = np.where(w > 0, np.log(np.maximum(u, 1e-300)) / np.maximum(w, 1e-300), -np.inf)
    k = min(k, int(np.count_nonzero(w > 0)))
    if k <= 0:
        return np.zeros(0, np.int64)
    return np.argpartition(-keys, k - 1)[:k]


@cache
def trademark_backcast(params: InnovationParameters) -> tuple[float, float, float]:
    """Registrations by year before 2021 that reproduce the valid stock of 2016, 2017 and 2020.

    Registrations grow at a constant rate ``g0`` up to 2017 and at ``g1`` in 2018-2020, from a
    level ``R17`` in 2017; a mark registered in year y is valid at the end of year Y with
    probability ``(1 - cancel)^(Y-y) x renewal^floor((Y-y)/term)``. Three stocks, three unknowns.

    Returns:
        (R17 in 10k marks, g0, g1).
    """
    def equations(x):
        r17, g0, g1 = x
        return [trademark_stock(year, r17, g0, g1, params) - target for year, target in
                ((2016, params.trademarks_2016), (2017, params.trademarks_2017), (2020, params.trademarks_2020))]

    solution = optimize.fsolve(equations, [25.0, 0.15, 0.3], full_output=False)
    return float(solution[0]), float(solution[1]), float(solution[2])


def backcast_registrations(year, r17, g0, g1):
    """Back-cast registrations in a year (10k marks)."""
    return r17 * (1.0 + (g0 if year <= 2017 else g1)) ** (year - 2017)


def trademark_stock(year: int, r17: float, g0: float, g1: float, params: InnovationParameters) -> float:
    """Valid marks at the end of ``year`` from the back-cast registrations (10k marks)."""
    term = int(params.trademark_term_years)
    total = 0.0
    for y in range(1980, year + 1):
        age = year - y
        total += backcast_registrations(y, r17, g0, g1) * (1.0 - params.trademark_cancel_rate) ** age \
            * params.trademark_renewal ** (age // term)
    return total


@cache
def trademark_cohorts_2020(params: InnovationParameters) -> dict[int, float]:
    """Valid marks at the end of 2020 by the year their current term began (marks, not 10k; the same
    dictionary for the same parameters: copy it to change it)."""
    r17, g0, g1 = trademark_backcast(params)
    term = int(params.trademark_term_years)
    cohorts: dict[int, float] = {}
    for y in range(1980, BASE_YEAR + 1):
        age = BASE_YEAR - y
        renewals = age // term
        amount = backcast_registrations(y, r17, g0, g1) * (1.0 - params.trademark_cancel_rate) ** age \
            * params.trademark_renewal ** renewals
        start = y + renewals * term
        cohorts[start] = cohorts.get(start, 0.0) + amount * 1e4
    return cohorts


def overseas_pipeline(grants: float, growth: float, stage_months: float, ratio: float) -> tuple[float, float, float]:
    """Yearly filings and the filings in each examination stage that give ``grants`` a year when
    filings have grown at ``growth`` a year (two exponential stages of ``stage_months`` each)."""
    h = 12.0 / stage_months
    filings = grants * (growth + h) ** 2 / (ratio * h * h)
    stage1 = filings / (growth + h)
    stage2 = h * filings / (growth + h) ** 2
    return filings, stage1, stage2


def adoption_path(years, count_2020, ceiling, rate):
    """The logistic diffusion through ``count_2020`` at the end of 2020, ``years`` after it (negative:
    before): ``ceiling / (1 + (ceiling / count_2020 - 1) exp(-rate x years))``."""
    return ceiling / (1.0 + (ceiling / count_2020 - 1.0) * np.exp(-rate * np.asarray(years, dtype=float)))
