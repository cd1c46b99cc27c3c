"""The indicator registry declares the plan's 24 indicators once, from the plan data."""

from __future__ import annotations

import csv

from sim.indicators import by_id, plan_indicators, registry


def test_all_24_plan_indicators_are_declared_from_the_plan_data():
    with open("sim/data/plan_indicators.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    declared = plan_indicators()
    assert [i.id for i in declared] == [r["id"] for r in rows]
    assert len(declared) == 24
    for ind, row in zip(declared, rows):
        assert ind.no == int(row["no"])
        assert ind.name_zh == row["name_zh"] and ind.name_en == row["name_en"]
        assert ind.target == float(row["target_2025"]) and ind.target_op == row["target_op"]
        assert ind.attribute == row["attribute_en"]
        assert ind.mechanism and ind.level in {"entity", "regulator", "market", "programme"}
    assert sum(i.attribute == "binding" for i in declared) == 8


def test_required_indicators_are_modelled_and_ids_unique():
    ids = [i.id for i in registry()]
    assert len(ids) == len(set(ids))
    reg = by_id()
    for iid in ("market_entities", "dual_random_share", "credit_application_rate", "company_share_of_enterprises",
                "new_registrations", "deregistrations", "dormant_entities", "compliance_rate", "inspections",
                "inspections_on_compliant"):
        assert reg[iid].modelled, iid
        assert reg[iid].levers, iid


def test_met_uses_the_comparison():
    reg = by_id()
    assert reg["dual_random_share"].met(60.1) and not reg["dual_random_share"].met(60.0)
    assert reg["credit_application_rate"].met(80.0) and reg["credit_application_rate"].met(80.0 - 1e-12)
    assert not reg["market_entities"].met(1099.0)


def test_every_plan_indicator_every_year_finite_and_not_a_line_to_its_target():
    import numpy as np

    from sim.ensemble import run_ensemble
    from sim.params import load_scenario

    tidy = run_ensemble(load_scenario("scenarios/plan.toml"), range(4), scale=40000, engine="vector", workers=1)
    medians = tidy.groupby(["indicator", "year"])["value"].median()
    for ind in plan_indicators():
        assert ind.modelled, ind.id
        path = medians.loc[ind.id]
        assert list(path.index) == list(range(2020, 2026)), ind.id
        assert np.isfinite(path.to_numpy()).all() and (path.to_numpy() >= 0).all(), ind.id
        if ind.baseline_2020 is not None:
            assert path.loc[2020] == __import__("pytest").approx(ind.baseline_2020, rel=0.02), ind.id
            line = np.linspace(ind.baseline_2020, ind.target, 6)
            assert not np.allclose(path.to_numpy(), line, rtol=1e-3), ind.id
