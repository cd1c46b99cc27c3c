"""Compiled loops for the vectorised engine's heaviest processes (numba).

The rules are not rewritten here: each kernel loops over entities and calls the very
functions of :mod:`sim.core.rules`, which numba compiles for scalars. The scalar-or-array
primitives of the rules (``where``, ``exp``, ...) get scalar implementations for
compiled code in :mod:`sim.core.compiled`, and the parameter set is passed as a named tuple. A kernel
computes, for one entity, exactly what the array code computes for that row, so the
engines keep giving the same numbers (tests/test_vector.py).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from sim.core import compiled  # noqa: F401  (registers the rules numba compiles)
from sim.core import rules
from sim.engines import outcomes
from sim.inputs.parameters import Parameters

register_jitable(outcomes.annual_rates)  # the same annualisation as the Mesa engine's regulators
register_jitable(outcomes.after_sanction)
register_jitable(outcomes.steady_memory)

# ---------------------------------------------------------------- kernels
# Rows from which a kernel runs on every core (as sim.core.compiled's loops; read at each call, so a
# test can move it for the engine's kernels alone).
PARALLEL_FROM = compiled.PARALLEL_FROM
# Rows per block of a sum: each block is summed in row order and the blocks' sums are added in
# block order, so a total does not depend on how many threads share the blocks (and a model
# smaller than one block sums in row order, exactly as the Mesa engine does).
BLOCK = 65_536


def _jit(loop) -> compiled.TwinLoop:
    """A loop over blocks of rows compiled twice, serial and parallel (:class:`sim.core.compiled.TwinLoop`),
    sized by its first argument and run in parallel from this module's ``PARALLEL_FROM`` rows. The loop's
    body depends on its own row only (sums go through blocks of ``block`` rows), so both give the same
    numbers bit for bit, on any number of threads."""
    return compiled.TwinLoop(loop, 0, lambda: PARALLEL_FROM)


@register_jitable
def _sum_blocks(parts, out):
    """``out`` = the blocks' partial sums ``parts[b]`` added in block order (the same on any number
    of threads, and for one block exactly that block's row-order sum)."""
    out.fill(0.0)
    for b in range(parts.shape[0]):
        out += parts[b]


@register_jitable
def _tally_parts(nb, n_cities, n_sectors):
    """Per-block month-end sums (see :func:`tally`): totals, registered by city, active and violating by
    city and sector."""
    return np.zeros((nb, 8)), np.zeros((nb, n_cities)), np.zeros((nb, 2, n_cities, n_sectors))


@register_jitable
def _sum_tally(totals, by_city, peer, totals_out, by_city_out, peer_active_out, peer_violating_out):
    _sum_blocks(totals, totals_out)
    _sum_blocks(by_city, by_city_out)
    _sum_blocks(peer[:, 0], peer_active_out)
    _sum_blocks(peer[:, 1], peer_violating_out)


@register_jitable
def _blocks(n, block):
    return (n + block - 1) // block


# The loop over one block's rows, called from a kernel's (parallel) loop over blocks. Compiled as a
# function of its own: numba's serial code for a block loop with the rows' loop written inline
# inside it runs several times slower.
_rows = numba.njit(cache=True, nogil=True)


@_jit
def individual_size_sums(status, kind, log_size, exponent, factors, out, block):
    """Each active individual business's size factor (``rules.conversion_size_factor``) into ``factors``,
    and into ``out`` their sum and number: what the month's conversions are normalised by
    (:func:`sim.engines.passes.supervise` keeps both up to date from the month's end; this gives them
    for a population as it is)."""
    n = status.size
    nb = _blocks(n, block)
    parts = np.zeros((nb, 2))
    for b in numba.prange(nb):
        _individual_size_rows(b * block, min(n, (b + 1) * block), status, kind, log_size, exponent, factors, parts[b])
    _sum_blocks(parts, out)


@_rows
def _individual_size_rows(lo, hi, status, kind, log_size, exponent, factors, sums):
    for i in range(lo, hi):
        if status[i] == rules.ACTIVE and kind[i] == rules.INDIVIDUAL:
            factors[i] = rules.conversion_size_factor(log_size[i], exponent)
            sums[0] += factors[i]
            sums[1] += 1.0


@numba.njit(cache=True, nogil=True)
def registered_rows(status, out):
    """The rows not deregistered, in ascending order, into ``out``; returns their number (one pass, where
    ``np.flatnonzero(status != DEREGISTERED)`` takes two and a slow count)."""
    m = 0
    for i in range(status.size):
        if status[i] != rules.DEREGISTERED:
            out[m] = i
            m += 1
    return m


@numba.njit(cache=True, nogil=True)
def keep_rows(column, rows):
    """Move ``column[rows]`` (ascending row numbers) to the front of ``column``, in place."""
    for j in range(rows.size):
        column[j] = column[rows[j]]


@_jit
def initial_memory(city, risk, visibility, random_by_class, routine_unit, complaint_rate, memory_decay, out, block):
    """Each row's specific deterrence at its steady state (``outcomes.steady_memory``) at the annual
    inspection rates its regulator's plan gives its risk class and visibility, as the Mesa engine sets it."""
    n = city.size
    for b in numba.prange(_blocks(n, block)):
        _initial_memory_rows(b * block, min(n, (b + 1) * block), city, risk, visibility, random_by_class,
                             routine_unit, complaint_rate, memory_decay, out)


@_rows
def _initial_memory_rows(lo, hi, city, risk, visibility, random_by_class, routine_unit, complaint_rate, memory_decay,
                         out):
    for i in range(lo, hi):
        c = city[i]
        rate_random, rate_routine_unit, _ = outcomes.annual_rates(random_by_class[c, risk[i]], routine_unit[c], 0.0,
                                                                  complaint_rate)
        out[i] = outcomes.steady_memory(rate_random, rate_routine_unit * visibility[i], memory_decay)


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


@_rows
def _tally_rows(lo, hi, status, kind, city, sector, credit, violating, weight, totals, by_city, peer_active,
                peer_violating):
    """Add the registered rows lo to hi to the month-end sums (see :func:`tally`)."""
    for i in range(lo, hi):
        s = status[i]
        if s == rules.DEREGISTERED:
            continue
        w = weight[i]
        c = city[i]
        totals[kind[i]] += w
        by_city[c] += w
        if s == rules.ACTIVE:
            totals[3] += w
            peer_active[c, sector[i]] += w
            if violating[i]:
                totals[7] += w
                peer_violating[c, sector[i]] += w
        else:
            totals[4] += w
        if credit[i] == rules.ABNORMAL:
            totals[5] += w
        elif credit[i] == rules.SERIOUS:
            totals[6] += w


@_jit
def tally(status, kind, city, sector, credit, violating, weight, n_cities, n_sectors, totals_out, by_city_out,
          peer_active_out, peer_violating_out, block):
    """Stocks at the end of a month in one pass: totals_out holds registered by kind (3),
    active, dormant, abnormal-listed, serious-listed and violating active weights."""
    n = status.size
    nb = _blocks(n, block)
    totals, by_city, peer = _tally_parts(nb, n_cities, n_sectors)
    for b in numba.prange(nb):
        _tally_rows(b * block, min(n, (b + 1) * block), status, kind, city, sector, credit, violating, weight,
                    totals[b], by_city[b], peer[b, 0], peer[b, 1])
    _sum_tally(totals, by_city, peer, totals_out, by_city_out, peer_active_out, peer_violating_out)
