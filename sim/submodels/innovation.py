"""Innovation and brands: the plan indicators in which firms decide (indicators 4-7 and 11-13).

Process 4 of the design. Two kinds of state, both plain numpy, advanced once a month after
the entity processes and the programmes (:meth:`Innovation.step`, called from
``sim.engines.base.BaseMarketModel._end_month``):

- Trademarks (indicator 4) as cohorts by the year their current ten-year term began: new
  registrations come from filings by companies, other enterprises and individual businesses
  (their counts from the month's record) and by the simulated firms below (by size and
  sector), registered after an examination lag; a cohort reaching ten years is renewed with a
  probability or lapses; a small hazard cancels marks early.
- The rare strata simulated firm by firm (about 8.8万 firms at the end of 2020, arrays of firms,
  not a Python loop over them; one to one at ``firm_scale`` 1, else a stratified sample of one
  firm in ``firm_scale`` whose counts are multiplied by it in the outputs): above-scale
  industrial firms (revenue >= 20M yuan) and the band of industrial firms just below the
  threshold, plus non-industrial holders of invention patents. Each firm has a log size, a sector flag, invention and high-value patents held, overseas filings in
  examination and overseas grants, a product category, Zhejiang Made standards led,
  Zhejiang Made (Pinzi-brand) certification, international certificates and a credit status.
  Sizes follow the Gibrat rule with Laplace shocks once a year (the above-scale directory is
  revised yearly); firms enter the above-scale group by growing past the threshold, leave it
  by shrinking or exiting, and new firms come in from below at a rate tied to the main
  model's registered companies and the economy. Patents are granted and lapse, overseas
  filings are granted after a lag, firms lead Zhejiang Made standards, firms with a standard
  for their product, the size and a clean credit record get certified, and certified firms
  that are listed (abnormal-operation or serious-dishonesty list) lose certification - the
  listing hazard follows the main model's detected violations and the credit penalty severity.

Every number is a field of :class:`InnovationParameters` with its unit, status and source.
Every draw is :func:`sim.core.rules.crn_uniform` on this module's streams (:data:`STREAMS`, ids
from 200), keyed by firm and month or by a firm's event count: firm events run on clocks
(each firm and process has an exponential threshold, drawn once per event and keyed by the
firm and its event count; the month's expected events are added until the threshold is
crossed), so two scenarios with the same seed share every firm's thresholds and a higher
rate never gives fewer or later events. The rules below are pure functions that take scalars
and numpy arrays alike; the two generic clock loops (``fire_clock``, ``rebase_clocks``) are
compiled with numba, as the vector engine's kernels are. docs/ODD.md 7.4 describes it all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numba
import numpy as np
from numba.extending import register_jitable
from scipy import optimize

from sim.engines import kernels  # the parameter tuple; registers the rules numba compiles (rules.uniform_from_key, ...)
from sim.core import rules
from sim.inputs.parameters import Parameters, documented, parameter_rows, replaced
from sim.inputs.scenario import Scenario

BASE_YEAR = 2020
NORMAL, ABNORMAL, SERIOUS = rules.NORMAL, rules.ABNORMAL, rules.SERIOUS

# The firm processes that run on clocks (see the module docstring). Each clock has a per-firm factor
# F (from the firm's state and the year's levers) and a common monthly scalar s: the firm's expected
# events in the month are F x s. Processes acting on disjoint sets of firms share a clock: "patent"
# is a first invention patent for firms without one and further grants for holders; "cert" is
# certification for eligible firms and non-renewal for certified ones; "intl" is a new international
# certificate or the lapse of one.
CLOCKS: tuple[str, ...] = ("exit", "listing", "patent", "lapse", "ofile", "stage1", "stage2", "standard", "cert",
                           "intl")
# Clocks whose factors depend on size or on the year's levers: rebased for every firm each January.
YEARLY: tuple[str, ...] = ("exit", "patent", "standard", "cert", "intl")

# Random streams of this module; they must not collide with sim.core.rules.STREAMS or sim.submodels.programmes.STREAMS.
STREAMS: dict[str, int] = {name: 200 + i for i, name in enumerate((
    "init_size", "init_holder", "init_patents", "init_hv", "init_pending", "init_category", "init_leader",
    "init_standards", "init_cert", "init_intl", "init_credit",
    "clock",
    "type_listing", "type_patent", "type_lapse", "type_stage2", "type_intl", "repair",
    "growth", "entry_count", "entry_size", "entry_holder", "entry_category", "holder_entry_count",
    "holder_entry_size", "standards_abolish", "trademark_year", "trademark_month", "trademark_renewal",
    "nonfirm_grants", "nonfirm_lapse",
))}
assert not set(STREAMS.values()) & set(rules.STREAMS.values()), "innovation streams collide with rules.STREAMS"
assert min(STREAMS.values()) >= 200, "innovation streams start at 200 (programmes use 101-122)"

# The indicators this module produces (ids of sim/data/plan_indicators.csv), and extra record fields.
INDICATORS: tuple[str, ...] = (
    "valid_trademarks", "high_value_patents_per_10k", "patent_coverage_above_scale", "overseas_patent_grants",
    "zhejiang_made_standards", "zhejiang_made_intl_certs", "pinzi_brand_firms",
)
EXTRA_FIELDS: tuple[str, ...] = ("above_scale_firms", "high_value_patents", "trademark_registrations",
                                 "certifications_lost_to_listing")
# How each field adds up over a year in the engines' records (sim/outputs/records.py holds the same):
# stocks and shares at year end; overseas grants, registrations and certifications lost are the
# month's flows, summed over the year.
AGGREGATION: dict[str, str] = {name: "stock" for name in INDICATORS + EXTRA_FIELDS}
AGGREGATION.update(overseas_patent_grants="flow", trademark_registrations="flow",
                   certifications_lost_to_listing="flow")


_p = documented


@dataclass(frozen=True)
class InnovationParameters:
    """Numbers of the trademark, patent, standards and certification processes; defaults describe 2020."""

    # --- trademarks (indicator 4) ---------------------------------------------------------------------
    trademarks_2016: float = _p(131.57, "10k marks", "source", "2016 Zhejiang trademark and brand report "
                                "(history_zhejiang.csv)")
    trademarks_2017: float = _p(154.48, "10k marks", "source", "2017 Zhejiang trademark and brand report "
                                "(history_zhejiang.csv)")
    trademarks_2020: float = _p(300.0, "10k marks", "source", "plan indicator 4, 2020 baseline")
    trademark_term_years: float = _p(10.0, "years", "source", "PRC Trademark Law arts. 39-40: a registration is "
                                     "valid ten years and may be renewed for ten years at a time")
    trademark_renewal: float = _p(0.45, "probability at expiry", "assumption",
                                  "share of marks renewed when their term ends (no Zhejiang figure)")
    trademark_cancel_rate: float = _p(0.005, "per year", "assumption",
                                      "marks cancelled before expiry (non-use, invalidation, surrender)")
    trademark_exam_months: float = _p(6.0, "months", "assumption", "filing to registration")
    trademark_share_company: float = _p(0.62, "share of 2020 registrations", "assumption",
                                        "companies file most marks")
    trademark_share_other: float = _p(0.02, "share of 2020 registrations", "assumption",
                                      "other (non-company) enterprises")
    trademark_share_individual: float = _p(0.28, "share of 2020 registrations", "assumption",
                                           "individual businesses (natural-person filers must hold a "
                                           "business licence); the simulated firms file the rest")
    trademark_size_elasticity: float = _p(0.3, "elasticity", "assumption",
                                          "larger simulated firms file more marks, less than in proportion")
    trademark_nonindustrial_factor: float = _p(1.5, "multiplier", "assumption",
                                               "non-industrial firms (consumer services, software) file more marks "
                                               "than industrial firms of the same size")
    trademark_filing_trend: float = _p(0.0, "per year", "assumption",
                                       "filings per entity held at 2020: the 2017-2020 boom (registrations "
                                       "+39% a year in the back-cast) is not extrapolated")
    trademark_support_elasticity: float = _p(0.5, "elasticity", "assumption",
                                             "brand-service stations and filing support raise filings less than "
                                             "in proportion")
    trademark_gdp_elasticity: float = _p(0.03, "relative per GDP point", "assumption",
                                         "as gdp_entry_elasticity of the entity model")
    trademark_year_sigma: float = _p(0.08, "log sd of a year's filings", "assumption",
                                     "filing waves (campaigns, rule changes) from year to year")
    # --- the simulated firms --------------------------------------------------------------------------
    above_scale_2020: float = _p(48000.0, "firms", "assumption",
                                 "about 4.8万 above-scale industrial enterprises in Zhejiang in 2020 (provincial "
                                 "statistics, from memory; not in the project's data)")
    above_scale_threshold: float = _p(2000.0, "10k yuan revenue", "source",
                                      "NBS definition since 2011: main-business revenue of 20M yuan or more")
    largest_log_excess: float = _p(10.0, "log size above the threshold", "assumption",
                                   "the largest Zhejiang firms have revenue of a few hundred billion yuan, about "
                                   "e^10 times the 20M threshold: the Pareto tail is cut there, and size factors "
                                   "of the hazards stop growing there")
    band_log_width: float = _p(0.4, "log size", "assumption",
                               "industrial firms simulated below the threshold: revenue from 20M x e^-0.4 = 13.4M "
                               "yuan (one year's growth rarely crosses more)")
    above_scale_growth: float = _p(0.04, "per year", "assumption",
                                   "net growth of the group at 2020 policies (about 4万 in 2016 to 4.8万 in 2020, "
                                   "from memory); sets the 2020 entry rate from below")
    entry_company_elasticity: float = _p(0.5, "elasticity", "assumption",
                                         "entry from below grows with registered companies, less than in "
                                         "proportion (most new companies are small)")
    entry_gdp_elasticity: float = _p(0.05, "relative per GDP point", "assumption",
                                     "more firms grow past the threshold in good years")
    other_holders_2020: float = _p(15000.0, "firms", "assumption",
                                   "non-industrial and small firms holding invention patents (software, services, "
                                   "small high-tech firms)")
    other_holders_growth: float = _p(0.08, "per year", "assumption",
                                     "net growth of non-industrial holders at 2020 policies; sets their entry rate")
    other_holder_log_offset: float = _p(-1.5, "log size relative to the threshold", "assumption",
                                        "smallest non-industrial holder: revenue about 4.5M yuan")
    # --- patents (indicators 5, 6, 7) -------------------------------------------------------------------
    invention_per_10k_2018: float = _p(23.6, "patents per 10k residents", "source",
                                       "valid invention patents, 2018 (Zhejiang Online 2019-01-11, "
                                       "history_zhejiang.csv)")
    invention_growth_2018_2020: float = _p(0.15, "per year", "assumption",
                                           "valid invention patents grew about 15% a year in China in the late "
                                           "2010s (from memory; not in the data)")
    firm_share_inventions: float = _p(0.70, "share", "assumption",
                                      "enterprises' share of valid invention patents (the rest: universities, "
                                      "institutes, individuals)")
    high_value_per_10k_2020: float = _p(11.1, "patents per 10k residents", "source",
                                        "plan indicator 5, 2020 baseline")
    firm_share_high_value: float = _p(0.70, "share", "assumption", "as firm_share_inventions")
    population_2020: float = _p(6456.8, "10k residents", "source", "7th national census (history_zhejiang.csv)")
    coverage_2020: float = _p(0.37, "share", "source", "plan indicator 6, 2020 baseline")
    band_holder_share: float = _p(0.15, "share", "assumption", "below-scale industrial firms holding an invention patent")
    entrant_holder_share: float = _p(0.15, "share", "assumption", "firms coming in from below holding one")
    holder_size_slope: float = _p(1.0, "log odds per log size", "assumption",
                                  "larger above-scale firms are more often holders")
    portfolio_size_elasticity: float = _p(0.7, "elasticity", "assumption",
                                          "patent portfolios grow less than in proportion to revenue")
    patent_growth_2020: float = _p(0.15, "per year", "assumption",
                                   "growth of the invention and high-value stocks at 2020 policies, as "
                                   "invention_growth_2018_2020; sets the grant rate and the high-value share of "
                                   "grants at initialisation")
    invention_lapse: float = _p(0.08, "per year", "assumption",
                                "invention patents not maintained (fees rise with age)")
    high_value_lapse: float = _p(0.04, "per year", "assumption", "high-value patents are maintained longer")
    first_patent_hazard: float = _p(0.06, "per year at the threshold size", "assumption",
                                    "an industrial firm without invention patents gets its first (no history of "
                                    "coverage in the data)")
    first_patent_size_elasticity: float = _p(0.3, "elasticity", "assumption", "larger firms patent sooner")
    ip_grant_elasticity: float = _p(0.5, "elasticity", "assumption",
                                    "the IP programme raises holders' grants less than in proportion")
    ip_first_elasticity: float = _p(1.0, "elasticity", "assumption",
                                    "the IP programme (强企计划, patent navigation for clusters) reaches firms "
                                    "without patents in proportion")
    ip_overseas_elasticity: float = _p(0.5, "elasticity", "assumption", "support for overseas filing")
    overseas_grants_2020: float = _p(3000.0, "grants per year", "source", "plan indicator 7, 2020 baseline")
    overseas_stage_months: float = _p(15.0, "months per stage", "assumption",
                                      "two stages (search and national phase, examination), 30 months in all")
    overseas_grant_ratio: float = _p(0.6, "share of filings granted", "assumption", "overseas examination outcome")
    # --- Zhejiang Made standards (indicator 11) --------------------------------------------------------
    standards_2017: float = _p(260.0, "standards", "source", "2017-10-21 press report (history_zhejiang.csv)")
    standards_2020: float = _p(1979.0, "standards", "source", "plan indicator 11, 2020 baseline")
    history_months: float = _p(38.0, "months", "source",
                               "October 2017 (the 2017-10-21 press report) to December 2020 (the plan's baselines): "
                               "the span over which the 2020 paces of standards, Pinzi-brand firms and "
                               "international certificates are read (history_zhejiang.csv)")
    firms_per_category: float = _p(5.0, "industrial firms per product category", "assumption",
                                   "a standard covers one product category")
    standards_per_leader: float = _p(1.2, "standards per leading firm", "assumption", "in 2020")
    standard_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger firms lead standards")
    covered_category_factor: float = _p(0.3, "multiplier", "assumption",
                                        "a firm whose category already has a standard leads another less often")
    standards_abolish_rate: float = _p(0.01, "per year", "assumption", "standards withdrawn")
    standards_elasticity: float = _p(1.0, "elasticity", "assumption", "standards programme effect on leading")
    # --- certification (indicators 12, 13) ------------------------------------------------------------
    pinzi_2017: float = _p(88.0, "firms", "source", "2017-10-21 press report (history_zhejiang.csv)")
    pinzi_2020: float = _p(1500.0, "firms", "source", "plan indicator 13, 2020 baseline")
    intl_certs_2017: float = _p(22.0, "certificates", "source", "2017-10-21 press report (history_zhejiang.csv)")
    intl_certs_2020: float = _p(200.0, "certificates", "source", "plan indicator 12, 2020 baseline")
    cert_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger firms certify first")
    cert_leader_factor: float = _p(3.0, "multiplier", "assumption",
                                   "firms that led their category's standard certify more readily")
    cert_lapse: float = _p(0.03, "per year", "assumption", "certificates not renewed (three-year cycle)")
    intl_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger certified firms export more")
    intl_lapse: float = _p(0.05, "per year", "assumption", "international certificates not renewed")
    brand_elasticity: float = _p(1.0, "elasticity", "assumption", "brand programme effect on certification")
    # --- credit listing of the simulated firms ----------------------------------------------------------
    listing_abnormal_2020: float = _p(0.005, "per year", "assumption",
                                      "a simulated firm put on the abnormal-operation list (missed report, address)")
    listing_detected_2020: float = _p(0.005, "per year at 2020 practice", "assumption",
                                      "listed after a detected violation: about a quarter of the main model's "
                                      "detection rate of active entities (large certified firms violate less)")
    detection_rate_2020: float = _p(0.0186, "detected violations per active entity per year", "calibrate",
                                    "the main model at 2020 policies: mean of 12 x violations_detected / active "
                                    "over 2021-2022, 6 seeds, vector engine at scale 8000 (0.0185-0.0186)")
    detection_smoothing_months: float = _p(12.0, "months", "assumption",
                                           "certifiers and regulators act on the recent record (moving average)")

    def replace(self, **changes: float) -> InnovationParameters:
        """A copy with some values changed; unknown names raise ValueError."""
        return replaced(self, "innovation parameter", changes)


def innovation_parameter_table() -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source, for docs and the CLI."""
    return parameter_rows(InnovationParameters)


