"""The simulated firms' month in one compiled call (:func:`firm_month`): exit, credit listing and
repair, patent grants and lapses, overseas filings, Zhejiang Made standards, certification - the
order of ``Innovation.step``. Each process is a compiled function over the firms its clock fires
(:func:`sim.submodels.innovation.clocks.fire`); firms whose state changed are rebased on the clocks
that read it. What is not about single firms (the non-firm patent stock, standards abolished, entry,
trademarks) stays in :mod:`sim.submodels.innovation.processes`, which calls this once a month.

Draws are :func:`sim.core.rules.uniform_from_key` of the firm's key on the month's stream bases
(``bases``, indexed by the ``*_BASE`` constants below), as ``Innovation._uniform`` draws them.
"""

from __future__ import annotations

from collections import namedtuple

import numba
import numpy as np

from sim.core import compiled  # (importing it also registers the rules numba compiles: rules.uniform_from_key, ...)
from sim.core import rules
from sim.submodels.innovation.clocks import (CERT, EXIT, INTL, LAPSE, LISTING, OFILE, PATENT, STAGE1, STAGE2, STANDARD,
                                             credit_scan, fire, rebase_clocks)
from sim.submodels.innovation.parameters import ABNORMAL, NORMAL, SERIOUS, STREAMS
from sim.submodels.innovation.table import (ALIVE, CATEGORY, CERTIFIED, CREDIT, F_INTL, INDUSTRIAL, LISTED_STEP, N_HV,
                                            N_INTL, N_INV, N_STD, NEVER, OS_GRANTS, PEND1, PEND2, STATUS_STEP)

_compiled = numba.njit(cache=True, nogil=True)

# The stream bases the month reads, in this order: the clocks' (the same all run), then the month's
# (``Innovation._firm_month`` sets them).
MONTH_STREAMS = ("clock", "type_listing", "repair", "type_patent", "type_lapse", "type_stage2", "type_intl")
MONTH_STREAM_IDS = np.array([STREAMS[s] for s in MONTH_STREAMS], np.int64)
CLOCK_BASE, LISTING_BASE, REPAIR_BASE, PATENT_BASE, LAPSE_BASE, STAGE2_BASE, INTL_BASE = range(len(MONTH_STREAMS))
# What the month returns in ``out``: certified firms listed, overseas grants, standards led, then the
# numbers of rows in ``leavers`` of firms that exited and of non-industrial firms left without patents.
LOST_LISTING, OVERSEAS_GRANTS, NEW_STANDARDS, EXITED, WITHOUT_PATENTS = range(5)
N_OUT = 5
# The month works in ``scratch`` (kept by ``Innovation`` from month to month, so no month allocates its
# row lists): SCRATCH_LISTS lists of n rows each, ``scratch[k * n:(k + 1) * n]``. The processes take
# them in turn (list GONE is two lists long); the last, LEAVERS, is what the month hands back.
SCRATCH_LISTS = 7
ROWS, COUNTS, MORE, MORE_COUNTS, GONE, LEAVERS = 0, 1, 2, 3, 4, 6

# The month's rates and chances besides the clocks' scalars.
MonthRates = namedtuple("MonthRates", [
    "abnormal_share",  # of listings, onto the abnormal-operation list
    "abnormal_repair_rate", "serious_repair_rate", "serious_min_months", "penalty_memory_months",
    "high_value_share",  # of grants
    "invention_lapse", "high_value_lapse", "overseas_grant_ratio", "intl_lapse_ratio"])

# Clocks rebased after each process, by what it changes.
_CREDIT_CLOCKS = np.array([EXIT, LISTING, STANDARD, CERT, INTL], np.int64)
_PATENT_CLOCKS = np.array([PATENT, LAPSE, OFILE], np.int64)
_STAGE_CLOCKS = np.array([STAGE1, STAGE2], np.int64)
_STANDARD_CLOCKS = np.array([STANDARD, CERT], np.int64)
_CERT_CLOCKS = np.array([CERT, INTL], np.int64)


def month_bases(seed: int, step: int, clock_base: np.uint64) -> np.ndarray:
    """The month's stream bases (``MONTH_STREAMS``; the clocks' is the same every month)."""
    bases = compiled.stream_bases(seed, MONTH_STREAM_IDS, step)
    bases[CLOCK_BASE] = clock_base
    return bases


