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
