"""The compiled loops over the firm table (numba, cached): the clocks (``rebase_clocks``,
``fire_clock``, ``start_thresholds``), the firms coming in (``draw_cities``, ``enter_firms``), the
credit scan over the firms ever listed, and the passes over every firm (tally, adoption weights,
yearly growth, size factors, category index). They take the table's 2-D column groups
(:class:`~sim.submodels.innovation.table.FirmTable`) and read columns by the indices declared there.

A loop that collects rows writes each row at the list's end and counts it only if it belongs (no
branch for the processor to mispredict on rows that come in no order)."""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.core import compiled  # (importing it also registers the rules numba compiles: rules.uniform_from_key, ...)
from sim.core import rules
from sim.submodels.innovation.parameters import NORMAL
from sim.submodels.innovation.rules import annual_growth, exit_size_factor, exponential_threshold, firm_exit_hazard
from sim.submodels.innovation.table import (ABOVE, ALIVE, CATEGORY, CERTIFIED, CITY, CREDIT, F_CERT, F_EXIT, F_FIRST,
                                            F_INTL, F_STD, F_TM, HORIZON_MONTHS, INDUSTRIAL, LISTED_STEP, LOG_SIZE,
                                            N_HV, N_INTL, N_INV, N_STD, NEVER, PEND1, PEND2, STATUS_STEP)

_compiled = numba.njit(cache=True, nogil=True)
# Clock indices (the order of parameters.CLOCKS), as the compiled factors test them.
EXIT, LISTING, PATENT, LAPSE, OFILE, STAGE1, STAGE2, STANDARD, CERT, INTL = range(10)


@numba.extending.register_jitable(inline="always")
def _clean_and_access(ints, covered, i, step, memory):
    """Whether firm ``i`` has a clean credit record at ``step`` (on no list, none within ``memory``
    months) and whether its product category has a Zhejiang Made standard (``Innovation._clean_record``
    and ``_has_category_standard`` for one firm)."""
    category = ints[CATEGORY, i]
    return (ints[CREDIT, i] == NORMAL and step - ints[LISTED_STEP, i] >= memory,
            category >= 0 and covered[max(category, 0)])


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
    for c in clocks:  # (clock by clock: each loop's branch is the same for every row, its columns read in turn)
        at, near = level[c], horizon[c]
        m = n_candidates[c]
        for j in range(rows.size):
            i = rows[j]
            if not flags[ALIVE, i]:
                new = 0.0
            elif c == EXIT:
                new = floats[F_EXIT, i] * (1.0 + listed_effect[ints[CITY, i]] * (ints[CREDIT, i] != NORMAL))
            elif c == LISTING:
                new = 1.0 if ints[CREDIT, i] == NORMAL else 0.0
            elif c == PATENT:
                new = float(ints[N_INV, i]) if ints[N_INV, i] > 0 else floats[F_FIRST, i] * sc[0]
            elif c == LAPSE:
                new = sc[1] * (ints[N_INV, i] - ints[N_HV, i]) + sc[2] * ints[N_HV, i]
            elif c == OFILE:
                new = float(ints[N_HV, i])
            elif c == STAGE1:
                new = float(ints[PEND1, i])
            elif c == STAGE2:
                new = float(ints[PEND2, i])
            elif c == INTL:
                new = floats[F_INTL, i] * flags[CERTIFIED, i] + sc[6] * ints[N_INTL, i]
            else:  # STANDARD and CERT read the credit record and the product category
                clean, access = _clean_and_access(ints, covered, i, sc[8], sc[7])
                if c == STANDARD:
                    new = floats[F_STD, i] * clean * (sc[3] if access else 1.0)
                elif flags[CERTIFIED, i]:  # CERT
                    new = sc[5]
                else:
                    new = floats[F_CERT, i] * (clean and access) * (sc[4] if ints[N_STD, i] > 0 else 1.0)
            old = F[c, i]
            left = max(0.0, (T[c, i] - at) * old) if old > 0.0 else R[c, i]
            F[c, i] = new
            R[c, i] = left
            trigger = at + left / new if new > 0.0 else np.inf
            T[c, i] = trigger
            if trigger <= near and not flag[c, i]:
                flag[c, i] = True
                candidates[c, m] = i
                m += 1
        n_candidates[c] = m


