"""The rules of :mod:`sim.core.rules` made compilable by numba, and the compiled random-number passes.

The rules are written once, for Python scalars and numpy arrays alike. Importing this module
gives their scalar-or-array primitives (``where``, ``exp``, ...) scalar implementations for
compiled code, registers the rules that compiled loops call (the vector engine's kernels in
:mod:`sim.engines.kernels`, the innovation submodel's clocks), and hands
:func:`sim.core.rules.crn_uniform` and :func:`sim.core.rules.poisson_count` compiled passes
that give the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections import namedtuple
from functools import cache

import numba
import numpy as np
from numba.extending import overload, register_jitable

from sim.core import rules, streams
from sim.inputs.parameters import Parameters

# ---------------------------------------------------------------- scalar primitives for compiled code


@overload(rules.where)
def _where(cond, a, b):
    return lambda cond, a, b: a if cond else b


@overload(rules.exp)
def _exp(x):
    return lambda x: math.exp(x)


@overload(rules.log)
def _log(x):
    return lambda x: math.log(x)


@overload(rules.log1p)
def _log1p(x):
    return lambda x: math.log1p(x)


@overload(rules.minimum)
def _minimum(a, b):
    return lambda a, b: min(a, b)


@overload(rules.maximum)
def _maximum(a, b):
    return lambda a, b: max(a, b)


@overload(rules.clip)
def _clip(x, low, high):
    return lambda x, low, high: min(high, max(low, x))


@overload(rules.sign)
def _sign(x):
    return lambda x: float((x > 0) - (x < 0))


for _rule in (streams._mix, streams.uniform_from_key, streams.entrant_key, streams.poisson_inverse,
              streams.binomial_inverse,
              rules.economy_factor, rules.conversion_probability, rules.conversion_size_factor, rules.conversion_event,
              rules.monthly_probability, rules.laplace_quantile,
              rules.exit_hazard, rules.deregister_at_exit_probability, rules.dormant_deregistration_probability,
              rules.compulsory_deregistration_due, rules.growth_sigma, rules.grow, rules.expected_sanction_cost,
              rules.perceived_detection, rules.violation_probability, rules.risk_class, rules.routine_visibility,
              rules.inspection_type, rules.active_exit, rules.dormant_exit, rules.in_random_pool,
              rules.serious_listing_probability, rules.after_sanction, rules.annual_report_filed,
              rules.credit_transition):
    register_jitable(_rule)

ParameterTuple = namedtuple("ParameterTuple", [f.name for f in dataclasses.fields(Parameters)])


@cache
def parameter_tuple(p: Parameters) -> ParameterTuple:
    """The parameter set as a named tuple that compiled code can read."""
    return ParameterTuple(**{k: float(v) for k, v in dataclasses.asdict(p).items()})


_jit = numba.njit(cache=True, nogil=True)
# Rows from which a twin loop runs on every core (numba ``prange``); below, the compiled serial loop,
# which starts no threads (the app's and sweeps' worker processes run small models side by side).
PARALLEL_FROM = 200_000


class TwinLoop:
    """A loop compiled twice, serial and parallel, called as the one or the other by its rows.

    Each row's result depends on that row only (sums, where there are any, go through blocks: see
    :mod:`sim.engines.kernels`), so both give the same numbers bit for bit on any number of threads.

    Args:
        loop: The function; its loop over rows is a ``numba.prange`` (a ``range`` in the serial build).
        rows_arg: Which argument's size is the number of rows.
        parallel_from: The row count from which the parallel build runs, read at each call (so a
            module's setting can be changed, as the tests do).
    """

    def __init__(self, loop, rows_arg: int = 0, parallel_from=lambda: PARALLEL_FROM) -> None:
        self.serial = numba.njit(cache=True, nogil=True)(loop)
        # A copy under its own name: numba's cache files are named after the function, not its flags.
        twin = types.FunctionType(loop.__code__, loop.__globals__, loop.__name__ + "_parallel")
        twin.__qualname__ = loop.__qualname__ + "_parallel"
        self.parallel = numba.njit(cache=True, nogil=True, parallel=True)(twin)
        self.rows_arg, self.parallel_from = rows_arg, parallel_from
        self.__doc__ = loop.__doc__

    def __call__(self, *args):
        rows = args[self.rows_arg].size
        return (self.parallel if rows >= self.parallel_from() else self.serial)(*args)


def _twin(rows_arg: int):
    """Decorator: a :class:`TwinLoop` sized by argument ``rows_arg``."""
    return lambda loop: TwinLoop(loop, rows_arg)


@_twin(rows_arg=1)
def uniforms(base, keys, out):
    """``rules.uniform_from_key(base, key)`` of every key (what ``rules.crn_uniform`` computes)."""
    for i in numba.prange(keys.size):
        out[i] = rules.uniform_from_key(base, keys[i])


@_jit
def poisson_counts(u, mean, out):
    """``rules.poisson_inverse`` of every pair (what ``rules.poisson_count`` computes)."""
    for i in range(u.size):
        out[i] = rules.poisson_inverse(u[i], mean[i])


@_jit
def crn_base(seed, stream, step):
    """``rules.crn_base`` in unsigned 64-bit arithmetic (Python's ``& _MASK`` is its wrap-around)."""
    return streams._mix(streams._mix(np.uint64(seed) * np.uint64(streams.SEED_MIX)
                                     + np.uint64(stream) * np.uint64(streams.STREAM_MIX)
                                     + np.uint64(step + streams.STEP_OFFSET) * np.uint64(streams.STEP_MIX)))


def stream_bases(seed: int, stream_ids: np.ndarray, step: int) -> np.ndarray:
    """Starting states of the given streams (ids from ``rules.STREAMS`` or a submodel's) in a month:
    what ``rules.crn_base`` gives each, in one call instead of one each."""
    out = np.empty(stream_ids.size, np.uint64)
    if seed < streams._INT64_END:
        _stream_bases(seed, stream_ids, step, out)
    else:  # (seeds from 2**63 take the Python integers, as rules.crn_base does)
        out[:] = [rules.crn_base(seed, int(stream), step) for stream in stream_ids]
    return out


@_jit
def _stream_bases(seed, stream_ids, step, out):
    for k in range(stream_ids.size):
        out[k] = crn_base(seed, stream_ids[k], step)


@_jit
def crn_uniform(seed, stream, key, step):
    """``rules.crn_uniform`` of one key."""
    return rules.uniform_from_key(crn_base(seed, stream, step), np.uint64(key))


@_jit
def binomial_counts(u, n, prob, out):
    """``rules.binomial_inverse`` of every triple (what ``rules.binomial_count`` computes)."""
    for i in range(u.size):
        out[i] = rules.binomial_inverse(u[i], n[i], prob[i])


@register_jitable
def _sector(row, u):
    """How many of a kind's cumulative sector shares ``row`` lie below the uniform, at most the last
    sector."""
    count = 0
    for j in range(row.size):
        count += u > row[j]
    return min(count, row.size - 1)


@_twin(rows_arg=0)
def sectors(kind, u, cdf, out):
    """Each entity's sector from its kind's cumulative sector shares ``cdf[kind]`` and its uniform
    (what ``population.draw_sector`` computes)."""
    for i in numba.prange(u.size):
        out[i] = _sector(cdf[kind[i]], u[i])


# The entrant streams ``entrants`` draws, in the order of its ``bases``.
ENTRANT_STREAMS = ("entrant_sector", "entrant_marginal", "entrant_size", "entrant_honesty")


@_jit
def entrants(step, counts, kinds, cities, bases, cdf, kind_weights, marginal_share, key, kind, city, sector, weight,
             marginal, u_size, u_honesty):
    """A month's entrants, pair by pair of ``kinds`` and ``cities`` with ``counts[pair]`` each, in one
    pass: each one's key (``rules.entrant_key`` of its index within the pair), kind, city, kind weight,
    sector and marginal flag (from its own uniforms on the ``ENTRANT_STREAMS`` whose ``bases`` are
    given: ``population.draw_sector``, ``< marginal_share[city]``), and its size and honesty uniforms
    (the numbers ``rules.crn_uniform`` draws for those keys)."""
    i = 0
    for pair in range(counts.size):
        k, c = kinds[pair], cities[pair]
        for index in range(counts[pair]):
            key[i] = rules.entrant_key(np.uint64(step), np.uint64(k), np.uint64(c), np.uint64(index))
            kind[i], city[i], weight[i] = k, c, kind_weights[k]
            sector[i] = _sector(cdf[k], rules.uniform_from_key(bases[0], key[i]))
            marginal[i] = rules.uniform_from_key(bases[1], key[i]) < marginal_share[c]
            u_size[i] = rules.uniform_from_key(bases[2], key[i])
            u_honesty[i] = rules.uniform_from_key(bases[3], key[i])
            i += 1


@register_jitable
def bucket(cdf, u):
    """How many of the ascending ``cdf`` are at most ``u``, at most the last index
    (``min(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)``)."""
    lo, hi = 0, cdf.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] <= u:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, cdf.size - 1)


