"""Counter-based random streams and the counts drawn from them, for both engines.

A draw is a pure function of (seed, stream, key, month): :func:`crn_base` mixes the seed, the
process's stream and the month into a starting state, and the key-th SplitMix64 output from it is the
uniform (:func:`uniform_from_key`; Steele, Lea, Flood 2014). So two runs with the same seed give
every entity the same draw in every process and month whatever the levers did (common random
numbers), and the two engines draw the same numbers for the same entity. Counts invert a uniform
(a larger mean never gives fewer). :mod:`sim.core.rules` re-exports these names; its rules take the
uniforms as arguments.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

_ARRAY = np.ndarray


def _is_array(x) -> bool:
    return type(x) is _ARRAY


# One random stream per process (common random numbers).
STREAMS = {name: i + 1 for i, name in enumerate((
    "init_age", "init_size", "init_sector", "init_honesty", "init_dormant", "init_credit", "init_city",
    "entry", "entrant_size", "entrant_honesty", "entrant_sector", "entrant_marginal",
    "conversion", "growth", "compliance", "complaint", "inspection", "detection", "sanction",
    "annual_report", "repair", "exit", "deregistration", "dormancy", "regulator",
))}

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment
# How a stream's starting state mixes the seed, the stream and the month (``crn_base``; sim.core.compiled
# reads the same constants).
SEED_MIX, STREAM_MIX, STEP_MIX, STEP_OFFSET = 0x9E3779B97F4A7C15, 0xD1B54A32D192ED03, 0xAEF17502108EF2D9, 7
_INV_2_53 = 1.0 / 9007199254740992.0


def _mix(x):
    """splitmix64 finaliser on Python ints or uint64 arrays."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


# Set by sim.core.compiled: ``(base, keys, out)`` writes ``uniform_from_key(base, key)`` of each key,
# ``(u, mean, out)`` ``poisson_inverse(u, mean)`` of each pair, ``(u, n, prob, out)`` ``binomial_inverse``.
# ``(seed, stream, step)`` is ``crn_base`` and ``(seed, stream, key, step)`` a scalar ``crn_uniform``, the
# same numbers at a fifth of the Python integer arithmetic's cost.
_compiled_uniforms = None
_compiled_poisson = None
_compiled_binomial = None
_compiled_base = None
_compiled_uniform = None
_INT64_END = 2 ** 63


def crn_base(seed: int, stream: int, step: int) -> int:
    """Starting state of the SplitMix64 sequence for (seed, stream, step)."""
    if _compiled_base is not None and seed < _INT64_END:  # (seeds from 2**63 take the Python integers)
        return _compiled_base(seed, stream, step)
    return python_crn_base(seed, stream, step)


def python_crn_base(seed: int, stream: int, step: int) -> int:
    """:func:`crn_base` in Python integers (the definition the compiled one is tested against)."""
    return _mix(_mix((seed * SEED_MIX + stream * STREAM_MIX + (step + STEP_OFFSET) * STEP_MIX) & _MASK))


def uniform_from_key(base, key):
    """The key-th SplitMix64 output from ``base`` as a uniform in [0, 1) (Python ints or uint64)."""
    x = _mix((key * _GOLDEN + base) & _MASK)
    return (x >> 11) * _INV_2_53


def crn_uniform(seed: int, stream: int, key, step: int):
    """Uniform draw in [0, 1) for (seed, stream, entity key, step).

    The (seed, stream, step) triple picks a starting state; the key-th output of SplitMix64
    from that state is the draw (Steele, Lea, Flood 2014).

    Args:
        seed: Run seed.
        stream: Process id from STREAMS.
        key: Entity key (int, or uint64 array of keys).
        step: Month index (any integer, -1 for initialisation).

    Returns:
        A float, or a float64 array shaped like ``key``.
    """
    if isinstance(key, (int, np.integer)):
        if _compiled_uniform is not None and seed < _INT64_END and key < _INT64_END:
            return _compiled_uniform(seed, stream, key, step)
        return uniform_from_key(python_crn_base(seed, stream, step), int(key))
    base = crn_base(seed, stream, step)
    keys = np.asarray(key, dtype=np.uint64)
    if _compiled_uniforms is not None:  # the same numbers in one compiled pass (sim.engines.kernels)
        out = np.empty(keys.shape)
        _compiled_uniforms(np.uint64(base), keys.reshape(-1), out.reshape(-1))
        return out
    with np.errstate(over="ignore"):
        x = _mix(keys * np.uint64(_GOLDEN) + np.uint64(base))
    return (x >> np.uint64(11)).astype(np.float64) * _INV_2_53