@_compiled
def fire(c, scalar, n, level, horizon, candidates, n_candidates, flag, T, F, events, key, base, rows_out, counts_out):
    """Advance clock c by a month at its monthly ``scalar``: the firms with events go to ``rows_out``
    and their counts to ``counts_out``; returns their number. Only the clock's candidates (triggers
    within its horizon) are looked at; the list is rebuilt from the n rows when the clock passes
    its horizon."""
    if level[c] + scalar > horizon[c]:
        horizon[c] = near = level[c] + scalar * HORIZON_MONTHS
        m = 0
        for i in range(n):
            candidate = T[c, i] <= near
            flag[c, i] = candidate
            candidates[c, m] = i
            m += candidate
        n_candidates[c] = m
    level[c] += scalar
    return fire_clock(candidates[c, :n_candidates[c]], c, T, F, events, key, level[c], base, rows_out, counts_out)


@_compiled
def fire_clock(cand, c, T, F, n, key, level, base, rows_out, counts_out):
    """Events on clock c of the candidates whose trigger the clock has passed: each event draws the
    firm's next threshold (keyed by firm, clock and event number) until the trigger is ahead again.
    ``rows_out`` (room for every candidate) gets those firms, in the candidates' order."""
    m = 0
    for j in range(cand.size):  # (the candidates whose trigger the clock has passed)
        rows_out[m] = cand[j]
        m += T[c, cand[j]] <= level
    clock_key = np.uint64(c) << np.uint64(20)
    shift = np.uint64(24)
    one = np.uint64(1)
    for j in range(m):
        i = rows_out[j]
        count = 0
        while T[c, i] <= level:
            n[c, i] += one
            u = rules.uniform_from_key(base, (key[i] << shift) | clock_key | n[c, i])
            T[c, i] += -math.log1p(-u) / F[c, i]
            count += 1
        counts_out[j] = count
    return m


@_compiled
def start_thresholds(start, stop, key, base, R, F, T):
    """Each new row's first Exp(1) threshold on every clock (keyed by firm, clock and event 0), with no
    factor and no trigger yet (``rebase_clocks`` sets them)."""
    shift = np.uint64(24)
    for i in range(start, stop):
        firm = key[i] << shift
        for c in range(R.shape[0]):
            u = rules.uniform_from_key(base, firm | (np.uint64(c) << np.uint64(20)))
            R[c, i] = exponential_threshold(u)
            F[c, i] = 0.0
            T[c, i] = np.inf


@_compiled
def draw_cities(start, stop, key, base, city_cdf, ints):
    """The cities of rows start..stop, each at its uniform on the firm_city stream (``base``)."""
    for i in range(start, stop):
        ints[CITY, i] = compiled.bucket(city_cdf, rules.uniform_from_key(base, key[i]))


@_compiled
def enter_firms(start, n_ind, n_hold, step, city_base, bases, city_cdf, n_categories, holder_share, high_value_share,
                key, ints, flags, u_size):
    """The firms coming in from row ``start``, ``n_ind`` industrial ones then ``n_hold`` non-industrial
    holders: each one's key (``(step + 1) << 24 | kind << 20 | index within its kind``), city (as
    ``draw_cities`` draws it), product category, first invention patent (every holder;
    industrial entrants at ``holder_share``), high-value at ``high_value_share``, and a clean credit
    record; ``u_size`` gets their size uniforms. ``city_base``: the firm_city stream's (at step -1);
    ``bases``: the month's entry_size, entry_category and entry_holder streams'."""
    month = np.uint64(step + 1) << np.uint64(24)
    second = np.uint64(1 << 19)  # (a holder's high-value draw: the key's second number on its stream)
    for j in range(n_ind + n_hold):
        industrial = j < n_ind
        k = month | (np.uint64(0 if industrial else 1) << np.uint64(20)) | np.uint64(j if industrial else j - n_ind)
        i = start + j
        key[i] = k
        ints[CITY, i] = compiled.bucket(city_cdf, rules.uniform_from_key(city_base, k))
        flags[ALIVE, i] = True
        flags[INDUSTRIAL, i] = industrial
        ints[LISTED_STEP, i] = NEVER
        ints[STATUS_STEP, i] = NEVER
        u_size[j] = rules.uniform_from_key(bases[0], k)
        ints[CATEGORY, i] = int(rules.uniform_from_key(bases[1], k) * n_categories) if industrial else -1
        holder = not industrial or rules.uniform_from_key(bases[2], k) < holder_share
        ints[N_INV, i] = holder
        ints[N_HV, i] = holder and rules.uniform_from_key(bases[2], k | second) < high_value_share