@_compiled
def firm_month(n, step, scalars, bases, rates, key, floats, ints, flags, F, T, R, events, flag, level, horizon,
               candidates, n_candidates, covered, category_order, category_start, indexed_rows, clock_scalars,
               listed_effect, listed_rows, n_listed, out, scratch):
    """One month of the firms' processes on rows 0..n.

    Args:
        n, step: Rows of the table, and the month.
        scalars: Each clock's monthly scalar (the order of ``parameters.CLOCKS``).
        bases: The month's stream bases (``MONTH_STREAMS``); rates: :data:`MonthRates`.
        key, floats, ints, flags, F, T, R, events, flag: The firm table's groups (``FirmTable.groups``).
        level, horizon, candidates, n_candidates: The clocks' cumulative scalars, candidate horizons and lists.
        covered, category_order, category_start, indexed_rows: Whether each product category has a
            standard, and the category index (rows from ``indexed_rows`` on are not in it).
        clock_scalars, listed_effect: What the clocks' factors read (see ``rebase_clocks``).
        listed_rows, n_listed: The rows of firms ever listed (``listed_rows[:n_listed[0]]``, in no
            particular order); firms listed for the first time are added.
        out: Gets the month's counts (``LOST_LISTING`` ... ``WITHOUT_PATENTS``).
        scratch: Room for ``SCRATCH_LISTS`` lists of n rows; list ``LEAVERS`` gets the rows of firms
            that exited, then of those left without patents (each sorted).
    """
    state = (n, level, horizon, candidates, n_candidates, flag, T, F, events, key, bases[CLOCK_BASE])
    rebase = (level, horizon, F, T, R, flag, candidates, n_candidates, floats, ints, flags, covered, clock_scalars,
              listed_effect)
    rows, counts, leavers = _list(scratch, ROWS, n), _list(scratch, COUNTS, n), _list(scratch, LEAVERS, n)
    out[:] = 0
    # exit
    m = _fire(state, EXIT, scalars[EXIT], rows, counts)
    out[EXITED] = _leave(rows[:m], floats, ints, flags, F, T, leavers)
    # credit listing and repair
    _credit(state, rebase, step, scalars[LISTING], bases, rates, key, ints, flags, listed_rows, n_listed, out, scratch)
    # patents
    m = _fire(state, PATENT, scalars[PATENT], rows, counts)
    _grant(rows[:m], counts[:m], bases[PATENT_BASE], rates, key, ints)
    more, more_counts = _list(scratch, MORE, n), _list(scratch, MORE_COUNTS, n)  # (a second clock's events at once)
    k = _fire(state, LAPSE, scalars[LAPSE], more, more_counts)
    _lapse(more[:k], more_counts[:k], bases[LAPSE_BASE], rates, key, ints)
    rebase_clocks(rows[:m], _PATENT_CLOCKS, *rebase)
    rebase_clocks(more[:k], _PATENT_CLOCKS, *rebase)
    gone = scratch[GONE * n:(GONE + 2) * n]  # (a row may be on both lists)
    g = _without_patents(rows[:m], ints, flags, gone, 0)
    g = _without_patents(more[:k], ints, flags, gone, g)
    out[WITHOUT_PATENTS] = _leave(gone[:g], floats, ints, flags, F, T, leavers[out[EXITED]:])
    # overseas filings and their two examination stages
    _overseas(state, rebase, scalars, bases, rates, key, ints, out, scratch)
    # Zhejiang Made standards
    m = _fire(state, STANDARD, scalars[STANDARD], rows, counts)
    if m:
        for j in range(m):
            ints[N_STD, rows[j]] += counts[j]
            out[NEW_STANDARDS] += counts[j]
        mates = _fresh_category_rows(rows[:m], n, ints, covered, category_order, category_start, indexed_rows)
        rebase_clocks(rows[:m], _STANDARD_CLOCKS, *rebase)
        rebase_clocks(mates, _STANDARD_CLOCKS, *rebase)
    # certification and international certificates
    m = _fire(state, CERT, scalars[CERT], rows, counts)
    for j in range(m):  # certification of eligible firms, non-renewal of certified ones
        i = rows[j]
        if flags[CERTIFIED, i]:
            ints[N_INTL, i] = 0
        flags[CERTIFIED, i] = not flags[CERTIFIED, i]
    k = _fire(state, INTL, scalars[INTL], more, more_counts)
    _intl(more[:k], more_counts[:k], bases[INTL_BASE], rates, key, floats, ints, flags)
    rebase_clocks(rows[:m], _CERT_CLOCKS, *rebase)
    rebase_clocks(more[:k], _CERT_CLOCKS, *rebase)


