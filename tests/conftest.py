"""Shared test helpers: small, fast model runs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from sim.engines.model import MarketModel
from sim.engines.vector import VectorMarketModel
from sim.inputs.scenario import Scenario, apply_overrides, baseline

ROOT = Path(__file__).resolve().parents[1]
TEST_SCALE = 40000.0  # about 200 simulated entities: fast, still every process runs


def pytest_addoption(parser):
    parser.addoption("--update-baseline", action="store_true",
                     help="rewrite tests/baseline/ from the current code (tests/test_regression.py)")


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def scenario_with(*assignments: str, base: Scenario | None = None, **parameters: float) -> Scenario:
    """Baseline (or ``base``) with lever overrides and parameter changes."""
    scenario = apply_overrides(base or baseline(), assignments)
    if parameters:
        scenario = dataclasses.replace(scenario, parameters=scenario.parameters.replace(**parameters))
    return scenario


ENGINES = {"mesa": MarketModel, "vector": VectorMarketModel}


def run_model(scenario: Scenario | None = None, seed: int = 0, scale: float = TEST_SCALE,
              horizon: int = 2022, engine: str = "mesa") -> MarketModel:
    """Run a model to December of ``horizon``."""
    model = ENGINES[engine](scenario, scale=scale, seed=seed, horizon=horizon)
    model.run()
    return model


def paired_difference(values_a, values_b) -> tuple[float, float]:
    """Mean and standard error of paired differences b - a across seeds."""
    diff = np.asarray(values_b, float) - np.asarray(values_a, float)
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def check_parameter_declarations(rows: list[dict], cls: type, what: str) -> None:
    """A documented parameter set (sim.inputs.parameters.documented): a row per field with unit, source and a
    known status, and ``replace`` refusing a name it does not have."""
    assert {r["name"] for r in rows} == set(cls.__dataclass_fields__)
    for row in rows:
        assert row["unit"] and row["source"], row["name"]
        assert row["status"] in {"source", "derived", "assumption", "calibrate"}, row["name"]
    with pytest.raises(ValueError, match=f"unknown {what} parameter"):
        cls().replace(no_such=1.0)


def ci() -> bool:
    return os.environ.get("CI") == "true"
