"""The Zhejiang Made diffusions fitted to their history: the fit, the committed particles and their draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calibration import adoption
from sim.calibration.history import load_history
from sim.inputs import posterior as post
from sim.inputs.parameters import InnovationParameters
from sim.inputs.parameters.declare import priors
from sim.submodels.innovation.rules import adoption_path


def test_the_curve_passes_through_the_2020_count_and_levels_off_at_the_ceiling():
    assert adoption_path(0.0, 1979.0, 7000.0, 0.7) == pytest.approx(1979.0)
    assert adoption_path(40.0, 1979.0, 7000.0, 0.7) == pytest.approx(7000.0, rel=1e-6)
    assert adoption_path(-1.0, 1979.0, 7000.0, 0.7) < 1979.0


def _synthetic(ceiling: float, rate: float, n0: float, lower_2018: bool = False) -> pd.DataFrame:
    rows = []
    for period in ("2014-12", "2015-12", "2016-11", "2017-10", "2018-10", "2019-12"):
        value = float(adoption_path(adoption.years_before_2021(period), n0, ceiling, rate))
        kind = "lower bound" if lower_2018 and period == "2018-10" else "published"
        rows.append(("zhejiang_made_standards", period, value, "standards", kind, "synthetic"))
    rows.append(("zhejiang_made_standards", "2020-12", n0, "standards", "published", "synthetic"))
    return pd.DataFrame(rows, columns=["series", "period", "value", "unit", "kind", "source"])


def test_the_fit_recovers_a_known_diffusion():
    truth_ceiling, truth_rate = 2600.0, 0.9  # 2020 at three quarters of the ceiling: the slowing shows
    particles, effective = adoption.fit_adoptions(_synthetic(truth_ceiling, truth_rate, 1979.0))
    ceiling, rate = particles["standards_ceiling"], particles["standards_diffusion_rate"]
    assert ceiling.quantile(0.05) < truth_ceiling < ceiling.quantile(0.95)
    assert rate.quantile(0.05) < truth_rate < rate.quantile(0.95)
    assert abs(ceiling.median() - truth_ceiling) < 0.25 * truth_ceiling
    assert effective["zhejiang_made_standards"] > 200


def test_a_lower_bound_only_penalises_curves_below_it():
    data = pd.DataFrame({"period": ["2018-10"], "years": [adoption.years_before_2021("2018-10")],
                         "value": [600.0], "lower": [True]})
    above = adoption.log_likelihood(data, 1979.0, np.array([20000.0]), np.array([0.2]))  # curve ~1.6k in 2018
    below = adoption.log_likelihood(data, 1979.0, np.array([2000.0]), np.array([3.0]))  # curve far below 600
    assert above[0] == pytest.approx(0.0, abs=1e-3) and below[0] < -10


def test_the_committed_particles_are_the_fit_of_the_committed_history_inside_their_priors():
    committed = pd.read_parquet(post.SUBMODEL_POSTERIOR_FILE)
    refit, _ = adoption.fit_adoptions(load_history(), 2020)
    pd.testing.assert_frame_equal(committed, refit)  # `sim calibrate` reproduces the file bit for bit
    bounds = priors(InnovationParameters)
    for name in adoption.PARAMETERS:
        low, high = bounds[name]
        assert committed[name].between(low, high).all(), name
    # the declared defaults are the posterior medians (rounded), what point runs use
    defaults = InnovationParameters()
    for name in adoption.PARAMETERS:
        assert getattr(defaults, name) == pytest.approx(committed[name].median(), rel=0.03), name


def test_each_seed_draws_one_particle_of_the_submodel_posterior():
    submodels = post.default_submodel_posterior()
    assert submodels is not None and set(submodels.names) == set(adoption.PARAMETERS)
    a = post.draws(5, post.default_posterior(), submodels)
    row = submodels.values.iloc[submodels.draw_index(5)]
    assert all(a[name] == row[name] for name in adoption.PARAMETERS)
    assert a == post.draws(5, post.default_posterior(), submodels)
    # its own stream: not the entity posterior's particle index
    indices = [submodels.draw_index(s) for s in range(50)]
    assert indices != [post.default_posterior().draw_index(s) for s in range(50)]
    ceilings = np.array([post.draws(s, None, submodels)["pinzi_ceiling"] for s in range(400)])
    full = submodels.values["pinzi_ceiling"]
    # 400 draws of 2,000 equally weighted particles: the median within about 3 standard errors
    assert np.median(ceilings) == pytest.approx(full.median(), abs=3 * 1.25 * full.std() / np.sqrt(400))


def test_calibrate_check_shows_each_submodel_series_with_its_fit():
    particles = pd.read_parquet(post.SUBMODEL_POSTERIOR_FILE)
    text = adoption.check_text(load_history(), particles, "calibration/posterior_submodels.parquet")
    for series, period in (("zhejiang_made_standards", "2016-11"), ("pinzi_brand_firms", "2018-10"),
                           ("zhejiang_made_intl_certs", "2017-10"), ("valid_trademarks", "2017-12")):
        assert any(line.startswith(series) and period in line for line in text.splitlines()), (series, period)
    rows = adoption.check_rows(load_history(), particles)
    assert rows["ok"].dropna().all()  # every published point inside the posterior's 5-95% band


def test_the_diffusions_backtest_forecasts_every_later_count_from_each_published_origin():
    table = adoption.backtest_rows(load_history())
    history = load_history()
    for a in adoption.ADOPTIONS:
        part = table[(table.series == a.series) & (table.method == "model")]
        rows = history[(history.series == a.series) & (history.period.str.len() == 7)]
        published = rows[rows.kind != adoption.LOWER_BOUND].sort_values("period")["period"].tolist()
        assert set(part["origin"]) == set(published[:-1])  # every published count but the last is an origin
        assert (part["target"] > part["origin"]).all()
        assert ((part["p05"] <= part["forecast"]) & (part["forecast"] <= part["p95"])).all()
    # the naive forecasters' closed forms, on the standards from October 2017 to December 2020
    row = table[(table.series == "zhejiang_made_standards") & (table.origin == "2017-10") & (table.target == "2020-12")]
    naive = row.set_index("method")["forecast"]
    dt, span = 38 / 12, 11 / 12
    assert naive["random_walk_drift"] == pytest.approx(260 + (260 - 145) / span * dt)
    assert naive["exponential"] == pytest.approx(260 * (260 / 145) ** (dt / span))
    lines = adoption.backtest_lines(table)
    assert any(line.startswith("- pinzi_brand_firms: the diffusion") for line in lines)
