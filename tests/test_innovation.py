"""Firm-level innovation and brand indicators 4-7 and 11-13 (sim/submodels/innovation/): present every year,
anchored on the plan's 2020 baselines, moved by their levers beyond noise on common random numbers,
tied to credit penalties, reproducible, following their history, and never a straight line to the
target.

The many-seed tests drive ``Innovation`` directly (``run_innovation``: a register growing at fixed
rates, detected violations at a multiple of the 2020 rate) with a quarter of the firms
(``SMALL``): every rate is set at initialisation from the same 2020 totals, so the mechanisms and
the indicators' paths are the same, at a quarter of the cost. The 2020 baselines and one vector
engine run use the full population.
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import check_parameter_declarations, paired_difference, run_model, scenario_with
from sim.submodels import programmes
from sim.core import rules
from sim.outputs.indicators import MECHANISMS, by_id, indicator_values
from sim.submodels.innovation import (AGGREGATION, EXTRA_FIELDS, INDICATORS, NORMAL, STREAMS, Innovation, InnovationParameters,
                            innovation_parameter_table, run_innovation, trademark_backcast, trademark_stock)
from sim.core.calendar import MAX_FIRM_SCALE, firm_scale
from sim.inputs.levers import LEVERS_BY_ID
from sim.inputs.scenario import baseline, load_scenario
from sim.engines.base import RECORD_FIELDS
from sim.outputs.records import FLOW, STOCK

SEEDS = range(10)
YEARS = range(2020, 2026)
SMALL = InnovationParameters().replace(above_scale_2020=12000, other_holders_2020=4000)
NEW_LEVERS = ("ip_programme", "brand_programme", "trademark_support")


@cache
def _run(assignments: tuple[str, ...], seed: int, horizon: int = 2022, plan: bool = False,
         detection_ratio: float = 1.0, params: InnovationParameters = SMALL) -> dict[int, dict[str, float]]:
    base = load_scenario("scenarios/plan.toml") if plan else baseline()
    return run_innovation(scenario_with(*assignments, base=base), seed, horizon=horizon,
                          detection_ratio=detection_ratio, params=params)


def _baseline(seed: int) -> dict[int, dict[str, float]]:
    return _run((), seed, horizon=2025)


def _baseline_2020(iid: str) -> float:
    return by_id()[iid].baseline_2020


def _month(step: int) -> SimpleNamespace:
    return SimpleNamespace(year=2021 + step // 12, month=step % 12 + 1, step=step)


@pytest.fixture(scope="module")
def plan_model():
    return run_model(load_scenario("scenarios/plan.toml"), seed=1, horizon=2025, engine="vector")


# ------------------------------------------------------------------------------------ declarations
def test_each_indicator_is_declared_as_entity_level_with_levers():
    registry = by_id()
    for iid in INDICATORS:
        ind = registry[iid]
        assert ind.modelled and iid in MECHANISMS, iid
        assert ind.level == "entity", iid
        assert ind.levers and all(lv in LEVERS_BY_ID for lv in ind.levers), iid
    assert set(INDICATORS) <= set(MECHANISMS)
    assert set(AGGREGATION) == set(INDICATORS) | set(EXTRA_FIELDS)
    for name, how in AGGREGATION.items():
        assert RECORD_FIELDS[name] == {"stock": STOCK, "flow": FLOW}[how], name
    assert RECORD_FIELDS["overseas_patent_grants"] == FLOW  # grants in the year


def test_streams_are_their_own():
    assert min(STREAMS.values()) >= 200
    assert len(set(STREAMS.values())) == len(STREAMS)
    assert not set(STREAMS.values()) & set(rules.STREAMS.values())
    assert not set(STREAMS.values()) & set(programmes.STREAMS.values())


def test_parameters_carry_unit_status_and_source():
    check_parameter_declarations(innovation_parameter_table(), InnovationParameters, "innovation")


def test_new_levers_are_declared_with_labels_range_and_2020_value():
    for lid in NEW_LEVERS:
        lever = LEVERS_BY_ID[lid]
        assert lever.label_zh and lever.label_en and lever.help_zh and lever.help_en
        assert lever.unit == "index, 2020 = 1" and lever.value_2020 == 1.0
        assert lever.low <= lever.value_2020 <= lever.high
        assert lever.group in {"ip", "quality", "standards"}


def test_plan_levers_quote_a_plan_section_and_baseline_holds_2020():
    with open("scenarios/plan.toml", encoding="utf-8") as fh:
        text = fh.read()
    plan, base = load_scenario("scenarios/plan.toml"), load_scenario("scenarios/baseline.toml")
    for lid in NEW_LEVERS:
        comment = "".join(text.split(f"\n{lid} =")[0].rsplit("\n# ", 3)[1:])
        assert "三(" in comment or "二(" in comment, lid
        assert plan.lever(lid, 2025) > 1.0 and plan.lever(lid, 2020) == 1.0, lid
        assert base.lever(lid, 2025) == 1.0, lid


# ------------------------------------------------------------------------------------ 2020 and the engine
@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_2020_values_equal_the_plan_baselines(seed, scale):
    values = Innovation(baseline(), seed, firm_scale=scale).initial_values
    for iid in INDICATORS:
        assert values[iid] == pytest.approx(_baseline_2020(iid), rel=0.02), iid
    assert values["above_scale_firms"] == 48000


def test_the_engines_sample_firms_at_coarse_scales_only():
    assert [firm_scale(s) for s in (1, 4, 10, 8000)] == [1, 4, 10, MAX_FIRM_SCALE]
    model = run_model(scale=8000, horizon=2021, engine="vector")
    assert model.firm_scale == MAX_FIRM_SCALE == model.submodel("innovation").firm_scale
    assert model.submodel("innovation").firms.n_rows < 10_000  # about 8.8万 firms / 10
    for wrong in (0.5, 500.0):  # (at 500 the smaller strata had no firm: a division by zero)
        with pytest.raises(ValueError, match="firm_scale must be from 1 to 10"):
            Innovation(baseline(), 0, firm_scale=wrong)


@pytest.mark.slow
def test_a_sample_of_firms_agrees_with_one_to_one():
    """Means over 8 seeds at one firm in ten agree with one to one within 3 standard errors, and
    the sample's spread of the firm indicators is wider (about the square root of ten)."""
    plan = load_scenario("scenarios/plan.toml")
    full = [run_innovation(plan, seed)[2025] for seed in range(8)]
    sample = [run_innovation(plan, seed, firm_scale=10)[2025] for seed in range(8)]
    for name in INDICATORS + ("above_scale_firms",):
        a, b = np.array([r[name] for r in full]), np.array([r[name] for r in sample])
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(b.mean() - a.mean()) <= 3 * se + 1e-9, (name, a.mean(), b.mean(), se)
        if name != "valid_trademarks":  # (trademarks are cohorts, not firms)
            assert b.std() > a.std(), name


