"""The vectorised engine's month in two compiled passes over the entities.

A month's processes touch each entity in the same order in both engines; apart from the
regulators' plan (which needs every entity's risk class and compliance) and the peers'
violation shares (which need the month's end), what happens to one entity depends on its
own row only. So the month takes two passes over the rows instead of one per process:

1. :func:`behave` - conversion (process 2), ageing, growth (process 3), risk class and visibility,
   compliance (process 5), and the per-city sums the regulators plan from;
2. :func:`supervise` - complaints and inspections (process 6), sanctions and credit (process
   7), exit (process 8) and the month-end stocks, peer sums and the individual businesses' size
   factors that next month's conversions are normalised by.

Each pass calls the rules of :mod:`sim.core.rules` for one row at a time, as the Mesa engine
calls them for one agent, and runs on every core above ``PARALLEL_FROM`` rows; sums go
through blocks (:mod:`sim.engines.kernels`), so the numbers do not depend on the number of
threads. ``tests/test_vector.py`` holds both engines to the same numbers entity for entity.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from sim.core import rules
from sim.engines import outcomes
from sim.engines.kernels import _blocks, _jit, _rows, _sum_blocks, _sum_tally, _tally_parts, _tally_rows

# Columns of behave's per-city sums: registered, the random pool by risk class A-D, visibility, violating,
# and the weights converted (individual businesses to companies) and corporatised (other enterprises).
MASS_REGISTERED, MASS_RISK, MASS_VISIBILITY, MASS_VIOLATING, MASS_CONVERTED, MASS_CORPORATISED, N_MASSES = \
    0, 1, 5, 6, 7, 8, 9
# Columns of supervise's counts, in the order of the record fields they add to.
COUNT_FIELDS = (*outcomes.INSPECTION_FIELDS, "annual_reports_due", "annual_reports_filed", *outcomes.EXIT_FIELDS)
_INSPECTED, _DUE, _FILED = 0, len(outcomes.INSPECTION_FIELDS), len(outcomes.INSPECTION_FIELDS) + 1
_DEREGISTERED = _FILED + 1
_FIRST_ROUTE, _LAST_ROUTE = min(rules.DEREG_ROUTES), max(rules.DEREG_ROUTES)
_INDIVIDUAL_EXITS = len(COUNT_FIELDS) - 1
N_COUNTS = len(COUNT_FIELDS) + 1  # and the rows deregistered


@_jit
def behave(status, kind, city, sector, credit, age, months_in_status, months_since_penalty, memory, log_size, honesty,
           honesty_exp, weight, violating, keys, convert, conversion_base, conversion_rate, size_factor,
           size_factor_mean, n_aged, memory_decay, grow, growth_base, severity, floor, comply,
           compliance_base, random_by_class, routine_unit, lead_coverage, fine, peer, odds_at_no_cost, p,
           risk_out, visibility_out, masses_out, block):
    """Pass 1 over the rows: conversions (if ``convert``: individual businesses to companies at
    ``conversion_rate`` % a year in their city times their ``size_factor`` - as the last month's end left
    it, see :func:`supervise` - over ``size_factor_mean``, other enterprises corporatising), the month's
    ageing (rows below ``n_aged``, not this month's entrants), growth (if ``grow``), risk class and
    visibility, compliance (if ``comply``; see :func:`sim.engines.kernels.violation_odds_at_no_cost` for
    the screen by ``odds_at_no_cost``), then the regulators' per-city sums into ``masses_out`` (columns
    ``MASS_*``).
    Returns the smallest log size of any row."""
    n = status.size
    nb = _blocks(n, block)
    n_cities = masses_out.shape[0]
    part = np.zeros((nb, n_cities, N_MASSES))
    smallest = np.full(nb, np.inf)
    screen = odds_at_no_cost.size > 0
    for b in numba.prange(nb):
        smallest[b] = _behave_rows(b * block, min(n, (b + 1) * block), status, kind, city, sector, credit, age,
                                   months_in_status, months_since_penalty, memory, log_size, honesty, honesty_exp,
                                   weight, violating, keys, convert, conversion_base, conversion_rate, size_factor,
                                   size_factor_mean, n_aged, memory_decay, grow, growth_base, severity, floor, comply,
                                   compliance_base, random_by_class, routine_unit, lead_coverage, fine, peer,
                                   screen, odds_at_no_cost, p, risk_out, visibility_out, part[b])
    _sum_blocks(part, masses_out)
    return smallest.min() if nb else np.inf


@_rows
def _behave_rows(lo, hi, status, kind, city, sector, credit, age, months_in_status, months_since_penalty, memory,
                 log_size, honesty, honesty_exp, weight, violating, keys, convert, conversion_base, conversion_rate,
                 size_factor, size_factor_mean, n_aged, memory_decay, grow, growth_base, severity, floor,
                 comply, compliance_base, random_by_class, routine_unit, lead_coverage, fine, peer, screen,
                 odds_at_no_cost, p, risk_out, visibility_out, part):
    """:func:`behave` on rows lo to hi, adding to this block's sums ``part``; returns their smallest log size."""
    smallest = np.inf
    for i in range(lo, hi):
        if convert and status[i] == rules.ACTIVE and credit[i] == rules.NORMAL and kind[i] != rules.COMPANY:
            k = kind[i]
            c = city[i]
            prob = 0.0  # (another enterprise's corporatisation does not depend on its size)
            if k == rules.INDIVIDUAL:
                # its size factor as last month's end left it (supervise's, or entry's for an entrant)
                prob = rules.conversion_probability(conversion_rate[c], size_factor[i] / size_factor_mean)
            event = rules.conversion_event(k, True, rules.uniform_from_key(conversion_base, keys[i]), prob, p)
            if event == rules.CONVERSION:
                part[c, MASS_CONVERTED] += weight[i]
            elif event == rules.CORPORATISATION:
                part[c, MASS_CORPORATISED] += weight[i]
            if event != rules.NO_EVENT:
                kind[i] = rules.COMPANY
        if i < n_aged:
            age[i] += 1
            months_in_status[i] += 1
            months_since_penalty[i] += 1
            memory[i] *= memory_decay
        c = city[i]
        s = status[i]
        if grow and s == rules.ACTIVE:
            log_size[i] = rules.grow(log_size[i], rules.uniform_from_key(growth_base, keys[i]), credit[i],
                                     severity[c], floor, p)
        smallest = min(smallest, log_size[i])
        if s == rules.DEREGISTERED:  # (nothing reads a deregistered row's risk class or visibility)
            continue
        risk = rules.risk_class(credit[i], months_since_penalty[i], age[i], p)
        visibility = rules.routine_visibility(log_size[i], sector[i], p)
        risk_out[i] = risk
        visibility_out[i] = visibility
    # compliance and the regulators' sums in a loop of their own over the block (in the cache): numba
    # compiles the one long loop several times slower
    for i in range(lo, hi):
        c = city[i]
        s = status[i]
        if comply:
            violating[i] = False
            if s == rules.ACTIVE:
                u = rules.uniform_from_key(compliance_base, keys[i])
                if not screen or u * (1.0 - 1e-9) - 1e-12 < 1.0 / (1.0 + honesty_exp[i] * odds_at_no_cost[c, sector[i]]):
                    rate_random, rate_routine_unit, rate_lead = outcomes.annual_rates(
                        random_by_class[c, risk_out[i]], routine_unit[c], lead_coverage[c], p.complaint_rate)
                    perceived = rules.perceived_detection(rate_random, rate_routine_unit * visibility_out[i], rate_lead,
                                                          memory[i], p)
                    cost = rules.expected_sanction_cost(perceived, fine[c], severity[c], p)
                    violating[i] = u < rules.violation_probability(honesty[i], peer[c, sector[i]], cost, p)
        w = weight[i]
        part[c, MASS_REGISTERED] += w
        if rules.in_random_pool(s, credit[i]):
            part[c, MASS_RISK + risk_out[i]] += w
        if s == rules.ACTIVE:
            part[c, MASS_VISIBILITY] += w * visibility_out[i]
            if violating[i]:
                part[c, MASS_VIOLATING] += w
    return smallest