# ---------------------------------------------------------------------------------------- pure rules
@register_jitable
def exponential_threshold(u):
    """An Exp(1) clock threshold from a uniform (a float; ``rules.log1p`` takes arrays too)."""
    return -rules.log1p(-u)


def tail_log_excess(q, alpha, largest=math.inf):
    """Log size above the threshold at quantile q of the Pareto tail (exponent alpha, Axtell 2001),
    cut at ``largest``."""
    mass = 1.0 - math.exp(-alpha * largest)
    return -np.log1p(-q * mass) / alpha if isinstance(q, np.ndarray) else -math.log1p(-q * mass) / alpha


def band_log_excess(q, alpha, width):
    """Log size below the threshold (in [-width, 0)) at quantile q, the Pareto density continued."""
    top = math.exp(alpha * width)
    return -np.log(top - q * (top - 1.0)) / alpha


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


def firm_exit_hazard(size_factor, listed, severity, gdp_growth, shock, p: Parameters):
    """Annual exit hazard of a simulated firm: the entity model's hazard for established firms
    (``hazard_after_year_7``) by size, raised for listed firms and in bad years."""
    economy = max(p.economy_factor_floor, 1.0 - p.gdp_exit_elasticity * (gdp_growth - p.gdp_reference))
    return p.hazard_after_year_7 * size_factor * (1.0 + p.hazard_listed_effect * severity * listed) * economy * shock


def listing_hazard(detection_ratio, severity, q: InnovationParameters, p: Parameters):
    """Annual hazard that a simulated firm with a clean record is listed, and the abnormal-list part.

    The detected-violation part follows the main model's detection rate (relative to 2020) and
    the chance that a detected violation leads to listing, which grows with the credit penalty
    severity as ``rules.serious_listing_probability`` does.
    """
    severity_ratio = rules.serious_listing_probability(severity, p) / rules.serious_listing_probability(1.0, p)
    detected = q.listing_detected_2020 * detection_ratio * severity_ratio
    return q.listing_abnormal_2020 + detected, q.listing_abnormal_2020