def test_the_trademark_backcast_reproduces_the_history():
    q = InnovationParameters()
    r17, g0, g1 = trademark_backcast(q)
    for year, stock in ((2016, 131.57), (2017, 154.48), (2020, 300.0)):
        assert trademark_stock(year, r17, g0, g1, q) == pytest.approx(stock, rel=1e-6)
    assert 0.1 < g0 < g1  # registrations grew faster after 2017, as the stock did


def test_every_indicator_is_in_every_year_of_a_vector_run(plan_model):
    records = plan_model.annual_records()
    assert sorted(records) == list(YEARS)
    for year in YEARS:
        values = indicator_values(records[year], initial=year == 2020)
        for iid in INDICATORS:
            assert iid in values, (year, iid)
            assert math.isfinite(values[iid]) and values[iid] >= 0.0, (year, iid, values[iid])
    for iid in INDICATORS:
        assert records[2020][iid] == pytest.approx(_baseline_2020(iid), rel=0.02), iid
    # yearly units: stocks are December's value, overseas grants the year's sum of monthly grants
    months = plan_model.monthly[12:24]
    assert records[2022]["overseas_patent_grants"] == pytest.approx(sum(m["overseas_patent_grants"] for m in months))
    assert records[2022]["valid_trademarks"] == months[-1]["valid_trademarks"]
    assert 1000 < records[2022]["overseas_patent_grants"] < 20000


