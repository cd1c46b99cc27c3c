"""The posterior file and one draw per seed (sim/inputs/posterior.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.inputs import posterior as post
from sim.inputs.parameters import Parameters
from sim.inputs.parameters.declare import priors
from sim.inputs.scenario import baseline, load_scenario
from sim.runs.runner import run_seed


@pytest.fixture(scope="module")
def committed():
    assert post.POSTERIOR_FILE.exists(), "calibration/posterior.parquet is committed"
    return post.read_posterior(post.POSTERIOR_FILE)


def test_committed_posterior_lies_in_the_priors_and_has_spread(committed):
    from sim.calibration.fit import FIT_BOUNDS

    bounds = priors(Parameters)
    assert set(committed.names) == set(FIT_BOUNDS) and set(FIT_BOUNDS) <= set(bounds)
    for name in committed.names:
        low, high = bounds[name]
        values = committed.values[name]
        assert values.between(low, high).all(), name
    assert np.isclose(committed.weights.sum(), 1.0)
    # an effective sample size of many particles (the command warns below 50): runs draw genuinely
    # different parameters, not one particle holding most of the weight
    assert 1.0 / np.sum(committed.weights ** 2) >= 50 and committed.weights.max() < 0.1


def test_a_seed_draws_the_same_particle_everywhere_and_seeds_differ(committed):
    assert committed.draw_index(7) == committed.draw_index(7)
    draws = {committed.draw_index(s) for s in range(40)}
    assert len(draws) > 10
    # draws follow the weights: the heaviest quarter of the particles gets about its share of 4,000 draws
    counts = np.bincount([committed.draw_index(s) for s in range(4000)], minlength=len(committed.weights))
    heavy = np.argsort(committed.weights)[-len(committed.weights) // 4:]
    expected = committed.weights[heavy].sum()
    assert abs(counts[heavy].sum() / 4000 - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000)


def test_a_scenario_keeps_the_parameters_it_sets_itself(committed):
    own = baseline().with_parameters({"hazard_scale": 2.5})
    drawn = committed.apply(own, 3)
    assert drawn.parameters.hazard_scale == 2.5
    assert drawn.parameters.entity_density_ceiling == committed.draw(3)["entity_density_ceiling"]
    assert post.for_seed(own, 3, "point") is own


def test_a_seed_with_its_posterior_draw_repeats_bit_for_bit_and_is_the_draw(committed):
    scenario = load_scenario("scenarios/plan.toml")
    a = run_seed(scenario, 5, scale=20000, horizon=2022, engine="vector")
    b = run_seed(scenario, 5, scale=20000, horizon=2022, engine="vector")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    by_hand = run_seed(post.apply_draws(scenario, 5, committed, post.default_submodel_posterior()), 5, scale=20000,
                       horizon=2022, engine="vector", parameters="point")
    pd.testing.assert_frame_equal(a, by_hand, check_exact=True)
    point = run_seed(scenario, 5, scale=20000, horizon=2022, engine="vector", parameters="point")
    assert not a.equals(point)


@pytest.mark.parametrize("frame, fragment", [
    (pd.DataFrame({"hazard_scale": [1.0]}), "'weight' column"),
    (pd.DataFrame({"no_such_parameter": [1.0], "weight": [1.0]}), "unknown parameters ['no_such_parameter']"),
    (pd.DataFrame({"hazard_scale": [1.0, 2.0], "weight": [-1.0, 0.5]}), "non-negative"),
])
def test_a_bad_posterior_file_is_named_with_what_is_wrong(tmp_path, frame, fragment):
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    with pytest.raises(post.PosteriorError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        post.read_posterior(path)
    damaged = tmp_path / "d.parquet"
    damaged.write_bytes(b"not parquet")
    with pytest.raises(post.PosteriorError, match="not a readable posterior"):
        post.read_posterior(damaged)


def test_run_records_the_draws_and_point_runs_say_so(tmp_path, committed, capsys):
    args = ["run", "--scenario", "scenarios/baseline.toml", "--seeds", "2", "--scale", "40000", "--horizon", "2021",
            "--workers", "1", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == 0
    meta = json.loads((tmp_path / "a" / "run.json").read_text())["parameters"]
    assert meta["mode"] == "posterior" and meta["particles"] == len(committed.weights)
    assert meta["draws"] == {"0": committed.draw_index(0), "1": committed.draw_index(1)}
    assert "programme_delivery" in meta["from_priors"]
    assert cli.main([*args, "--out", str(tmp_path / "b"), "--parameters", "point"]) == 0
    assert json.loads((tmp_path / "b" / "run.json").read_text())["parameters"]["mode"] == "point"


def test_a_damaged_committed_posterior_stops_a_run_with_one_line(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "posterior.parquet"
    damaged.write_bytes(b"\x00damaged")
    monkeypatch.setattr(post, "POSTERIOR_FILE", damaged)
    post.default_posterior.cache_clear()
    try:
        code = cli.main(["run", "--scenario", "scenarios/baseline.toml", "--seeds", "1", "--scale", "40000",
                         "--horizon", "2021", "--workers", "1", "--quiet", "--out", str(tmp_path / "out")])
    finally:
        post.default_posterior.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and "not a readable posterior" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "run.json").exists()


def test_parameters_the_posterior_does_not_hold_are_drawn_from_their_priors(committed):
    bounds = post.uncertain_priors()
    only_prior = [n for n in bounds if n not in committed.names]
    assert "programme_delivery" in only_prior
    values = np.array([post.draws(s, committed)["programme_delivery"] for s in range(2000)])
    low, high = bounds["programme_delivery"]
    assert values.min() >= low and values.max() <= high
    # uniform: mean (low + high) / 2 within 4 standard errors, and the same draw for the same seed
    se = (high - low) / np.sqrt(12 * values.size)
    assert abs(values.mean() - (low + high) / 2) < 4 * se
    assert post.draws(11, committed) == post.draws(11, committed)
    # the posterior's own parameters still come from its particle
    assert {k: post.draws(11, committed)[k] for k in committed.names} == committed.draw(11)
    without_file = post.draws(11, None)
    assert set(without_file) == set(bounds) and without_file["programme_delivery"] == post.draws(11, committed)[
        "programme_delivery"]


def test_programme_delivery_scales_each_programme_levers_change_from_2020_practice():
    from sim.submodels.programmes import DELIVERED_LEVERS, delivered

    plan = load_scenario("scenarios/plan.toml")
    half = delivered(plan, 0.5)
    for lever in DELIVERED_LEVERS:
        for year in (2020, 2022, 2025):
            assert half.lever(lever, year) == pytest.approx(1 + (plan.lever(lever, year) - 1) * 0.5), lever
    assert half.lever("dual_random_share", 2025) == plan.lever("dual_random_share", 2025)  # not a programme lever
    assert delivered(plan, 1.0).lever("product_spot_check_effort", 2025) == plan.lever("product_spot_check_effort", 2025)
    # a run's spot checks follow the delivered effort: less delivery, fewer batches (same seed)
    low = run_seed(plan.with_parameters({"programme_delivery": 0.6}), 2, scale=40000, horizon=2023,
                   engine="vector", parameters="point")
    high = run_seed(plan.with_parameters({"programme_delivery": 1.4}), 2, scale=40000, horizon=2023,
                    engine="vector", parameters="point")
    pick = lambda t: t[(t.indicator == "product_quality_spot_checks") & (t.year == 2023)].value.item()  # noqa: E731
    assert pick(low) < pick(high)


def test_a_posterior_file_given_as_the_parameters_draws_as_the_committed_one_does():
    from sim.inputs.posterior import POSTERIOR_FILE, for_seed, is_mode
    from sim.inputs.scenario import baseline

    assert is_mode("posterior") and is_mode("point") and is_mode("refit.parquet") and not is_mode("refit.csv")
    for seed in (0, 7):
        assert for_seed(baseline(), seed, str(POSTERIOR_FILE)).parameters == for_seed(baseline(), seed).parameters
    with pytest.raises(ValueError, match="not allowed"):
        for_seed(baseline(), 0, "refit.csv")
