"""Scenario files and levers: loading, paths, overrides and every kind of bad input."""

from __future__ import annotations

import re

import pytest

from sim.inputs.levers import CITIES, LEVERS, LEVERS_BY_ID, UNCERTAINTIES, Path, ScenarioError
from sim.inputs.scenario import apply_overrides, baseline, load_scenario, parse_scenario

CJK = re.compile(r"[\u4e00-\u9fff]")

DESIGN_LEVERS = ("entry_cost_index", "licence_reform_coverage", "simplified_deregistration",
                 "compulsory_deregistration", "individual_to_company_rate", "dual_random_share",
                 "credit_application_rate", "inspection_capacity", "credit_penalty_severity", "fine_level")


def test_every_design_lever_is_declared_once_with_labels_and_range():
    ids = [lv.id for lv in LEVERS]
    assert len(ids) == len(set(ids))
    for lid in DESIGN_LEVERS:
        lever = LEVERS_BY_ID[lid]
        assert lever.label_zh and lever.label_en and lever.unit and lever.help_zh and lever.help_en
        assert lever.low <= lever.value_2020 <= lever.high


def test_every_lever_and_uncertainty_declares_its_unit_in_chinese():
    for lever in (*LEVERS, *UNCERTAINTIES):
        unit = lever.unit_zh
        assert unit.strip(), f"{lever.id}: no unit_zh"
        assert not re.search(r"[A-Za-z]", unit), f"{lever.id}: English in unit_zh {unit!r}"
        # A unit in words is written in Chinese; only a bare symbol reads the same in both languages.
        assert CJK.search(unit) or unit == lever.unit == "%", f"{lever.id}: unit_zh {unit!r} is not Chinese"
        assert ("%" in unit) == ("%" in lever.unit), f"{lever.id}: {unit!r} and {lever.unit!r} differ in %"


def test_path_is_linear_between_years_and_flat_beyond():
    path = Path(((2020, 10.0), (2025, 65.0)))
    assert path.at(2019) == 10.0
    assert path.at(2020) == 10.0
    assert path.at(2023) == pytest.approx(43.0)
    assert path.at(2025) == 65.0
    assert path.at(2035) == 65.0


def test_baseline_file_holds_2020_values():
    scenario = load_scenario("scenarios/baseline.toml")
    for lever in LEVERS:
        for year in (2020, 2025, 2035):
            assert scenario.lever(lever.id, year) == lever.value_2020, lever.id


def test_plan_file_follows_the_plan_targets():
    plan = load_scenario("scenarios/plan.toml")
    assert plan.lever("dual_random_share", 2025) > 60
    assert plan.lever("dual_random_share", 2020) == 10
    assert plan.lever("credit_application_rate", 2025) == 80
    assert plan.lever("licence_reform_coverage", 2025) == 1.0
    assert plan.lever("compulsory_deregistration", 2025) == 1
    assert plan.lever("simplified_deregistration", 2025) > plan.lever("simplified_deregistration", 2020)
    assert plan.lever("individual_to_company_rate", 2025) > plan.lever("individual_to_company_rate", 2020)


def test_plan_values_quote_a_plan_section():
    text = open("scenarios/plan.toml", encoding="utf-8").read()
    for lid in ("dual_random_share", "credit_application_rate", "licence_reform_coverage",
                "simplified_deregistration", "compulsory_deregistration", "individual_to_company_rate"):
        block = text.split(f"\n{lid} =")[0].rsplit("\n\n", 1)[-1]
        assert "二(" in block or "Indicator" in block or "三(" in block, lid


def test_city_override_applies_to_that_city_only():
    scenario = parse_scenario({"levers": {"inspection_capacity": 10, "city": {"Wenzhou": {"inspection_capacity": 4}}}})
    assert scenario.lever("inspection_capacity", 2023, "Wenzhou") == 4
    assert scenario.lever("inspection_capacity", 2023, "Hangzhou") == 10
    assert scenario.lever("inspection_capacity", 2023) == 10


def test_toml_round_trip_keeps_the_scenario(tmp_path):
    plan = apply_overrides(load_scenario("scenarios/plan.toml"), ["Ningbo.fine_level=2"])
    path = tmp_path / "again.toml"
    path.write_text(plan.to_toml(), encoding="utf-8")
    again = load_scenario(path)
    for lever in LEVERS:
        for year in range(2020, 2031):
            for city in (None, *CITIES):
                assert again.lever(lever.id, year, city) == plan.lever(lever.id, year, city)


