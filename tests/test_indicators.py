"""The indicator registry declares the plan's 24 indicators once, from the plan data."""

from __future__ import annotations

import csv
import re

from sim.outputs.indicators import by_id, plan_indicators, registry

CJK = re.compile(r"[\u4e00-\u9fff]")
# English mechanisms that write a number in words the Chinese writes in its own units.
NUMBER_WORDS = {"100M": "1亿", "20M": "2000万", "10k": "万", "per 1000": "每千", "about one": "about 1"}


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

    from sim.runs.ensemble import run_ensemble
    from sim.inputs.scenario import load_scenario

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


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def test_every_modelled_indicator_states_its_mechanism_in_chinese_with_the_same_numbers():
    for ind in registry():
        if not ind.modelled:
            continue
        assert ind.mechanism and CJK.search(ind.mechanism_zh), f"{ind.id}: no Chinese mechanism"
        english = ind.mechanism
        for words, chinese in NUMBER_WORDS.items():
            english = english.replace(words, chinese)
        assert _numbers(ind.mechanism_zh) == _numbers(english), (
            f"{ind.id}: the Chinese mechanism's numbers {sorted(_numbers(ind.mechanism_zh))} differ from the "
            f"English {sorted(_numbers(english))}")


def test_every_indicator_not_modelled_says_why_in_both_languages():
    missing = [ind for ind in registry() if not ind.modelled]
    assert missing, "the plan's text targets without a mechanism are listed as not modelled"
    for ind in missing:
        assert ind.not_modelled_reason and not CJK.search(ind.not_modelled_reason), ind.id
        assert CJK.search(ind.not_modelled_reason_zh), f"{ind.id}: no Chinese reason"


def test_every_indicator_unit_is_chinese_in_chinese():
    for ind in registry():
        assert ind.unit_zh and not re.search(r"[A-Za-z]", ind.unit_zh), f"{ind.id}: unit_zh {ind.unit_zh!r}"
        assert CJK.search(ind.unit_zh) or ind.unit_zh in ("%", "％"), f"{ind.id}: unit_zh {ind.unit_zh!r}"


def test_every_plan_indicator_says_where_its_numbers_come_from():
    from sim.outputs.provenance import PROVENANCE

    plan = {ind.id for ind in registry() if ind.no is not None}
    assert set(PROVENANCE) == plan
    for iid, p in PROVENANCE.items():
        assert p.fitted_on and p.parameters and p.plan_lever, iid
    # the levers read off a target say so, and only those the scenario file marks
    sized = {iid for iid, p in PROVENANCE.items() if p.plan_lever.startswith("sized from the target")}
    assert sized == {"ip_protection_centers", "aa_wholesale_markets", "food_sampling_per_1000",
                     "product_quality_spot_checks"}