@_jit
def supervise(status, kind, city, sector, credit, age, months_in_status, months_since_penalty, months_dormant, memory,
              log_size, marginal, violating, weight, keys, risk, visibility, bases, random_by_class, routine_unit,
              lead_coverage, detection, fine, severity, june, hazard_table, log_size_min, simplified, compulsory_on,
              compulsory_months, gdp_growth, shock, exit_bounds, conversion_exponent, size_factor, p, counts_out,
              totals_out, by_city_out, peer_active_out, peer_violating_out, sizes_out, block):
    """Pass 2 over the rows: complaints and inspections, sanctions of the detected, annual reports
    (in ``june``), credit lists, exit (screened by ``exit_bounds``, see
    :func:`sim.engines.kernels.exit_hazard_bounds`) and the month-end stocks and peer sums
    (as :func:`sim.engines.kernels.tally`). ``bases`` are the month's stream bases in the order
    complaint, inspection, detection, sanction, annual report, repair, exit, deregistration,
    dormancy. ``counts_out`` gets the weights of ``COUNT_FIELDS`` and the rows deregistered, ``sizes_out``
    the month-end :func:`sim.engines.kernels.individual_size_sums` and ``size_factor`` each active
    individual business's factor in them, for next month's conversions."""
    n = status.size
    nb = _blocks(n, block)
    n_cities, n_sectors = peer_active_out.shape
    counts = np.zeros((nb, N_COUNTS))
    sizes = np.zeros((nb, 2))
    totals, by_city, peer = _tally_parts(nb, n_cities, n_sectors)
    last_age = hazard_table.size - 1
    screen = exit_bounds.size > 0
    for b in numba.prange(nb):
        _supervise_rows(b * block, min(n, (b + 1) * block), status, kind, city, sector, credit, age, months_in_status,
                        months_since_penalty, months_dormant, memory, log_size, marginal, violating, weight, keys, risk,
                        visibility, bases, random_by_class, routine_unit, lead_coverage, detection, fine, severity,
                        june, hazard_table, last_age, log_size_min, simplified, compulsory_on, compulsory_months,
                        gdp_growth, shock, screen, exit_bounds, conversion_exponent, size_factor, p, counts[b],
                        totals[b], by_city[b], peer[b, 0], peer[b, 1], sizes[b])
    _sum_blocks(counts, counts_out)
    _sum_blocks(sizes, sizes_out)
    _sum_tally(totals, by_city, peer, totals_out, by_city_out, peer_active_out, peer_violating_out)


