"""The end-2020 population: totals, split by kind and city, age structure, size tail."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import rules
from sim.inputs.parameters import Parameters, default_parameters
from sim.core.population import build_population, city_shares, draw_sector, sector_cdf

P = Parameters()


@pytest.fixture(scope="module")
def population():
    return build_population(P, scale=400.0, seed=11)


def test_totals_by_kind_match_the_2020_data(population):
    a = population.arrays
    w = a["weight"]
    assert w.sum() == pytest.approx(803e4)
    enterprises = w[a["kind"] != rules.INDIVIDUAL].sum()
    assert enterprises == pytest.approx(282e4)
    companies = w[a["kind"] == rules.COMPANY].sum()
    assert companies / enterprises == pytest.approx(P.company_share_of_enterprises_2020, abs=1e-3)


def test_city_split_follows_census_shares(population):
    a = population.arrays
    observed = np.bincount(a["city"], weights=a["weight"], minlength=11) / a["weight"].sum()
    se = np.sqrt(city_shares() * (1 - city_shares()) / population.size)
    assert np.all(np.abs(observed - city_shares()) < 4 * se)


def test_age_structure_is_young_with_survivors(population):
    a = population.arrays
    under5 = np.average(a["age_months"] < 60, weights=a["weight"])
    assert 0.45 < under5 < 0.8  # about half under 5 in 2012 nationally; Zhejiang grew faster since
    assert a["age_months"].max() > 240


def test_size_distribution_has_a_zipf_tail(population):
    a = population.arrays
    companies = np.exp(a["log_size"][a["kind"] == rules.COMPANY])
    top = np.sort(companies)[-2000:]
    hill = 1.0 / np.mean(np.log(top / top[0]))
    assert hill == pytest.approx(P.size_tail_alpha, rel=0.1)


def test_dormant_share_and_listing(population):
    a = population.arrays
    dormant = a["status"] == rules.DORMANT
    assert np.average(dormant, weights=a["weight"]) == pytest.approx(P.dormant_share_2020, abs=0.01)
    assert np.all(a["credit_status"][dormant & (a["months_dormant"] >= 6)] != rules.NORMAL)


def test_sectors_are_the_kind_s_cumulative_shares_below_the_uniform():
    """draw_sector on arrays (a compiled pass) gives what its definition on one entity gives, on the
    cumulative shares themselves too (a uniform equal to a share is not above it)."""
    p = default_parameters()
    cdf = sector_cdf(p)
    rng = np.random.default_rng(11)
    u = np.concatenate([rng.random(20_000), cdf.ravel(), [0.0, np.nextafter(1.0, 0.0)]])
    kind = np.concatenate([rng.integers(0, 3, 20_000), np.repeat(np.arange(3), cdf.shape[1]), [2, 0]])
    expected = [min(int((a > cdf[k]).sum()), len(rules.SECTORS) - 1) for a, k in zip(u.tolist(), kind.tolist())]
    drawn = draw_sector(kind, u, p)
    assert drawn.tolist() == expected
    assert [draw_sector(int(k), float(a), p) for a, k in zip(u[:50], kind[:50])] == expected[:50]
    # every sector occurs about as often as its share (a broken search would pile entities in one)
    shares = np.diff(np.concatenate([[0.0], cdf[2]]))
    seen = np.bincount(draw_sector(np.full(20_000, 2), rng.random(20_000), p), minlength=4) / 20_000
    assert np.allclose(seen, shares, atol=4 * np.sqrt(0.25 / 20_000))


def test_compiled_buckets_are_numpy_searchsorted_at_the_edges():
    from sim.core import compiled

    rng = np.random.default_rng(5)
    cdf = np.cumsum(rng.dirichlet(np.ones(7), size=3), axis=1)
    cdf[1, 2] = cdf[1, 3]  # a share of zero: two equal cut points
    u = np.concatenate((rng.random(5000), cdf.ravel(), [0.0, 1.0 - 2 ** -53, 1.0]))
    rows = rng.integers(0, 3, u.size)
    out = np.empty(u.size, np.int64)
    compiled.buckets_by_row(cdf, rows, u, out)
    expected = [min(np.searchsorted(cdf[r], x, side="right"), cdf.shape[1] - 1) for r, x in zip(rows, u)]
    assert np.array_equal(out, expected)
    compiled.buckets(cdf[1], u, out)
    assert np.array_equal(out, np.minimum(np.searchsorted(cdf[1], u, side="right"), cdf.shape[1] - 1))


@pytest.mark.parametrize("seed", [0, 7])
def test_initial_dormancy_and_credit_follow_their_array_definition(seed):
    from sim.core import compiled

    rng = np.random.default_rng(seed)
    n, p = 20_000, P
    kind = rng.integers(0, 3, n)
    age_months = rng.integers(0, 600, n)
    u_dormant, u_credit = rng.random(n), rng.random(n)
    u_credit[:50] = p.initial_active_listed_share  # ties at the listed share
    w = np.array([3.0, 2.0, 7.0])[kind]
    # the definition, in arrays
    age_factor = 1.0 - np.exp(-age_months / p.dormancy_age_scale_months)
    p_dormant = np.minimum(1.0, p.dormant_share_2020 * age_factor * w.sum() / (age_factor * w).sum())
    dormant = u_dormant < p_dormant
    months_dormant = np.where(dormant, np.minimum(age_months, (u_credit * p.initial_dormancy_max_months).astype(np.int64)),
                              0)
    credit = np.full(n, rules.NORMAL, dtype=np.int64)
    months_in_status = np.zeros(n, dtype=np.int64)
    lag = int(p.listing_lag_months)
    listed_dormant = dormant & (months_dormant >= lag)
    credit[listed_dormant] = rules.ABNORMAL
    months_in_status[listed_dormant] = months_dormant[listed_dormant] - lag
    escalated = listed_dormant & (months_in_status >= p.abnormal_to_serious_months) & (kind != rules.INDIVIDUAL)
    credit[escalated] = rules.SERIOUS
    months_in_status[escalated] -= int(p.abnormal_to_serious_months)
    active_listed = ~dormant & (u_credit < p.initial_active_listed_share)
    credit[active_listed] = rules.ABNORMAL
    months_in_status[active_listed] = (u_credit[active_listed] * 300).astype(np.int64) % 12
    # the compiled pass the population is built with
    out = [np.empty(n, np.int64) for _ in range(4)]
    compiled.initial_dormancy_and_credit(kind, age_months, age_factor, u_dormant, u_credit, p.dormant_share_2020,
                                         w.sum(), (age_factor * w).sum(), p.initial_dormancy_max_months, lag,
                                         p.abnormal_to_serious_months, p.initial_active_listed_share, *out)
    status = np.where(dormant, rules.DORMANT, rules.ACTIVE)
    for got, want in zip(out, (status, months_dormant, credit, months_in_status)):
        assert np.array_equal(got, want)
    assert (credit == rules.SERIOUS).any() and active_listed.any() and listed_dormant.any()  # every branch taken


def test_the_population_is_the_same_built_on_every_core(monkeypatch):
    """From compiled.PARALLEL_FROM rows the population's compiled loops (uniforms, cities, sectors, ages,
    dormancy and credit) run on every core: each row on its own, so the same arrays bit for bit as the
    serial loops give (and the parallel builds are their own, in their own cache files)."""
    import numba

    from sim.core import compiled

    built = {}
    threads = numba.get_num_threads()
    try:
        for label, rows, n_threads in (("serial", 10 ** 12, 1), ("parallel", 0, 2)):
            monkeypatch.setattr(compiled, "PARALLEL_FROM", rows)
            numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
            built[label] = build_population(P, 4000, 3).arrays
    finally:
        numba.set_num_threads(threads)
    assert built["serial"]["key"].size > 1000
    for name, column in built["serial"].items():
        assert np.array_equal(built["parallel"][name], column), name
    for loop in (compiled.uniforms, compiled.sectors, compiled.buckets, compiled.buckets_by_row,
                 compiled.initial_dormancy_and_credit):
        assert loop.parallel.targetoptions.get("parallel") and loop.parallel.signatures, loop.serial.py_func
        assert loop.parallel.py_func.__qualname__ != loop.serial.py_func.__qualname__
