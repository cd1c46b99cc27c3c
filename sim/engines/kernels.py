"""Compiled loops for the vectorised engine's heaviest processes (numba).

The rules are not rewritten here: each kernel loops over entities and calls the very
functions of :mod:`sim.core.rules`, which numba compiles for scalars. The scalar-or-array
primitives of the rules (``where``, ``exp``, ...) get scalar implementations for
compiled code in :mod:`sim.core.compiled`, and the parameter set is passed as a named tuple. A kernel
computes, for one entity, exactly what the array code computes for that row, so the
engines keep giving the same numbers (tests/test_vector.py).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

from sim.core import compiled  # noqa: F401  (registers the rules numba compiles)
from sim.core import rules
from sim.engines import outcomes
from sim.inputs.parameters import Parameters

register_jitable(outcomes.annual_rates)  # the same annualisation as the Mesa engine's regulators

# ---------------------------------------------------------------- kernels
_jit = numba.njit(cache=True, nogil=True)


@_jit
def assess(credit, months_since_penalty, age, log_size, sector, p, risk_out, visibility_out):
    """Risk class and routine visibility of every row."""
    for i in range(credit.size):
        risk_out[i] = rules.risk_class(credit[i], months_since_penalty[i], age[i], p)
        visibility_out[i] = rules.routine_visibility(log_size[i], sector[i], p)


@_jit
def comply(status, city, sector, risk, visibility, memory, honesty, keys, u_base, random_by_class, routine_unit,
           lead_coverage, fine, severity, peer, p, honesty_exp, odds_at_no_cost, violating_out):
    """Process 5: each active entity violates or complies this month.

    ``odds_at_no_cost`` (from :func:`violation_odds_at_no_cost`, or an empty array for none)
    screens entities: with no expected sanction cost the rule's probability is largest, and for
    an entity of honesty h it is 1 / (1 + exp(h) * odds[city, sector]); an entity whose draw is
    beyond that bound complies without the rule's two exp. The screen only skips work: the draw
    is the same, the bound is at least the probability, and the margins exceed rounding.
    """
    screen = odds_at_no_cost.size > 0
    for i in range(status.size):
        if status[i] != rules.ACTIVE:
            violating_out[i] = False
            continue
        c = city[i]
        u = rules.uniform_from_key(u_base, keys[i])
        if screen and u * (1.0 - 1e-9) - 1e-12 >= 1.0 / (1.0 + honesty_exp[i] * odds_at_no_cost[c, sector[i]]):
            violating_out[i] = False
            continue
        rate_random, rate_routine_unit, rate_lead = outcomes.annual_rates(
            random_by_class[c, risk[i]], routine_unit[c], lead_coverage[c], p.complaint_rate)
        perceived = rules.perceived_detection(rate_random, rate_routine_unit * visibility[i], rate_lead, memory[i], p)
        cost = rules.expected_sanction_cost(perceived, fine[c], severity[c], p)
        prob = rules.violation_probability(honesty[i], peer[c, sector[i]], cost, p)
        violating_out[i] = u < prob


@_jit
def convert(status, kind, city, credit, log_size, weight, keys, u_base, conversion_rate, exponent, p, factor_tmp):
    """Process 2: individual businesses convert to companies, other enterprises corporatise (kind
    changes in place). The size factor is relative to the active individual businesses' mean
    log size and normalised to mean one over them, as the Mesa engine does. Returns the size
    factors' mean and the weights converted and corporatised."""
    total, count = 0.0, 0
    for i in range(status.size):
        if status[i] == rules.ACTIVE and kind[i] == rules.INDIVIDUAL:
            total += log_size[i]
            count += 1
    norm = total / count if count else 0.0
    mass = 0.0
    for i in range(status.size):
        if status[i] == rules.ACTIVE and kind[i] != rules.COMPANY:
            factor_tmp[i] = math.exp((log_size[i] - norm) * exponent)
            if kind[i] == rules.INDIVIDUAL:
                mass += factor_tmp[i]
    mean = mass / count if count else 1.0
    converted = corporatised = 0.0
    for i in range(status.size):
        if status[i] != rules.ACTIVE or credit[i] != rules.NORMAL or kind[i] == rules.COMPANY:
            continue
        prob = rules.conversion_probability(conversion_rate[city[i]], factor_tmp[i] / mean)
        event = rules.conversion_event(kind[i], True, rules.uniform_from_key(u_base, keys[i]), prob, p)
        if event == rules.CONVERSION:
            converted += weight[i]
        elif event == rules.CORPORATISATION:
            corporatised += weight[i]
        if event != rules.NO_EVENT:
            kind[i] = rules.COMPANY
    return mean, converted, corporatised