@_compiled
def _list(scratch, k, n):
    """Scratch list k (n rows)."""
    return scratch[k * n:(k + 1) * n]


@_compiled
def _fire(state, c, scalar, rows, counts):
    n, level, horizon, candidates, n_candidates, flag, T, F, events, key, base = state
    return fire(c, scalar, n, level, horizon, candidates, n_candidates, flag, T, F, events, key[0], base, rows, counts)


@_compiled
def _leave(rows, floats, ints, flags, F, T, leavers):
    """Firms leaving the simulated strata (exit, or a non-industrial firm without patents left): their
    patents lapse, filings in examination and certificates end; standards stay in force. Their rows
    (sorted, each once, live ones only) go to ``leavers``; returns how many."""
    m = 0
    for i in np.unique(rows):
        if flags[ALIVE, i]:
            leavers[m] = i
            m += 1
            flags[ALIVE, i] = False
            for column in (N_INV, N_HV, PEND1, PEND2, N_INTL):
                ints[column, i] = 0
            flags[CERTIFIED, i] = False
            for c in range(F.shape[0]):
                F[c, i] = 0.0
                T[c, i] = np.inf
    return m


@_compiled
def _credit(state, rebase, step, scalar, bases, rates, key, ints, flags, listed_rows, n_listed, out, scratch):
    """Listing of firms with a clean record (abnormal or serious, certified firms lose their
    certificates), then repair: off the abnormal list at once when repaired, off the serious list after
    a minimum time; rebases the listed, the repaired and the firms listed ``penalty_memory_months`` ago
    (whose record becomes clean if they are off the lists)."""
    n = state[0]
    rows, counts = _list(scratch, ROWS, n), _list(scratch, COUNTS, n)
    m = _fire(state, LISTING, scalar, rows, counts)
    lost = 0
    for j in range(m):
        i = rows[j]
        u = rules.uniform_from_key(bases[LISTING_BASE], key[0, i])
        ints[CREDIT, i] = ABNORMAL if u < rates.abnormal_share else SERIOUS
        if ints[LISTED_STEP, i] == NEVER:  # (listed for the first time)
            listed_rows[n_listed[0]] = i
            n_listed[0] += 1
        ints[LISTED_STEP, i] = step
        ints[STATUS_STEP, i] = step
        if flags[CERTIFIED, i]:
            lost += 1
            flags[CERTIFIED, i] = False
            ints[N_INTL, i] = 0
    out[LOST_LISTING] = lost
    on_list, cleared, repaired = _list(scratch, 2, n), _list(scratch, 3, n), _list(scratch, 4, n)  # (free till patents)
    a, b = credit_scan(listed_rows[:n_listed[0]], ints, flags, step - int(rates.penalty_memory_months), on_list,
                       cleared)
    r = 0
    for j in range(a):
        i = on_list[j]
        if ints[CREDIT, i] == ABNORMAL:
            chance = rates.abnormal_repair_rate
        elif step - ints[STATUS_STEP, i] >= rates.serious_min_months:
            chance = rates.serious_repair_rate
        else:
            chance = 0.0
        if rules.uniform_from_key(bases[REPAIR_BASE], key[0, i]) < chance:
            repaired[r] = i
            r += 1
    for j in range(r):
        ints[CREDIT, repaired[j]] = NORMAL
        ints[STATUS_STEP, repaired[j]] = step
    rebase_clocks(rows[:m], _CREDIT_CLOCKS, *rebase)
    rebase_clocks(repaired[:r], _CREDIT_CLOCKS, *rebase)
    rebase_clocks(cleared[:b], _CREDIT_CLOCKS, *rebase)


@_compiled
def _grant(rows, counts, base, rates, key, ints):
    """Invention patents granted, a binomial share of them high-value."""
    for j in range(rows.size):
        i = rows[j]
        hv = rules.binomial_inverse(rules.uniform_from_key(base, key[0, i]), counts[j], rates.high_value_share)
        ints[N_INV, i] += counts[j]
        ints[N_HV, i] += hv