@pytest.mark.parametrize("text, key, allowed", [
    ("levers = [", "malformed TOML", ""),
    ("[levers]\nno_such_lever = 1", "levers.no_such_lever", "dual_random_share"),
    ("[levers.city.Atlantis]\nfine_level = 1", "levers.city.Atlantis", "Hangzhou"),
    ("[levers]\ndual_random_share = 150", "levers.dual_random_share", "from 0 to 100"),
    ("[levers]\ndual_random_share = 'high'", "levers.dual_random_share", "a number from 0 to 100"),
    ("[levers]\ndual_random_share = { 2020 = 10, 2099 = 50 }", "levers.dual_random_share.2099", "2015 to 2035"),
    ("[levers]\ncompulsory_deregistration = 0.5", "levers.compulsory_deregistration", "a whole number"),
    ("[uncertainties]\nweather = 1", "uncertainties.weather", "gdp_growth"),
    ("colour = 'red'", "colour", "levers"),
    ("[parameters]\nno_such_parameter = 1", "parameters", "python -m sim params"),
    ("[parameters]\nsize_tail_alpha = 'x'", "parameters", "must be a number"),
])
def test_bad_input_names_file_key_and_what_is_allowed(tmp_path, text, key, allowed):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    assert key in message
    assert allowed in message
    assert "\n" not in message


def test_missing_and_binary_files_give_clear_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(binary)


def test_overrides_set_levers_paths_and_cities():
    scenario = apply_overrides(baseline(), ["dual_random_share=2020:10,2025:70", "Wenzhou.fine_level=2",
                                            "gdp_growth=4"])
    assert scenario.lever("dual_random_share", 2025) == 70
    assert scenario.lever("fine_level", 2022, "Wenzhou") == 2
    assert scenario.lever("fine_level", 2022, "Ningbo") == 1
    assert scenario.uncertainty("gdp_growth", 2022) == 4


@pytest.mark.parametrize("assignment, fragment", [
    ("no_such_lever=1", "unknown lever 'no_such_lever'"),
    ("dual_random_share=500", "out of range"),
    ("dual_random_share=abc", "'abc' is not a number"),
    ("Atlantis.fine_level=1", "unknown city 'Atlantis'"),
    ("fine_level", "expected lever=value"),
])
def test_bad_overrides_are_one_clear_line(assignment, fragment):
    with pytest.raises(ScenarioError) as err:
        apply_overrides(baseline(), [assignment])
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_a_scenario_sets_submodel_parameters_by_name_and_they_reach_the_submodels(tmp_path):
    """[parameters] names a parameter of any set (entity, programmes, innovation) without saying which."""
    from sim.engines.vector import VectorMarketModel
    from sim.inputs.parameters import SET_OF

    assert SET_OF["ip_center_rate"] == "programmes" and SET_OF["brand_elasticity"] == "innovation"
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[parameters]\nip_center_rate = 9.0\nbrand_elasticity = 0.25\npeer_weight = 2.5\n')
    scenario = load_scenario(path)
    assert scenario.submodel_parameters["programmes"].ip_center_rate == 9.0
    assert scenario.submodel_parameters["innovation"].brand_elasticity == 0.25
    assert scenario.parameters.peer_weight == 2.5
    model = VectorMarketModel(scenario, scale=200000, seed=0, horizon=2021)
    assert model.submodel("programmes").params.ip_center_rate == 9.0
    assert model.submodel("innovation").params.brand_elasticity == 0.25
    # written back as a scenario file that reads to the same parameters
    again = parse_scenario(__import__("tomllib").loads(scenario.to_toml()))
    assert again.changed_parameters() == {"ip_center_rate": 9.0, "brand_elasticity": 0.25, "peer_weight": 2.5}
    assert scenario.to_dict()["submodel_parameters"]["programmes"]["ip_center_rate"] == 9.0


def test_an_unknown_or_non_numeric_submodel_parameter_is_one_clear_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[parameters]\nip_centre_rate = 9.0\n')
    with pytest.raises(ScenarioError, match="unknown parameter 'ip_centre_rate'.*sim params"):
        load_scenario(path)
    path.write_text('name = "s"\n[parameters]\nip_center_rate = "many"\n')
    with pytest.raises(ScenarioError, match="parameter 'ip_center_rate' must be a number"):
        load_scenario(path)


def test_no_parameter_name_is_declared_in_two_sets():
    import dataclasses

    from sim.inputs.parameters import PARAMETER_SETS, SET_OF

    assert len(SET_OF) == sum(len(dataclasses.fields(cls)) for cls in PARAMETER_SETS.values())