def binomial_inverse(u, n, prob):
    """Binomial(n, prob) counts at uniforms (arrays; ``prob`` may be a scalar), by exact inversion."""
    u, n = np.asarray(u, float), np.asarray(n, np.int64)
    prob = np.ascontiguousarray(np.broadcast_to(np.asarray(prob, float), u.shape))
    out = np.empty(u.shape, np.int64)
    if u.size:
        binomial_counts(u, n, prob, out)
    return out


def scalar_count(u: float, mean: float) -> int:
    """A Poisson count at a uniform: exact inversion for small means, normal beyond."""
    if mean <= 0.0:
        return 0
    if mean > 50.0:
        return max(0, int(round(mean + math.sqrt(mean) * rules.normal_quantile(u))))
    term = math.exp(-mean)
    cdf, k = term, 0
    while u >= cdf and k < 400:
        k += 1
        term *= mean / k
        cdf += term
    return k


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
def trademark_backcast(q: InnovationParameters) -> tuple[float, float, float]:
    """Registrations by year before 2021 that reproduce the valid stock of 2016, 2017 and 2020.

    Registrations grow at a constant rate ``g0`` up to 2017 and at ``g1`` in 2018-2020, from a
    level ``R17`` in 2017; a mark registered in year y is valid at the end of year Y with
    probability ``(1 - cancel)^(Y-y) x renewal^floor((Y-y)/term)``. Three stocks, three unknowns.

    Returns:
        (R17 in 10k marks, g0, g1).
    """
    def equations(x):
        r17, g0, g1 = x
        return [trademark_stock(year, r17, g0, g1, q) - target for year, target in
                ((2016, q.trademarks_2016), (2017, q.trademarks_2017), (2020, q.trademarks_2020))]

    solution = optimize.fsolve(equations, [25.0, 0.15, 0.3], full_output=False)
    return float(solution[0]), float(solution[1]), float(solution[2])


def backcast_registrations(year, r17, g0, g1):
    """Back-cast registrations in a year (10k marks)."""
    return r17 * (1.0 + (g0 if year <= 2017 else g1)) ** (year - 2017)