def entrant_key(step: int, kind: int, city: int, index):
    """Key of the index-th entrant of a kind and city in a month: the same across scenarios."""
    return ((step + 1) << 40) | (kind << 36) | (city << 32) | index


POISSON_SUM_BELOW = 500.0  # means below this are inverted term by term; larger ones by scipy's ppf


def poisson_inverse(u, mean):
    """Smallest k with P(N <= k) > u for N ~ Poisson(mean) below ``POISSON_SUM_BELOW``, summing
    the terms (the same counts as scipy.stats.poisson.ppf, at a fraction of its call cost)."""
    if mean <= 0.0:
        return 0
    term = math.exp(-mean)
    cdf, k, limit = term, 0, int(mean + 40.0 * math.sqrt(mean) + 40.0)
    while u >= cdf and k < limit:
        k += 1
        term *= mean / k
        cdf += term
    return k


def poisson_count(u, mean):
    """Number of events with a Poisson mean, by inversion of a uniform (monotone in the mean)."""
    if not _is_array(u) and not _is_array(mean):
        return poisson_inverse(u, mean) if mean < POISSON_SUM_BELOW else int(stats.poisson.ppf(u, mean))
    u, mean = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(mean, dtype=np.float64))
    small = mean < POISSON_SUM_BELOW
    out = np.empty(u.shape, dtype=np.int64)
    if _compiled_poisson is not None:
        counts = np.empty(int(np.count_nonzero(small)), dtype=np.int64)
        _compiled_poisson(np.ascontiguousarray(u[small]), np.ascontiguousarray(mean[small]), counts)
        out[small] = counts
    else:
        out[small] = [poisson_inverse(a, b) for a, b in zip(u[small].tolist(), mean[small].tolist())]
    if not small.all():
        out[~small] = stats.poisson.ppf(u[~small], mean[~small]).astype(np.int64)
    return out


def binomial_inverse(u, n, prob):
    """Smallest k with P(X <= k) > u for X ~ Binomial(n, prob), summing the terms (a larger prob
    never gives fewer on the same uniform). Scalars; :func:`binomial_count` for arrays."""
    p = min(max(prob, 0.0), 1.0)
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    pmf = (1.0 - p) ** n
    cdf, x = pmf, 0
    while u >= cdf and x < n:
        pmf *= (n - x) / (x + 1.0) * p / (1.0 - p)
        x += 1
        cdf += pmf
    return x


def _shaped(x, dtype, shape) -> np.ndarray:
    """``x`` as a contiguous array of ``dtype`` broadcast to ``shape`` (no copy if it already is one)."""
    x = np.asarray(x, dtype=dtype)
    return np.ascontiguousarray(x if x.shape == shape else np.broadcast_to(x, shape))


def binomial_count(u, n, prob):
    """Binomial(n, prob) counts by inversion of uniforms: scalars, or arrays (``n`` and ``prob`` may
    be scalars) in one compiled pass of :func:`binomial_inverse` when :mod:`sim.core.compiled` is loaded."""
    if not _is_array(u) and not _is_array(n) and not _is_array(prob):
        return binomial_inverse(u, int(n), prob)
    u = np.asarray(u, dtype=np.float64)
    n, prob = _shaped(n, np.int64, u.shape), _shaped(prob, np.float64, u.shape)
    out = np.empty(u.shape, dtype=np.int64)
    if u.size:
        if _compiled_binomial is not None:
            _compiled_binomial(np.ascontiguousarray(u).reshape(-1), n.reshape(-1), prob.reshape(-1), out.reshape(-1))
        else:
            out.reshape(-1)[:] = [binomial_inverse(a, b, c) for a, b, c in
                                  zip(u.reshape(-1).tolist(), n.reshape(-1).tolist(), prob.reshape(-1).tolist())]
    return out