def test_the_record_drives_population_listing_and_filing():
    inn = Innovation(baseline(), 3, SMALL)
    summary = {"resident_population": 7000.0, "registered_company": 3e6, "active": 8e6, "violations_detected": 0.0}
    inn.step(_month(0), summary)
    values = inn.values()
    assert values["high_value_patents_per_10k"] == pytest.approx(values["high_value_patents"] / 7000.0)
    assert inn.detection_rate < inn.params.detection_rate_2020  # no violations detected this month
    # without the record: the population grows at the population_growth uncertainty
    alone = Innovation(scenario_with("population_growth=3"), 3, SMALL)
    alone.step(_month(0), {})
    assert alone.population == pytest.approx(6456.8 * 1.03 ** (1 / 12))


# ------------------------------------------------------------------------------------ firms
def test_firm_state_stays_consistent_and_listed_firms_lose_certification():
    inn = Innovation(baseline(), 5, SMALL.replace(listing_detected_2020=0.1))
    lost = 0.0
    for step in range(18):
        inn.step(_month(step), {})
        lost += inn.values()["certifications_lost_to_listing"]
        t = inn.firms
        alive = t["alive"]
        assert not np.any(t["certified"] & (t["credit"] != NORMAL))
        assert not np.any((t["n_intl"] > 0) & ~t["certified"])
        assert np.all(t["n_hv"] <= t["n_inv"]) and np.all(t["n_hv"] >= 0)
        assert np.all(t["pend1"] >= 0) and np.all(t["pend2"] >= 0)
        assert not np.any(~alive & (t["certified"] | (t["n_inv"] > 0)))
    assert lost > 100


def test_firms_cross_the_threshold_both_ways_and_enter_from_below():
    inn = Innovation(baseline(), 2, SMALL)
    before = dict(zip(inn.firms["key"].tolist(), inn.firms["above"].tolist()))
    for step in range(13):  # two January growth steps
        inn.step(_month(step), {})
    t = inn.firms
    now = dict(zip(t["key"][t["alive"]].tolist(), t["above"][t["alive"]].tolist()))
    up = sum(1 for k, a in now.items() if a and k in before and not before[k])
    down = sum(1 for k, a in now.items() if not a and before.get(k))
    entrants = sum(1 for k in now if k >= 1 << 24)
    assert up > 100 and down > 100 and entrants > 1000


# ------------------------------------------------------------------------------------ reproducibility
def test_same_seed_is_identical_and_other_seeds_differ():
    plan = load_scenario("scenarios/plan.toml")
    a = run_innovation(plan, 3, horizon=2022, params=SMALL)
    b = run_innovation(plan, 3, horizon=2022, params=SMALL)
    c = run_innovation(plan, 4, horizon=2022, params=SMALL)
    assert a == b
    # (in either year: a count of whole simulated firms can coincide in one year by chance)
    differs = [iid for iid in INDICATORS if any(a[y][iid] != c[y][iid] for y in (2021, 2022))]
    assert len(differs) == len(INDICATORS), differs


def test_a_lever_leaves_unrelated_indicators_alone_on_common_random_numbers():
    for seed in (0, 5):
        base, high = _run((), seed), _run(("trademark_support=2",), seed)
        for year in (2021, 2022):
            for iid in INDICATORS:
                if iid != "valid_trademarks":
                    assert high[year][iid] == base[year][iid], (year, iid)
            assert high[year]["valid_trademarks"] > base[year]["valid_trademarks"]


