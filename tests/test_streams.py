"""Random streams and counts: one definition for scalars, arrays and compiled code; uniform,
independent across streams, seeds and months; counts monotone in their mean."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.core import rules, streams


def test_crn_uniform_scalar_equals_array_and_is_uniform():
    keys = np.arange(20000, dtype=np.uint64)
    u = streams.crn_uniform(7, 3, keys, 5)
    assert all(u[k] == streams.crn_uniform(7, 3, int(k), 5) for k in (0, 1, 999, 19999))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    # streams, seeds and months give different draws
    for other in (streams.crn_uniform(8, 3, keys, 5), streams.crn_uniform(7, 4, keys, 5),
                  streams.crn_uniform(7, 3, keys, 6)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.05


@settings(max_examples=400, deadline=None)
@given(seed=st.one_of(st.integers(0, 2 ** 64 - 1), st.sampled_from([0, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1])),
       stream=st.integers(0, 400), step=st.integers(-7, 10 ** 6),
       key=st.one_of(st.integers(0, 2 ** 64 - 1), st.sampled_from([0, 1, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1])))
def test_compiled_stream_bases_and_scalar_draws_are_the_python_definitions(seed, stream, step, key):
    from sim.core import compiled

    assert streams._compiled_base is compiled.crn_base and streams._compiled_uniform is compiled.crn_uniform
    assert rules.crn_uniform is streams.crn_uniform and rules.crn_base is streams.crn_base  # (as the rules call them)
    base = streams.python_crn_base(seed, stream, step)
    assert streams.crn_base(seed, stream, step) == base and type(streams.crn_base(seed, stream, step)) is int
    u = streams.crn_uniform(seed, stream, key, step)
    assert u == streams.uniform_from_key(base, key) and type(u) is float
    assert u == streams.crn_uniform(seed, stream, np.array([key], np.uint64), step)[0]


def test_poisson_count_is_monotone_in_the_mean_for_common_random_numbers():
    u = streams.crn_uniform(1, 2, np.arange(500, dtype=np.uint64), 0)
    low, high = streams.poisson_count(u, 3.0), streams.poisson_count(u, 4.0)
    assert np.all(high >= low)
    assert streams.poisson_count(0.5, 3.0) == int(stats.poisson.ppf(0.5, 3.0))
    assert abs(streams.poisson_count(u, 3.0).mean() - 3.0) < 0.3