@_rows
def _supervise_rows(lo, hi, status, kind, city, sector, credit, age, months_in_status, months_since_penalty,
                    months_dormant, memory, log_size, marginal, violating, weight, keys, risk, visibility, bases,
                    random_by_class, routine_unit, lead_coverage, detection, fine, severity, june, hazard_table, last_age,
                    log_size_min, simplified, compulsory_on, compulsory_months, gdp_growth, shock, screen, exit_bounds,
                    conversion_exponent, size_factor, p, counts, totals, by_city, peer_active, peer_violating, sizes):
    """:func:`supervise` on rows lo to hi, adding to this block's sums."""
    for i in range(lo, hi):
        s = status[i]
        if s == rules.DEREGISTERED:
            continue
        c = city[i]
        w = weight[i]
        key = keys[i]
        active = s == rules.ACTIVE
        # process 6: a complaint against a violator, and which inspection (if any) falls here
        complaint = violating[i] and rules.uniform_from_key(bases[0], key) < p.complaint_rate
        p_random = min(1.0, random_by_class[c, risk[i]]) if rules.in_random_pool(s, credit[i]) else 0.0
        p_routine = routine_unit[c] * visibility[i] if active else 0.0
        p_lead = lead_coverage[c] if complaint else 0.0
        inspection = rules.inspection_type(rules.uniform_from_key(bases[1], key), p_random, p_routine, p_lead)
        detected = False
        if inspection != rules.NOT_INSPECTED:
            if active and violating[i]:
                detected = rules.uniform_from_key(bases[2], key) < detection[inspection]
            random = inspection == rules.RANDOM_INSPECTION
            counts[_INSPECTED] += w
            if random:
                counts[_INSPECTED + 1] += w
                counts[_INSPECTED + 2] += w
                if not active:
                    counts[_INSPECTED + 3] += w
            if active and not violating[i]:
                counts[_INSPECTED + 4] += w
            if active and detected:
                counts[_INSPECTED + 5] += w
                if random:
                    counts[_INSPECTED + 6] += w
            if active:
                memory[i] = 1.0
            elif credit[i] == rules.NORMAL:  # not operating at its address: the abnormal list
                credit[i] = rules.ABNORMAL
                months_in_status[i] = 0
        # process 7: fines and the serious list for the detected, annual reports, the lists
        if detected:
            log_size[i] = outcomes.after_sanction(log_size[i], fine[c], p)
            months_since_penalty[i] = 0
            violating[i] = False
            listed = rules.after_sanction(credit[i], True, rules.uniform_from_key(bases[3], key), severity[c], p)
            months_in_status[i] = _months_after(listed, credit[i], months_in_status[i])
            credit[i] = listed
        just_listed = False
        if june:
            counts[_DUE] += w
            if rules.annual_report_filed(s, rules.uniform_from_key(bases[4], key), p):
                counts[_FILED] += w
            elif credit[i] == rules.NORMAL:
                months_in_status[i] = _months_after(rules.ABNORMAL, credit[i], months_in_status[i])
                credit[i] = rules.ABNORMAL
                just_listed = True
        if credit[i] != rules.NORMAL and not just_listed:
            moved = rules.credit_transition(credit[i], months_in_status[i], kind[i], active,
                                            rules.uniform_from_key(bases[5], key), p)
            months_in_status[i] = _months_after(moved, credit[i], months_in_status[i])
            credit[i] = moved
        # process 8: exit. An active row whose exit uniform is beyond what its hazard's upper bound
        # could reach stays without the hazard's exp and pow (the uniform is the same; the margins
        # exceed rounding). Written out here: numba's code for a call that takes the parameters is slow.
        k = kind[i]
        if active:
            a = age[i]
            u_exit = rules.uniform_from_key(bases[6], key)
            young_marginal = marginal[i] and a < 24
            outcome = -1
            if screen:
                # the annual hazard at which this uniform would be an exit: 1 - (1 - u)^12
                x = 1.0 - u_exit
                x4 = (x * x) * (x * x)
                if exit_bounds[c, k, credit[i], 1 if young_marginal else 0, min(a, last_age) // 12] + 1e-12 \
                        < (1.0 - x4 * x4 * x4) * (1.0 - 1e-9):
                    outcome = rules.STAY
            if outcome == -1:
                hazard = rules.exit_hazard(hazard_table[min(a, last_age)], k, log_size[i], log_size_min[k], credit[i],
                                           young_marginal, severity[c], gdp_growth, shock, p)
                outcome = rules.active_exit(u_exit, rules.uniform_from_key(bases[7], key), hazard, simplified[c], k,
                                            credit[i], p)
        else:
            months_dormant[i] += 1
            due = rules.compulsory_deregistration_due(compulsory_on[c], credit[i], months_dormant[i],
                                                      compulsory_months[c])
            outcome = rules.dormant_exit(rules.uniform_from_key(bases[8], key), rules.uniform_from_key(bases[7], key),
                                         due, simplified[c], credit[i], p)
        if outcome != rules.STAY:
            if _FIRST_ROUTE <= outcome <= _LAST_ROUTE:
                counts[_DEREGISTERED] += w
                counts[_DEREGISTERED + outcome - _FIRST_ROUTE + 1] += w
                if kind[i] == rules.INDIVIDUAL:
                    counts[_INDIVIDUAL_EXITS] += w
                status[i] = rules.DEREGISTERED
                violating[i] = False
                weight[i] = 0.0
                counts[N_COUNTS - 1] += 1.0
                continue
            if outcome == rules.GO_DORMANT:
                status[i] = rules.DORMANT
                violating[i] = False
            else:  # REACTIVATE
                status[i] = rules.ACTIVE
            months_dormant[i] = 0
        if status[i] == rules.ACTIVE and k == rules.INDIVIDUAL:  # what next month's conversions are relative to
            size_factor[i] = rules.conversion_size_factor(log_size[i], conversion_exponent)
            sizes[0] += size_factor[i]
            sizes[1] += 1.0
    # the month-end stocks of the block (its rows are still in the cache)
    _tally_rows(lo, hi, status, kind, city, sector, credit, violating, weight, totals, by_city, peer_active,
                peer_violating)


@register_jitable
def _months_after(new, old, months_in_status):
    """Months in a credit status after a change of list (as outcomes.credit_change): they restart
    when the status changes."""
    return 0 if new != old else months_in_status


def smallest_after_fines(smallest: float, fine: np.ndarray, p) -> float:
    """A lower bound of every log size after this month's fines, from the smallest before them."""
    return smallest - max(0.0, float(np.max(p.fine_size_hit * np.asarray(fine))))