@_twin(rows_arg=1)
def buckets(cdf, u, out):
    """Each uniform's bucket in one ascending ``cdf`` (see ``bucket``)."""
    for i in numba.prange(u.size):
        out[i] = bucket(cdf, u[i])


@_twin(rows_arg=1)
def buckets_by_row(cdf, rows, u, out):
    """Each uniform's bucket in its own row ``cdf[rows[i]]`` of ascending rows (see ``bucket``)."""
    for i in numba.prange(u.size):
        out[i] = bucket(cdf[rows[i]], u[i])


@_twin(rows_arg=0)
def initial_dormancy_and_credit(kind, age_months, age_factor, u_dormant, u_credit, share, weight_sum,
                                weighted_factor_sum, max_dormant_months, lag, to_serious_months, active_listed_share,
                                status, months_dormant, credit, months_in_status):
    """The initial population's dormancy and credit lists, one row at a time, as
    ``population.build_population`` defines them: dormant with probability ``share * age_factor *
    weight_sum / weighted_factor_sum`` (at most 1); a dormant entity's months dormant from its credit
    uniform; listed abnormal after ``lag`` months, an enterprise serious ``to_serious_months`` later; an
    active one listed abnormal with ``active_listed_share``."""
    for i in numba.prange(kind.size):
        dormant = u_dormant[i] < min(1.0, share * age_factor[i] * weight_sum / weighted_factor_sum)
        status[i] = rules.DORMANT if dormant else rules.ACTIVE
        credit[i] = rules.NORMAL
        months_in_status[i] = 0
        months_dormant[i] = min(age_months[i], int(u_credit[i] * max_dormant_months)) if dormant else 0
        if dormant and months_dormant[i] >= lag:
            credit[i] = rules.ABNORMAL
            months_in_status[i] = months_dormant[i] - lag
            if months_in_status[i] >= to_serious_months and kind[i] != rules.INDIVIDUAL:
                credit[i] = rules.SERIOUS
                months_in_status[i] -= int(to_serious_months)
        elif not dormant and u_credit[i] < active_listed_share:
            credit[i] = rules.ABNORMAL
            months_in_status[i] = int(u_credit[i] * 300) % 12


streams._compiled_uniforms = uniforms
streams._compiled_poisson = poisson_counts
streams._compiled_binomial = binomial_counts
streams._compiled_base = crn_base
streams._compiled_uniform = crn_uniform