def trademark_stock(year: int, r17: float, g0: float, g1: float, q: InnovationParameters) -> float:
    """Valid marks at the end of ``year`` from the back-cast registrations (10k marks)."""
    term = int(q.trademark_term_years)
    total = 0.0
    for y in range(1980, year + 1):
        age = year - y
        total += backcast_registrations(y, r17, g0, g1) * (1.0 - q.trademark_cancel_rate) ** age \
            * q.trademark_renewal ** (age // term)
    return total


def trademark_cohorts_2020(q: InnovationParameters) -> dict[int, float]:
    """Valid marks at the end of 2020 by the year their current term began (marks, not 10k)."""
    r17, g0, g1 = trademark_backcast(q)
    term = int(q.trademark_term_years)
    cohorts: dict[int, float] = {}
    for y in range(1980, BASE_YEAR + 1):
        age = BASE_YEAR - y
        renewals = age // term
        amount = backcast_registrations(y, r17, g0, g1) * (1.0 - q.trademark_cancel_rate) ** age \
            * q.trademark_renewal ** renewals
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


# ---------------------------------------------------------------------------------------- compiled clocks
_jit = numba.njit(cache=True, nogil=True)
EXIT, LISTING, PATENT, LAPSE, OFILE, STAGE1, STAGE2, STANDARD, CERT, INTL = range(10)


@_jit
def rebase_clocks(rows, clocks, level, horizon, F, T, R, flag, new_rows, new_clocks, floats, ints, flags, covered, sc):
    """New factors of the given clocks for rows, from their state (the table's groups ``floats``,
    ``ints``, ``flags``) and the scalars ``sc`` (``Innovation._scalars``): a firm's expected events
    in a month on a clock are its factor times the clock's monthly scalar. Each row keeps the part
    of its threshold not yet used (``T`` is the trigger on the clock's cumulative scalar ``level``,
    ``R`` the threshold left while the factor is 0). Rows whose trigger falls within the clock's
    horizon and are not yet candidates are written to ``new_rows``/``new_clocks``; returns their
    number.

    The factors: exit - size factor, raised for listed firms as the credit penalty is more severe;
    listing - 1 for firms on no list; patent - the portfolio for holders (further grants), the
    first-patent size factor for the others; lapse - lapse rates over the portfolio; ofile -
    high-value patents; stage1, stage2 - filings in each examination stage; standard - size factor
    of clean firms, lowered where the category already has a standard; cert - for certified firms
    the non-renewal ratio, for others the size factor of clean firms with a standard for their
    product, raised for leaders; intl - size factor of certified firms plus the lapse ratio over
    certificates held.
    """
    m = 0
    for j in range(rows.size):
        i = rows[j]
        alive = flags[_ALIVE, i]
        certified = flags[_CERTIFIED, i]
        normal = ints[_CREDIT, i] == NORMAL
        n_inv, n_hv = ints[_N_INV, i], ints[_N_HV, i]
        clean = normal and sc[9] - ints[_LISTED_STEP, i] >= sc[8]
        category = ints[_CATEGORY, i]
        access = category >= 0 and covered[max(category, 0)]
        for c in clocks:
            if not alive:
                new = 0.0
            elif c == EXIT:
                new = floats[_F_EXIT, i] * (1.0 + sc[0] * (not normal))
            elif c == LISTING:
                new = 1.0 if normal else 0.0
            elif c == PATENT:
                new = float(n_inv) if n_inv > 0 else floats[_F_FIRST, i] * sc[1]
            elif c == LAPSE:
                new = sc[2] * (n_inv - n_hv) + sc[3] * n_hv
            elif c == OFILE:
                new = float(n_hv)
            elif c == STAGE1:
                new = float(ints[_PEND1, i])
            elif c == STAGE2:
                new = float(ints[_PEND2, i])
            elif c == INTL:
                new = floats[_F_INTL, i] * certified + sc[7] * ints[_N_INTL, i]
            elif c == STANDARD:
                new = floats[_F_STD, i] * clean * (sc[4] if access else 1.0)
            elif certified:  # CERT
                new = sc[6]
            else:
                new = floats[_F_CERT, i] * (clean and access) * (sc[5] if ints[_N_STD, i] > 0 else 1.0)
            old = F[c, i]
            left = max(0.0, (T[c, i] - level[c]) * old) if old > 0.0 else R[c, i]
            F[c, i] = new
            R[c, i] = left
            T[c, i] = level[c] + left / new if new > 0.0 else np.inf
            if T[c, i] <= horizon[c] and not flag[c, i]:
                flag[c, i] = True
                new_rows[m] = i
                new_clocks[m] = c
                m += 1
    return m


@_jit
def binomial_counts(u, n, prob, out):
    """Binomial(n, prob) counts at uniforms by exact inversion (a larger prob never gives fewer)."""
    for j in range(u.size):
        k, p = n[j], min(max(prob[j], 0.0), 1.0)
        if k <= 0 or p <= 0.0:
            out[j] = 0
            continue
        if p >= 1.0:
            out[j] = k
            continue
        pmf = (1.0 - p) ** k
        cdf = pmf
        x = 0
        while u[j] >= cdf and x < k:
            pmf *= (k - x) / (x + 1.0) * p / (1.0 - p)
            x += 1
            cdf += pmf
        out[j] = x


@_jit
def fire_clock(cand, c, T, F, n, key, level, base, rows_out, counts_out):
    """Events on clock c of the candidates whose trigger the clock has passed: each event draws the
    firm's next threshold (keyed by firm, clock and event number) until the trigger is ahead again."""
    m = 0
    clock_key = np.uint64(c) << np.uint64(20)
    shift = np.uint64(24)
    one = np.uint64(1)
    for j in range(cand.size):
        i = cand[j]
        if T[c, i] > level:
            continue
        count = 0
        while T[c, i] <= level:
            n[c, i] += one
            u = rules.uniform_from_key(base, (key[i] << shift) | clock_key | n[c, i])
            T[c, i] += -math.log1p(-u) / F[c, i]
            count += 1
        rows_out[m] = i
        counts_out[m] = count
        m += 1
    return m


@_jit
def start_thresholds(start, stop, key, base, R):
    """Each new row's first Exp(1) threshold on every clock (keyed by firm, clock and event 0)."""
    shift = np.uint64(24)
    for i in range(start, stop):
        firm = key[i] << shift
        for c in range(R.shape[0]):
            u = rules.uniform_from_key(base, firm | (np.uint64(c) << np.uint64(20)))
            R[c, i] = exponential_threshold(u)


@_jit
def credit_scan(n, ints, flags, cleared_step, listed_out, cleared_out):
    """One pass over the firms: rows of live firms on a list, and rows listed at ``cleared_step``
    (whose record becomes clean this month); returns their numbers."""
    a = b = 0
    for i in range(n):
        if ints[_LISTED_STEP, i] == cleared_step:
            cleared_out[b] = i
            b += 1
        if ints[_CREDIT, i] != NORMAL and flags[_ALIVE, i]:
            listed_out[a] = i
            a += 1
    return a, b


@_jit
def tally(n, ints, flags):
    """One pass over the firms: above-scale firms, those holding an invention patent, high-value
    patents held, international certificates held, certified firms."""
    above = covered = hv = intl = certified = 0
    for i in range(n):
        if flags[_ALIVE, i] and flags[_ABOVE, i]:
            above += 1
            if ints[_N_INV, i] > 0:
                covered += 1
        hv += ints[_N_HV, i]
        intl += ints[_N_INTL, i]
        certified += flags[_CERTIFIED, i]
    return above, covered, hv, intl, certified


@_jit
def grow_firms(n, key, base, floats, ints, flags, severity, p, log_threshold, band_width, keep_out):
    """A year's growth of every firm (``annual_growth`` at the firm's uniform from ``base``, the
    month's growth stream); ``keep_out`` is False for firms gone and for industrial firms now below
    the band with no patent, certificate or standard (they leave the simulated strata)."""
    for i in range(n):
        listed = 1.0 if ints[_CREDIT, i] != NORMAL else 0.0
        size = annual_growth(floats[_LOG_SIZE, i], rules.uniform_from_key(base, key[i]), listed, severity, p)
        floats[_LOG_SIZE, i] = size
        drop = flags[_INDUSTRIAL, i] and size - log_threshold < -band_width and ints[_N_INV, i] == 0 \
            and not flags[_CERTIFIED, i] and ints[_N_STD, i] == 0
        keep_out[i] = flags[_ALIVE, i] and not drop


@_jit
def size_factors(start, stop, floats, flags, log_threshold, largest, e_first, e_std, e_cert, e_intl, e_tm,
                 nonindustrial_tm, p):
    """The hazards' size factors and the above-scale flag of rows start..stop (sizes move once a
    year); returns the trademark filing weight of the live rows among them."""
    weight = 0.0
    for i in range(start, stop):
        size = floats[_LOG_SIZE, i]
        industrial = flags[_INDUSTRIAL, i]
        x = min(size - log_threshold, largest)
        floats[_F_EXIT, i] = exit_size_factor(size, p)
        floats[_F_FIRST, i] = math.exp(e_first * x) if industrial else 0.0
        floats[_F_STD, i] = math.exp(e_std * x) if industrial else 0.0
        floats[_F_CERT, i] = math.exp(e_cert * x) if industrial else 0.0
        floats[_F_INTL, i] = math.exp(e_intl * x)
        floats[_F_TM, i] = math.exp(e_tm * max(x, -3.0)) * (1.0 if industrial else nonindustrial_tm)
        flags[_ABOVE, i] = industrial and x >= 0.0
        if flags[_ALIVE, i]:
            weight += floats[_F_TM, i]
    return weight


@_jit
def compact_columns(arr, rows, n):
    """Move the kept ``rows`` (ascending) of every column of ``arr`` to the front, in place, and
    clear the rest of the first n."""
    zero = arr.dtype.type(0)
    for c in range(arr.shape[0]):
        for j in range(rows.size):
            arr[c, j] = arr[c, rows[j]]
        for j in range(rows.size, n):
            arr[c, j] = zero


@_jit
def group_by_category(category, order_out, start_out):
    """Rows grouped by category (counting sort; rows of category c are
    ``order_out[start_out[c]:start_out[c + 1]]``; rows with no category, -1, are left out)."""
    start_out[:] = 0
    for i in range(category.size):
        if category[i] >= 0:
            start_out[category[i] + 1] += 1
    for c in range(1, start_out.size):
        start_out[c] += start_out[c - 1]
    fill = start_out[:-1].copy()
    for i in range(category.size):
        c = category[i]
        if c >= 0:
            order_out[fill[c]] = i
            fill[c] += 1


# ---------------------------------------------------------------------------------------- firm table
class _Table:
    """The simulated firms as a few 2-D arrays with spare capacity, one per group of columns of one
    dtype (``(columns, capacity)``, so each column is contiguous). ``t[name]`` is a column's live
    view over the n rows (a clock group's view is ``[:, :n]``); ``t.data[name]`` the column over the
    whole capacity; ``t.groups`` the 2-D arrays, as the compiled clocks take them."""

    def __init__(self, groups: dict[str, tuple[type, tuple[str, ...]]], n: int) -> None:
        self.n = n
        cap = max(16, int(n * 1.5))  # room for a few years of entrants before a reallocation
        self.groups = {g: np.zeros((len(cols), cap), dtype) for g, (dtype, cols) in groups.items()}
        self._where = {col: (g, i) for g, (_, cols) in groups.items() for i, col in enumerate(cols)}
        self._clock_groups = {g for g, (_, cols) in groups.items() if cols == CLOCKS}
        self.data = _Columns(self)
        self._views: dict[str, np.ndarray] = {}

    def full(self, name: str) -> np.ndarray:
        if name in self._clock_groups:
            return self.groups[name]
        g, i = self._where[name]
        return self.groups[g][i]

    def __getitem__(self, name: str) -> np.ndarray:
        view = self._views.get(name)
        if view is None:
            arr = self.full(name)
            view = self._views[name] = arr[..., :self.n]
        return view

    def add(self, k: int) -> slice:
        """Room for k more rows (zeros); returns their slice."""
        need = self.n + k
        cap = self.groups["key"].shape[1]
        if need > cap:
            new_cap = max(need, int(cap * 1.5))
            for g, arr in self.groups.items():
                grown = np.zeros((arr.shape[0], new_cap), arr.dtype)
                grown[:, :self.n] = arr[:, :self.n]
                self.groups[g] = grown
        sl = slice(self.n, need)  # rows past n are zero (new arrays, or cleared by compact)
        self.n = need
        self._views.clear()
        return sl

    def compact(self, keep: np.ndarray) -> None:
        """Drop the rows where ``keep`` is False (row numbers change)."""
        rows = np.flatnonzero(keep)
        for arr in self.groups.values():
            compact_columns(arr, rows, self.n)
        self.n = rows.size
        self._views.clear()


class _Columns:
    """``t.data[name]``: a column over the table's whole capacity."""

    def __init__(self, table: _Table) -> None:
        self.table = table

    def __getitem__(self, name: str) -> np.ndarray:
        return self.table.full(name)


# The firms' columns by dtype. Size factors are refreshed once a year with the sizes. Clocks (a row per
# clock): factor F, trigger T on the clock's cumulative scalar, threshold left R at the last rebase,
# events so far n, and whether the firm is on the clock's candidate list.
FLOAT_COLUMNS = ("log_size", "f_exit", "f_first", "f_std", "f_cert", "f_intl", "f_tm")
INT_COLUMNS = ("n_inv", "n_hv", "pend1", "pend2", "os_grants", "category", "n_std", "n_intl", "credit", "status_step",
               "listed_step")
FLAG_COLUMNS = ("industrial", "alive", "above", "certified")
FIRM_GROUPS: dict[str, tuple[type, tuple[str, ...]]] = {
    "key": (np.uint64, ("key",)), "floats": (np.float64, FLOAT_COLUMNS), "ints": (np.int64, INT_COLUMNS),
    "flags": (np.bool_, FLAG_COLUMNS), "F": (np.float64, CLOCKS), "T": (np.float64, CLOCKS),
    "R": (np.float64, CLOCKS), "n": (np.uint64, CLOCKS), "flag": (np.bool_, CLOCKS),
}
_LOG_SIZE, _F_EXIT, _F_FIRST, _F_STD, _F_CERT, _F_INTL, _F_TM = (FLOAT_COLUMNS.index(c) for c in FLOAT_COLUMNS)
_N_INV, _N_HV, _PEND1, _PEND2, _CATEGORY, _N_STD, _N_INTL, _CREDIT, _LISTED_STEP = (
    INT_COLUMNS.index(c) for c in ("n_inv", "n_hv", "pend1", "pend2", "category", "n_std", "n_intl", "credit",
                                   "listed_step"))
_INDUSTRIAL, _ALIVE, _ABOVE, _CERTIFIED = (FLAG_COLUMNS.index(c) for c in FLAG_COLUMNS)

# Key of a firm's k-th threshold on a clock: firm key << 24 | clock index << 20 | k (firm keys < 2^32).
CLOCK_ID = {c: i for i, c in enumerate(CLOCKS)}
NEVER = -(10 ** 6)  # listed_step of a firm never listed
HORIZON_MONTHS = 6.0  # a clock's candidates are the firms that could fire within this many months
ENTRY_MONTHS = 3  # entrants drawn each month are added at the end of each quarter


@cache
def _clock_ids(clocks: tuple[str, ...]) -> np.ndarray:
    return np.array([CLOCK_ID[c] for c in clocks], np.int64)


class MonthLike(Protocol):
    year: int
    month: int
    step: int


@dataclass(frozen=True)
class _Ctx:
    year: int
    month: int
    step: int


# ---------------------------------------------------------------------------------------- state
class Innovation:
    """Trademark cohorts and the simulated firms behind plan indicators 4-7 and 11-13.

    Args:
        policy: The scenario (levers by year, uncertainties, entity-model parameters).
        seed: Run seed; the same seed gives identical numbers.
        params: Innovation parameters; the defaults if None.
        firm_scale: Real firms per simulated firm (1: one to one); every 2020 count is divided by
            it and every count in the outputs multiplied by it.

    Attributes:
        initial_values: The indicators at the end of 2020 (the plan's baselines) and the extra fields.
        rates: Rates set at initialisation from the 2020 state and the history (see docs/ODD.md 7.4).
        t: The simulated firms (``t["log_size"]``, ``t["n_inv"]``, ... over the rows; rows of firms
            that left have ``alive`` False until the yearly compaction).
    """

    def __init__(self, policy: Scenario, seed: int, params: InnovationParameters | None = None,
                 firm_scale: float = 1.0) -> None:
        if not firm_scale >= 1.0:
            raise ValueError(f"firm_scale must be at least 1 (real firms per simulated firm), got {firm_scale}")
        self.policy = policy
        self.seed = int(seed)
        self.k = float(firm_scale)
        self.q = q = params or InnovationParameters()
        self.p = p = policy.parameters
        self.p_tuple = kernels.parameter_tuple(p)  # the parameters as compiled code reads them
        self.log_threshold = math.log(q.above_scale_threshold)
        self.alpha = p.size_tail_alpha
        # the main model's 2020 register (the engines' initial record has the same numbers)
        self.companies_2020 = p.enterprises_2020 * 1e4 * p.company_share_of_enterprises_2020
        self.others_2020 = p.enterprises_2020 * 1e4 * (1.0 - p.company_share_of_enterprises_2020)
        self.individuals_2020 = (p.entities_2020 - p.enterprises_2020) * 1e4
        self.population = q.population_2020
        self.detection = q.detection_rate_2020  # moving average of the main model's detection rate
        self.step_now = -1
        self.year_now = BASE_YEAR
        self._scalars_when: tuple[int, int] | None = None
        self.S = np.zeros(len(CLOCKS))  # cumulative scalar of each clock
        self.H = np.full(len(CLOCKS), -np.inf)  # horizon of each clock's candidate list
        self.cand = [np.zeros(0, np.int64) for _ in CLOCKS]
        self.clock_base = np.uint64(rules.crn_base(self.seed, STREAMS["clock"], -2))
        self.month_grants = 0.0
        self.month_registrations = 0.0
        self.month_lost_listing = 0.0
        self.rates: dict[str, float] = {}
        self._pending_entry = [0, 0]  # entrants drawn this quarter, not yet added
        self._init_firms()
        self._init_patents()
        self._init_standards_and_certs()
        self._refresh_factors()
        self._index_categories()
        self._calibrate()
        self._set_levers(BASE_YEAR)
        self._start_clocks(slice(0, self.t.n))
        self._init_trademarks()
        self.initial_values = self.values()
        self.initial_values["overseas_patent_grants"] = q.overseas_grants_2020
        self.initial_values["trademark_registrations"] = self.rates["trademark_registrations_2020"]
        self.initial_values["certifications_lost_to_listing"] = 0.0

    # ------------------------------------------------------------------ helpers
    def _u(self, stream: str, key, step: int):
        return rules.crn_uniform(self.seed, STREAMS[stream], key, step)

    def _set_levers(self, year: int) -> None:
        """The year's lever values and the clock ratios that fold them into factors."""
        q, r, lever = self.q, self.rates, self.policy.lever
        self.year_now = year
        self.severity = lever("credit_penalty_severity", year)
        ip = lever("ip_programme", year)
        self.grant_scalar = r["grants_per_invention"] * ip ** q.ip_grant_elasticity
        first = q.first_patent_hazard * ip ** q.ip_first_elasticity
        self.first_ratio = first / self.grant_scalar if self.grant_scalar > 0 else 0.0
        self.overseas_scalar = r["overseas_filings_per_hv"] * ip ** q.ip_overseas_elasticity
        self.nonfirm_scalar = r["nonfirm_grants_per_patent"] * ip ** q.ip_grant_elasticity
        self.first_entry = ip ** q.ip_first_elasticity
        brand = lever("brand_programme", year) ** q.brand_elasticity
        # (kept above zero: with the programme at 0 nobody is certified, but certificates still lapse)
        self.cert_scalar = max(r["cert_rate"] * brand, 1e-9)
        self.cert_lapse_ratio = q.cert_lapse / self.cert_scalar
        self.intl_scalar = max(r["intl_rate"] * brand, 1e-9)
        self.intl_lapse_ratio = q.intl_lapse / self.intl_scalar
        self.standard_scalar = r["standard_rate"] * lever("standards_programme", year) ** q.standards_elasticity
        self.trademark_support = lever("trademark_support", year) ** q.trademark_support_elasticity

    # ------------------------------------------------------------------ initialisation
    def _init_firms(self) -> None:
        q = self.q
        n_above = int(round(q.above_scale_2020 / self.k))
        n_band = int(round(n_above * (math.exp(self.alpha * q.band_log_width) - 1.0)))
        n_other = int(round(q.other_holders_2020 / self.k))
        n = n_above + n_band + n_other
        self.t = t = _Table(FIRM_GROUPS, n)
        t["key"][:] = np.arange(n, dtype=np.uint64)
        u = self._u("init_size", t["key"], -1)
        x = np.empty(n)
        x[:n_above] = tail_log_excess((np.arange(n_above) + u[:n_above]) / n_above, self.alpha, q.largest_log_excess)
        x[n_above:n_above + n_band] = band_log_excess((np.arange(n_band) + u[n_above:n_above + n_band]) / n_band,
                                                      self.alpha, q.band_log_width)
        x[n_above + n_band:] = q.other_holder_log_offset + tail_log_excess(
            (np.arange(n_other) + u[n_above + n_band:]) / n_other, self.alpha, q.largest_log_excess)
        t["log_size"][:] = self.log_threshold + x
        t["industrial"][:n_above + n_band] = True
        t["alive"][:] = True
        t["listed_step"][:] = NEVER
        t["status_step"][:] = NEVER
        self.n_above, self.n_band, self.n_other = n_above, n_band, n_other
        # holders: exactly coverage_2020 of above-scale firms (larger ones more often), a share of the
        # band, and every non-industrial firm
        u = self._u("init_holder", t["key"], -1)
        holder = np.zeros(n, bool)
        above = np.arange(n_above)
        pick = weighted_choice(u[above], np.exp(q.holder_size_slope * x[above]), int(round(q.coverage_2020 * n_above)))
        holder[above[pick]] = True
        band = np.arange(n_above, n_above + n_band)
        holder[band[u[band] < q.band_holder_share]] = True
        holder[n_above + n_band:] = True
        self._holder_2020 = holder

    def _init_patents(self) -> None:
        q, t = self.q, self.t
        x = t["log_size"] - self.log_threshold
        pop_2018 = q.population_2020 / (1.0 + self.policy.uncertainty("population_growth", BASE_YEAR) / 100.0) ** 2
        inventions = q.firm_share_inventions * q.invention_per_10k_2018 * pop_2018 \
            * (1.0 + q.invention_growth_2018_2020) ** 2 / self.k
        holders = np.flatnonzero(self._holder_2020)
        extra = systematic_allocation(np.exp(q.portfolio_size_elasticity * x[holders]),
                                      int(round(inventions)) - len(holders), self._u("init_patents", 0, -1))
        t["n_inv"][holders] = 1 + extra
        high_value_total = q.high_value_per_10k_2020 * q.population_2020
        firm_hv = int(round(q.firm_share_high_value * high_value_total / self.k))
        hv = systematic_allocation(t["n_inv"][holders], firm_hv, self._u("init_hv", 0, -1))
        t["n_hv"][holders] = np.minimum(hv, t["n_inv"][holders])
        self.nonfirm_hv = high_value_total - self.k * float(t["n_hv"].sum())
        # overseas filings in examination, in steady growth at the 2020 pace
        filings, stage1, stage2 = overseas_pipeline(q.overseas_grants_2020 / self.k, q.patent_growth_2020,
                                                    q.overseas_stage_months, q.overseas_grant_ratio)
        self.rates["overseas_filings_2020"] = filings
        weights = t["n_hv"].astype(float)
        t["pend1"][:] = systematic_allocation(weights, int(round(stage1)), self._u("init_pending", 0, -1))
        t["pend2"][:] = systematic_allocation(weights, int(round(stage2)), self._u("init_pending", 1, -1))

    def _init_standards_and_certs(self) -> None:
        q, t, p = self.q, self.t, self.p
        n_ind = self.n_above + self.n_band
        x = t["log_size"] - self.log_threshold
        self.n_categories = max(1, int(round(n_ind / q.firms_per_category)))
        t["category"][:] = -1
        t["category"][:n_ind] = (self._u("init_category", t["key"][:n_ind], -1) * self.n_categories).astype(np.int64)
        # leaders of the 2020 standards, larger firms first; extra standards to the larger leaders
        standards_2020 = q.standards_2020 / self.k
        n_leaders = int(round(standards_2020 / q.standards_per_leader))
        leaders = weighted_choice(self._u("init_leader", t["key"][:n_ind], -1),
                                  np.exp(q.standard_size_elasticity * x[:n_ind]), n_leaders)
        extra = systematic_allocation(np.exp(q.standard_size_elasticity * x[leaders]),
                                      int(round(standards_2020)) - n_leaders, self._u("init_standards", 0, -1))
        t["n_std"][leaders] = 1 + extra
        self.standards = float(t["n_std"].sum())
        self.covered = np.zeros(self.n_categories, bool)
        self.covered[t["category"][leaders]] = True
        # credit: firms on a list in the steady state of the 2020 listing and repair rates
        total, abnormal = listing_hazard(1.0, 1.0, q, p)
        share_abn = abnormal / 12.0 / p.abnormal_repair_rate
        share_ser = (total - abnormal) / 12.0 * (p.serious_min_months + 1.0 / p.serious_repair_rate)
        u = self._u("init_credit", t["key"], -1)
        months = (self._u("init_credit", t["key"] + np.uint64(1 << 32), -1)
                  * p.penalty_memory_months).astype(np.int64) + 1
        listed = u < share_abn + share_ser
        t["credit"][listed] = np.where(u[listed] < share_abn, ABNORMAL, SERIOUS)
        t["listed_step"][listed] = -1 - months[listed]
        t["status_step"][listed] = -1 - months[listed]
        # certified (Pinzi-brand) firms among clean firms with a standard for their product
        x_all = slice(0, t.n)
        weights = np.where(self._access(x_all) & self._clean(x_all),
                           np.exp(q.cert_size_elasticity * x) * np.where(t["n_std"] > 0, q.cert_leader_factor, 1.0),
                           0.0)
        certified = weighted_choice(self._u("init_cert", t["key"], -1), weights, int(round(q.pinzi_2020 / self.k)))
        t["certified"][certified] = True
        intl = weighted_choice(self._u("init_intl", t["key"][certified], -1),
                               np.exp(q.intl_size_elasticity * x[certified]), int(round(q.intl_certs_2020 / self.k)))
        t["n_intl"][certified[intl]] = 1

    def _refresh_factors(self, rows: slice | None = None) -> None:
        """Size factors of the hazards (sizes move once a year) and the above-scale flag; for every
        row (and the firms' trademark filing weight) unless a slice of new ``rows`` is given."""
        q, t = self.q, self.t
        start, stop = (0, t.n) if rows is None else (rows.start, rows.stop)
        weight = size_factors(start, stop, t.groups["floats"], t.groups["flags"], self.log_threshold,
                              q.largest_log_excess, q.first_patent_size_elasticity, q.standard_size_elasticity,
                              q.cert_size_elasticity, q.intl_size_elasticity, q.trademark_size_elasticity,
                              q.trademark_nonindustrial_factor, self.p_tuple)
        self.tm_weight = weight if rows is None else self.tm_weight + weight  # the firms' trademark filing weight

    def _index_categories(self) -> None:
        """Rows grouped by product category, to find a category's firms (rebuilt at each compaction;
        rows added since are searched directly)."""
        self._cat_order = np.empty(self.t.n, np.int64)
        self._cat_start = np.zeros(self.n_categories + 1, np.int64)
        group_by_category(self.t["category"], self._cat_order, self._cat_start)
        self._cat_n = self.t.n

    def _category_rows(self, categories: np.ndarray) -> np.ndarray:
        """Rows of the firms in the given categories."""
        parts = [self._cat_order[self._cat_start[c]:self._cat_start[c + 1]] for c in categories]
        tail = self.t["category"][self._cat_n:]
        if tail.size:
            parts.append(self._cat_n + np.flatnonzero(np.isin(tail, categories)))
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    # ------------------------------------------------------------------ what the firms' rates depend on
    def _clean(self, rows) -> np.ndarray:
        """A clean credit record: on no list, and none within the penalty memory."""
        d = self.t.data
        return (d["credit"][rows] == NORMAL) & (self.step_now - d["listed_step"][rows] >= self.p.penalty_memory_months)

    def _access(self, rows) -> np.ndarray:
        """Whether a firm's product category has a Zhejiang Made standard."""
        cat = self.t.data["category"][rows]
        return (cat >= 0) & self.covered[np.maximum(cat, 0)]

    def _standard_weight(self, rows) -> np.ndarray:
        d = self.t.data
        return d["f_std"][rows] * (d["alive"][rows] & self._clean(rows)) \
            * np.where(self._access(rows), self.q.covered_category_factor, 1.0)

    def _cert_weight(self, rows) -> np.ndarray:
        """Relative certification hazard of firms not certified: eligible firms by size, leaders more."""
        d = self.t.data
        ok = d["alive"][rows] & ~d["certified"][rows] & self._clean(rows) & self._access(rows)
        return d["f_cert"][rows] * ok * np.where(d["n_std"][rows] > 0, self.q.cert_leader_factor, 1.0)

    def _calibrate(self) -> None:
        """Rates that make the 2020 state move at the 2020 pace (history or stated assumption)."""
        q, t, p, r = self.q, self.t, self.p, self.rates
        rows = slice(0, t.n)
        listed = (t["credit"] != NORMAL).astype(float)
        h_exit = firm_exit_hazard(t["f_exit"], listed, 1.0, p.gdp_reference, 1.0, p)
        x = t["log_size"] - self.log_threshold
        industrial = t["industrial"]
        n_ind = float(np.count_nonzero(industrial))
        # entry from below: the industrial strata grow at above_scale_growth after exits and drop-outs
        drift = p.growth_drift - p.listed_growth_penalty * listed
        scale = rules.growth_sigma(t["log_size"], p) / math.sqrt(2.0)
        droppable = industrial & (t["n_inv"] == 0) & ~t["certified"] & (t["n_std"] == 0)
        drops = float(np.sum(drop_probability(x, drift, scale, q.band_log_width)[droppable]))
        r["industrial_entry_2020"] = q.above_scale_growth * n_ind + float(h_exit[industrial].sum()) + drops
        other = ~industrial
        single = other & (t["n_inv"] == 1)
        lose_all = np.where(t["n_hv"] > 0, q.high_value_lapse, q.invention_lapse)
        r["holder_entry_2020"] = q.other_holders_growth * float(np.count_nonzero(other)) \
            + float(h_exit[other].sum()) + float(lose_all[single].sum())
        # grants per invention held and the high-value share of grants
        n_inv, n_hv = t["n_inv"].astype(float), t["n_hv"].astype(float)
        first = float(np.sum((q.first_patent_hazard * t["f_first"])[industrial & (t["n_inv"] == 0)]))
        entrants = r["industrial_entry_2020"] * q.entrant_holder_share + r["holder_entry_2020"]
        lapses = float(np.sum(q.invention_lapse * (n_inv - n_hv) + q.high_value_lapse * n_hv))
        exits = float(np.sum(h_exit * n_inv))
        total = float(n_inv.sum())
        r["grants_per_invention"] = max(1e-9, (q.patent_growth_2020 * total + lapses + exits - first - entrants) / total)
        grants = r["grants_per_invention"] * total + first + entrants
        hv_total = float(n_hv.sum())
        r["high_value_share_of_grants"] = min(1.0, (q.patent_growth_2020 * hv_total + q.high_value_lapse * hv_total
                                                    + float(np.sum(h_exit * n_hv))) / grants)
        r["nonfirm_grants_per_patent"] = q.patent_growth_2020 + q.high_value_lapse
        r["overseas_filings_per_hv"] = r["overseas_filings_2020"] / hv_total
        # standards, certification and international certificates at their October 2017 - 2020 pace
        # (paces in simulated firms: real counts over the firm scale)
        years = q.history_months / 12.0 * self.k
        r["standards_pace_2020"] = (q.standards_2020 - q.standards_2017) / years
        r["pinzi_pace_2020"] = (q.pinzi_2020 - q.pinzi_2017) / years
        r["intl_pace_2020"] = (q.intl_certs_2020 - q.intl_certs_2017) / years
        r["standard_rate"] = r["standards_pace_2020"] / float(self._standard_weight(rows).sum())
        list_2020, _ = listing_hazard(1.0, 1.0, q, p)
        cert = t["certified"]
        losses = float(np.sum((h_exit + list_2020 + q.cert_lapse)[cert]))
        r["cert_rate"] = (r["pinzi_pace_2020"] + losses) / float(self._cert_weight(rows).sum())
        n_intl = t["n_intl"].astype(float)
        intl_losses = float(np.sum((n_intl * (q.intl_lapse + h_exit + list_2020 + q.cert_lapse))[cert]))
        r["intl_rate"] = (r["intl_pace_2020"] + intl_losses) / float(t["f_intl"][cert].sum())

    def _init_trademarks(self) -> None:
        q, r = self.q, self.rates
        self.cohorts = trademark_cohorts_2020(q)
        r17, g0, g1 = trademark_backcast(q)
        regs = backcast_registrations(BASE_YEAR, r17, g0, g1) * 1e4
        r["trademark_registrations_2020"] = regs
        r["trademark_backcast_r17"], r["trademark_backcast_g0"], r["trademark_backcast_g1"] = r17 * 1e4, g0, g1
        firm_share = 1.0 - q.trademark_share_company - q.trademark_share_other - q.trademark_share_individual
        r["tm_company"] = regs * q.trademark_share_company / self.companies_2020
        r["tm_other"] = regs * q.trademark_share_other / self.others_2020
        r["tm_individual"] = regs * q.trademark_share_individual / self.individuals_2020
        r["tm_firm"] = regs * firm_share / self.tm_weight
        self.trademark_queue = [regs / 12.0] * int(q.trademark_exam_months)

    # ------------------------------------------------------------------ clocks
    def _scalars(self) -> np.ndarray:
        """What the clocks' factors read besides the firms' state (see ``rebase_clock``); they change
        with the month and the year's levers."""
        when = (self.step_now, self.year_now)
        if self._scalars_when != when:
            self._scalars_when, self._scalars_now = when, self._compute_scalars()
        return self._scalars_now

    def _compute_scalars(self) -> np.ndarray:
        q, p = self.q, self.p
        return np.array([p.hazard_listed_effect * self.severity, self.first_ratio, q.invention_lapse,
                         q.high_value_lapse, q.covered_category_factor, q.cert_leader_factor, self.cert_lapse_ratio,
                         self.intl_lapse_ratio, p.penalty_memory_months, float(self.step_now)])

    def _rebase(self, clocks, rows) -> None:
        """Refresh clocks' factors for rows whose state changed, keeping each firm's threshold left,
        and put rows that may fire within a clock's horizon on its candidate list. (A row given
        twice is rebased twice, which changes nothing.)"""
        rows = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else np.asarray(rows, np.int64)
        if not rows.size:
            return
        t = self.t
        ids = _clock_ids(clocks)
        new_rows = np.empty(rows.size * ids.size, np.int64)
        new_clocks = np.empty(rows.size * ids.size, np.int64)
        g = t.groups
        m = rebase_clocks(rows, ids, self.S, self.H, g["F"], g["T"], g["R"], g["flag"], new_rows, new_clocks,
                          g["floats"], g["ints"], g["flags"], self.covered, self._scalars())
        if m:
            new_rows, new_clocks = new_rows[:m], new_clocks[:m]
            for k in np.unique(new_clocks):
                self.cand[k] = np.concatenate((self.cand[k], new_rows[new_clocks == k]))

    def _start_clocks(self, rows: slice) -> None:
        """Fresh thresholds (each firm's first on every clock) and factors for new rows."""
        d = self.t.data
        d["F"][:, rows] = 0.0
        start_thresholds(rows.start, rows.stop, d["key"], self.clock_base, d["R"])
        d["T"][:, rows] = np.inf
        self._rebase(CLOCKS, rows)

    def _fire(self, c: str, s: float, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Advance clock ``c`` by a month at scalar ``s``; the firms with events and their counts.

        Only the clock's candidates (triggers within its horizon) are looked at; the list is rebuilt
        when the clock passes its horizon.
        """
        t, k = self.t, CLOCK_ID[c]
        T = t.groups["T"]
        if self.S[k] + s > self.H[k]:
            self.H[k] = self.S[k] + s * HORIZON_MONTHS
            flag = t["flag"][k]
            np.less_equal(t["T"][k], self.H[k], out=flag)
            self.cand[k] = np.flatnonzero(flag)
        self.S[k] += s
        cand = self.cand[k]
        rows, counts = np.empty(cand.size, np.int64), np.empty(cand.size, np.int64)
        m = fire_clock(cand, k, T, t.groups["F"], t.groups["n"], t.groups["key"][0], self.S[k], self.clock_base,
                       rows, counts)
        return rows[:m], counts[:m]

    # ------------------------------------------------------------------ the month
    def step(self, ctx: MonthLike, summary: dict[str, float]) -> None:
        """Advance trademarks and the simulated firms by one month.

        Args:
            ctx: The month (year, month, step).
            summary: The month's record so far: registered_company, registered_other,
                registered_individual, active, violations_detected, resident_population.
        """
        year, step = int(ctx.year), int(ctx.step)
        q = self.q
        self.step_now = step
        self.month_grants = 0.0
        self.month_lost_listing = 0.0
        pop = float(summary.get("resident_population", 0.0) or 0.0)
        if pop > 0.0:
            self.population = pop
        else:
            self.population *= (1.0 + self.policy.uncertainty("population_growth", year) / 100.0) ** (1.0 / 12.0)
        active = float(summary.get("active", 0.0) or 0.0)
        if active > 0.0 and "violations_detected" in summary:
            observed = 12.0 * float(summary["violations_detected"]) / active
            self.detection += (observed - self.detection) / q.detection_smoothing_months
        gdp = self.policy.uncertainty("gdp_growth", year)
        if year != self.year_now:
            self._new_year(year, step)
        self._exit(step, gdp, self.policy.uncertainty("exit_shock", year))
        self._credit(step)
        self._patents(step)
        self._overseas(step)
        self._standards(step)
        self._certification(step)
        self._entry(step, summary, gdp)
        self._trademarks(year, step, summary, gdp)

    def _new_year(self, year: int, step: int) -> None:
        """Once a year: Gibrat growth, drop-outs below the band, rows of firms that left removed,
        size factors and the year's levers; every firm's yearly clocks rebased."""
        q, t = self.q, self.t
        self._set_levers(year)
        keep = np.empty(t.n, np.bool_)
        grow_firms(t.n, t.groups["key"][0], np.uint64(rules.crn_base(self.seed, STREAMS["growth"], step)),
                   t.groups["floats"], t.groups["ints"], t.groups["flags"], self.severity, self.p_tuple,
                   self.log_threshold, q.band_log_width, keep)
        t.compact(keep)
        self.H[:] = -np.inf  # row numbers changed: candidate lists are rebuilt at the next month
        self.cand = [np.zeros(0, np.int64) for _ in CLOCKS]
        self._index_categories()
        self._refresh_factors()
        self._rebase(YEARLY, slice(0, t.n))

    def _leave(self, rows: np.ndarray) -> None:
        """Firms leaving the simulated strata (exit, or a non-industrial firm without patents left):
        their patents lapse, filings in examination and certificates end; standards stay in force."""
        t = self.t
        rows = np.unique(rows)
        rows = rows[t["alive"][rows]]
        self.tm_weight -= float(t["f_tm"][rows].sum())
        t["alive"][rows] = False
        for name in ("n_inv", "n_hv", "pend1", "pend2", "n_intl"):
            t[name][rows] = 0
        t["certified"][rows] = False
        t["F"][:, rows] = 0.0
        t["T"][:, rows] = np.inf

    def _exit(self, step: int, gdp: float, shock: float) -> None:
        rows, _ = self._fire("exit", firm_exit_hazard(1.0, 0.0, self.severity, gdp, shock, self.p) / 12.0, step)
        if rows.size:
            self._leave(rows)

    def _credit(self, step: int) -> None:
        q, t, p = self.q, self.t, self.p
        total, abnormal = listing_hazard(self.detection / q.detection_rate_2020, self.severity, q, p)
        listed, _ = self._fire("listing", total / 12.0, step)
        credit = t["credit"]
        if listed.size:
            u = self._u("type_listing", t["key"][listed], step)
            credit[listed] = np.where(u < abnormal / max(total, 1e-12), ABNORMAL, SERIOUS)
            t["listed_step"][listed] = step
            t["status_step"][listed] = step
            lost = listed[t["certified"][listed]]
            self.month_lost_listing = float(lost.size)
            t["certified"][lost] = False
            t["n_intl"][lost] = 0
        # repair: off the abnormal list at once when repaired, off the serious list after a minimum time
        g = t.groups
        on_list, cleared = np.empty(t.n, np.int64), np.empty(t.n, np.int64)
        a, b = credit_scan(t.n, g["ints"], g["flags"], step - int(p.penalty_memory_months), on_list, cleared)
        on_list, cleared = on_list[:a], cleared[:b]
        status = credit[on_list]
        chance = np.where(status == ABNORMAL, p.abnormal_repair_rate,
                          np.where(step - t["status_step"][on_list] >= p.serious_min_months, p.serious_repair_rate, 0.0))
        repaired = on_list[self._u("repair", t["key"][on_list], step) < chance]
        credit[repaired] = NORMAL
        t["status_step"][repaired] = step
        # rebase the listed, the repaired, and firms listed 36 months ago (``cleared``), whose record
        # becomes clean if they are off the lists (a row given twice is rebased twice: no change)
        self._rebase(("exit", "listing", "standard", "cert", "intl"), np.concatenate((listed, repaired, cleared)))

    def _patents(self, step: int) -> None:
        q, t, r = self.q, self.t, self.rates
        n_inv, n_hv = t["n_inv"], t["n_hv"]
        got, count = self._fire("patent", self.grant_scalar / 12.0, step)
        if got.size:
            hv = binomial_inverse(self._u("type_patent", t["key"][got], step), count, r["high_value_share_of_grants"])
            n_inv[got] += count
            n_hv[got] += hv
        lost, lapses = self._fire("lapse", 1.0 / 12.0, step)
        if lost.size:
            lapses = np.minimum(lapses, n_inv[lost])
            rate = q.invention_lapse * (n_inv[lost] - n_hv[lost]) + q.high_value_lapse * n_hv[lost]
            share = q.high_value_lapse * n_hv[lost] / np.maximum(1e-12, rate)
            hv = np.minimum(binomial_inverse(self._u("type_lapse", t["key"][lost], step), lapses, share), n_hv[lost])
            n_inv[lost] -= lapses
            n_hv[lost] = np.minimum(n_hv[lost] - hv, n_inv[lost])
        changed = np.concatenate((got, lost))
        self._rebase(("patent", "lapse", "ofile"), changed)
        gone = changed[(n_inv[changed] == 0) & ~t["industrial"][changed] & t["alive"][changed]]
        if gone.size:  # a non-industrial firm without patents leaves the simulated strata
            self._leave(gone)
        # universities, institutes and individuals: one aggregate stock
        nf = self.nonfirm_hv
        new = scalar_count(self._u("nonfirm_grants", 0, step), nf * self.nonfirm_scalar / 12.0)
        lapsed = scalar_count(self._u("nonfirm_lapse", 0, step), nf * q.high_value_lapse / 12.0)
        self.nonfirm_hv = max(0.0, nf + new - lapsed)

    def _overseas(self, step: int) -> None:
        q, t = self.q, self.t
        pend1, pend2 = t["pend1"], t["pend2"]
        filers, filings = self._fire("ofile", self.overseas_scalar / 12.0, step)
        h = 1.0 / q.overseas_stage_months
        moving, moved = self._fire("stage1", h, step)
        deciding, decided = self._fire("stage2", h, step)
        moved = np.minimum(moved, pend1[moving])
        decided = np.minimum(decided, pend2[deciding])
        pend1[moving] -= moved
        pend2[moving] += moved
        pend2[deciding] -= decided
        pend1[filers] += filings
        if deciding.size:
            granted = binomial_inverse(self._u("type_stage2", t["key"][deciding], step), decided,
                                       q.overseas_grant_ratio)
            t["os_grants"][deciding] += granted
            self.month_grants = float(granted.sum())
        self._rebase(("stage1", "stage2"), np.concatenate((filers, moving, deciding)))

    def _standards(self, step: int) -> None:
        q, t = self.q, self.t
        led, new = self._fire("standard", self.standard_scalar / 12.0, step)
        if led.size:
            t["n_std"][led] += new
            self.standards += float(new.sum())
            categories = np.unique(t["category"][led])
            fresh = categories[~self.covered[categories]]
            self.covered[categories] = True
            mates = self._category_rows(fresh) if fresh.size else np.zeros(0, np.int64)
            self._rebase(("standard", "cert"), np.concatenate((led, mates)))
        abolished = scalar_count(self._u("standards_abolish", 0, step), self.standards * q.standards_abolish_rate / 12.0)
        self.standards = max(0.0, self.standards - abolished)

    def _certification(self, step: int) -> None:
        t = self.t
        certified, n_intl = t["certified"], t["n_intl"]
        changed, _ = self._fire("cert", self.cert_scalar / 12.0, step)
        if changed.size:  # certification of eligible firms, non-renewal of certified ones
            lapsing = changed[certified[changed]]
            certified[changed] = ~certified[changed]
            n_intl[lapsing] = 0
        rows, events = self._fire("intl", self.intl_scalar / 12.0, step)
        if rows.size:  # a new international certificate (certified firms) or the lapse of one
            gain = t["f_intl"][rows] * certified[rows]
            share = gain / np.maximum(1e-12, gain + self.intl_lapse_ratio * n_intl[rows])
            gained = binomial_inverse(self._u("type_intl", t["key"][rows], step), events, share)
            n_intl[rows] = np.maximum(0, n_intl[rows] + gained - (events - gained))
        self._rebase(("cert", "intl"), np.concatenate((changed, rows)))

    def _entry(self, step: int, summary: dict[str, float], gdp: float) -> None:
        q, p, r = self.q, self.p, self.rates
        companies = float(summary.get("registered_company", 0.0) or 0.0) or self.companies_2020
        pool = (companies / self.companies_2020) ** q.entry_company_elasticity
        economy = max(p.economy_factor_floor, 1.0 + q.entry_gdp_elasticity * (gdp - p.gdp_reference))
        n_ind = scalar_count(self._u("entry_count", 0, step), r["industrial_entry_2020"] * pool * economy / 12.0)
        n_hold = scalar_count(self._u("holder_entry_count", 0, step),
                              r["holder_entry_2020"] * pool * self.first_entry / 12.0)
        self._pending_entry[0] += n_ind
        self._pending_entry[1] += n_hold
        if step % ENTRY_MONTHS == ENTRY_MONTHS - 1 and sum(self._pending_entry):
            # the quarter's entrants join together at its end (sizes move only in January)
            self._add_firms(step, *self._pending_entry)
            self._pending_entry = [0, 0]

    def _add_firms(self, step: int, n_ind: int, n_hold: int) -> None:
        """Firms coming in: ``n_ind`` industrial ones from below into the band, ``n_hold`` new
        non-industrial holders of a first invention patent."""
        q, t = self.q, self.t
        sl = t.add(n_ind + n_hold)
        d = t.data
        kind = np.repeat(np.array([0, 1], np.uint64), (n_ind, n_hold))
        index = np.concatenate((np.arange(n_ind), np.arange(n_hold))).astype(np.uint64)
        keys = (np.uint64(step + 1) << np.uint64(24)) | (kind << np.uint64(20)) | index
        industrial = kind == 0
        d["key"][sl] = keys
        d["alive"][sl] = True
        d["industrial"][sl] = industrial
        d["listed_step"][sl] = NEVER
        d["status_step"][sl] = NEVER
        u = self._u("entry_size", keys, step)
        d["log_size"][sl] = self.log_threshold + np.where(
            industrial, band_log_excess(u, self.alpha, q.band_log_width),
            q.other_holder_log_offset + tail_log_excess(u, self.alpha, q.largest_log_excess))
        d["category"][sl] = np.where(
            industrial, (self._u("entry_category", keys, step) * self.n_categories).astype(np.int64), -1)
        holder = ~industrial | (self._u("entry_holder", keys, step) < q.entrant_holder_share)
        hv = self._u("entry_holder", keys | np.uint64(1 << 19), step) < self.rates["high_value_share_of_grants"]
        d["n_inv"][sl] = holder
        d["n_hv"][sl] = holder & hv
        self._refresh_factors(sl)
        self._start_clocks(sl)

    def _trademarks(self, year: int, step: int, summary: dict[str, float], gdp: float) -> None:
        q, r, p = self.q, self.rates, self.p
        month = step % 12 + 1
        companies = float(summary.get("registered_company", 0.0) or 0.0) or self.companies_2020
        others = float(summary.get("registered_other", 0.0) or 0.0) or self.others_2020
        individuals = float(summary.get("registered_individual", 0.0) or 0.0) or self.individuals_2020
        base = companies * r["tm_company"] + others * r["tm_other"] + individuals * r["tm_individual"] \
            + self.tm_weight * r["tm_firm"]
        economy = max(p.economy_factor_floor, 1.0 + q.trademark_gdp_elasticity * (gdp - p.gdp_reference))
        z = rules.normal_quantile(self._u("trademark_year", 0, year))
        year_factor = math.exp(q.trademark_year_sigma * z - 0.5 * q.trademark_year_sigma ** 2)
        trend = (1.0 + q.trademark_filing_trend) ** ((step + 1) / 12.0)
        filings = scalar_count(self._u("trademark_month", 0, step),
                               base * self.trademark_support * economy * year_factor * trend / 12.0)
        self.trademark_queue.append(float(filings))
        registered = self.trademark_queue.pop(0)
        self.month_registrations = registered
        # the cohort whose term began ten years before reaches expiry over the year: renewed or lapsed
        start = year - int(q.trademark_term_years)
        due = self.cohorts.get(start, 0.0) / (13 - month)
        if due > 0.0:
            mean = due * q.trademark_renewal
            sd = math.sqrt(max(1e-9, mean * (1.0 - q.trademark_renewal)))
            z = rules.normal_quantile(self._u("trademark_renewal", 0, step))
            renewed = min(due, max(0.0, round(mean + sd * z)))
            self.cohorts[start] -= due
            self.cohorts[year] = self.cohorts.get(year, 0.0) + renewed
        keep = (1.0 - q.trademark_cancel_rate) ** (1.0 / 12.0)
        for y in self.cohorts:
            self.cohorts[y] *= keep
        self.cohorts[year] = self.cohorts.get(year, 0.0) + registered

    # ------------------------------------------------------------------ outputs
    def values(self) -> dict[str, float]:
        """The current value of each indicator in the plan's units, and the extra fields.

        Overseas grants, registrations and certifications lost are this month's flows (the record
        sums them over the year); ``initial_values`` holds the 2020 flows instead.
        """
        t, k = self.t, self.k
        n_above, covered, hv, intl, certified = tally(t.n, t.groups["ints"], t.groups["flags"])
        high_value = k * float(hv) + self.nonfirm_hv
        return {
            "valid_trademarks": sum(self.cohorts.values()) / 1e4,
            "high_value_patents_per_10k": high_value / self.population,
            "patent_coverage_above_scale": 100.0 * covered / max(1, n_above),
            "overseas_patent_grants": k * self.month_grants,
            "zhejiang_made_standards": k * float(self.standards),
            "zhejiang_made_intl_certs": k * float(intl),
            "pinzi_brand_firms": k * float(certified),
            "above_scale_firms": k * float(n_above),
            "high_value_patents": high_value,
            "trademark_registrations": float(self.month_registrations),
            "certifications_lost_to_listing": k * self.month_lost_listing,
        }


def run_innovation(policy: Scenario, seed: int, horizon: int = 2025, company_growth: float = 0.095,
                   individual_growth: float = 0.065, detection_ratio: float = 1.0,
                   params: InnovationParameters | None = None, firm_scale: float = 1.0) -> dict[int, dict[str, float]]:
    """Innovation alone, month by month, with the register growing from its 2020 counts at the given
    rates and detected violations at ``detection_ratio`` times the 2020 rate (tests, quick looks).

    Returns:
        Yearly values: 2020 from the initial state, then each year's December value (flows summed
        over the year, as the engines' records do).
    """
    inn = Innovation(policy, seed, params, firm_scale)
    out = {BASE_YEAR: dict(inn.initial_values)}
    step = 0
    for year in range(BASE_YEAR + 1, horizon + 1):
        months = []
        for month in range(1, 13):
            years = (step + 1) / 12.0
            companies = inn.companies_2020 * (1.0 + company_growth) ** years
            individuals = inn.individuals_2020 * (1.0 + individual_growth) ** years
            active = 0.92 * (companies + inn.others_2020 + individuals)
            summary = {
                "registered_company": companies, "registered_other": inn.others_2020,
                "registered_individual": individuals, "active": active,
                "violations_detected": active * inn.q.detection_rate_2020 * detection_ratio / 12.0,
            }
            inn.step(_Ctx(year, month, step), summary)
            months.append(inn.values())
            step += 1
        out[year] = {name: (float(sum(m[name] for m in months)) if how == "flow" else months[-1][name])
                     for name, how in AGGREGATION.items()}
    return out


__all__ = ["AGGREGATION", "INDICATORS", "EXTRA_FIELDS", "STREAMS", "InnovationParameters", "Innovation",
           "innovation_parameter_table", "run_innovation"]
