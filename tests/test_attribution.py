"""Attribution of B - A to lever groups: Shapley axioms on toy games, hybrids, the model, the command."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.analysis import attribution
from sim.analysis.attribution import (GROUPS, GROUPS_BY_ID, OTHER, attribute, crossed_standard_error,
                                      differing_groups, hybrid, permutation_shapley, shapley_values, totals)
from sim.cli import main
from sim.inputs.levers import LEVERS, UNCERTAINTIES
from sim.inputs.posterior import for_seed
from sim.inputs.scenario import apply_overrides, baseline, load_scenario
from sim.runs.ensemble import run_ensemble

FAST = {"scale": 200000.0, "year": 2021, "workers": 1}
CLI_FAST = ["--seeds", "2", "--scale", "200000", "--horizon", "2021", "--year", "2021", "--workers", "1", "--quiet"]


def _game(players, value):
    return {frozenset(s): value(frozenset(s)) for n in range(len(players) + 1)
            for s in itertools.combinations(players, n)}


def _toy(s: frozenset) -> float:
    """Additive terms 1, 2, 3 and a symmetric interaction of 4 between a and b."""
    return sum({"a": 1.0, "b": 2.0, "c": 3.0}[p] for p in s) + (4.0 if {"a", "b"} <= s else 0.0)


def _random_game(players, seed=3):
    rng = np.random.default_rng(seed)
    coef = {frozenset(s): rng.normal() for n in (1, 2, 3) for s in itertools.combinations(players, n)}
    return _game(players, lambda s: sum(c for t, c in coef.items() if t <= s))


# --------------------------------------------------------------------------------------------
# Toy games


def test_exact_values_of_an_additive_game_with_a_symmetric_interaction():
    values = shapley_values(_game("abc", _toy), list("abc"))
    assert values["a"] == pytest.approx(3.0) and values["b"] == pytest.approx(4.0)
    assert values["c"] == pytest.approx(3.0)
    assert sum(values.values()) == pytest.approx(_toy(frozenset("abc")) - _toy(frozenset()))


def test_exact_values_are_elementwise_and_efficient_on_arrays():
    players = list("abcde")
    game = _random_game(players)
    arrays = {s: np.array([[v, 2 * v], [-v, 0.0]]) for s, v in game.items()}
    scalar, vector = shapley_values(game, players), shapley_values(arrays, players)
    for p in players:
        assert vector[p] == pytest.approx(np.array([[scalar[p], 2 * scalar[p]], [-scalar[p], 0.0]]))
    total = sum(vector.values())
    assert total == pytest.approx(arrays[frozenset(players)] - arrays[frozenset()], abs=1e-12)


def test_symmetric_players_get_equal_values():
    game = _game("xyz", lambda s: float(len(s) ** 2))
    values = shapley_values(game, list("xyz"))
    assert values["x"] == pytest.approx(values["y"]) == pytest.approx(values["z"]) == pytest.approx(3.0)


def test_permutation_estimator_is_efficient_and_near_the_truth():
    players = list("abcdef")
    game = _random_game(players)
    truth = shapley_values(game, players)
    estimates, errors = permutation_shapley(game, players, permutations=60, seed=11)
    assert sum(estimates.values()) == pytest.approx(game[frozenset(players)] - game[frozenset()], abs=1e-12)
    for p in players:
        assert abs(estimates[p] - truth[p]) <= 4 * errors[p] + 1e-12, p
    # a function of the subset works too, and the same seed gives the same orders
    again, _ = permutation_shapley(lambda s: game[s], players, permutations=60, seed=11)
    assert again == estimates


def test_permutation_estimator_is_exact_on_an_additive_game():
    estimates, errors = permutation_shapley(lambda s: float(sum(ord(p) for p in s)), list("abcd"), 5, seed=0)
    assert estimates == {p: pytest.approx(ord(p)) for p in "abcd"}
    assert all(e == pytest.approx(0.0) for e in errors.values())


def test_crossed_standard_error_reduces_to_the_seed_error_with_one_order():
    values = np.random.default_rng(0).normal(size=(1, 8, 3))
    expected = values[0].std(axis=0, ddof=1) / np.sqrt(8)
    assert crossed_standard_error(values) == pytest.approx(expected)
    assert np.isnan(crossed_standard_error(values[:, :1])).all()


# --------------------------------------------------------------------------------------------
# Groups and hybrids


def test_every_lever_and_uncertainty_is_in_exactly_one_group():
    members = [lid for g in GROUPS for lid in g.levers]
    assert sorted(members) == sorted(lv.id for lv in (*LEVERS, *UNCERTAINTIES))
    assert "product_spot_check_effort" in GROUPS_BY_ID["food_product_safety"].levers
    assert "commodity_market_upgrading" in GROUPS_BY_ID["food_product_safety"].levers
    assert {"quality_programme", "ip_programme", "standards_programme"} <= set(GROUPS_BY_ID["quality_ip_standards"].levers)
    assert "gdp_growth" in GROUPS_BY_ID["economy"].levers
    assert GROUPS[-1].id == OTHER and GROUPS[-1].levers == ()


def test_baseline_and_plan_differ_in_six_groups():
    a, b = load_scenario("scenarios/baseline.toml"), load_scenario("scenarios/plan.toml")
    assert differing_groups(a, b) == ["registration", "dual_random", "credit", "quality_ip_standards",
                                      "food_product_safety", "digital"]
    full = hybrid(a, b, differing_groups(a, b))
    assert differing_groups(full, b) == [] and differing_groups(hybrid(a, b, []), a) == []
    half = hybrid(a, b, ["credit"])
    assert differing_groups(a, half) == ["credit"] and half.lever("credit_application_rate", 2025) == 80


def test_hybrids_take_city_overrides_with_their_group_and_other_settings():
    a = apply_overrides(baseline(), ["Wenzhou.fine_level=2", "Ningbo.digital_investment=3"])
    b = apply_overrides(baseline(), ["Lishui.fine_level=3", "gdp_growth=4"]).with_parameters({"memory_decay": 0.5})
    assert differing_groups(a, b) == ["credit", "digital", "economy", OTHER]
    credit = hybrid(a, b, ["credit"])
    assert credit.lever("fine_level", 2025, "Wenzhou") == 1 and credit.lever("fine_level", 2025, "Lishui") == 3
    assert credit.lever("digital_investment", 2025, "Ningbo") == 3  # another group's override stays A's
    other = hybrid(a, b, [OTHER])
    assert other.parameters.memory_decay == 0.5 and differing_groups(a, other) == [OTHER]
    assert differing_groups(hybrid(a, b, differing_groups(a, b)), b) == []
    # equal paths written differently are not a difference
    same = apply_overrides(baseline(), ["fine_level=2020:1,2030:1"])
    assert differing_groups(baseline(), same) == []


def test_a_seed_draws_the_same_parameters_in_every_hybrid():
    a, b = load_scenario("scenarios/baseline.toml"), load_scenario("scenarios/plan.toml")
    groups = differing_groups(a, b)
    for seed in (0, 7):
        drawn = for_seed(a, seed)
        for subset in ([], groups[:2], groups[3:], groups):
            other = for_seed(hybrid(a, b, subset), seed)
            assert other.parameters == drawn.parameters
            assert other.submodel_parameters == drawn.submodel_parameters
    assert for_seed(a, 0).parameters != for_seed(a, 1).parameters  # the draw does depend on the seed


# --------------------------------------------------------------------------------------------
# The model


def test_identical_groups_get_zero_without_being_run(monkeypatch):
    a = baseline()
    b = apply_overrides(a, ["product_spot_check_effort=2020:1,2021:2.9"])
    ran = []

    def fake(scenario, seeds, **kwargs):
        ran.append(scenario)
        return run_ensemble(scenario, seeds, **kwargs)

    monkeypatch.setattr(attribution, "run_ensemble", fake)
    frame = attribute(a, b, [0, 1], **FAST)
    assert len(ran) == 2 and frame.attrs["runs"] == 4 and frame.attrs["groups_run"] == ["food_product_safety"]
    idle = frame[frame.group != "food_product_safety"]
    assert (idle.contribution == 0).all() and (idle.se == 0).all() and (idle.method == "identical").all()
    assert OTHER not in set(frame.group)
    # the one group that differs takes the whole difference
    moved = frame[frame.group == "food_product_safety"]
    assert moved.contribution.to_numpy() == pytest.approx(moved.total.to_numpy(), abs=1e-9, nan_ok=True)
    assert moved.set_index("indicator").loc["product_quality_spot_checks", "contribution"] > 0
    # identical scenarios: nothing is run, everything is 0
    ran.clear()
    same = attribute(a, a, [0, 1], **FAST)
    assert ran == [] and (same.contribution == 0).all() and (same.total == 0).all()


def _paired_difference(a, b, seeds, year=2021):
    def at(scenario):
        tidy = run_ensemble(scenario, seeds, scale=FAST["scale"], horizon=year, engine="vector", workers=1)
        return tidy[tidy.year == year].pivot_table(index="seed", columns="indicator", values="value")
    return (at(b) - at(a)).mean()


@pytest.mark.parametrize("exact", [True, False])
def test_contributions_add_up_to_the_mean_difference(exact):
    a = baseline()
    b = apply_overrides(a, ["dual_random_share=2020:10,2021:60", "credit_penalty_severity=2",
                            "entry_cost_index=0.6"])
    seeds = [0, 1]
    frame = attribute(a, b, seeds, max_exact_groups=3 if exact else 2, permutations=3, **FAST)
    assert frame.attrs["method"] == ("exact" if exact else "permutations")
    assert list(frame.columns[:8]) == ["indicator", "name_zh", "name_en", "unit", "group", "label_zh", "label_en",
                                       "contribution"]
    sums = totals(frame).set_index("indicator")
    assert sums.sum_of_contributions.to_numpy() == pytest.approx(sums.total.to_numpy(), rel=1e-9, abs=1e-9)
    direct = _paired_difference(a, b, seeds)
    assert sums.total.to_numpy() == pytest.approx(direct.loc[sums.index].to_numpy(), rel=1e-9, abs=1e-9)
    assert (frame.se >= 0).all()


def test_the_attribution_rejects_a_year_after_the_horizon():
    with pytest.raises(attribution.AttributionError, match="after the horizon"):
        attribute(baseline(), baseline(), [0], year=2025, horizon=2022)


@pytest.mark.slow
def test_baseline_against_plan_adds_up_over_six_groups():
    a, b = load_scenario("scenarios/baseline.toml"), load_scenario("scenarios/plan.toml")
    frame = attribute(a, b, [0, 1], scale=200000.0, year=2021, workers=2)
    assert frame.attrs["runs"] == 64 * 2
    sums = totals(frame)
    assert sums.sum_of_contributions.to_numpy() == pytest.approx(sums.total.to_numpy(), rel=1e-9, abs=1e-9)
    row = frame.set_index(["indicator", "group"])
    assert row.loc[("credit_application_rate", "credit"), "contribution"] > 0
    assert row.loc[("product_quality_spot_checks", "food_product_safety"), "contribution"] > 0


# --------------------------------------------------------------------------------------------
# The command


def _scenario_files(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('name = "a"\n', encoding="utf-8")
    b.write_text('name = "b"\n[levers]\ndual_random_share = { 2020 = 10, 2021 = 50 }\nfine_level = 2\n'
                 "[levers.city.Wenzhou]\ncredit_application_rate = 90\n", encoding="utf-8")
    return str(a), str(b)


def test_command_writes_attribution_csv_and_prints_the_table(tmp_path, capsys):
    a, b = _scenario_files(tmp_path)
    out = tmp_path / "out"
    assert main(["attribute", a, b, *CLI_FAST, "--out", str(out), "--lang", "en"]) == 0
    table = pd.read_csv(out / "attribution.csv")
    assert {"indicator", "group", "contribution", "se", "total", "total_se"} <= set(table.columns)
    assert set(table.group) == {g.id for g in GROUPS if g.id != OTHER}
    sums = table.groupby("indicator").agg(total=("total", "first"), summed=("contribution", "sum"))
    assert sums.summed.to_numpy() == pytest.approx(sums.total.to_numpy(), rel=1e-6, abs=1e-6)
    printed = capsys.readouterr().out
    assert "2021: b against a" in printed and "Double-random supervision" in printed
    assert "Identical in both" in printed
    assert main(["attribute", a, b, *CLI_FAST]) == 0  # Chinese by default, as run and compare
    assert "按政策组分解" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["missing.toml", "scenarios/plan.toml"], "missing.toml"),
    (["scenarios/baseline.toml", "scenarios/plan.toml", "--year", "2025", "--horizon", "2022"], "after --horizon"),
    (["scenarios/baseline.toml", "scenarios/plan.toml", "--permutations", "0"], "--permutations"),
    (["scenarios/baseline.toml", "scenarios/plan.toml", "--seeds", "0"], "--seeds"),
])
def test_bad_input_gives_one_error_line_and_exit_2(args, message, capsys):
    assert main(["attribute", *args, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_an_unknown_lever_gives_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[levers]\nno_such_lever = 1\n', encoding="utf-8")
    assert main(["attribute", "scenarios/baseline.toml", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "no_such_lever" in err[0]
