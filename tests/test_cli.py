"""The command line: the run contract and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT
from sim.cli import format_table, main
from sim.core.calendar import firm_scale
from sim.runs.ensemble import SUMMARY_COLUMNS, TIDY_COLUMNS
from sim.outputs.indicators import by_id, plan_indicators, registry

FAST = ["--scale", "100000", "--seeds", "2", "--workers", "1", "--quiet"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def plan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(out), *FAST]) == 0
    return out


def test_run_writes_the_three_contract_files(plan_run):
    tidy = pd.read_csv(plan_run / "indicators.csv")
    assert list(tidy.columns) == TIDY_COLUMNS
    assert sorted(tidy["year"].unique()) == list(range(2020, 2026))
    assert set(tidy["seed"]) == {0, 1}
    required = {"market_entities", "dual_random_share", "credit_application_rate", "company_share_of_enterprises",
                "new_registrations", "deregistrations", "dormant_entities", "compliance_rate", "inspections",
                "inspections_on_compliant"}
    assert required <= set(tidy["indicator"])
    # flows start in 2021; stocks have a 2020 value
    assert tidy[(tidy.year == 2020) & (tidy.indicator == "market_entities")].value.eq(803).all()
    assert tidy[(tidy.year == 2020) & (tidy.indicator == "new_registrations")].empty
    summary = pd.read_csv(plan_run / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    row = summary.set_index("indicator").loc["market_entities"]
    assert row.target_2025 == 1100 and row.baseline_2020 == 803
    assert row.p05_2025 <= row.median_2025 <= row.p95_2025
    meta = json.loads((plan_run / "run.json").read_text(encoding="utf-8"))
    assert meta["seeds"] == [0, 1]
    assert meta["scenario"]["name"] == "plan"
    assert meta["scenario"]["levers"]["dual_random_share"] == [[2020, 10.0], [2025, 65.0]]
    assert meta["package_version"]
    assert meta["engine"] == "vector"  # the default engine; --engine mesa gives the same numbers
    assert meta["firm_scale"] == firm_scale(meta["scale"])


def test_same_command_gives_identical_files(plan_run, tmp_path):
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path), *FAST]) == 0
    for name in ("indicators.csv", "summary.csv"):
        assert (tmp_path / name).read_bytes() == (plan_run / name).read_bytes()


def test_mesa_engine_gives_the_same_files(plan_run, tmp_path):
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path), "--engine", "mesa", *FAST]) == 0
    mesa = pd.read_csv(tmp_path / "indicators.csv")
    vector = pd.read_csv(plan_run / "indicators.csv")
    assert (mesa[["scenario", "seed", "year", "indicator"]] == vector[["scenario", "seed", "year", "indicator"]]).all().all()
    assert mesa["value"].to_numpy() == pytest.approx(vector["value"].to_numpy(), rel=1e-9, abs=1e-9)


def test_parallel_workers_give_the_same_numbers(plan_run, tmp_path):
    args = [a for a in FAST if a not in ("--workers", "1")]
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path), "--workers", "2", *args]) == 0
    assert (tmp_path / "indicators.csv").read_bytes() == (plan_run / "indicators.csv").read_bytes()


def test_table_format_shows_names_targets_and_marks(plan_run, capsys):
    summary = pd.read_csv(plan_run / "summary.csv")
    zh = format_table(summary, "zh")
    en = format_table(summary, "en")
    assert "在册市场主体总量" in zh and "★" in zh and "企业中公司制企业占比" in zh
    assert "Registered market entities" in en and "binding" in en
    assert any(mark in en for mark in ("met", "at risk", "missed"))
    for ind in plan_indicators():
        if not ind.modelled:
            assert ind.name_en in en  # listed as not modelled, with the reason
    assert "Madrid" in en  # text targets not reached are listed too
    # the committed backtest's one-year error of indicator 1, beside the best naive forecaster's
    from sim.calibration import backtest

    table = pd.read_csv(ROOT / "calibration" / "backtest.csv")
    model, best, naive, _ = backtest.against_best_naive(table[(table.horizon == 1)])
    assert f"one year ahead {model:.1f}%, the best naive forecaster's ({best}) {naive:.1f}%" in en
    assert f"模型提前一年的平均绝对误差 {model:.1f}%" in zh


def test_table_says_why_a_target_is_not_modelled_in_the_table_language():
    empty = pd.DataFrame(columns=SUMMARY_COLUMNS)
    zh, en = format_table(empty, "zh"), format_table(empty, "en")
    missing = [ind for ind in registry() if not ind.modelled and ind.target is not None]
    assert missing and by_id()["madrid_marks"] in missing
    for ind in missing:
        assert f"{ind.name_zh}: {ind.not_modelled_reason_zh}" in zh, ind.id
        assert f"{ind.name_en}: {ind.not_modelled_reason}" in en, ind.id
    not_modelled_zh = zh.split("未建模的指标：", 1)[1]
    assert not re.search(r"[A-Za-z]", not_modelled_zh), not_modelled_zh


def test_unknown_lever_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    result = _cli("run", "--scenario", "scenarios/plan.toml", "--seeds", "10", "--out", str(tmp_path),
                  "--set", "no_such_lever=1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no_such_lever" in lines[0] and "dual_random_share" in lines[0]
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("content, fragment", [
    ("levers = [", "malformed TOML"),
    ("[levers]\nmystery = 1", "unknown lever"),
    ("[levers.city.Gotham]\nfine_level = 2", "unknown city"),
    ("[levers]\nfine_level = 99", "out of range"),
    ("[levers]\nfine_level = 'lots'", "expected a number"),
])
def test_bad_scenario_files_exit_2_with_one_line_and_keep_earlier_output(tmp_path, content, fragment):
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("earlier results\n", encoding="utf-8")
    result = _cli("run", "--scenario", str(bad), "--out", str(out), "--seeds", "1")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert fragment in result.stderr and "bad.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "summary.csv").read_text(encoding="utf-8") == "earlier results\n"


@pytest.mark.parametrize("args, fragment", [
    (["run", "--out", "x", "--seeds", "0"], "must be at least 1"),
    (["run", "--out", "x", "--scale", "0.5"], "at least 1"),
    (["run", "--out", "x", "--horizon", "2050"], "2021 to 2035"),
    (["run", "--out", "x", "--engine", "warp"], "invalid choice"),
    (["run", "--scenario", "nope.toml", "--out", "x"], "cannot read"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, fragment, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_levers_and_params_commands_list_declarations(capsys):
    assert main(["levers"]) == 0
    assert "dual_random_share" in capsys.readouterr().out
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "size_tail_alpha" in out and "Axtell" in out


def test_compare_prints_and_writes_the_difference(tmp_path, capsys):
    args = ["compare", "scenarios/baseline.toml", "scenarios/plan.toml", "--seeds", "3", "--scale", "100000",
            "--engine", "vector", "--workers", "1", "--quiet", "--out", str(tmp_path), "--lang", "en"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "plan against baseline" in printed and "Registered market entities" in printed
    table = pd.read_csv(tmp_path / "compare.csv").set_index("indicator")
    assert table.loc["dual_random_share"].difference_median > 30
    assert main(["compare", "scenarios/baseline.toml", "nope.toml", "--seeds", "1"]) == 2


def test_output_files_are_readable_like_any_file(plan_run):
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    for name in ("indicators.csv", "summary.csv", "run.json"):
        mode = stat.S_IMODE((plan_run / name).stat().st_mode)
        assert mode == 0o666 & ~mask, (name, oct(mode))



@pytest.mark.parametrize("args, message", [
    (["--first-seed", "-1"], "--first-seed: -1 is out of range; allowed: 0 to 2**64 - 1"),
    (["--first-seed", str(2 ** 64)], "is out of range; allowed: 0 to 2**64 - 1"),
    (["--first-seed", str(2 ** 64 - 1), "--seeds", "2"], "the first seed may be at most 18446744073709551614"),
])
def test_seeds_outside_the_streams_range_are_refused_before_any_work(tmp_path, args, message):
    out = tmp_path / "out"
    done = _cli("run", "--scenario", "scenarios/plan.toml", "--out", str(out), "--scale", "100000", *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()  # refused before the output folder is made


def test_an_empty_scenario_file_is_refused(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    done = _cli("run", "--scenario", str(empty), "--out", str(tmp_path / "out"), *FAST)
    assert done.returncode == 2 and "the scenario file is empty" in done.stderr and "Traceback" not in done.stderr


def test_an_unwritable_out_folder_is_refused_before_the_work(tmp_path, monkeypatch, capsys):
    """(Checked through os.access: these machines run tests as root, who may write anywhere.)"""
    import sim.cli as cli

    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    monkeypatch.setattr(cli, "_run", lambda *a: pytest.fail("the seeds ran before the folder was checked"))
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path / "out"), *FAST]) == 2
    assert "the folder is not writable" in capsys.readouterr().err


def test_calibrate_refuses_a_folder_for_its_output_file(tmp_path):
    done = _cli("calibrate", "--out", str(tmp_path), "--generations", "1")
    assert done.returncode == 2 and "must name a file" in done.stderr and "Traceback" not in done.stderr


def test_a_run_before_2025_says_so_and_a_rerun_leaves_no_stale_actuals(tmp_path):
    history = tmp_path / "actual.csv"
    history.write_text("series,period,value,unit,kind,source\nmarket_entities_total,2021-12,868.47,10k,published,x\n",
                       encoding="utf-8")
    done = _cli("run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path), "--history", str(history),
                "--horizon", "2021", "--format", "table", "--lang", "en", *FAST)
    assert done.returncode == 0, done.stderr
    assert "before the target year 2025" in done.stderr and "run ends before 2025" in done.stdout
    assert "nan" not in done.stdout
    assert (tmp_path / "actuals.csv").exists()
    assert main(["run", "--scenario", "scenarios/plan.toml", "--out", str(tmp_path), *FAST]) == 0
    assert not (tmp_path / "actuals.csv").exists()  # not this run's: removed