@_compiled
def ever_listed(n, ints, out):
    """The rows of firms ever listed (a listing step), ascending, to ``out``; returns their number."""
    m = 0
    for i in range(n):
        out[m] = i
        m += ints[LISTED_STEP, i] != NEVER
    return m


@_compiled
def credit_scan(rows, ints, flags, cleared_step, listed_out, cleared_out):
    """One pass over the given rows (the firms ever listed: no other firm can be on a list or have its
    listing expire): those of live firms on a list, and those listed at ``cleared_step`` (whose record
    becomes clean this month); returns their numbers."""
    a = b = 0
    for j in range(rows.size):
        i = rows[j]
        cleared_out[b] = i
        b += ints[LISTED_STEP, i] == cleared_step
        listed_out[a] = i
        a += (ints[CREDIT, i] != NORMAL) & flags[ALIVE, i]
    return a, b


@_compiled
def tally(n, ints, flags):
    """One pass over the firms: above-scale firms, those holding an invention patent, high-value
    patents held, international certificates held, certified firms."""
    above = covered = hv = intl = certified = 0
    for i in range(n):
        counted = flags[ALIVE, i] & flags[ABOVE, i]
        above += counted
        covered += counted & (ints[N_INV, i] > 0)
        hv += ints[N_HV, i]
        intl += ints[N_INTL, i]
        certified += flags[CERTIFIED, i]
    return above, covered, hv, intl, certified


@_compiled
def adoption_weights(n, floats, ints, flags, covered, step, memory, covered_factor, leader_factor, list_2020,
                     cert_lapse, intl_lapse, p, out):
    """One pass over the firms for the yearly adoption rates (``Innovation.adoption_rates``): each
    firm's standard weight and certification weight (``out[0]``, ``out[1]``), and, for the certified
    firms alive, in row order, their expected losses of certification and of international
    certificates and their size factors for certificates (``out[2]``, ``out[3]``, ``out[4]``); returns
    the number of those. Each number is the one the array expressions it replaces gave, bit for bit
    (sums are left to numpy, which adds in its own order)."""
    k = 0
    for i in range(n):
        alive, certified = flags[ALIVE, i], flags[CERTIFIED, i]
        clean, access = _clean_and_access(ints, covered, i, step, memory)
        out[0, i] = floats[F_STD, i] * (alive and clean) * (covered_factor if access else 1.0)
        out[1, i] = floats[F_CERT, i] * (alive and not certified and clean and access) \
            * (leader_factor if ints[N_STD, i] > 0 else 1.0)
        if certified and alive:
            listed = 1.0 if ints[CREDIT, i] != NORMAL else 0.0
            h_exit = firm_exit_hazard(floats[F_EXIT, i], listed, 1.0, p.gdp_reference, 1.0, p)
            out[2, k] = h_exit + list_2020 + cert_lapse
            out[3, k] = float(ints[N_INTL, i]) * (intl_lapse + h_exit + list_2020 + cert_lapse)
            out[4, k] = floats[F_INTL, i]
            k += 1
    return k


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
        # (the default elasticities repeat - trademarks' and first patents' alike, standards', certification's
        # and international certificates' alike - and equal arguments share one exp)
        a_intl, a_tm = e_intl * x, e_tm * max(x, -3.0)
        f_intl = math.exp(a_intl)
        f_tm = f_intl if a_tm == a_intl else math.exp(a_tm)
        floats[F_INTL, i] = f_intl
        floats[F_TM, i] = f_tm * (1.0 if industrial else nonindustrial_tm)
        if industrial:
            a_first, a_std, a_cert = e_first * x, e_std * x, e_cert * x
            floats[F_FIRST, i] = f_tm if a_first == a_tm else math.exp(a_first)
            f_std = f_intl if a_std == a_intl else math.exp(a_std)
            floats[F_STD, i] = f_std
            floats[F_CERT, i] = f_std if a_cert == a_std else math.exp(a_cert)
        else:
            floats[F_FIRST, i] = floats[F_STD, i] = floats[F_CERT, i] = 0.0
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
