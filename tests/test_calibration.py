"""Calibration: the history loader, the committed fit, the hold-out and actuals."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from sim import calibration as cal
from sim.params import baseline
from sim.parameters import Parameters, default_parameters, read_fitted


@pytest.fixture(scope="module")
def history():
    return cal.load_history(cal.HISTORY_FILE)


def test_history_loads_with_sources_and_only_data_up_to_2020(history):
    assert (history["year"] <= 2020).all()
    assert history["source"].str.len().gt(0).all()
    assert set(history["kind"]) <= {"published", "derived"}


@pytest.mark.parametrize("row, fragment", [
    ("market_entities_total,2021-13,900,10k,published,x", "bad period '2021-13'"),
    ("market_entitys_total,2021-12,900,10k,published,x", "unknown series 'market_entitys_total'"),
    ("market_entities_total,2021-12,lots,10k,published,x", "value 'lots' is not a number"),
])
def test_malformed_history_is_rejected_with_the_row(tmp_path, row, fragment):
    path = tmp_path / "history.csv"
    shutil.copy(cal.HISTORY_FILE, path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(row + "\n")
    with pytest.raises(cal.HistoryError) as err:
        cal.load_history(path)
    assert fragment in str(err.value) and str(path) in str(err.value) and "row" in str(err.value)


def test_bad_history_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("series,period\nx,2020\n", encoding="utf-8")
    out = tmp_path / "fitted.toml"
    done = subprocess.run([sys.executable, "-m", "sim", "calibrate", "--history", str(path), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "missing columns" in done.stderr
    assert not out.exists()


def test_patterns_use_year_end_stocks_and_whole_years_only(history):
    used, skipped = cal.patterns(history, 2016, 2020)
    assert {(p.series, p.period) for p in used} >= {("market_entities_total", "2019-12"),
                                                    ("new_registrations_total", "2017"),
                                                    ("individual_deregistrations", "2020")}
    assert all(p.year > 2016 for p in used)
    assert any("2020-06" in s for s in skipped)


def test_every_scenario_starts_from_the_committed_fit():
    fitted = read_fitted(cal.FITTED_FILE)
    assert fitted, "calibration/fitted.toml should hold fitted values"
    assert set(fitted) == set(cal.FIT_BOUNDS)
    for name, value in fitted.items():
        assert getattr(default_parameters(), name) == value
        assert getattr(baseline().parameters, name) == value
        low, high = cal.FIT_BOUNDS[name]
        assert low <= value <= high
    assert baseline().parameters.changed() == {}


def test_committed_fit_reproduces_its_report(history):
    """The fit table from the committed file equals the one written when it was fitted."""
    table = cal.check(history, cal.FITTED_FILE, 2020, range(4), 2000.0)
    report = (cal.CALIBRATION_DIR / "fitted.md").read_text(encoding="utf-8")
    for row in table.itertuples(index=False):
        assert f"| {row.pattern} | {row.period} | {row.target:.2f} | {row.model:.2f} ±" in report


def test_entity_totals_are_within_tolerance_of_history(history):
    table = cal.check(history, cal.FITTED_FILE, 2020, range(4), 2000.0)
    totals = table[table["pattern"] == "market_entities_total"]
    assert len(totals) == 4 and totals["within"].all()
    assert table[table["pattern"] == "enterprises_total"]["within"].all()


def test_holdout_fit_predicts_2019_2020_totals(history):
    table = cal.check(history, cal.HOLDOUT_FILE, 2020, range(4), 2000.0)
    later = table[(table["pattern"] == "market_entities_total") & (table["period"] >= "2019")]
    assert len(later) == 2
    assert (later["error_pct"].abs() < 5).all()  # out of sample: within 5%


def test_fit_machinery_improves_a_bad_start(history):
    start = Parameters().replace(hazard_scale=2.8, entry_trend=-0.04)
    used, _ = cal.patterns(history, 2016, 2018)
    before = cal.objective_value(cal.fit_table(cal.simulate(start, cal.start_2016(history), 2018, range(2), 4000.0),
                                               used), used)
    result = cal.fit(history, through=2018, seeds=range(2), scale=4000.0, max_evaluations=25, base=start)
    assert result.objective < before
    assert set(result.values) == set(cal.FIT_BOUNDS)


def test_actuals_after_2020_are_read_for_overlay(tmp_path):
    path = tmp_path / "history.csv"
    shutil.copy(cal.HISTORY_FILE, path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('market_entities_total,2021-12,868.5,10k entities,published,"a user\'s figure"\n')
    actual = cal.actuals(cal.load_history(path))
    assert actual.to_dict("records") == [{"indicator": "market_entities", "year": 2021, "actual": 868.5,
                                          "source": "a user's figure"}]
    assert cal.actuals(cal.load_history(cal.HISTORY_FILE)).empty


def test_run_lays_actual_figures_beside_the_projection(tmp_path):
    from sim.cli import main

    path = tmp_path / "history.csv"
    shutil.copy(cal.HISTORY_FILE, path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("market_entities_total,2021-12,868.5,10k entities,published,a user's figure\n")
    out = tmp_path / "out"
    assert main(["run", "--scenario", "scenarios/baseline.toml", "--seeds", "2", "--scale", "100000",
                 "--engine", "vector", "--workers", "1", "--quiet", "--out", str(out), "--history", str(path)]) == 0
    table = pd.read_csv(out / "actuals.csv")
    row = table.iloc[0]
    assert (row.indicator, row.year, row.actual) == ("market_entities", 2021, 868.5)
    assert row.projected_p05 <= row.projected_median <= row.projected_p95
