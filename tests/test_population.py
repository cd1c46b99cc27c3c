"""The end-2020 population: totals, split by kind and city, age structure, size tail."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import rules
from sim.inputs.parameters import Parameters
from sim.core.population import build_population, city_shares

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
