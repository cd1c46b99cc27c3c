"""Pure rules: the same answer for one agent and for arrays, and the documented shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import rules
from sim.inputs.parameters import Parameters
from sim.core.population import survival_table

P = Parameters()
unit = st.floats(min_value=0.0, max_value=0.999999)
log_size = st.floats(min_value=1.0, max_value=16.0)


def test_monthly_probability_compounds_to_the_annual_one():
    annual = np.array([0.0, 0.016, 0.095, 0.5])
    monthly = rules.monthly_probability(annual)
    assert np.allclose(1 - (1 - monthly) ** 12, annual)


def test_age_hazard_reproduces_the_survival_table_and_fades():
    ages, hazards = survival_table()
    got = rules.age_hazard(ages - 1, ages, hazards, 0.05)
    assert np.allclose(got, hazards)
    assert rules.age_hazard(2.0, ages, hazards, 0.05) == pytest.approx(0.095)  # year 3 peak
    assert rules.age_hazard(30.0, ages, hazards, 0.05) == pytest.approx(0.05)


@settings(max_examples=60, deadline=None)
@given(u=unit, size=log_size, credit=st.sampled_from([0, 1, 2]), severity=st.floats(0, 3))
def test_grow_scalar_matches_array(u, size, credit, severity):
    scalar = rules.grow(size, u, credit, severity, 1.0, P)
    array = rules.grow(np.array([size]), np.array([u]), np.array([credit]), severity, 1.0, P)
    assert scalar == pytest.approx(array[0])
    assert scalar >= 1.0


@settings(max_examples=60, deadline=None)
@given(base=st.floats(0, 0.2), kind=st.sampled_from([0, 1, 2]), size=log_size, credit=st.sampled_from([0, 1, 2]),
       marginal=st.booleans(), gdp=st.floats(-5, 12))
def test_exit_hazard_scalar_matches_array(base, kind, size, credit, marginal, gdp):
    scalar = rules.exit_hazard(base, kind, size, 1.0, credit, marginal, 1.0, gdp, 1.0, P)
    array = rules.exit_hazard(np.array([base]), np.array([kind]), np.array([size]), 1.0, np.array([credit]),
                              np.array([marginal]), 1.0, gdp, 1.0, P)
    assert scalar == pytest.approx(array[0])
    assert 0.0 <= scalar <= 0.95


def test_exit_hazard_falls_with_size_and_rises_with_listing_and_marginal_entry():
    h = lambda **kw: rules.exit_hazard(**{**dict(base_hazard=0.08, kind=0, log_size=5.0, log_size_min=4.0,  # noqa: E731
                                              credit_status=0, marginal=False, severity=1.0, gdp_growth=6.0,
                                              shock=1.0, p=P), **kw})
    assert h(log_size=10.0) < h()
    assert h(credit_status=rules.SERIOUS) > h()
    assert h(credit_status=rules.SERIOUS, severity=2.0) > h(credit_status=rules.SERIOUS)
    assert h(marginal=True) > h()
    assert h(kind=rules.INDIVIDUAL) > h()
    assert h(gdp_growth=2.0) > h()


def test_listed_entities_cannot_use_simplified_deregistration():
    normal = rules.deregister_at_exit_probability(1.0, rules.COMPANY, rules.NORMAL, P)
    listed = rules.deregister_at_exit_probability(1.0, rules.COMPANY, rules.ABNORMAL, P)
    assert normal == pytest.approx(P.dereg_simplified_completion)
    assert listed == pytest.approx(P.dereg_ordinary_completion_enterprise)
    assert rules.deregister_at_exit_probability(0.0, rules.COMPANY, rules.NORMAL, P) == listed


def test_violation_probability_falls_with_deterrence_and_rises_with_peers():
    base = rules.violation_probability(0.0, 0.12, 0.1, P)
    assert rules.violation_probability(0.0, 0.12, 0.3, P) < base
    assert rules.violation_probability(0.0, 0.3, 0.1, P) > base
    assert rules.violation_probability(1.0, 0.12, 0.1, P) < base


def test_random_inspection_deters_more_than_routine_at_equal_rate():
    random_only = rules.perceived_detection(0.1, 0.0, 0.0, 0.0, P)
    routine_only = rules.perceived_detection(0.0, 0.1, 0.0, 0.0, P)
    assert random_only > routine_only > 0


def test_risk_classes_follow_credit_record():
    assert rules.risk_class(rules.SERIOUS, 999, 100, P) == rules.RISK_D
    assert rules.risk_class(rules.ABNORMAL, 999, 100, P) == rules.RISK_C
    assert rules.risk_class(rules.NORMAL, 3, 100, P) == rules.RISK_C
    assert rules.risk_class(rules.NORMAL, 20, 100, P) == rules.RISK_B
    assert rules.risk_class(rules.NORMAL, 999, 5, P) == rules.RISK_B
    assert rules.risk_class(rules.NORMAL, 999, 100, P) == rules.RISK_A
    arr = rules.risk_class(np.array([2, 1, 0, 0]), np.array([999, 999, 3, 999]), np.array([100] * 4), P)
    assert arr.tolist() == [3, 2, 2, 0]


@settings(max_examples=80, deadline=None)
@given(u=unit, a=st.floats(0, 0.5), b=st.floats(0, 0.5), c=st.floats(0, 0.5))
def test_inspection_type_partitions_one_uniform(u, a, b, c):
    kind = rules.inspection_type(u, a, b, c)
    assert kind == rules.inspection_type(np.array([u]), a, b, c)[0]
    expected = (rules.RANDOM_INSPECTION if u < a else rules.ROUTINE_INSPECTION if u < a + b
                else rules.LEAD_INSPECTION if u < a + b + c else rules.NOT_INSPECTED)
    assert kind == expected


@settings(max_examples=80, deadline=None)
@given(current=st.floats(0, 100), target=st.floats(0, 100), pace=st.floats(0, 5), u=unit)
def test_regulator_moves_up_at_most_its_pace_and_never_past_the_target(current, target, pace, u):
    new = rules.regulator_move(current, target, pace, u, 0.5)
    if target > current:
        assert current <= new <= target
        assert new - current <= pace * 1.5 + 1e-9
    else:
        assert new == target


def test_laplace_quantile_has_the_right_spread():
    u = rules.crn_uniform(3, 1, np.arange(50000, dtype=np.uint64), 0)
    draws = rules.laplace_quantile(u, 0.2)
    assert abs(np.median(draws)) < 0.01
    assert np.std(draws) == pytest.approx(0.2 * np.sqrt(2), rel=0.05)


def test_entry_multiplier_responds_to_cost_and_licence_reform():
    base = rules.entry_multiplier(1.0, 0.3, 0.3, 6.0, 0, P)
    assert base == pytest.approx(1.0)
    assert rules.entry_multiplier(0.5, 0.3, 0.3, 6.0, 0, P) == pytest.approx(0.5 ** -P.entry_cost_elasticity)
    assert rules.entry_multiplier(1.0, 1.0, 0.3, 6.0, 0, P) > base
    assert rules.marginal_entrant_share(1.25) == pytest.approx(0.2)
    assert rules.marginal_entrant_share(0.8) == 0.0


def test_the_entry_trend_is_whole_up_to_2020_and_damped_after():
    p = P.replace(entry_trend=0.08, entry_trend_damping=0.9)
    for years in (-4, -1, 0):  # the fitted history: the trend itself
        assert rules.entry_multiplier(1.0, 0.3, 0.3, 6.0, years, p) == pytest.approx(1.08 ** years)
    assert rules.trend_years(1, 0.9) == pytest.approx(0.9)
    assert rules.trend_years(5, 0.9) == pytest.approx(0.9 + 0.81 + 0.729 + 0.6561 + 0.59049)
    assert rules.trend_years(15, 1.0) == 15.0  # damping 1: an undamped trend
    damped = [rules.entry_multiplier(1.0, 0.3, 0.3, 6.0, t, p) for t in range(1, 16)]
    assert all(b > a for a, b in zip(damped, damped[1:]))  # still rising,
    assert damped[-1] < 1.08 ** (0.9 / 0.1)  # but never past the limit of the damped sum
    assert damped[-1] < rules.entry_multiplier(1.0, 0.3, 0.3, 6.0, 15, p.replace(entry_trend_damping=1.0))


def test_inspection_plan_draws_at_random_only_what_key_area_work_and_complaints_leave():
    """At a double-random share of 90% a regulator with 30% key-area work and complaints worth 10%
    of its budget draws 60% at random; below that cap the share is the regulator's own."""
    p = Parameters().replace(key_area_share=0.3, complaint_rate=0.1, lead_share_cap=1.0)
    registered, capacity = 120000.0, 12.0
    budget = capacity / 100 * registered / 12  # 1200 inspections a month
    violating = 0.10 * budget / p.complaint_rate  # 120 complaints expected
    mass = np.array([90000.0, 10000.0, 5000.0, 1000.0])
    for share, expected in ((90.0, 0.60), (40.0, 0.40)):
        by_class, _, coverage = rules.inspection_plan(capacity, registered, share, 0.0, mass, 1e5, violating, p)
        assert float(by_class[0] * mass.sum()) == pytest.approx(expected * budget)
        assert coverage == 1.0  # the complaints it had to keep room for are followed
    assert rules.random_share_cap(budget, 0.0, p.replace(key_area_share=0.0)) == 1.0
    assert rules.random_share_cap(budget, 2 * budget, p) == 0.0