# ------------------------------------------------------------------------------------ levers
# (assignments, extra run options, indicator, direction): every indicator and every declared lever.
DIRECTIONS = [
    (("ip_programme=2",), {}, "patent_coverage_above_scale", +1),
    (("ip_programme=2",), {}, "high_value_patents_per_10k", +1),
    (("ip_programme=2",), {}, "overseas_patent_grants", +1),
    (("trademark_support=2",), {}, "valid_trademarks", +1),
    (("standards_programme=2",), {}, "zhejiang_made_standards", +1),
    (("standards_programme=2",), {}, "pinzi_brand_firms", +1),
    (("brand_programme=2",), {}, "pinzi_brand_firms", +1),
    (("brand_programme=2",), {}, "zhejiang_made_intl_certs", +1),
    (("credit_penalty_severity=3",), {}, "pinzi_brand_firms", -1),
    (("credit_penalty_severity=3",), {}, "zhejiang_made_intl_certs", -1),
    ((), {"detection_ratio": 3.0}, "pinzi_brand_firms", -1),  # more violations detected in the main model
]


def test_every_indicator_and_declared_lever_is_covered_by_a_direction_test():
    assert {iid for *_, iid, _ in DIRECTIONS} == set(INDICATORS)
    covered = {(a.split("=")[0], iid) for assignments, _, iid, _ in DIRECTIONS for a in assignments}
    for iid in INDICATORS:
        for lever in by_id()[iid].levers:
            assert (lever, iid) in covered, (lever, iid)


@pytest.mark.parametrize("assignments, options, iid, direction", DIRECTIONS)
def test_indicator_moves_with_its_lever_beyond_noise(assignments, options, iid, direction):
    low = [_baseline(s)[2022][iid] for s in SEEDS]
    high = [_run(tuple(assignments), s, **options)[2022][iid] for s in SEEDS]
    mean, se = paired_difference(low, high)
    assert direction * mean > 3 * se and direction * mean > 0, (mean, se)


# ------------------------------------------------------------------------------------ paths
@pytest.mark.parametrize("plan", [False, True])
def test_no_median_path_is_a_straight_line_from_baseline_to_target(plan):
    runs = [_run((), s, horizon=2025, plan=plan) for s in (SEEDS if not plan else range(5))]
    for iid in INDICATORS:
        ind = by_id()[iid]
        start, target = _baseline_2020(iid), ind.target
        median = np.array([np.median([r[y][iid] for r in runs]) for y in YEARS])
        line = start + (target - start) * (np.array(YEARS) - 2020) / 5.0
        assert np.max(np.abs(median - line)) > 0.02 * abs(target - start), (iid, median, line)


def test_baseline_paths_follow_their_history():
    runs = [_baseline(s) for s in SEEDS]

    def med(year, iid):
        return float(np.median([r[year][iid] for r in runs]))

    # the Zhejiang Made counts follow their fitted logistic diffusions (the firms decide who adopts,
    # the diffusion how many): within 12% of the curve in 2021 and 2025 at the default ceilings and rates
    from sim.submodels.innovation.rules import adoption_path

    q = SMALL
    for iid, n0, ceiling, rate in (
            ("zhejiang_made_standards", q.standards_2020, q.standards_ceiling, q.standards_diffusion_rate),
            ("pinzi_brand_firms", q.pinzi_2020, q.pinzi_ceiling, q.pinzi_diffusion_rate),
            ("zhejiang_made_intl_certs", q.intl_certs_2020, q.intl_certs_ceiling, q.intl_certs_diffusion_rate)):
        for year in (2021, 2025):
            assert med(year, iid) == pytest.approx(adoption_path(year - 2020, n0, ceiling, rate), rel=0.12), (iid, year)
    # valid trademarks +17% (2016-17) and +25% a year (2017-20); filings per entity held at 2020
    assert 0.12 < med(2021, "valid_trademarks") / 300 - 1 < 0.30
    # high-value patents grow at the fitted patent_growth_2020 (about 19% a year), residents at 1.7%
    assert med(2021, "high_value_patents_per_10k") == pytest.approx(11.1 * (1 + q.patent_growth_2020) / 1.017,
                                                                     rel=0.04)
    # coverage rises slowly at 2020 policy, far from 100%
    assert 37 < med(2025, "patent_coverage_above_scale") < 60
    # overseas grants follow filings with a lag: 2021 close to 2020
    assert 2700 < med(2021, "overseas_patent_grants") < 3700
    assert med(2025, "above_scale_firms") > med(2020, "above_scale_firms")


