"""Regression against a stored baseline: the plan scenario's yearly indicators, two seeds.

Any change that moves a number fails here with the indicators it moved. When the change is
intended (a refit, a new mechanism), regenerate the file and commit it with the change:

    .venv/bin/python -m pytest tests/test_regression.py --update-baseline
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT
from sim.runs.ensemble import run_ensemble
from sim.inputs.scenario import load_scenario

BASELINE = ROOT / "tests" / "baseline" / "plan_indicators.csv"
SEEDS, SCALE, HORIZON = (0, 1), 20000.0, 2025


def _current() -> pd.DataFrame:
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    tidy = run_ensemble(plan, SEEDS, scale=SCALE, horizon=HORIZON, engine="vector", workers=1)
    return tidy[["seed", "year", "indicator", "value"]].sort_values(["seed", "year", "indicator"]).reset_index(drop=True)


def test_plan_indicators_match_the_stored_baseline(request):
    now = _current()
    if request.config.getoption("--update-baseline"):
        BASELINE.parent.mkdir(exist_ok=True)
        now.to_csv(BASELINE, index=False, float_format="%.17g")
        pytest.skip(f"wrote {BASELINE.relative_to(ROOT)}")
    stored = pd.read_csv(BASELINE)
    merged = stored.merge(now, on=["seed", "year", "indicator"], how="outer", suffixes=("_stored", "_now"),
                          indicator=True)
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"rows only in one of baseline/now:\n{missing.head(20)}"
    rel = (merged["value_now"] - merged["value_stored"]).abs() / merged["value_stored"].abs().clip(lower=1e-9)
    moved = merged[rel > 1e-9]
    assert moved.empty, (
        f"{moved['indicator'].nunique()} indicators moved from the stored baseline, e.g.\n"
        f"{moved.head(12).to_string(index=False)}\nIf intended, regenerate it (see this file's docstring).")