def test_inspection_plan_for_every_city_at_once_is_each_city_s_plan():
    """The vector engine plans all cities in one call on arrays; the Mesa engine one city at a time on
    scalars: the same numbers bit for bit, the empty cases (no capacity, no pool, no violators, no
    visible entity) included."""
    p = Parameters()
    rng = np.random.default_rng(3)
    n = 11
    capacity, registered = rng.uniform(0, 30, n), rng.uniform(0, 2e5, n)
    share, credit = rng.uniform(0, 100, n), rng.uniform(0, 100, n)
    mass, visibility, violating = rng.uniform(0, 5e4, (n, 4)), rng.uniform(0, 1e5, n), rng.uniform(0, 1e4, n)
    capacity[0] = 0.0
    mass[1] = 0.0
    violating[2] = 0.0
    visibility[3] = 0.0
    by_class, routine, coverage = rules.inspection_plan(capacity, registered, share, credit, mass, visibility,
                                                        violating, p)
    for c in range(n):
        one = rules.inspection_plan(float(capacity[c]), float(registered[c]), float(share[c]), float(credit[c]),
                                    mass[c], float(visibility[c]), float(violating[c]), p)
        assert np.array_equal(by_class[c], np.asarray(one[0])), c
        assert routine[c] == one[1] and coverage[c] == one[2], c
    assert (by_class[1] == 0.0).all() and routine[3] == 0.0 and coverage[2] == 1.0