@pytest.mark.parametrize("key, value, message", [
    ("entities_2020", -5.0, "'entities_2020' = -5.0 is out of range; allowed: 1 to 3000 (10k entities)"),
    ("entities_2020", 1e9, "allowed: 1 to 3000"),
    ("peer_weight", float("nan"), "'peer_weight' = nan is out of range; allowed: -20 to 20"),
    ("peer_weight", float("inf"), "allowed: -20 to 20"),
    ("peer_weight", 1e9, "allowed: -20 to 20 (logit per unit of peer violation share)"),  # overflowed to NaN once
    ("hazard_scale", -1.0, "'hazard_scale' = -1.0 is out of range; allowed: at least 0 (multiplier)"),
    ("above_scale_2020", 1e9, "allowed: 0 to 480000 (firms)"),  # it sizes the simulated firms
    ("markets_2020", 1e7, "allowed: 0 to 40000 (markets)"),
    ("award_round_month", 13.0, "allowed: 1 to 12 (month)"),
    ("dormant_share_2020", 1.5, "allowed: 0 to 1 (share of registered)"),
])
def test_scenario_parameters_out_of_their_declared_range_are_refused(key, value, message):
    from sim.inputs.levers import ScenarioError
    from sim.inputs.scenario import parse_scenario

    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario({"name": "x", "parameters": {key: value}}, "x.toml")


def test_numpy_scalars_are_numbers_and_priors_lie_in_the_declared_ranges():
    import dataclasses

    import numpy as np

    from sim.calibration.fit import FIT_BOUNDS
    from sim.inputs.parameters import PARAMETER_SETS, SET_OF, Parameters

    assert Parameters().replace(dormant_share_2020=np.float32(0.25)).dormant_share_2020 == pytest.approx(0.25)
    assert Parameters().replace(entities_2020=np.int64(900)).entities_2020 == 900.0
    for name, (low, high) in FIT_BOUNDS.items():
        f = {f.name: f for f in dataclasses.fields(PARAMETER_SETS[SET_OF[name]])}[name]
        if f.metadata["low"] is not None:
            assert f.metadata["low"] <= low, name
        if f.metadata["high"] is not None:
            assert high <= f.metadata["high"], name


@pytest.mark.parametrize("year", ["02025", "2_025", "+2025", "２０２５"])
def test_a_path_year_has_one_spelling(year):
    with pytest.raises(ScenarioError, match=re.escape(f"levers.dual_random_share.{year}: path keys must be "
                                                      "four-digit years")):
        parse_scenario({"name": "x", "levers": {"dual_random_share": {"2020": 10, year: 60}}}, "x.toml")
    assert parse_scenario({"name": "x", "levers": {"dual_random_share": {"2020": 10, "2025": 60}}}).levers[
        "dual_random_share"].at(2025) == 60


def _mutations():
    """A strategy of (path into plan.toml's table, new value or a deletion)."""
    from hypothesis import strategies as st

    values = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10 ** 30, max_value=10 ** 30),
        st.booleans(), st.text(max_size=8), st.lists(st.floats(), max_size=3),
        st.dictionaries(st.text(max_size=6), st.floats(allow_nan=False), max_size=3),
        st.just("__delete__"))
    return st.tuples(st.lists(st.integers(min_value=0, max_value=10 ** 6), min_size=1, max_size=4), values)


def test_mutated_plan_files_run_or_give_the_one_line_message():
    """Random mutations of scenarios/plan.toml: each either parses and runs (a short coarse run) or is
    refused with a ScenarioError naming the file; never another exception."""
    import tomllib

    from hypothesis import HealthCheck, given, settings

    from conftest import ROOT
    from sim.engines.vector import VectorMarketModel

    original = tomllib.loads((ROOT / "scenarios" / "plan.toml").read_text(encoding="utf-8"))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations())
    def check(mutation):
        import copy

        data = copy.deepcopy(original)
        steps, value = mutation
        node = data
        for i, step in enumerate(steps):
            if not isinstance(node, dict) or not node:
                break
            key = sorted(node)[step % len(node)]
            if i == len(steps) - 1 or not isinstance(node[key], dict):
                if value == "__delete__":
                    del node[key]
                else:
                    node[key] = value
                break
            node = node[key]
        try:
            scenario = parse_scenario(data, "plan.toml")
        except ScenarioError as err:
            assert str(err).startswith("plan.toml") and "\n" not in str(err)
            return
        VectorMarketModel(scenario, scale=200000, seed=0, horizon=2021).run()

    check()


def test_every_parameter_declares_a_range_from_its_unit_or_its_own():
    import dataclasses

    from sim.inputs.parameters import PARAMETER_SETS

    for cls in PARAMETER_SETS.values():
        for f in dataclasses.fields(cls):
            low, high = f.metadata["low"], f.metadata["high"]
            assert low is not None or high is not None, f.name
            assert (low is None or f.default >= low) and (high is None or f.default <= high), f.name