@_jit
def grow(status, city, credit, log_size, keys, u_base, severity, floor, p):
    """Process 3: active entities grow (in place)."""
    for i in range(status.size):
        if status[i] == rules.ACTIVE:
            log_size[i] = rules.grow(log_size[i], rules.uniform_from_key(u_base, keys[i]), credit[i],
                                     severity[city[i]], floor, p)


@_jit
def select_for_inspection(status, credit, city, risk, visibility, complaints, keys, u_base, random_by_class,
                          routine_unit, lead_coverage, kind_out):
    """Process 6: which inspection, if any, falls on each entity."""
    for i in range(status.size):
        c = city[i]
        active = status[i] == rules.ACTIVE
        p_random = min(1.0, random_by_class[c, risk[i]]) if rules.in_random_pool(status[i], credit[i]) else 0.0
        p_routine = routine_unit[c] * visibility[i] if active else 0.0
        p_lead = lead_coverage[c] if complaints[i] else 0.0
        kind_out[i] = rules.inspection_type(rules.uniform_from_key(u_base, keys[i]), p_random, p_routine, p_lead)


@_jit
def exit_outcomes(status, kind, city, age, log_size, credit, marginal, months_dormant, keys, exit_base, route_base,
                  dormant_base, hazard_table, log_size_min, severity, simplified, compulsory_on, compulsory_months,
                  gdp_growth, shock, p, bounds, outcome_out):
    """Process 8: each active or dormant entity's exit outcome (months dormant advance in place).

    ``bounds`` (from :func:`exit_hazard_bounds`, or an empty array for none) screens active
    entities: one whose exit uniform is beyond what its hazard's upper bound could reach stays,
    without the hazard's exp and pow. The screen only skips work, never changes an outcome: the
    uniform is the same, the bound is at least the hazard, and the margins exceed rounding.
    """
    last = hazard_table.size - 1
    screen = bounds.size > 0
    for i in range(status.size):
        c = city[i]
        if status[i] == rules.ACTIVE:
            a = age[i]
            u_exit = rules.uniform_from_key(exit_base, keys[i])
            young_marginal = marginal[i] and a < 24
            if screen:
                # the annual hazard at which this uniform would be an exit: 1 - (1 - u)^12
                x = 1.0 - u_exit
                x4 = (x * x) * (x * x)
                reach = 1.0 - x4 * x4 * x4
                if bounds[c, kind[i], credit[i], 1 if young_marginal else 0, min(a, last) // 12] + 1e-12 \
                        < reach * (1.0 - 1e-9):
                    outcome_out[i] = rules.STAY
                    continue
            hazard = rules.exit_hazard(hazard_table[min(a, last)], kind[i], log_size[i], log_size_min[kind[i]],
                                       credit[i], young_marginal, severity[c], gdp_growth, shock, p)
            outcome_out[i] = rules.active_exit(u_exit, rules.uniform_from_key(route_base, keys[i]), hazard,
                                               simplified[c], kind[i], credit[i], p)
        elif status[i] == rules.DORMANT:
            months_dormant[i] += 1
            due = rules.compulsory_deregistration_due(compulsory_on[c], credit[i], months_dormant[i],
                                                      compulsory_months[c])
            outcome_out[i] = rules.dormant_exit(rules.uniform_from_key(dormant_base, keys[i]),
                                                rules.uniform_from_key(route_base, keys[i]), due, simplified[c],
                                                credit[i], p)
        else:
            outcome_out[i] = -1


NO_BOUNDS = np.zeros((0, 0, 0, 0, 0))
NO_ODDS = np.zeros((0, 0))


def violation_odds_at_no_cost(peer: np.ndarray, fine, severity, p: Parameters) -> np.ndarray:
    """For :func:`comply`'s screen, by city and sector: 1 / q - 1, where q is
    ``rules.violation_probability`` of honesty 0 at no expected sanction cost, so that an entity of
    honesty h violates with probability at most 1 / (1 + exp(h) * (1 / q - 1)) (the logit falls
    with honesty and with the cost). ``NO_ODDS`` (no screen) if a cost could be negative."""
    if min(p.deterrence_weight, p.fine_to_gain, p.credit_cost_to_gain, p.memory_bump,
           float(np.min(fine)), float(np.min(severity))) < 0.0:
        return NO_ODDS
    at_zero = rules.violation_probability(0.0, np.asarray(peer, dtype=np.float64), 0.0, p)
    return 1.0 / at_zero - 1.0


def exit_hazard_bounds(hazard_table: np.ndarray, smallest_log_size: float, log_size_min, severity, gdp_growth: float,
                       shock: float, p: Parameters) -> np.ndarray:
    """Upper bounds of ``rules.exit_hazard`` by city, kind, credit status, young marginal entrant
    and year of age, for :func:`exit_outcomes`'s screen: the largest base hazard within the year
    of age, at the smallest log size any entity has (hazards fall with size). ``NO_BOUNDS`` if
    hazards rise with size (no screen)."""
    if p.hazard_size_elasticity > 0.0:
        return NO_BOUNDS
    starts = np.arange(0, hazard_table.size, 12)
    base = np.maximum.reduceat(hazard_table, starts)
    city, kind, credit, marginal, age = np.meshgrid(np.arange(len(severity)), np.arange(3), np.arange(3),
                                                    np.arange(2), np.arange(base.size), indexing="ij")
    return rules.exit_hazard(base[age], kind, smallest_log_size, np.asarray(log_size_min)[kind], credit,
                             marginal.astype(bool), np.asarray(severity)[city], gdp_growth, shock, p)


@_jit
def plan_masses(status, credit, city, risk, visibility, weight, violating, n_cities, registered_out, risk_mass_out,
                visibility_mass_out, violating_mass_out):
    """Per-city sums the regulators plan from: registered, random-pool mass by risk class,
    active visibility mass and violating mass (rows in creation order, as the Mesa engine sums)."""
    registered_out[:] = 0.0
    risk_mass_out[:, :] = 0.0
    visibility_mass_out[:] = 0.0
    violating_mass_out[:] = 0.0
    for i in range(status.size):
        c = city[i]
        w = weight[i]
        registered_out[c] += w
        if rules.in_random_pool(status[i], credit[i]):
            risk_mass_out[c, risk[i]] += w
        if status[i] == rules.ACTIVE:
            visibility_mass_out[c] += w * visibility[i]
            if violating[i]:
                violating_mass_out[c] += w


@_jit
def tally(status, kind, city, sector, credit, violating, weight, n_cities, n_sectors, totals_out, by_city_out,
          peer_active_out, peer_violating_out):
    """Stocks at the end of a month in one pass: totals_out holds registered by kind (3),
    active, dormant, abnormal-listed, serious-listed and violating active weights."""
    totals_out[:] = 0.0
    by_city_out[:] = 0.0
    peer_active_out[:, :] = 0.0
    peer_violating_out[:, :] = 0.0
    for i in range(status.size):
        s = status[i]
        if s == rules.DEREGISTERED:
            continue
        w = weight[i]
        c = city[i]
        totals_out[kind[i]] += w
        by_city_out[c] += w
        if s == rules.ACTIVE:
            totals_out[3] += w
            peer_active_out[c, sector[i]] += w
            if violating[i]:
                totals_out[7] += w
                peer_violating_out[c, sector[i]] += w
        else:
            totals_out[4] += w
        if credit[i] == rules.ABNORMAL:
            totals_out[5] += w
        elif credit[i] == rules.SERIOUS:
            totals_out[6] += w
