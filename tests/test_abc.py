"""ABC-SMC calibration (sim/calibration/abc.py) and the calibrate command's files."""

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.calibration.abc import AbcSettings, abc_fit
from sim.calibration.fit import FIT_BOUNDS
from sim.calibration.history import load_history
from sim.inputs.posterior import read_posterior

TINY = AbcSettings(population=12, generations=2, seeds=1, scale=8000.0, workers=1, max_minutes=5.0)


@pytest.fixture(scope="module")
def result():
    return abc_fit(load_history(), 2020, TINY, seed=1)


def test_particles_lie_in_their_priors_with_normalised_weights(result):
    assert len(result.particles) == TINY.population
    for name, (low, high) in FIT_BOUNDS.items():
        assert result.particles[name].between(low, high).all(), name
    assert np.isclose(result.particles["weight"].sum(), 1.0)
    assert result.point().keys() == FIT_BOUNDS.keys()
    w = result.particles["weight"].to_numpy()
    assert result.effective_sample_size == pytest.approx(1.0 / np.sum(w ** 2))
    assert 1.0 <= result.effective_sample_size <= TINY.population


def test_the_tolerance_shrinks_from_generation_to_generation(result):
    assert len(result.epsilons) == TINY.generations
    assert result.epsilons[1] < result.epsilons[0]
    assert (result.distances <= result.epsilons[-1] + 1e-9).all()


def test_the_same_seed_gives_the_same_posterior():
    again = abc_fit(load_history(), 2020, AbcSettings(population=8, generations=1, seeds=1, scale=8000.0, workers=1),
                    seed=3)
    twice = abc_fit(load_history(), 2020, AbcSettings(population=8, generations=1, seeds=1, scale=8000.0, workers=1),
                    seed=3)
    pd.testing.assert_frame_equal(again.particles, twice.particles)


@pytest.mark.slow
def test_calibrate_writes_posterior_point_fit_and_reports(tmp_path, capsys):
    code = cli.main(["calibrate", "--population", "12", "--generations", "2", "--seeds", "1", "--scale", "8000",
                     "--workers", "1", "--out", str(tmp_path / "fitted.toml"),
                     "--posterior", str(tmp_path / "posterior.parquet")])
    assert code == 0
    posterior = read_posterior(tmp_path / "posterior.parquet")
    assert len(posterior.weights) == 12
    for name in ("posterior.md", "posterior_marginals.png", "posterior_pairs.png", "posterior_checks.png",
                 "fitted.toml", "fitted.md", "fitted.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    text = (tmp_path / "posterior.md").read_text()
    assert "Posterior predictive checks" in text and "market_entities_total" in text
    assert "ABC-SMC generations" in capsys.readouterr().err


def test_calibrate_refuses_an_unwritable_posterior_before_any_work(tmp_path, capsys):
    code = cli.main(["calibrate", "--posterior", str(tmp_path), "--out", str(tmp_path / "f.toml")])
    assert code == 2
    assert "must name a file" in capsys.readouterr().err
    assert not (tmp_path / "f.toml").exists()
