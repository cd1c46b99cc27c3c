"""Programme-, regulator- and market-level indicators (sim/submodels/programmes.py): present every year,
anchored on the plan's 2020 baselines, moved by their own levers beyond noise, reproducible,
on common random numbers, and never a straight line to the target."""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import check_parameter_declarations, paired_difference, run_model, scenario_with
from sim.outputs.indicators import MECHANISMS, by_id, indicator_values
from sim.inputs.levers import CITIES, LEVERS_BY_ID, UNCERTAINTIES_BY_ID
from sim.inputs.scenario import baseline, load_scenario
from sim.submodels.programmes import (AGGREGATION, INDICATORS, STREAMS, Programmes, ProgrammeParameters,
                            programme_parameter_table, run_programmes)
from sim.submodels.programmes import (N_CITIES, approach, digital_effectiveness, integration_hazard, market_drift,
                                      market_exit_hazard, poisson_events, realised, upgrade_hazard)
from sim.engines.base import RECORD_FIELDS
from sim.core import rules

SEEDS = range(10)
YEARS = range(2020, 2026)
COMPANY_GROWTH = 0.095  # about the engines' baseline growth of registered companies


@cache
def _run(assignments: tuple[str, ...], seed: int, plan: bool = False) -> dict[int, dict[str, float]]:
    base = load_scenario("scenarios/plan.toml") if plan else baseline()
    return run_programmes(scenario_with(*assignments, base=base), seed, company_growth=COMPANY_GROWTH)


def _baseline_2020(iid: str) -> float:
    value = by_id()[iid].baseline_2020
    return 0.0 if value is None else value


@pytest.fixture(scope="module")
def plan_model_records():
    model = run_model(load_scenario("scenarios/plan.toml"), seed=1, horizon=2025, engine="vector")
    return model, model.annual_records()


def test_each_indicator_is_declared_with_a_mechanism_and_levers():
    registry = by_id()
    for iid in INDICATORS:
        ind = registry[iid]
        assert ind.modelled and iid in MECHANISMS, iid
        assert ind.level in {"programme", "regulator", "market"}, iid
        assert ind.levers and all(lv in LEVERS_BY_ID for lv in ind.levers), iid
        assert RECORD_FIELDS[iid] == AGGREGATION[iid], iid
    assert set(INDICATORS) <= set(MECHANISMS)


def test_streams_are_their_own():
    assert not set(STREAMS.values()) & set(rules.STREAMS.values())
    assert len(set(STREAMS.values())) == len(STREAMS)


def test_parameters_carry_unit_status_and_source():
    check_parameter_declarations(programme_parameter_table(), ProgrammeParameters, "programme")


def test_new_levers_are_declared_with_labels_range_and_2020_value():
    levers = {lv for iid in INDICATORS for lv in by_id()[iid].levers}
    for lid in levers:
        lever = LEVERS_BY_ID[lid]
        assert lever.label_zh and lever.label_en and lever.unit and lever.help_zh and lever.help_en
        assert lever.low <= lever.value_2020 <= lever.high
    assert UNCERTAINTIES_BY_ID["population_growth"].value_2020 == pytest.approx(1.7)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_2020_values_equal_the_plan_baselines(seed):
    values = Programmes(baseline(), seed).initial_values
    for iid in INDICATORS:
        expected = _baseline_2020(iid)
        assert values[iid] == pytest.approx(expected, rel=0.02, abs=1e-9), iid


def test_every_indicator_is_in_every_year_of_a_model_run_finite_and_non_negative(plan_model_records):
    _, records = plan_model_records
    assert sorted(records) == list(YEARS)
    for year in YEARS:
        values = indicator_values(records[year], initial=year == 2020)
        for iid in INDICATORS:
            assert iid in values, (year, iid)
            assert math.isfinite(values[iid]) and values[iid] >= 0.0, (year, iid, values[iid])
    for iid in INDICATORS:
        assert records[2020][iid] == pytest.approx(_baseline_2020(iid), rel=0.02, abs=1e-9), iid