def test_a_higher_fitted_ceiling_lets_a_diffusion_go_further():
    """The ceiling is the mechanism's saturation: raising it raises the 2025 count, same seed."""
    low = _run((), 0, horizon=2025, params=SMALL.replace(pinzi_ceiling=1800.0))
    high = _run((), 0, horizon=2025, params=SMALL.replace(pinzi_ceiling=6000.0))
    assert low[2025]["pinzi_brand_firms"] < 1900 < 3000 < high[2025]["pinzi_brand_firms"]
    assert low[2021]["pinzi_brand_firms"] < high[2021]["pinzi_brand_firms"]


def test_a_programme_raises_the_ceiling_only_through_its_capacity_elasticity():
    """A brand programme at 2 raises the Pinzi ceiling by 2^brand_capacity_elasticity: with the
    elasticity at 0 the count levels off near the fitted ceiling whatever the effort; at 1 it goes on
    towards twice the ceiling. Same seed, same draws; the 2020-practice run does not depend on it."""
    fixed = SMALL.replace(pinzi_ceiling=1800.0, brand_capacity_elasticity=0.0)
    elastic = SMALL.replace(pinzi_ceiling=1800.0, brand_capacity_elasticity=1.0)
    at_fixed = _run(("brand_programme=2",), 0, horizon=2025, params=fixed)[2025]["pinzi_brand_firms"]
    at_elastic = _run(("brand_programme=2",), 0, horizon=2025, params=elastic)[2025]["pinzi_brand_firms"]
    assert at_fixed < 1800 * 1.15 < 1800 * 1.6 < at_elastic < 1800 * 2 * 1.15
    assert _run((), 0, horizon=2022, params=fixed) == _run((), 0, horizon=2022, params=elastic)


def test_a_city_override_of_credit_penalty_severity_reaches_that_citys_firms_only():
    """The firms carry a city; a city's severity sets its listed firms' growth penalty and exit hazard."""
    from sim.inputs.levers import CITIES
    from sim.submodels.innovation import simulate_innovation

    plan = load_scenario("scenarios/plan.toml")
    override = scenario_with("Wenzhou.credit_penalty_severity=3", base=plan)
    firms = {}
    for name, scenario in (("plan", plan), ("override", override)):
        inn, _ = simulate_innovation(scenario, 0, horizon=2023, params=SMALL)
        t = inn.firms
        firms[name] = dict(zip(t["key"].tolist(), zip(t["city"].tolist(), t["log_size"].tolist(),
                                                        t["alive"].tolist(), t["credit"].tolist())))
    wenzhou = CITIES.index("Wenzhou")
    common = firms["plan"].keys() & firms["override"].keys()
    moved = [k for k in common if firms["plan"][k] != firms["override"][k]]
    gone = firms["plan"].keys() ^ firms["override"].keys()
    assert moved, "no Wenzhou firm responded to its city's severity"
    assert {firms["plan"][k][0] for k in moved} == {wenzhou}, "firms of other cities moved"
    assert all((firms["plan"].get(k) or firms["override"][k])[0] == wenzhou for k in gone)
    assert len({row[0] for row in firms["plan"].values()}) == len(CITIES)  # every city has firms
