"""Target-finding and scenario discovery: least-cost settings that do meet the targets when re-run,
the cost file's validation, and PRIM boxes around the points where every binding target is met."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.analysis.discovery import discover
from sim.runs.ensemble import run_ensemble, summarise
from sim.outputs.indicators import by_id
from sim.inputs.scenario import load_scenario
from sim.analysis.sensitivity import binding_indicators
from sim.analysis.sweep_spec import SweepError, load_sweep, parse_sweep
from sim.analysis.target import load_costs, parse_costs, search
from sim.runs.pools import InProcess, LocalPool

TARGETS = ["dual_random_share", "credit_application_rate"]
PROB = 0.5  # with 2 seeds: met in at least one of them

SMALL_TARGET = """
name = "t-target"
base = "{root}/scenarios/plan.toml"
design = "lhs"
samples = 6
design_seed = 5
seeds = 2
scale = 100000
[levers.dual_random_share]
range = [10, 100]
[levers.credit_application_rate]
range = [60, 100]
[outputs]
indicators = ["dual_random_share", "credit_application_rate"]
years = [2025]
"""


@pytest.fixture(scope="module")
def small_target(tmp_path_factory):
    folder = tmp_path_factory.mktemp("target")
    spec_file = folder / "target.toml"
    spec_file.write_text(SMALL_TARGET.replace("{root}", str(Path.cwd())), encoding="utf-8")
    spec = load_sweep(spec_file)
    costs = load_costs("scenarios/sweeps/costs.toml")
    with LocalPool(2) as backend:
        result = search(spec, costs, PROB, folder / "work", backend, targets=TARGETS, refine_steps=3, passes=1,
                        progress=False)
    return spec, costs, result, folder


def test_least_cost_settings_meet_the_targets_when_rerun(small_target, tmp_path):
    spec, costs, result, _ = small_target
    assert result.feasible
    assert all(p >= PROB for p in result.probabilities.values())
    assert result.cost <= result.start_cost
    # the written scenario file is one that `sim run` reads, and re-running it gives the same probabilities
    from sim.analysis.target import scenario_file_text

    path = tmp_path / "least.toml"
    path.write_text(scenario_file_text(result, spec, costs), encoding="utf-8")
    scenario = load_scenario(path)
    for lid, value in result.settings.items():
        assert scenario.lever(lid, 2025) == value
    tidy = run_ensemble(scenario, spec.seeds, scale=spec.scale, horizon=spec.horizon, engine="vector", workers=1)
    summary = summarise(tidy).set_index("indicator")
    for iid in TARGETS:
        assert summary.at[iid, "prob_target_met"] == pytest.approx(result.probabilities[iid])
        assert summary.at[iid, "prob_target_met"] >= PROB


def test_least_cost_is_cheaper_than_any_feasible_design_point_nearby(small_target):
    """Lowering any lever further (towards its 2020 value) breaks a target: the bisection stopped at the edge."""
    spec, costs, result, _ = small_target
    reg = by_id()
    from sim.analysis.sweep_spec import point_scenario

    for f in spec.factors:
        cheaper = dict(result.settings)
        cheaper[f.id] = result.settings[f.id] - 0.25 * (result.settings[f.id] - spec.base.levers[f.id].at(2020))
        if cheaper[f.id] == result.settings[f.id]:
            continue
        tidy = run_ensemble(point_scenario(spec.base, spec.factors, cheaper), spec.seeds, scale=spec.scale,
                            horizon=spec.horizon, engine="vector", workers=1)
        at = tidy[tidy.year == 2025]
        probs = {i: np.mean([reg[i].met(v) for v in at[at.indicator == i].value]) for i in TARGETS}
        assert min(probs.values()) < PROB, f"{f.id} could be cheaper: {cheaper}"


def test_target_command_writes_a_runnable_scenario(small_target, tmp_path, capsys):
    spec, _, result, folder = small_target
    out_file = tmp_path / "least.toml"
    code = main(["target", "--prob", str(PROB), "--sweep", spec.source, "--work", str(folder / "work"),
                 "--out", str(out_file), "--targets", ",".join(TARGETS), "--refine-steps", "1", "--passes", "1",
                 "--workers", "2", "--quiet"])  # a short search: this checks the command, not the optimum
    assert code == 0
    printed = capsys.readouterr().out
    assert "total cost" in printed and "dual_random_share" in printed and "P = " in printed
    scenario = load_scenario(out_file)
    assert scenario.name == "least-cost-p50"
    assert "# Reproduce: python -m sim run" in out_file.read_text(encoding="utf-8")
    run_out = tmp_path / "run"
    assert main(["run", "--scenario", str(out_file), "--seeds", "2", "--scale", "100000", "--engine", "vector",
                 "--workers", "1", "--out", str(run_out), "--quiet"]) == 0
    summary = pd.read_csv(run_out / "summary.csv").set_index("indicator")
    for iid in TARGETS:
        assert summary.at[iid, "prob_target_met"] >= PROB


def test_target_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["target", "--prob", "1.5"]) == 2
    assert main(["target", "--prob", "0.8", "--targets", "market_entities"]) == 2
    assert "not a modelled binding indicator" in capsys.readouterr().err
    bad = tmp_path / "costs.toml"
    bad.write_text("[per_unit]\ndual_random_share = -3\n", encoding="utf-8")
    assert main(["target", "--prob", "0.8", "--costs", str(bad), "--out", str(tmp_path / "x.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: per_unit.dual_random_share: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "x.toml").exists()


def test_costs_file_validation():
    costs = load_costs("scenarios/sweeps/costs.toml")
    for name in ("target.toml", "sobol.toml", "small.toml", "morris.toml"):  # every example's levers have a cost
        spec = load_sweep(Path("scenarios/sweeps") / name)
        assert {f.id for f in spec.factors if f.kind == "lever"} <= set(costs.per_unit), name
    with pytest.raises(SweepError, match="per_unit.warp_drive: unknown lever"):
        parse_costs({"per_unit": {"warp_drive": 1}}, "c.toml")
    with pytest.raises(SweepError, match="extra: unknown top-level key"):
        parse_costs({"extra": 1}, "c.toml")


def test_target_search_names_a_swept_lever_without_cost(tmp_path):
    spec = parse_sweep({"design": "lhs", "samples": 2, "levers": {"fine_level": {"range": [1, 2]}},
                        "outputs": {"years": [2025]}}, "s.toml")
    with pytest.raises(SweepError, match="c.toml: per_unit.fine_level: no cost"):
        search(spec, parse_costs({"per_unit": {}}, "c.toml"), 0.8, tmp_path, InProcess(), progress=False)


# --- scenario discovery (PRIM, from the EMA Workbench) -------------------------------------------

def _discovery_case(n: int = 200, seed: int = 0):
    """Design over two levers; every binding target is met (in every seed) iff x1 > 60 and x2 > 75."""
    spec = parse_sweep({"design": "lhs", "samples": n, "design_seed": seed,
                        "levers": {"dual_random_share": {"range": [10, 100]},
                                   "credit_application_rate": {"range": [60, 100]}}}, "d.toml")
    rng = np.random.default_rng(seed)
    design = pd.DataFrame({"point": np.arange(n), "dual_random_share": rng.uniform(10, 100, n),
                           "credit_application_rate": rng.uniform(60, 100, n)})
    ok = (design["dual_random_share"] > 60) & (design["credit_application_rate"] > 75)
    rows = []
    for p, good in zip(design["point"], ok):
        for s in range(2):
            for ind in binding_indicators():
                up = ind.target_op in (">", ">=")
                value = ind.target + (1 if good == up else -1)
                rows.append((p * 2 + s, p, s, ind.target_year, ind.id, value))
    results = pd.DataFrame(rows, columns=["run_id", "point", "seed", "year", "indicator", "value"])
    return spec, design, results, ok


def test_prim_box_finds_the_region_where_all_binding_targets_are_met():
    spec, design, results, ok = _discovery_case()
    res = discover(spec, design, results, prob=0.8, min_density=0.9)
    box = res.box.set_index("factor")
    assert res.n_of_interest == int(ok.sum())
    assert res.density >= 0.9 and res.coverage >= 0.7
    assert 50 <= box.at["dual_random_share", "box_low"] <= 68
    assert 70 <= box.at["credit_application_rate", "box_low"] <= 80
    assert box["restricted"].all()
    assert set(res.binding) == {ind.id for ind in binding_indicators()}


def test_discovery_with_no_or_only_cases_of_interest():
    spec, design, results, _ = _discovery_case(40)
    results_none = results.assign(value=-1e9)  # every ">=" target missed
    res = discover(spec, design, results_none, prob=0.8)
    assert res.n_of_interest == 0 and "no design point" in res.note
