"""sim.api: levers to outcomes for exploratory-modelling tools, and the EMA Workbench example."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import ROOT
from sim.api import evaluate
from sim.inputs.levers import ScenarioError


def test_evaluate_gives_a_row_per_seed_that_a_run_repeats():
    one = evaluate(levers={"fine_level": np.float32(2.0)}, uncertainties={"gdp_growth": 4.5}, seeds=[3, 4],
                   indicators=["market_entities", "compliance_rate"], year=2021, scale=40000)
    assert list(one.columns) == ["seed", "market_entities", "compliance_rate"] and list(one.seed) == [3, 4]
    again = evaluate(levers={"fine_level": 2.0}, uncertainties={"gdp_growth": 4.5}, seeds=[3, 4],
                     indicators=["market_entities", "compliance_rate"], year=2021, scale=40000)
    assert one.equals(again)
    lenient = evaluate(levers={"fine_level": 1.0}, uncertainties={"gdp_growth": 4.5}, seeds=[3, 4],
                       indicators=["compliance_rate"], year=2021, scale=40000)
    assert (one.compliance_rate > lenient.compliance_rate).all()  # heavier fines deter, seed for seed


@pytest.mark.parametrize("kwargs, message", [
    ({"levers": {"fine_levels": 2}}, "lever fine_levels: unknown; allowed: "),
    ({"levers": {"fine_level": 99}}, "fine_level: 99 is out of range"),
    ({"indicators": ["no_such"]}, "indicators: unknown or not modelled no_such"),
])
def test_evaluate_refuses_what_the_model_does_not_have(kwargs, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        evaluate(seeds=1, year=2021, scale=40000, **kwargs)


def test_the_ema_workbench_example_in_the_docs_runs():
    text = (ROOT / "docs" / "EXPLORATORY.md").read_text(encoding="utf-8")
    example = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "perform_experiments" in block]
    assert len(example) == 1
    namespace: dict = {}
    exec(compile(example[0], "docs/EXPLORATORY.md", "exec"), namespace)  # noqa: S102 - our own documentation
    experiments, outcomes = namespace["experiments"], namespace["outcomes"]
    assert len(experiments) == 4 and set(experiments.columns) >= {"gdp_growth", "fine_level"}
    assert outcomes["compliance_rate"].shape == (4, 2) and outcomes["market_entities"].shape == (4, 2)
    assert np.isfinite(outcomes["market_entities"]).all() and (outcomes["market_entities"] > 700).all()
    # the same replication seed in every experiment: common random numbers across them
    by_seed = outcomes["market_entities"]
    assert not np.allclose(by_seed[:, 0], by_seed[:, 1])
