"""Compiled monthly passes of the programmes submodel (:mod:`sim.submodels.programmes`).

A month of the city regulators or the commodity markets is a few dozen small numpy operations
over 11 cities or a few thousand markets; each pass here does one process's month in one loop,
with the same draws (:func:`sim.core.streams.uniform_from_key` on the same stream, key and month),
calling the rules of :mod:`sim.submodels.programmes` on one city's numbers (``approach``,
``realised``, ``digital_effectiveness``) and, for the markets, the same arithmetic as those rules
on arrays, operation for operation and in the same order, so the numbers are the same bit for bit
(tests/test_programmes.py runs both side by side).

numpy's vectorised ``log`` and ``power`` can differ from the C library's (which compiled code
calls) in the last bit, so no pass computes either: the markets' logs come from ``np.log`` over a
buffer a pass fills, and monthly probabilities (a power) come in as tables that the caller
computes with numpy (:func:`sim.core.rules.monthly_probability` on arrays).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core import compiled, rules, streams
from sim.submodels import programmes  # (its rules, compiled where the passes call them)

_jit = numba.njit(cache=True, nogil=True)


@_jit
def event_counts(seed, step, stream_ids, annual_rates, counts):
    """Each province-wide process's events this month (``programmes.poisson_events`` of its key-0 draw).

    Args:
        seed: Run seed (as an unsigned 64-bit integer).
        step: Month index.
        stream_ids: Each process's random stream.
        annual_rates: Each process's annual rate of events.
        counts: Out: each process's events; -1 where the month's mean is too large to invert term
            by term (``streams.POISSON_SUM_BELOW``: the caller draws those with scipy).

    Returns:
        Whether every process's events are drawn (no -1).
    """
    everyone = True
    for i in range(annual_rates.size):
        mean = max(0.0, annual_rates[i]) * 1.0 / 12.0
        if mean < streams.POISSON_SUM_BELOW:
            counts[i] = streams.poisson_inverse(compiled.crn_uniform(seed, stream_ids[i], 0, step), mean)
        else:
            counts[i] = -1
            everyone = False
    return everyone


@_jit
def regulator_month(seed, step, sampling_stream, spot_stream, digital_stream, growth_factor, population, noise,
                    sampling_target, sampling_up, sampling_down, sampling_level, sampling_now, sampling_year,
                    spot_target, spot_pace, spot_down, spot_level, spot_now,
                    join_probability, integrated, adoption_2020, gain, effectiveness):
    """One month of the city regulators, in place: the population grows; food sampling and spot
    checks approach their targets (``programmes.approach``) and are realised with noise
    (``programmes.realised``); business lines not yet integrated join with the month's probability.

    Args:
        seed: Run seed (as an unsigned 64-bit integer).
        step: Month index.
        sampling_stream, spot_stream, digital_stream: The three processes' random streams.
        growth_factor: This month's growth factor of the resident population.
        population: Resident population by city (10k).
        noise: Half-width of the months' relative noise.
        sampling_target, sampling_up, sampling_down: Funded sampling batches and the largest
            monthly moves up and down, by city.
        sampling_level, sampling_now, sampling_year: Sampling pace, this month's batches and the
            year's batches so far, by city.
        spot_target, spot_pace, spot_down: Funded spot checks, the yearly pace relative to the
            current level (pace x capability) and the largest monthly move down, by city.
        spot_level, spot_now: Spot-check pace and this month's spot checks, by city.
        join_probability: Monthly probability that a line joins, by city and number of lines
            integrated at the start of the month.
        integrated: Whether each city's business line is integrated.
        adoption_2020, gain: The 2020 shares integrated and digital integration's effectiveness gain.
        effectiveness: Out: each city's ``programmes.digital_effectiveness``.

    Returns:
        The business lines integrated in all cities.
    """
    sampling_base = compiled.crn_base(seed, sampling_stream, step)
    spot_base = compiled.crn_base(seed, spot_stream, step)
    digital_base = compiled.crn_base(seed, digital_stream, step)
    n_cities, items = integrated.shape
    total = 0
    for c in range(n_cities):
        population[c] = population[c] * growth_factor
        # food-safety sampling: keys are the cities
        level = programmes.approach(sampling_level[c], sampling_target[c], sampling_up[c], sampling_down[c])
        sampling_level[c] = level
        sampling_now[c] = programmes.realised(level, streams.uniform_from_key(sampling_base, np.uint64(c)), noise)
        sampling_year[c] = sampling_year[c] + sampling_now[c] / 12.0
        # product-quality spot checks: keys follow the cities'; the pace up is relative to the level
        level = programmes.approach(spot_level[c], spot_target[c], spot_pace[c] * spot_level[c] / 12.0, spot_down[c])
        spot_level[c] = level
        spot_now[c] = programmes.realised(level, streams.uniform_from_key(spot_base, np.uint64(c + n_cities)), noise)
        # digital integration: the hazard by the lines integrated at the start of the month
        joined = 0
        for j in range(items):
            joined += integrated[c, j]
        probability = join_probability[c, joined]
        for j in range(items):
            if not integrated[c, j]:
                key = np.uint64(c) * np.uint64(1000) + np.uint64(j)
                if streams.uniform_from_key(digital_base, key) < probability:
                    integrated[c, j] = True
                    joined += 1
        effectiveness[c] = programmes.digital_effectiveness(joined / items, adoption_2020[c], gain)
        total += joined
    return total


@_jit
def market_draws(seed, growth_stream, size_stream, step, key, rows, entrants, u, twice_tail, entrant_u):
    """A month's draws of the commodity markets before their logs: each row's growth uniform and
    ``2 x`` its tail (the argument of ``rules.laplace_quantile``'s log), and the entrants' size
    uniforms, clipped as ``rules.normal_quantile`` clips them.

    Args:
        seed: Run seed (as an unsigned 64-bit integer).
        growth_stream, size_stream: Random streams of growth and of entrants' sizes.
        step: Month index.
        key: Markets' keys (the first ``rows`` rows are markets, open or closed).
        rows: Rows in use at the start of the month.
        entrants: Markets entering this month.
        u, twice_tail: Out: each row's growth uniform and ``2 max(min(u, 1 - u), 1e-7)``.
        entrant_u: Out: each entrant's size uniform within [1e-12, 1 - 1e-12].
    """
    base = compiled.crn_base(seed, growth_stream, step)
    for i in range(rows):
        draw = streams.uniform_from_key(base, key[i])
        u[i] = draw
        tail = min(draw, 1.0 - draw)
        twice_tail[i] = 2.0 * (tail if tail > 1e-7 else 1e-7)
    base = compiled.crn_base(seed, size_stream, step)
    first = np.uint64(step + 1) << np.uint64(20)
    for j in range(entrants):
        entrant_u[j] = rules.clip(streams.uniform_from_key(base, first | np.uint64(j)), 1e-12, 1.0 - 1e-12)


@_jit
def market_month(seed, exit_stream, step, key, log_turnover, is_open, rows, u, log_tail, neg_scale, drift,
                 exit_probability, z, entrant_base, sigma):
    """One month of the commodity markets, in place: Laplace growth, exit and entry.

    A market that closes keeps its row, marked closed (its numbers go on changing but count for
    nothing), so the month is one pass without moving rows (which the compiler vectorises); entrants
    are appended after the last row.

    Args:
        seed: Run seed (as an unsigned 64-bit integer).
        exit_stream: Random stream of exits.
        step: Month index.
        key, log_turnover, is_open: Markets' keys, log turnover (100M yuan) and whether they are open;
            the first ``rows`` rows are markets, and the arrays hold room for the entrants.
        rows: Rows in use at the start of the month.
        u, log_tail: Each row's growth uniform and the log of twice its tail (:func:`market_draws`).
        neg_scale: Minus the monthly Laplace scale of growth.
        drift: The month's drift of log turnover.
        exit_probability: Monthly exit probability of a small and of a large market.
        z: The entrants' standard normal sizes.
        entrant_base, sigma: An entrant's log turnover is ``entrant_base + sigma x z``.

    Returns:
        The open markets at or above 100M yuan.
    """
    base = compiled.crn_base(seed, exit_stream, step)
    p_small, p_large = exit_probability[0], exit_probability[1]
    large = 0
    for i in range(rows):
        d = u[i] - 0.5
        value = log_turnover[i] + drift + neg_scale * float((d > 0) - (d < 0)) * log_tail[i]
        log_turnover[i] = value
        stays = is_open[i] and not streams.uniform_from_key(base, key[i]) < (p_small if value < 0.0 else p_large)
        is_open[i] = stays
        large += stays and value >= 0.0
    first = np.uint64(step + 1) << np.uint64(20)
    for j in range(z.size):
        value = entrant_base + sigma * z[j]
        key[rows + j] = first | np.uint64(j)
        log_turnover[rows + j] = value
        is_open[rows + j] = True
        large += value >= 0.0
    return large


@_jit
def upgrade_month(seed, stream, step, aa, probability):
    """One month of wholesale markets upgrading to AA, in place (keys are the markets' rows).

    Returns:
        The AA markets.
    """
    base = compiled.crn_base(seed, stream, step)
    count = 0
    for i in range(aa.size):
        if not aa[i] and streams.uniform_from_key(base, np.uint64(i)) < probability[i]:
            aa[i] = True
        count += aa[i]
    return count