def test_the_engine_exposes_digital_effectiveness_per_city(plan_model_records):
    model, records = plan_model_records
    eff = model.submodel("programmes").digital_effectiveness
    assert eff.shape == (len(CITIES),)
    assert np.all(eff >= 1.0) and eff.max() > 1.0
    monthly = [m["digital_integration_rate"] for m in model.monthly]
    assert all(b >= a for a, b in zip(monthly, monthly[1:]))
    assert records[2025]["resident_population"] > records[2020]["resident_population"]


def test_digital_effectiveness_starts_at_one_and_rises_with_integration():
    prog = Programmes(baseline(), 2)
    assert np.all(prog.digital_effectiveness == 1.0)
    for step in range(24):
        prog.step(SimpleNamespace(year=2021 + step // 12, month=step % 12 + 1, step=step),
                  {"registered_company": prog.companies_2020})
    adoption = prog.integrated.mean(axis=1)
    assert np.all(prog.digital_effectiveness >= 1.0)
    gain = prog.digital_effectiveness - 1.0
    assert np.allclose(gain, prog.params.digital_effect_gain * (adoption - prog.adoption_2020))


def test_same_seed_is_identical_and_other_seeds_differ():
    plan = load_scenario("scenarios/plan.toml")
    a, b, c = run_programmes(plan, 3), run_programmes(plan, 3), run_programmes(plan, 4)
    assert a == b
    differs = [iid for iid in INDICATORS if a[2025][iid] != c[2025][iid]]
    assert len(differs) >= len(INDICATORS) // 2, differs


def test_a_lever_changes_only_its_own_indicators_on_common_random_numbers():
    for seed in (0, 5):
        base = _run((), seed)
        high = _run(("ip_protection_center_support=3",), seed)
        for year in YEARS:
            for iid in INDICATORS:
                if iid != "ip_protection_centers":
                    assert high[year][iid] == base[year][iid], (year, iid)
            assert high[year]["ip_protection_centers"] >= base[year]["ip_protection_centers"]


# (assignment, indicator, direction): every indicator moved by its own lever, and a few by the world.
# A demonstration-city support only matters where cities qualify, so it is tested on higher sampling.
SAMPLING_UP = "food_sampling_effort=1.4"
DIRECTIONS = [
    ("ip_protection_center_support=2.5", "ip_protection_centers", +1),
    ("quality_programme=3", "china_quality_awards", +1),
    ("quality_programme=2", "china_quality_award_nominations", +1),
    ("quality_programme=0.5", "china_quality_award_nominations", -1),
    ("commodity_market_upgrading=3", "large_commodity_markets", +1),
    ("gdp_growth=2", "large_commodity_markets", -1),
    ("food_safety_city_support=3", "food_safety_demo_cities", +1),
    ("food_sampling_effort=1.4", "food_safety_demo_cities", +1),
    ("wholesale_market_standardisation=4", "aa_wholesale_markets", +1),
    ("food_sampling_effort=1.3", "food_sampling_per_1000", +1),
    ("food_sampling_effort=0.8", "food_sampling_per_1000", -1),
    ("population_growth=3.5", "food_sampling_per_1000", -1),
    ("product_spot_check_effort=2", "product_quality_spot_checks", +1),
    ("digital_investment=2", "digital_integration_rate", +1),
    ("digital_investment=0.5", "digital_integration_rate", -1),
    ("quality_infrastructure_investment=2", "public_measurement_standards", +1),
    ("standards_programme=1.5", "new_international_standards", +1),
    ("standards_programme=1.5", "new_national_standards", +1),
    ("quality_infrastructure_investment=2", "national_inspection_centers", +1),
    ("quality_infrastructure_investment=2", "industrial_metrology_centers", +1),
]


def test_every_indicator_and_declared_lever_is_covered_by_a_direction_test():
    assert {iid for _, iid, _ in DIRECTIONS} == set(INDICATORS)
    covered = {(a.split("=")[0], iid) for a, iid, _ in DIRECTIONS}
    for iid in INDICATORS:
        for lever in by_id()[iid].levers:
            assert (lever, iid) in covered, (lever, iid)


@pytest.mark.parametrize("assignment, iid, direction", DIRECTIONS)
def test_indicator_moves_with_its_lever_beyond_noise(assignment, iid, direction):
    base = (SAMPLING_UP,) if assignment.startswith("food_safety_city_support") else ()
    low = [_run(base, s)[2025][iid] for s in SEEDS]
    high = [_run(base + (assignment,), s)[2025][iid] for s in SEEDS]
    mean, se = paired_difference(low, high)
    assert direction * mean > 3 * se and direction * mean > 0, (mean, se)


@pytest.mark.parametrize("plan", [False, True])
def test_no_median_path_is_a_straight_line_from_baseline_to_target(plan):
    runs = [_run((), s, plan) for s in SEEDS]
    for iid in INDICATORS:
        ind = by_id()[iid]
        start, target = _baseline_2020(iid), ind.target
        median = np.array([np.median([r[y][iid] for r in runs]) for y in YEARS])
        line = start + (target - start) * (np.array(YEARS) - 2020) / 5.0
        assert np.max(np.abs(median - line)) > 0.02 * abs(target - start), (iid, median, line)


def test_baseline_paths_follow_their_history():
    runs = [_run((), s) for s in SEEDS]
    med = {iid: np.median([r[2025][iid] for r in runs]) for iid in INDICATORS}
    # 44 (2015) -> 55 (2020) national inspection centres: about 11 more in five years
    assert 61 <= med["national_inspection_centers"] <= 71
    # 3308 (Oct 2018) -> 3472 (2020) public measurement standards: +2.25% a year
    assert med["public_measurement_standards"] == pytest.approx(3472 * 1.0225 ** 5, rel=0.03)
    # 731 (2011) -> 1200 (2020) markets above 100M yuan: +5.7% a year
    assert med["large_commodity_markets"] == pytest.approx(1200 * 1.057 ** 5, rel=0.05)
    # 16 nominations in three rounds: about five a round in 2021, 2023 and 2025
    assert 26 <= med["china_quality_award_nominations"] <= 40
    # held 2020 batches are spread over a growing population
    assert med["food_sampling_per_1000"] < 4.4


def test_plan_levers_quote_a_plan_section():
    text = open("scenarios/plan.toml", encoding="utf-8").read()
    levers = {lv for iid in INDICATORS for lv in by_id()[iid].levers}
    plan = load_scenario("scenarios/plan.toml")
    for lid in levers:
        above = text.split(f"\n{lid} =")[0].split("\n")
        block = []  # the comment lines right above the lever
        while above and above[-1].startswith("#"):
            block.insert(0, above.pop())
        comment = "".join(block)
        assert any(mark in comment for mark in ("二(", "三(", "四(", "六(", "七(", "Indicator")), lid
        assert plan.lever(lid, 2025) > LEVERS_BY_ID[lid].value_2020, lid
        assert plan.lever(lid, 2020) == LEVERS_BY_ID[lid].value_2020, lid


def test_a_city_override_moves_that_city_only():
    base = Programmes(baseline(), 6)
    over = Programmes(scenario_with("Wenzhou.digital_investment=4", "Wenzhou.food_sampling_effort=1.5"), 6)
    for step in range(36):
        ctx = SimpleNamespace(year=2021 + step // 12, month=step % 12 + 1, step=step)
        for prog in (base, over):
            prog.step(ctx, {"registered_company": prog.companies_2020})
    w = CITIES.index("Wenzhou")
    others = [i for i in range(len(CITIES)) if i != w]
    assert over.integrated[w].sum() > base.integrated[w].sum()
    assert over.sampling_level[w] > base.sampling_level[w]
    assert np.array_equal(over.integrated[others], base.integrated[others])
    assert np.allclose(over.sampling_level[others], base.sampling_level[others])


def _rules_month(ref: dict, prog: Programmes, year: int, step: int) -> None:
    """One month of the regulators and markets by the rules on numpy arrays, in ``ref``: what the
    compiled passes of sim/submodels/programme_loops.py must give, bit for bit."""
    p, levers = prog.params, prog.levers.year(year)
    city, lever, world = levers.city, levers.province, levers.world
    u = lambda stream, key: rules.crn_uniform(prog.seed, STREAMS[stream], key, step)  # noqa: E731
    keys, cap, s2020 = np.arange(N_CITIES, dtype=np.uint64), prog.capability, prog.sampling_2020
    ref["population"] = ref["population"] * (1.0 + world.population_growth / 100.0) ** (1.0 / 12.0)
    ref["sampling_level"] = approach(ref["sampling_level"], np.array(city.food_sampling_effort) * s2020,
                                     p.food_sampling_pace * cap * s2020 / 12.0, p.food_sampling_cut_pace * s2020 / 12.0)
    ref["sampling_now"] = realised(ref["sampling_level"], u("food_sampling", keys), p.sampling_month_noise)
    ref["spot_level"] = approach(ref["spot_level"], np.array(city.product_spot_check_effort) * prog.spot_2020,
                                 p.spot_check_pace * cap * ref["spot_level"] / 12.0,
                                 p.spot_check_cut_pace * prog.spot_2020 / 12.0)
    ref["spot_now"] = realised(ref["spot_level"], u("spot_checks", keys + np.uint64(N_CITIES)), p.sampling_month_noise)
    lines = ref["integrated"]
    hazard = integration_hazard(lines.mean(axis=1), np.array(city.digital_investment), cap, p)
    line_keys = keys[:, None] * np.uint64(1000) + np.arange(lines.shape[1], dtype=np.uint64)[None, :]
    lines |= u("digital", line_keys) < rules.monthly_probability(hazard)[:, None]
    ref["digital_effectiveness"] = digital_effectiveness(lines.mean(axis=1), prog.adoption_2020, p.digital_effect_gain)
    noise = rules.laplace_quantile(u("market_growth", ref["market_key"]), p.market_growth_sigma * rules.MONTHLY_LAPLACE)
    log_turnover = ref["log_turnover"] + market_drift(world.gdp_growth, lever.commodity_market_upgrading, p) / 12.0 \
        + noise
    stays = ~(u("market_exit", ref["market_key"]) < rules.monthly_probability(market_exit_hazard(log_turnover, p)))
    entrants = poisson_events(u("market_entry", 0), p.market_entry_rate * p.markets_2020)
    new = (np.uint64(step + 1) << np.uint64(20)) | np.arange(entrants, dtype=np.uint64)
    size = prog.market_mu + p.market_entrant_offset + p.market_turnover_sigma * rules.normal_quantile(
        u("market_entrant_size", new))
    ref["market_key"] = np.concatenate((ref["market_key"][stays], new))
    ref["log_turnover"] = np.concatenate((log_turnover[stays], size))
    hazard = upgrade_hazard(prog.wholesale_size, lever.wholesale_market_standardisation, prog.aa_scale)
    ref["aa"] |= u("wholesale_upgrade", np.arange(ref["aa"].size, dtype=np.uint64)) < rules.monthly_probability(hazard)


@pytest.mark.parametrize("seed, changes", [
    (4, {}),
    # few markets, many closing and entering: the market arrays drop closed rows and grow
    (9, dict(markets_2020=300.0, large_markets_2020=100.0, market_exit_small=0.9, market_entry_rate=0.6,
             digital_items_per_city=7.0, sampling_month_noise=0.6)),
])
def test_the_compiled_months_give_the_numbers_of_the_rules_on_arrays(seed, changes):
    policy = scenario_with("digital_investment=3", "Wenzhou.food_sampling_effort=1.5", "gdp_growth=2")
    prog = Programmes(policy, seed, dataclasses.replace(policy.submodel_parameters["programmes"], **changes))
    ref = {name: np.array(getattr(prog, name)) for name in (
        "population", "sampling_level", "sampling_now", "spot_level", "spot_now", "integrated",
        "digital_effectiveness", "market_key", "log_turnover", "aa")}
    for step in range(48):
        year = 2021 + step // 12
        prog.step(SimpleNamespace(year=year, month=step % 12 + 1, step=step), {"registered_company": prog.companies_2020})
        _rules_month(ref, prog, year, step)
        for name, value in ref.items():
            assert np.array_equal(getattr(prog, name), value), (step, name)
        assert prog.values()["large_commodity_markets"] == np.count_nonzero(ref["log_turnover"] >= 0.0)
        assert prog.values()["aa_wholesale_markets"] == np.count_nonzero(ref["aa"])
