"""Regression against stored baselines: the plan scenario's yearly indicators, two seeds, each engine.

Any change that moves a stored number - by a single bit - or drops one fails here. The
two engines agree to about 1e-12 (tests/test_vector.py), not bit for bit, so each has its own file.
When a change is intended (a refit, a new mechanism), regenerate the files and commit them with it:

    .venv/bin/python -m pytest tests/test_regression.py --update-baseline
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT
from sim.inputs.scenario import load_scenario
from sim.runs.ensemble import run_ensemble

BASELINES = {"vector": ROOT / "tests" / "baseline" / "plan_indicators.csv",
             "mesa": ROOT / "tests" / "baseline" / "plan_indicators_mesa.csv"}
SEEDS, SCALE, HORIZON = (0, 1), 20000.0, 2025


def _current(engine: str) -> pd.DataFrame:
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    tidy = run_ensemble(plan, SEEDS, scale=SCALE, horizon=HORIZON, engine=engine, workers=1)
    return tidy[["seed", "year", "indicator", "value"]].sort_values(["seed", "year", "indicator"]).reset_index(drop=True)


@pytest.mark.parametrize("engine", sorted(BASELINES))
def test_plan_indicators_match_the_stored_baseline_bit_for_bit(request, engine):
    now = _current(engine)
    baseline = BASELINES[engine]
    if request.config.getoption("--update-baseline"):
        baseline.parent.mkdir(exist_ok=True)
        now.to_csv(baseline, index=False, float_format="%.17g")  # 17 significant digits: exact round trip
        pytest.skip(f"wrote {baseline.relative_to(ROOT)}")
    stored = pd.read_csv(baseline)
    merged = stored.merge(now, on=["seed", "year", "indicator"], how="left", suffixes=("_stored", "_now"))
    missing = merged[merged["value_now"].isna()]
    assert missing.empty, f"rows of the baseline no longer produced:\n{missing.head(20)}"
    # an indicator added since the baseline was stored is an addition, not a change: it joins the
    # baseline the next time it is regenerated
    moved = merged[merged["value_now"] != merged["value_stored"]]
    assert moved.empty, (
        f"{moved['indicator'].nunique()} indicators moved from the stored {engine} baseline, e.g.\n"
        f"{moved.head(12).to_string(index=False)}\nIf intended, regenerate it (see this file's docstring).")
