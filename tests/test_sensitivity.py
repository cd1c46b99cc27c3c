"""Sensitivity: SALib Sobol recovers the Ishigami function's known indices; Morris ranks factors;
the command writes a table and a chart from a sweep."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.outputs.indicators import registry
from sim.analysis.sensitivity import (ALL_BINDING, binding_indicators, met_by_run, morris_indices, point_statistic,
                             sobol_indices)
from sim.analysis.sweep_spec import SweepError, sample

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: the analytical first-order and total indices.
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_design_recovers_ishigami_indices():
    bounds = [[-math.pi, math.pi]] * 3
    names = ["x1", "x2", "x3"]
    x = sample("sobol", bounds, samples=2048, seed=1, names=names)
    assert x.shape == (2048 * 5, 3)
    table = sobol_indices({"num_vars": 3, "names": names, "bounds": bounds}, ishigami(x), seed=1)
    assert list(table["factor"]) == names
    np.testing.assert_allclose(table["S1"], ISHIGAMI_S1, atol=0.04)
    np.testing.assert_allclose(table["ST"], ISHIGAMI_ST, atol=0.04)
    assert (table["S1_conf"] > 0).all() and (table["S1_conf"] < 0.1).all()
    # the true value lies within (about) the reported confidence interval
    assert (abs(table["ST"] - ISHIGAMI_ST) <= 2 * table["ST_conf"] + 0.01).all()


def test_morris_ranks_an_influential_factor_above_an_inert_one():
    bounds = [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    names = ["strong", "weak", "inert"]
    x = sample("morris", bounds, samples=20, seed=3, levels=4, names=names)
    y = 5 * x[:, 0] + 0.5 * x[:, 1] ** 2
    table = morris_indices({"num_vars": 3, "names": names, "bounds": bounds}, x, y, levels=4, seed=3)
    mu_star = dict(zip(table["factor"], table["mu_star"]))
    assert mu_star["strong"] == pytest.approx(5.0, rel=1e-6)
    assert 0 < mu_star["weak"] < 1 and mu_star["inert"] == pytest.approx(0.0)


def _synthetic_results(met_pattern: dict[int, list[bool]]) -> pd.DataFrame:
    """Results for the binding indicators: per point, per seed, all met or all missed."""
    rows = []
    inds = binding_indicators()
    run = 0
    for point, seeds in met_pattern.items():
        for seed, ok in enumerate(seeds):
            for ind in inds:
                gap = 1.0 if ind.target_op in (">", ">=") else -1.0
                value = ind.target + (gap if ok else -gap)
                rows.append((run, point, seed, ind.target_year, ind.id, value))
            rows.append((run, point, seed, 2025, "compliance_rate", 90.0 + point + seed))
            run += 1
    return pd.DataFrame(rows, columns=["run_id", "point", "seed", "year", "indicator", "value"])


def test_binding_indicators_come_from_the_registry():
    ids = [ind.id for ind in binding_indicators()]
    assert {"dual_random_share", "credit_application_rate"} <= set(ids)
    assert ids == [i.id for i in registry() if i.attribute == "binding" and i.modelled]


def test_point_statistics_over_seeds():
    results = _synthetic_results({0: [True, True], 1: [True, False], 2: [False, False]})
    assert list(point_statistic(results, 3, ALL_BINDING)) == [1.0, 0.5, 0.0]
    assert list(point_statistic(results, 3, "compliance_rate", 2025)) == [90.5, 91.5, 92.5]
    assert list(point_statistic(results, 3, "compliance_rate", 2025, "median")) == [90.5, 91.5, 92.5]
    assert list(point_statistic(results, 3, "dual_random_share", 2025, "prob_met")) == [1.0, 0.5, 0.0]
    met = met_by_run(results)
    assert list(met["all"]) == [True, True, True, False, False, False]
    with pytest.raises(SweepError, match="design points have no results"):
        point_statistic(results, 4, ALL_BINDING)
    with pytest.raises(SweepError, match="--year 2023"):
        point_statistic(results, 3, "compliance_rate", 2023)


TINY_SOBOL = """
name = "t-sobol"
base = "{root}/scenarios/plan.toml"
design = "sobol"
samples = 4
seeds = 1
scale = 100000
horizon = 2022
[levers.dual_random_share]
range = [20, 100]
[levers.inspection_capacity]
range = [6, 24]
as = "constant"
[outputs]
years = [2022]
"""


def test_sensitivity_command_writes_table_and_chart(tmp_path, capsys):
    spec = tmp_path / "sobol.toml"
    spec.write_text(TINY_SOBOL.replace("{root}", str(Path.cwd())), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sensitivity", str(spec), "--out", str(out), "--indicator", "dual_random_share",
                 "--year", "2022", "--workers", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Sobol indices" in printed and "inspection_capacity" in printed
    table = pd.read_csv(out / "sensitivity_dual_random_share_2022.csv")
    assert list(table.columns) == ["factor", "label", "S1", "S1_conf", "ST", "ST_conf"]
    assert set(table["factor"]) == {"dual_random_share", "inspection_capacity"}
    png = (out / "sensitivity_dual_random_share_2022.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    # the sweep is done: a second indicator needs no new runs, bad input is one line and exit 2
    assert main(["sensitivity", str(spec), "--out", str(out), "--indicator", "compliance_rate", "--year", "2022",
                 "--quiet"]) == 0
    assert main(["sensitivity", str(spec), "--out", str(out), "--indicator", "no_such", "--quiet"]) == 2
    assert "--indicator no_such" in capsys.readouterr().err
    assert main(["sensitivity", str(spec), "--out", str(out), "--indicator", "compliance_rate",
                 "--year", "2021", "--quiet"]) == 2


def test_sensitivity_needs_a_sobol_or_morris_design(tmp_path, capsys):
    spec = tmp_path / "grid.toml"
    spec.write_text("[levers.fine_level]\nvalues = [1, 2]\n", encoding="utf-8")
    assert main(["sensitivity", str(spec), "--out", str(tmp_path / "o"), "--indicator", "compliance_rate"]) == 2
    assert "sobol" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
