"""The compiled loops over the firm table (numba, cached): the clocks (``rebase_clocks``,
``fire_clock``, ``start_thresholds``) and the passes over every firm (credit scan, tally, yearly
growth, size factors, category index). They take the table's 2-D column groups
(:class:`~sim.submodels.innovation.table.FirmTable`) and read columns by the indices declared there."""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.core import compiled  # noqa: F401  (registers the rules numba compiles: rules.uniform_from_key, ...)
from sim.core import rules
from sim.submodels.innovation.parameters import NORMAL
from sim.submodels.innovation.rules import annual_growth, exit_size_factor, exponential_threshold
from sim.submodels.innovation.table import (ABOVE, ALIVE, CATEGORY, CERTIFIED, CITY, CREDIT, F_CERT, F_EXIT, F_FIRST,
                                            F_INTL, F_STD, F_TM, HORIZON_MONTHS, INDUSTRIAL, LISTED_STEP, LOG_SIZE,
                                            N_HV, N_INTL, N_INV, N_STD, PEND1, PEND2)

_compiled = numba.njit(cache=True, nogil=True)
# Clock indices (the order of parameters.CLOCKS), as the compiled factors test them.
EXIT, LISTING, PATENT, LAPSE, OFILE, STAGE1, STAGE2, STANDARD, CERT, INTL = range(10)


@_compiled
def rebase_clocks(rows, clocks, level, horizon, F, T, R, flag, candidates, n_candidates, floats, ints, flags, covered,
                  sc, listed_effect):
    """New factors of the given clocks for rows, from their state (the table's groups ``floats``,
    ``ints``, ``flags``) and the scalars ``sc`` (``Innovation._clock_scalars``): a firm's expected events
    in a month on a clock are its factor times the clock's monthly scalar; ``listed_effect`` is the
    exit hazard's rise for listed firms in each city (with that city's credit penalty severity). Each row keeps the part
    of its threshold not yet used (``T`` is the trigger on the clock's cumulative scalar ``level``,
    ``R`` the threshold left while the factor is 0). Rows whose trigger falls within the clock's
    horizon and are not yet candidates join its candidate list (``candidates[c, :n_candidates[c]]``).

    The factors: exit - size factor, raised for listed firms as the credit penalty is more severe;
    listing - 1 for firms on no list; patent - the portfolio for holders (further grants), the
    first-patent size factor for the others; lapse - lapse rates over the portfolio; ofile -
    high-value patents; stage1, stage2 - filings in each examination stage; standard - size factor
    of clean firms, lowered where the category already has a standard; cert - for certified firms
    the non-renewal ratio, for others the size factor of clean firms with a standard for their
    product, raised for leaders; intl - size factor of certified firms plus the lapse ratio over
    certificates held.
    """
    for j in range(rows.size):
        i = rows[j]
        alive = flags[ALIVE, i]
        certified = flags[CERTIFIED, i]
        normal = ints[CREDIT, i] == NORMAL
        n_inv, n_hv = ints[N_INV, i], ints[N_HV, i]
        clean = normal and sc[8] - ints[LISTED_STEP, i] >= sc[7]
        category = ints[CATEGORY, i]
        access = category >= 0 and covered[max(category, 0)]
        for c in clocks:
            if not alive:
                new = 0.0
            elif c == EXIT:
                new = floats[F_EXIT, i] * (1.0 + listed_effect[ints[CITY, i]] * (not normal))
            elif c == LISTING:
                new = 1.0 if normal else 0.0
            elif c == PATENT:
                new = float(n_inv) if n_inv > 0 else floats[F_FIRST, i] * sc[0]
            elif c == LAPSE:
                new = sc[1] * (n_inv - n_hv) + sc[2] * n_hv
            elif c == OFILE:
                new = float(n_hv)
            elif c == STAGE1:
                new = float(ints[PEND1, i])
            elif c == STAGE2:
                new = float(ints[PEND2, i])
            elif c == INTL:
                new = floats[F_INTL, i] * certified + sc[6] * ints[N_INTL, i]
            elif c == STANDARD:
                new = floats[F_STD, i] * clean * (sc[3] if access else 1.0)
            elif certified:  # CERT
                new = sc[5]
            else:
                new = floats[F_CERT, i] * (clean and access) * (sc[4] if ints[N_STD, i] > 0 else 1.0)
            old = F[c, i]
            left = max(0.0, (T[c, i] - level[c]) * old) if old > 0.0 else R[c, i]
            F[c, i] = new
            R[c, i] = left
            T[c, i] = level[c] + left / new if new > 0.0 else np.inf
            if T[c, i] <= horizon[c] and not flag[c, i]:
                flag[c, i] = True
                candidates[c, n_candidates[c]] = i
                n_candidates[c] += 1