@_compiled
def _lapse(rows, lapses, base, rates, key, ints):
    """Patents lapsing (at most those held), high-value ones in proportion to their lapse rate."""
    for j in range(rows.size):
        i = rows[j]
        n_inv, n_hv = ints[N_INV, i], ints[N_HV, i]
        lapsed = min(lapses[j], n_inv)
        rate = rates.invention_lapse * (n_inv - n_hv) + rates.high_value_lapse * n_hv
        share = rates.high_value_lapse * n_hv / max(1e-12, rate)
        hv = min(rules.binomial_inverse(rules.uniform_from_key(base, key[0, i]), lapsed, share), n_hv)
        ints[N_INV, i] = n_inv - lapsed
        ints[N_HV, i] = min(n_hv - hv, n_inv - lapsed)


@_compiled
def _without_patents(rows, ints, flags, out, m):
    """Appends to ``out`` from ``m`` the live non-industrial firms among ``rows`` left without an
    invention patent; returns the new end."""
    for j in range(rows.size):
        i = rows[j]
        if ints[N_INV, i] == 0 and not flags[INDUSTRIAL, i] and flags[ALIVE, i]:
            out[m] = i
            m += 1
    return m


@_compiled
def _overseas(state, rebase, scalars, bases, rates, key, ints, out, scratch):
    """New overseas filings by holders of high-value patents, filings moving through the two
    examination stages and decided (a binomial share granted); rebases the firms concerned."""
    n = state[0]  # (the month's lists are free again: six of them)
    filers, filings, moving = _list(scratch, 0, n), _list(scratch, 1, n), _list(scratch, 2, n)
    moved, deciding, decided = _list(scratch, 3, n), _list(scratch, 4, n), _list(scratch, 5, n)
    f = _fire(state, OFILE, scalars[OFILE], filers, filings)
    a = _fire(state, STAGE1, scalars[STAGE1], moving, moved)
    d = _fire(state, STAGE2, scalars[STAGE2], deciding, decided)
    for j in range(d):  # (decided out of the filings in stage 2 before this month's move)
        decided[j] = min(decided[j], ints[PEND2, deciding[j]])
    for j in range(a):
        i = moving[j]
        step_on = min(moved[j], ints[PEND1, i])
        ints[PEND1, i] -= step_on
        ints[PEND2, i] += step_on
    for j in range(d):
        ints[PEND2, deciding[j]] -= decided[j]
    for j in range(f):
        ints[PEND1, filers[j]] += filings[j]
    granted = 0
    for j in range(d):
        i = deciding[j]
        g = rules.binomial_inverse(rules.uniform_from_key(bases[STAGE2_BASE], key[0, i]), decided[j],
                                   rates.overseas_grant_ratio)
        ints[OS_GRANTS, i] += g
        granted += g
    out[OVERSEAS_GRANTS] = granted
    rebase_clocks(filers[:f], _STAGE_CLOCKS, *rebase)
    rebase_clocks(moving[:a], _STAGE_CLOCKS, *rebase)
    rebase_clocks(deciding[:d], _STAGE_CLOCKS, *rebase)


@_compiled
def _fresh_category_rows(led, n, ints, covered, category_order, category_start, indexed_rows):
    """Marks the categories of firms that led a standard as covered; returns the rows of every firm in
    the categories covered for the first time (by category from the index, then rows added since)."""
    fresh = np.zeros(covered.size, np.bool_)
    for j in range(led.size):
        c = ints[CATEGORY, led[j]]
        if c >= 0 and not covered[c]:
            fresh[c] = covered[c] = True
    size = 0
    for c in range(covered.size):
        if fresh[c]:
            size += category_start[c + 1] - category_start[c]
    mates = np.empty(size + n - indexed_rows, np.int64)
    m = 0
    for c in range(covered.size):
        if fresh[c]:
            for j in range(category_start[c], category_start[c + 1]):
                mates[m] = category_order[j]
                m += 1
    for i in range(indexed_rows, n):
        c = ints[CATEGORY, i]
        if c >= 0 and fresh[c]:
            mates[m] = i
            m += 1
    return mates[:m]


@_compiled
def _intl(rows, events, base, rates, key, floats, ints, flags):
    """International certificates: each event a new certificate (certified firms, by size) or the lapse
    of one held, in proportion to their rates."""
    for j in range(rows.size):
        i = rows[j]
        gain = floats[F_INTL, i] * flags[CERTIFIED, i]
        share = gain / max(1e-12, gain + rates.intl_lapse_ratio * ints[N_INTL, i])
        gained = rules.binomial_inverse(rules.uniform_from_key(base, key[0, i]), events[j], share)
        ints[N_INTL, i] = max(0, ints[N_INTL, i] + gained - (events[j] - gained))
