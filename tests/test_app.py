"""The Streamlit page (app.py), driven headless with streamlit.testing.v1.AppTest.

Runs are coarse (2 seeds, 1 simulated entity per 100000) so the file takes well under a minute.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sim.params import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SLIDERS = ("dual_random_share", "credit_application_rate", "entry_cost_index",
           "simplified_deregistration", "credit_penalty_severity")
DUAL_RANDOM_ZH = "“双随机”监管事项占比"  # indicator name in the summary table


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch):
    """A coarse, fast app run from the repository root, with a fresh ensemble cache."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SIM_SCENARIO_DIR", raising=False)
    st.cache_data.clear()

    def start() -> AppTest:
        # A relative path would be resolved against this file, so pass the root's app.py.
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["seeds"] = 2
        at.session_state["scale"] = 100000
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return start


def table_median(at: AppTest, name: str) -> str:
    """The displayed 2025 median of an indicator in the summary table."""
    table = at.dataframe[0].value
    row = table[table.iloc[:, 0] == name]
    assert len(row) == 1, table
    return row.iloc[0, 4]


def test_runs_in_chinese_with_metric_and_chart(app):
    at = app()
    assert at.title[0].value == "浙江省市场主体政策模拟器"
    assert at.number_input(key="seeds").value == 2
    assert at.number_input(key="scale").value == 100000
    metric = at.metric[0]
    assert metric.label == "2025年在册市场主体（中位数）"
    assert metric.value.endswith("万户")
    assert 800 < float(metric.value.removesuffix("万户")) < 1600
    assert at.metric[2].label == "达到规划目标（≥1100万户）的概率"
    assert at.metric[2].value.endswith("%")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert len(spec["layer"]) == 5  # band, median line, target rule, target point, 2020 baseline
    assert spec["layer"][0]["encoding"]["y"]["title"] == "在册市场主体（万户）"
    table = at.dataframe[0].value
    names = ["在册市场主体总量", DUAL_RANDOM_ZH, "“双随机、一公开”信用应用率", "企业中公司制企业占比"]
    assert list(table.iloc[:, 0]) == names


def test_dual_random_slider_changes_outputs(app):
    at = app()
    slider = at.slider(key="lever_dual_random_share")
    assert slider.value == 10.0  # baseline preset
    before = table_median(at, DUAL_RANDOM_ZH)
    slider.set_value(65.0).run()
    assert not at.exception
    after = table_median(at, DUAL_RANDOM_ZH)
    assert before != after
    assert float(before.removesuffix("%")) < 20 < 55 < float(after.removesuffix("%"))


def test_language_switch_changes_labels(app):
    at = app()
    assert at.slider(key="lever_dual_random_share").label == "“双随机”监管事项占比目标（%）"
    assert "指标" in at.dataframe[0].value.columns
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Zhejiang market-entity policy simulator"
    assert at.slider(key="lever_dual_random_share").label == "Double-random share target (%)"
    assert at.selectbox(key="preset").label == "Preset scenario"
    assert at.metric[0].label == "Registered market entities, 2025 (median)"
    assert at.metric[0].value.endswith(" million")
    table = at.dataframe[0].value
    assert "Indicator" in table.columns and "指标" not in table.columns
    assert "Registered market entities" in list(table["Indicator"])


def test_plan_preset_sets_slider_defaults(app):
    at = app()
    preset = at.selectbox(key="preset")
    assert preset.options[:2] == ["基准情景（保持2020年政策）", "“十四五”规划情景"]
    preset.select("plan").run()
    assert not at.exception
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    assert at.slider(key="lever_dual_random_share").value == 65
    for lid in SLIDERS:
        assert at.slider(key=f"lever_{lid}").value == pytest.approx(plan.levers[lid].at(2025))
    at.selectbox(key="preset").select("baseline").run()
    assert at.slider(key="lever_dual_random_share").value == 10


def test_broken_scenario_file_shows_error(app, monkeypatch, tmp_path):
    shutil.copy(ROOT / "scenarios" / "baseline.toml", tmp_path / "baseline.toml")
    (tmp_path / "broken.toml").write_text("[levers]\ndual_random_share = 500\n", encoding="utf-8")
    monkeypatch.setenv("SIM_SCENARIO_DIR", str(tmp_path))
    at = app()
    assert len(at.error) == 1
    assert "broken.toml" in at.error[0].value and "out of range" in at.error[0].value
    assert at.selectbox(key="preset").options == ["基准情景（保持2020年政策）"]
    assert at.metric[0].value.endswith("万户")