@_compiled
def fire(c, scalar, n, level, horizon, candidates, n_candidates, flag, T, F, events, key, base, rows_out, counts_out):
    """Advance clock c by a month at its monthly ``scalar``: the firms with events go to ``rows_out``
    and their counts to ``counts_out``; returns their number. Only the clock's candidates (triggers
    within its horizon) are looked at; the list is rebuilt from the n rows when the clock passes
    its horizon."""
    if level[c] + scalar > horizon[c]:
        horizon[c] = level[c] + scalar * HORIZON_MONTHS
        m = 0
        for i in range(n):
            near = T[c, i] <= horizon[c]
            flag[c, i] = near
            if near:
                candidates[c, m] = i
                m += 1
        n_candidates[c] = m
    level[c] += scalar
    return fire_clock(candidates[c, :n_candidates[c]], c, T, F, events, key, level[c], base, rows_out, counts_out)


@_compiled
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


@_compiled
def start_thresholds(start, stop, key, base, R):
    """Each new row's first Exp(1) threshold on every clock (keyed by firm, clock and event 0)."""
    shift = np.uint64(24)
    for i in range(start, stop):
        firm = key[i] << shift
        for c in range(R.shape[0]):
            u = rules.uniform_from_key(base, firm | (np.uint64(c) << np.uint64(20)))
            R[c, i] = exponential_threshold(u)


@_compiled
def credit_scan(n, ints, flags, cleared_step, listed_out, cleared_out):
    """One pass over the firms: rows of live firms on a list, and rows listed at ``cleared_step``
    (whose record becomes clean this month); returns their numbers."""
    a = b = 0
    for i in range(n):
        if ints[LISTED_STEP, i] == cleared_step:
            cleared_out[b] = i
            b += 1
        if ints[CREDIT, i] != NORMAL and flags[ALIVE, i]:
            listed_out[a] = i
            a += 1
    return a, b


@_compiled
def tally(n, ints, flags):
    """One pass over the firms: above-scale firms, those holding an invention patent, high-value
    patents held, international certificates held, certified firms."""
    above = covered = hv = intl = certified = 0
    for i in range(n):
        if flags[ALIVE, i] and flags[ABOVE, i]:
            above += 1
            if ints[N_INV, i] > 0:
                covered += 1
        hv += ints[N_HV, i]
        intl += ints[N_INTL, i]
        certified += flags[CERTIFIED, i]
    return above, covered, hv, intl, certified


@_compiled
def grow_firms(n, key, base, floats, ints, flags, severity_by_city, p, log_threshold, band_width, keep_out):
    """A year's growth of every firm (``annual_growth`` at the firm's uniform from ``base``, the
    month's growth stream); ``keep_out`` is False for firms gone and for industrial firms now below
    the band with no patent, certificate or standard (they leave the simulated strata)."""
    for i in range(n):
        listed = 1.0 if ints[CREDIT, i] != NORMAL else 0.0
        size = annual_growth(floats[LOG_SIZE, i], rules.uniform_from_key(base, key[i]), listed,
                             severity_by_city[ints[CITY, i]], p)
        floats[LOG_SIZE, i] = size
        drop = flags[INDUSTRIAL, i] and size - log_threshold < -band_width and ints[N_INV, i] == 0 \
            and not flags[CERTIFIED, i] and ints[N_STD, i] == 0
        keep_out[i] = flags[ALIVE, i] and not drop


@_compiled
def size_factors(start, stop, floats, flags, log_threshold, largest, e_first, e_std, e_cert, e_intl, e_tm,
                 nonindustrial_tm, p):
    """The hazards' size factors and the above-scale flag of rows start..stop (sizes move once a
    year); returns the trademark filing weight of the live rows among them."""
    weight = 0.0
    for i in range(start, stop):
        size = floats[LOG_SIZE, i]
        industrial = flags[INDUSTRIAL, i]
        x = min(size - log_threshold, largest)
        floats[F_EXIT, i] = exit_size_factor(size, p)
        floats[F_FIRST, i] = math.exp(e_first * x) if industrial else 0.0
        floats[F_STD, i] = math.exp(e_std * x) if industrial else 0.0
        floats[F_CERT, i] = math.exp(e_cert * x) if industrial else 0.0
        floats[F_INTL, i] = math.exp(e_intl * x)
        floats[F_TM, i] = math.exp(e_tm * max(x, -3.0)) * (1.0 if industrial else nonindustrial_tm)
        flags[ABOVE, i] = industrial and x >= 0.0
        if flags[ALIVE, i]:
            weight += floats[F_TM, i]
    return weight


@_compiled
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
