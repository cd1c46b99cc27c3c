"""The Streamlit app (app.py and sim/ui), driven headless with streamlit.testing.v1.AppTest.

Runs are coarse (2 seeds, 1 simulated entity per 100000 real ones) so the file takes well under
a minute; the helpers of sim.ui are tested directly. Lever and indicator lists come from the
registries, as the app reads them.
"""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import BrokenExecutor, Executor
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from sim import cli
from sim.runs.ensemble import run_seed, warm_pool
from sim.outputs.indicators import by_id, plan_indicators, registry
from sim.inputs.levers import LEVERS, LEVERS_BY_ID, CITIES, Path as LeverPath, ScenarioError
from sim.inputs.scenario import baseline, load_scenario, \
    parse_scenario
from sim.ui import runner, shared, views
from sim.ui import scenario as sc
from sim.ui import text as tx
from sim.ui.history import history_points, period_year

ROOT = Path(__file__).resolve().parents[1]
DR = "dual_random_share"
DR_ZH = by_id()[DR].name_zh
DR_EN = by_id()[DR].name_en
PLAN = load_scenario(ROOT / "scenarios" / "plan.toml")

BAD_UPLOADS = {  # kind: (file bytes, text the message must contain)
    "malformed": (b"[levers\ndual_random_share = 50\n", "malformed TOML"),
    "unknown lever": (b"[levers]\nno_such_lever = 1\n", "levers.no_such_lever: unknown lever"),
    "out of range": (b"[levers]\ndual_random_share = 500\n", "levers.dual_random_share: 500 is out of range"),
    "unknown city": (b"[levers.city.Atlantis]\nfine_level = 2\n", "unknown city"),
    "wrong type": (b'[levers]\nfine_level = "high"\n', "levers.fine_level: expected a number"),
    "not UTF-8": ("name = 'x'\nlabel_zh = '规划'\n".encode("gbk"), "not UTF-8"),
    "empty": (b"", "the scenario file is empty"),
}


@pytest.fixture(scope="module", autouse=True)
def _fresh_run_cache():
    """One run cache for this file: runs are keyed by scenario, seeds, scale and horizon, so tests share
    them safely and each scenario is simulated once."""
    shared.reset()
    yield
    shared.reset()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch):
    """A coarse, fast app run from the repository root."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SIM_SCENARIO_DIR", raising=False)
    monkeypatch.setenv("SIM_APP_WORKERS", "1")  # seeds in this process (the pool has its own tests)

    def start() -> AppTest:
        # A relative path would be resolved against this file, so pass the root's app.py.
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["seeds"] = 2
        at.session_state["scale"] = 100000
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return start


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def scorecard(at: AppTest) -> pd.DataFrame:
    return at.dataframe(key="scorecard").value


def cell(at: AppTest, name: str, column: int = 5) -> str:
    """A scorecard cell of the row named ``name`` (column 5: the 2025 median)."""
    table = scorecard(at)
    row = table[table.iloc[:, 1] == name]
    assert len(row) == 1, table
    return row.iloc[0, column]


def percent(text: str) -> float:
    return float(text.removesuffix("%"))


def chart_data(chart) -> list[pd.DataFrame]:
    """The data sets of a rendered Vega-Lite chart, in order."""
    return [dataframe_util.convert_arrow_bytes_to_pandas_df(ds.data.data) for ds in chart.proto.datasets]


def toml_preview(at: AppTest) -> str:
    """The current scenario file as the downloads view shows it."""
    at.button_group(key="view").set_value("downloads").run()
    ok(at)
    return next(c.value for c in at.code if c.language == "toml")


# ---------------------------------------------------------------- the page


def test_runs_in_chinese_with_headline_scorecard_and_chart(app):
    at = app()
    assert at.title[0].value == "浙江省市场主体政策模拟器"
    assert at.number_input(key="seeds").value == 2 and at.slider(key="horizon").value == 2025
    metric = at.metric[0]
    assert metric.label == "2025年在册市场主体（中位数）"
    assert metric.value.endswith("万户") and 800 < float(metric.value.removesuffix("万户")) < 1600
    assert at.metric[2].label == "达到目标（≥1100万户）的概率" and at.metric[2].value.endswith("%")
    table = scorecard(at)
    names = list(table["指标"])
    plan = plan_indicators()
    assert len(plan) == 24 and names[:24] == [ind.name_zh for ind in plan]
    text_modelled = [i.name_zh for i in registry() if i.attribute == "text target" and i.modelled]
    assert names[24:] == text_modelled
    for ind, (_, row) in zip(plan, table.iterrows()):
        assert row["属性"] == ("★ 约束性" if ind.attribute == "binding" else "预期性")
        if ind.modelled:
            assert row["判断"] in ("达成", "有风险", "未达成") and row["2025年预测中位数"] != "—"
            assert row["模拟误差（±）"] != "—"  # the median's Monte Carlo error, apart from the band
            assert row["说明"].startswith(("主要杠杆：", "无直接杠杆"))  # the note names what moves it
        else:
            assert row["判断"] == "未建模" and row["说明"].startswith("尚未建模")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    y = spec["layer"][0]["encoding"]["y"]
    assert y["axis"]["title"] == "在册市场主体总量（万户）" and y["axis"]["titleAngle"] == 0  # read across, above
    assert y["scale"]["zero"] is True
    history = [layer for layer in spec["layer"] if layer["mark"]["type"] == "circle"]
    assert history, "published history points of market entities are drawn"


def test_dual_random_slider_changes_affected_outputs(app):
    at = app()
    assert at.slider(key=f"lever_{DR}").value == 10  # baseline preset
    before = percent(cell(at, DR_ZH))
    at.button_group(key="view").set_value("charts").run()
    caption_before = next(c.value for c in at.caption if "守法主体" in c.value and "检查" in c.value)
    at.slider(key=f"lever_{DR}").set_value(90).run()
    ok(at)
    assert any(c.value.startswith("已调整 1 项") for c in at.caption)
    caption_after = next(c.value for c in at.caption if "守法主体" in c.value and "检查" in c.value)
    assert caption_after != caption_before  # the burden on compliant entities moved
    at.button_group(key="view").set_value("scorecard").run()
    after = percent(cell(at, DR_ZH))
    # the regulators' pace is drawn per seed (3-20 points a year), so a lever of 90 is not reached by 2025
    assert before < 20 < 40 < after


def test_presets_load_every_lever_value(app):
    at = app()
    preset = at.selectbox(key="preset")
    assert preset.options[:2] == ["基准情景（保持2020年政策）", "“十四五”规划情景"]
    preset.select("plan").run()
    ok(at)
    for lever in LEVERS:
        assert at.slider(key=f"lever_{lever.id}").value == pytest.approx(PLAN.levers[lever.id].at(2025)), lever.id
    assert any("与预设情景相同" in c.value for c in at.caption)
    assert percent(cell(at, DR_ZH)) > 40
    at.selectbox(key="preset").select("baseline").run()
    assert at.slider(key=f"lever_{DR}").value == 10


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_bad_upload_shows_its_message_and_the_app_keeps_working(app, kind):
    data, expected = BAD_UPLOADS[kind]
    with pytest.raises(ScenarioError, match=expected.split(":")[-1].strip()):
        sc.scenario_from_bytes(data, "bad.toml")
    at = app()
    at.file_uploader(key="upload").set_value(("bad.toml", data, "application/toml")).run()
    ok(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "bad.toml" in errors[0] and expected in errors[0], errors
    assert errors[0].startswith("上传的情景文件无法载入")
    assert at.selectbox(key="preset").value == "baseline"
    assert at.metric[0].value.endswith("万户")
    at.slider(key=f"lever_{DR}").set_value(40).run()  # still working after the error
    ok(at)
    assert 20 < percent(cell(at, DR_ZH)) < 45


def test_good_upload_is_selected_and_runs(app):
    text = PLAN.to_toml().replace('name = "plan"', 'name = "mine"')
    text = text.replace("dual_random_share = { 2020 = 10, 2025 = 65 }", "dual_random_share = { 2020 = 10, 2024 = 80 }")
    at = app()
    at.file_uploader(key="upload").set_value(("mine.toml", text.encode(), "application/toml")).run()
    ok(at)
    assert not at.error
    assert at.selectbox(key="preset").value == "upload:mine"
    assert at.slider(key=f"lever_{DR}").value == 80
    assert percent(cell(at, DR_ZH)) > 40


def test_broken_scenario_file_in_folder_shows_error(app, monkeypatch, tmp_path):
    shutil.copy(ROOT / "scenarios" / "baseline.toml", tmp_path / "baseline.toml")
    (tmp_path / "broken.toml").write_text("[levers]\ndual_random_share = 500\n", encoding="utf-8")
    monkeypatch.setenv("SIM_SCENARIO_DIR", str(tmp_path))
    at = app()
    assert len(at.error) == 1
    assert "broken.toml" in at.error[0].value and "out of range" in at.error[0].value
    assert at.selectbox(key="preset").options == ["基准情景（保持2020年政策）"]
    assert at.metric[0].value.endswith("万户")


def test_language_switch_changes_labels_and_keeps_values(app):
    at = app()
    at.slider(key=f"lever_{DR}").set_value(50).run()
    assert at.slider(key=f"lever_{DR}").label == "“双随机”监管事项占比目标（%）"
    assert at.sidebar.expander[0].label == "登记注册改革"
    assert at.dataframe(key="scorecard").proto.row_height == 35  # one line: Chinese names fit
    at.radio(key="lang").set_value("en").run()
    ok(at)
    assert at.title[0].value == "Zhejiang market-entity policy simulator"
    # long English names and units wrap instead of being cut: Streamlit wraps only rows taller than 64 px
    assert at.dataframe(key="scorecard").proto.row_height > 64
    assert at.slider(key=f"lever_{DR}").label == "Double-random share target (%)"
    assert at.slider(key=f"lever_{DR}").value == 50
    assert at.selectbox(key="preset__en").label == "Preset scenario"
    preset = at.selectbox(key="preset__en")
    assert preset.value == "__adjusted__"  # the preset's list shows it moved: choosing a preset loads it as it is
    assert preset.format_func("__adjusted__").startswith("Baseline (2020 policies held) (adjusted")
    assert at.sidebar.expander[0].label == "Registration reform"
    assert at.metric[0].label == "Registered entities, 2025 (median)"
    assert at.metric[0].value.endswith(" million") and at.metric[2].label == "P(meeting the target ≥11 million)"
    table = scorecard(at)
    assert "Indicator" in table.columns and "指标" not in table.columns
    assert list(table["Indicator"])[:24] == [ind.name_en for ind in plan_indicators()]
    assert set(table["Status"]) <= {"met", "at risk", "missed", "not modelled"}
    assert at.button_group(key="view").options[0] == "Scorecard"
    every_text = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.subheader]
    assert not any("规划" in text for text in every_text if "Scenario" not in text), every_text


def test_indicator_selection_opens_its_chart_or_its_reason(app):
    at = app()
    at.selectbox(key="indicator").select(DR).run()
    ok(at)
    assert at.subheader[-1].value == DR_ZH
    values = [data["value"].tolist() for data in chart_data(at.get("vega_lite_chart")[0]) if "label" in data]
    assert [by_id()[DR].target] in values and [by_id()[DR].baseline_2020] in values
    # the regulators' indicator (the realised random share) also draws the lever's path and the
    # regulators' own year-end share, and says why a lever at its target can still miss
    labels = {data["label"].iloc[0] for data in chart_data(at.get("vega_lite_chart")[0]) if "label" in data}
    assert {"杠杆设定的目标路径", "各市监管部门年末设定的“双随机”比例"} <= labels, labels
    assert any("即使杠杆设在目标值" in c.value for c in at.caption)
    missing = [ind for ind in registry() if not ind.modelled and ind.id in at.selectbox(key="indicator").options]
    if missing:  # every indicator the plan states may be modelled one day
        at.selectbox(key="indicator").select(missing[0].id).run()
        assert not at.get("vega_lite_chart") and at.info[0].value.startswith("该指标尚未建模")


def test_city_override_and_uncertainty_reach_the_scenario_file(app):
    at = app()
    at.selectbox(key="city_pick").select("Wenzhou")
    at.selectbox(key="city_lever_pick").select("fine_level").run()
    at.number_input(key="city_value_fine_level").set_value(2.5)
    at.button(key="city_add").click().run()
    ok(at)
    at.slider(key="unc_gdp_growth").set_value(4.0).run()
    ok(at)
    assert any("温州·罚款水平" in c.value for c in at.caption)
    scenario = parse_scenario(tomllib.loads(toml_preview(at)), "app")
    assert scenario.city_levers["Wenzhou"]["fine_level"].at(2025) == 2.5
    assert scenario.city_levers["Wenzhou"]["fine_level"].at(2020) == 1.0
    assert scenario.uncertainty("gdp_growth", 2022) == 4.0
    at.button_group(key="view").set_value("scorecard").run()
    at.button(key="city_remove_Wenzhou_fine_level").click().run()
    assert "Wenzhou" not in parse_scenario(tomllib.loads(toml_preview(at)), "app").city_levers


def test_compare_pinned_scenario_with_baseline_on_common_seeds(app):
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.slider(key=f"lever_{DR}").set_value(90).run()
    at.button_group(key="view").set_value("compare").run()
    ok(at)
    at.text_input(key="pin_name").input("DR90")
    at.button(key="pin").click().run()
    ok(at)
    assert at.selectbox(key="reference").value == "preset:baseline"
    side = at.dataframe[0].value
    # the current settings are the pin's: one column, not two identical ones
    assert list(side.columns[2:]) == ["基准情景（保持2020年政策）", "DR90"]
    diff = at.dataframe[1].value
    row = diff[diff["指标"] == DR_ZH].iloc[0]
    assert row["DR90"].startswith("+") and float(row["DR90"].split()[0]) > 40  # points over the baseline, by seed
    at.slider(key=f"lever_{DR}").set_value(50).run()  # settings that differ from the pin get their own column
    assert list(at.dataframe[0].value.columns[2:]) == ["基准情景（保持2020年政策）", "当前设置", "DR90"]
    row = at.dataframe[1].value.set_index("指标").loc[DR_ZH]
    assert float(row["当前设置"].split()[0]) < float(row["DR90"].split()[0])
    # Back to the baseline settings: the current scenario is the reference, so no column of its own.
    at.selectbox(key="preset").select("baseline").run()
    assert list(at.dataframe[0].value.columns[2:]) == ["基准情景（保持2020年政策）", "DR90"]
    assert "90" in at.button(key="unpin_DR90").help  # the pin's settings on hover
    assert len(at.get("vega_lite_chart")) == 1


def test_charts_view_shows_kinds_cities_flows_compliance_inspections(app):
    at = app()
    at.button_group(key="view").set_value("charts").run()
    ok(at)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 6
    kinds = specs[0]["layer"][0]
    assert kinds["encoding"]["y"]["stack"] == "zero"
    charts = at.get("vega_lite_chart")
    assert set(chart_data(charts[0])[0]["series"]) == {"公司", "其他企业", "个体工商户"}
    cities = set(chart_data(charts[1])[0]["city"])
    assert len(cities) == len(CITIES) and "杭州" in cities


def test_horizon_extends_the_run_and_the_scorecard(app):
    at = app()
    at.slider(key="horizon").set_value(2027).run()
    ok(at)
    assert "2027年中位数" in scorecard(at).columns


def test_downloaded_scenario_runs_with_the_cli(app, tmp_path):
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.slider(key=f"lever_{DR}").set_value(80).run()
    text = toml_preview(at)
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    assert load_scenario(tmp_path / "s.toml").levers[DR].at(2025) == 80
    code = cli.main(["run", "--scenario", str(tmp_path / "s.toml"), "--seeds", "1", "--scale", "100000",
                     "--engine", "vector", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("indicator")
    assert summary.loc[DR, "median_2025"] > 60


# ---------------------------------------------------------------- sim.ui helpers


def test_adjusted_path_keeps_2020_and_the_preset_timing():
    dr = LEVERS_BY_ID[DR]
    flat = LeverPath.constant(10)
    ramp = sc.adjusted_path(flat, 60, dr)
    assert ramp.points == ((2020, 10.0), (2025, 60))
    shaped = LeverPath(((2020, 1.0), (2021, 2.9)))
    scaled = sc.adjusted_path(shaped, 4.8, LEVERS_BY_ID["product_spot_check_effort"])
    assert scaled.at(2020) == 1.0 and scaled.at(2021) == pytest.approx(4.8) and scaled.at(2025) == pytest.approx(4.8)
    switch = sc.adjusted_path(LeverPath.constant(0), 1, LEVERS_BY_ID["compulsory_deregistration"])
    assert switch.points == ((2020, 0.0), (2021, 1))
    assert sc.adjusted_path(PLAN.levers[DR], 65, dr) is PLAN.levers[DR]
    assert sc.adjusted_path(PLAN.levers[DR], 90, dr).at(2023) == pytest.approx(10 + 80 * 3 / 5)


def test_resolved_scenario_round_trips_through_toml():
    resolved = sc.resolve(PLAN, {DR: 90, "fine_level": 2.0}, {"gdp_growth": 3.0}, {("Ningbo", DR): 30})
    again = sc.from_key(sc.run_key(resolved))
    assert again.levers == resolved.levers and again.city_levers == resolved.city_levers
    assert again.uncertainties == resolved.uncertainties
    assert sc.changed_levers(PLAN, resolved) == [DR, "fine_level", "gdp_growth", f"Ningbo.{DR}"]
    with pytest.raises(ScenarioError, match="unknown lever"):
        sc.resolve(PLAN, {"nope": 1})


def test_runner_gives_run_seed_rows_plus_kinds_and_cities():
    scenario = baseline()
    mine = runner.run_seed_rows(scenario, 3, 100000, 2022)
    ref = run_seed(scenario, 3, scale=100000, horizon=2022, engine="vector")
    pd.testing.assert_frame_equal(runner.indicators_only(mine), ref)
    wide = mine.pivot_table(index="year", columns="indicator", values="value")
    kinds = wide[[f"record.registered_{k}" for k in ("company", "other", "individual")]].sum(axis=1)
    assert kinds.to_numpy() == pytest.approx(wide["market_entities"].to_numpy())
    cities = wide[[f"city.{c}" for c in CITIES]].sum(axis=1)
    assert cities.to_numpy() == pytest.approx(wide["market_entities"].to_numpy())


def test_the_page_dims_stale_elements_in_one_step(app):
    """The page carries the style that turns Streamlit's one-second fade of a rerun's stale elements
    (and expanders) into one step (sim.ui.progress.STALE_STYLE; the browser test sees it applied)."""
    from sim.ui.progress import STALE_STYLE

    at = app()
    assert [e.proto.body for e in at.get("html")] == [STALE_STYLE]
    assert "transition-duration: 0s" in STALE_STYLE and 'data-stale="true"' in STALE_STYLE


def test_seed_cache_runs_only_missing_seeds():
    cache = runner.SeedCache()
    request = runner.Request(sc.run_key(baseline()), "b")
    todo = runner.missing(cache, [request, request], range(3), 100000, 2021)
    assert len(todo) == 3
    runner.compute(cache, todo[:2], sc.from_key)
    assert [k[4] for k in runner.missing(cache, [request], range(3), 100000, 2021)] == [2]
    tidy = runner.ensemble(cache, request, range(3), 100000, 2021, sc.from_key)
    assert sorted(tidy["seed"].unique()) == [0, 1, 2] and set(tidy["scenario"]) == {"b"}


def test_the_worker_pool_gives_the_same_rows_as_this_process():
    """The app's pool (warm workers from a fork server beside this threaded process) stores every
    seed once, with the numbers a run in this process gives; progress counts up to the total."""
    request = runner.Request(sc.run_key(PLAN), "p")
    keys = runner.missing(runner.SeedCache(), [request], range(3), 100000, 2021)
    here, pooled, seen = runner.SeedCache(), runner.SeedCache(), []
    runner.compute(here, keys, sc.from_key)
    pool = warm_pool(2)
    try:
        runner.compute(pooled, keys, sc.from_key, lambda done, total, left: seen.append((done, total)), pool)
    finally:
        pool.shutdown()
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for k in keys:
        pd.testing.assert_frame_equal(pooled.get(k), here.get(k))


def test_every_session_shares_one_pool_started_once(monkeypatch):
    """Sessions and the server's warm-up ask for the pool at once: one pool is started, all get it."""
    import threading

    monkeypatch.setenv("SIM_APP_WORKERS", "2")
    shared.reset()
    got = []
    threads = [threading.Thread(target=lambda: got.append(shared.worker_pool())) for _ in range(4)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(got) == 4 and got[0] is not None and all(pool is got[0] for pool in got)
        assert shared.seed_cache() is shared.seed_cache()
    finally:
        shared.reset()


def test_a_broken_pool_falls_back_to_this_process():
    request = runner.Request(sc.run_key(baseline()), "b")
    keys = runner.missing(runner.SeedCache(), [request], range(2), 100000, 2021)
    cache = runner.SeedCache()
    runner.compute(cache, keys, sc.from_key, executor=_Broken())
    assert all(k in cache for k in keys)


class _Broken(Executor):
    def submit(self, fn, /, *args, **kwargs):
        raise BrokenExecutor("a worker died")


def test_history_points_of_market_entities_up_to_2020():
    points = history_points(by_id()["market_entities"])
    assert len(points) >= 5 and points["year"].max() == 2020.0
    assert points.iloc[-1]["value"] == 803
    assert period_year("2019-03", flow=False) == pytest.approx(2018.25)
    assert period_year("2019-Q1", flow=True) is None and period_year("2017", flow=True) == 2017.0
    assert history_points(by_id()["compliance_rate"]).empty


def test_number_formats_for_chinese_and_english_readers():
    entities = by_id()["market_entities"]
    assert tx.fmt(1149.43, entities, "zh") == "1149.4万户"
    assert tx.fmt(1149.43, entities, "en") == "11.49 million entities"
    assert tx.fmt(12345.0, by_id()["product_quality_spot_checks"], "en") == "12,345 batches per year"
    assert tx.fmt(12345.0, by_id()["product_quality_spot_checks"], "zh") == "12345批次/年"
    assert tx.fmt(65.04, by_id()[DR], "en") == "65.0%"
    quality = by_id()["china_quality_award_nominations"]
    assert tx.fmt(35.5, quality, "zh") == "36个" and tx.fmt(34.5, quality, "zh") == "35个"  # a count's median, whole
    assert tx.fmt(9.0, quality, "en").startswith("9 ")
    assert tx.fmt(62.5, by_id()[DR], "zh") == "62.5%"  # only counts are rounded: a share or a rate keeps its half
    assert tx.fmt(4.5, by_id()["food_sampling_per_1000"], "en") == "4.50 batches per 1000 residents"
    assert tx.fmt_band(0.45, 3.0, quality, "zh") == "0–3个"  # a count's band: whole numbers, rounded outwards
    assert tx.fmt_band(1.2, 2.6, by_id()["high_value_patents_per_10k"], "zh") == "1.20–2.60件"  # a rate keeps them
    assert tx.fmt_target(entities, "zh") == "≥1100万户"
    assert tx.fmt_diff(12.3, 5.1, 20.25, entities, "zh") == "+12.30 [+5.10, +20.25]万户"


def test_every_lever_has_a_group_label_and_unit_in_both_languages():
    for lever in LEVERS:
        for lang in tx.LANGS:
            assert tx.group_label(lever.group, lang)
            assert tx.lever_label(lever, lang)
        assert tx.lever_unit(lever, "zh") == lever.unit_zh and tx.lever_unit(lever, "en") == lever.unit
        assert lever.unit_zh in tx.lever_label(lever, "zh") and lever.unit in tx.lever_label(lever, "en")
    assert tx.group_order(["zzz", "credit", "registration"]) == ["registration", "credit", "zzz"]
    assert set(tx.TEXT["zh"]) == set(tx.TEXT["en"])


# ---------------------------------------------------------------- every text in the reader's language

CJK = r"[\u4e00-\u9fff]"


def english_only(text: str) -> bool:
    """Text a Chinese reader cannot read: English words and no Chinese."""
    return bool(re.search(r"[A-Za-z]{2,}", text)) and not re.search(CJK, text)


def chart_titles(spec: object) -> list[str]:
    """Every axis, legend and chart title in a Vega-Lite spec."""
    if isinstance(spec, dict):
        found = [v for k, v in spec.items() if k == "title" and isinstance(v, str)]
        return found + [t for v in spec.values() for t in chart_titles(v)]
    if isinstance(spec, list):
        return [t for v in spec for t in chart_titles(v)]
    return []


def shown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) for what a reader sees: widget labels and options, headings, captions, messages,
    the words of the page, table headers and cells, chart titles. Widget values (internal ids) are not shown."""
    out: list[tuple[str, str]] = []
    for kind in ("slider", "selectbox", "number_input", "button", "radio", "text_input", "checkbox",
                 "multiselect", "toggle", "expander", "tab", "metric"):
        for el in at.get(kind):
            out.append((f"{kind} label", el.label))
            out += [(f"{kind} option", str(o)) for o in (getattr(el, "options", None) or [])]
    for kind in ("file_uploader", "download_button", "button_group"):
        for el in at.get(kind):
            out.append((f"{kind} label", el.proto.label))
            out += [(f"{kind} option", o.content) for o in getattr(el.proto, "options", [])]
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success"):
        out += [(kind, el.value) for el in at.get(kind)]
    for frame in at.dataframe:
        out += [("table header", str(c)) for c in frame.value.columns]
        out += [("table cell", v) for c in frame.value.columns for v in frame.value[c] if isinstance(v, str)]
    for chart in at.get("vega_lite_chart"):
        out += [("chart title", t) for t in chart_titles(json.loads(chart.proto.spec))]
    return out


def mechanism_shown(at: AppTest, label: str) -> list[str]:
    expanders = [e for e in at.expander if e.label == label]
    assert len(expanders) == 1, [e.label for e in at.expander]
    return [m.value for m in expanders[0].markdown]


def test_indicator_mechanism_is_shown_in_the_page_language(app):
    ind = by_id()[DR]
    at = app()
    at.selectbox(key="indicator").select(DR).run()
    ok(at)
    assert mechanism_shown(at, "模型机制") == [ind.mechanism_zh]
    at.radio(key="lang").set_value("en").run()
    ok(at)
    assert at.selectbox(key="indicator__en").value == DR
    assert mechanism_shown(at, "How the model produces it") == [ind.mechanism]


def test_chinese_page_shows_no_english_only_label_header_or_text(app):
    at = app()
    seen: list[tuple[str, str]] = []
    for view in ("scorecard", "charts", "compare", "downloads"):
        at.button_group(key="view").set_value(view).run()
        ok(at)
        seen += [(f"{view}: {where}", text) for where, text in shown_texts(at)]
    # The language switch names English in English, so a reader of either language can find it.
    english = [(where, text) for where, text in seen if english_only(text) and text != tx.LANG_NAMES["en"]]
    assert not english, english
    texts = {text for _, text in seen}
    # The collection reaches every kind of element checked (else the check above would pass vacuously).
    for expected in ("“双随机”监管事项占比目标（%）", "指标", "模型机制", "指标记分卡", tx.texts("zh")["download_csv"],
                     by_id()["market_entities"].mechanism_zh, tx.axis_title(by_id()["market_entities"], "zh")):
        assert expected in texts, expected


# ---------------------------------------------------------------- actual figures beside the projection


def _history_with(row: str) -> bytes:
    from sim.calibration.history import HISTORY_FILE

    return (HISTORY_FILE.read_text(encoding="utf-8") + row).encode()


def test_uploaded_history_puts_a_2021_actual_beside_the_projection(app):
    at = app()
    data = _history_with('market_entities_total,2021-12,868.5,10k entities,published,"a user\'s figure"\n')
    at.file_uploader(key="history_upload").set_value(("mine.csv", data, "text/csv")).run()
    ok(at)
    assert not at.error
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert [layer["mark"]["type"] for layer in spec["layer"]].count("square") == 1
    points = [d for d in chart_data(at.get("vega_lite_chart")[0]) if "label" in d and "period" in d]
    actual = pd.concat(points)
    actual = actual[actual["label"] == "实际数据（上传）"]
    assert actual[["year", "value", "period"]].values.tolist() == [[2021.0, 868.5, "2021-12"]]
    # the shipped history is still drawn once, not twice
    shipped = pd.concat(points)
    assert (shipped["period"] == "2020-12").sum() == 1
    at.button_group(key="view").set_value("charts").run()
    ok(at)
    kinds = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert any(layer["mark"]["type"] == "square" for layer in kinds["layer"])


def test_malformed_history_upload_shows_its_message_and_the_app_keeps_working(app):
    at = app()
    data = _history_with("market_entities_total,2021-13,868.5,10k entities,published,x\n")
    at.file_uploader(key="history_upload").set_value(("bad.csv", data, "text/csv")).run()
    ok(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("上传的历史数据无法载入"), errors
    assert "bad.csv" in errors[0] and "bad period '2021-13'" in errors[0]
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert not any(layer["mark"]["type"] == "square" for layer in spec["layer"])
    at.slider(key=f"lever_{DR}").set_value(40).run()  # still working after the error
    ok(at)
    assert 20 < percent(cell(at, DR_ZH)) < 45


def test_regulator_references_follow_the_lever_and_the_years_inspections():
    tidy = runner.run_seed_rows(PLAN, 3, 100000, 2022)
    refs = dict(views.regulator_references(tidy, by_id()[DR], PLAN, "en"))
    lever = refs["Lever: the province's target path"].set_index("year")["value"]
    assert lever[2020] == PLAN.lever(DR, 2020) and lever[2022] == PLAN.lever(DR, 2022)
    own = refs["Regulators' own double-random share at year end"].set_index("year")["value"]
    rows = tidy.set_index(["year", "indicator"])["value"]
    assert own[2022] == rows[(2022, "record.dual_random_share")]
    # the indicator is the year's realised share, which lags the regulators' year-end share
    assert rows[(2022, DR)] == pytest.approx(100 * rows[(2022, "record.inspections_random")]
                                             / rows[(2022, "record.inspections")])
    assert rows[(2022, DR)] < own[2022]
    assert views.regulator_references(tidy, by_id()["market_entities"], PLAN, "en") == []


def test_the_server_is_quiet_and_local_wherever_it_starts(monkeypatch):
    from sim.ui import serve

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False and config["client"]["toolbarMode"] == "minimal"
    assert config["server"]["maxUploadSize"] <= 2 and config["logger"]["level"] == "error"
    assert config["runner"]["magicEnabled"] is False  # (the page writes nothing by bare expressions)
    # the launcher passes the same settings, so they hold when it starts outside the repository
    flags = dict(zip(serve.QUIET[::2], serve.QUIET[1::2]))
    assert flags == {"--browser.gatherUsageStats": "false", "--client.toolbarMode": "minimal",
                     "--server.maxUploadSize": str(config["server"]["maxUploadSize"]), "--logger.level": "error",
                     "--runner.magicEnabled": "false"}
    seen = {}
    import streamlit.web.cli as st_cli
    monkeypatch.setattr(serve.sys, "argv", ["serve"])
    monkeypatch.setattr(st_cli, "main", lambda: seen.setdefault("argv", list(serve.sys.argv)) and None)
    monkeypatch.setattr("sim.ui.shared.worker_pool", lambda: None)
    serve.main(["--server.port", "9999"])
    assert seen["argv"][3:] == [*serve.QUIET, "--server.port", "9999"]  # the user's arguments come last and win


# ---------------------------------------------------------------- a scenario in the URL


def _started_with(params: dict[str, str], monkeypatch) -> AppTest:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SIM_APP_WORKERS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in {"seeds": "2", "scale": "100000", **params}.items():
        at.query_params[key] = value
    return ok(at.run())


def test_a_link_opens_the_same_scenario_language_and_view(app, monkeypatch):
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.slider(key=f"lever_{DR}").set_value(70).run()
    at.radio(key="lang").set_value("en").run()
    at.button_group(key="view").set_value("compare").run()
    ok(at)
    shared_params = {k: at.query_params[k] for k in at.query_params}
    shared_params = {k: v[-1] if isinstance(v, list) else v for k, v in shared_params.items()}
    assert shared_params["preset"] == "plan" and shared_params[DR] == "70" and shared_params["lang"] == "en"
    assert shared_params["view"] == "compare" and "fine_level" not in shared_params  # only what moved
    assert len("&".join(f"{k}={v}" for k, v in shared_params.items())) < 120  # short and readable
    other = _started_with(shared_params, monkeypatch)  # a colleague's new session
    assert other.session_state["lang"] == "en" and other.session_state["view"] == "compare"
    assert other.slider(key=f"lever_{DR}").value == 70
    assert other.selectbox(key=sc_key("preset", "en")).value == "__adjusted__"
    assert other.query_params["preset"] in ("plan", ["plan"])
    # the same scenario file as the first session's
    at.button_group(key="view").set_value("downloads").run()
    other.button_group(key="view").set_value("downloads").run()
    assert toml_preview(at) == toml_preview(other)


def sc_key(key: str, lang: str) -> str:
    from sim.ui.session import widget_key

    return widget_key(key, lang)


def test_a_link_with_a_bad_setting_says_which_and_opens_the_rest(monkeypatch):
    at = _started_with({"preset": "plan", DR: "500", "fine_level": "2", "Atlantis.fine_level": "2"}, monkeypatch)
    warnings = " ".join(w.value for w in at.warning)
    assert f"{DR}='500' is out of range; allowed: a number from 0 to 100" in warnings
    assert "'Atlantis.fine_level' is not a setting" in warnings
    assert at.slider(key="lever_fine_level").value == 2
    assert at.slider(key=f"lever_{DR}").value == sc.slider_value(LEVERS_BY_ID[DR], PLAN.lever(DR, 2025))


def test_a_request_above_the_cost_cap_is_refused_with_the_cap_and_the_page_shows_the_cost(app):
    at = app()
    assert any("million simulated entity-years" in c.value or "百万个模拟主体·年" in c.value for c in at.caption)
    big = b'name = "big"\n[parameters]\nentities_2020 = 3000\n'
    at.file_uploader(key="upload").set_value(("big.toml", big, "application/toml")).run()
    ok(at)
    at.number_input(key="seeds").set_value(100)
    at.number_input(key="scale").set_value(1000)
    at.slider(key="horizon").set_value(2035).run()
    ok(at)
    errors = " ".join(e.value for e in at.error)
    assert "超过上限 15" in errors, errors


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_scorecard_shows_the_verdicts_columns_first(lang):
    summary = pd.DataFrame([{"indicator": "market_entities", "median_2025": 1050e4, "p05_2025": 990e4,
                             "p95_2025": 1150e4, "mc_error_2025": 1e4, "prob_target_met": 0.3}])
    table, _ = views.scorecard(summary, lang)
    order = views.scorecard_order(table, lang)
    t = tx.texts(lang)
    assert order[:6] == [t["col_no"], t["col_indicator"], t["col_target"].format(year=2025),
                         t["col_median"].format(year=2025), t["col_prob"], t["col_status"]]
    assert sorted(order) == sorted(table.columns)  # nothing hidden, only moved right


def test_the_point_fit_toggle_runs_every_seed_with_the_fitted_parameters_and_travels_in_the_link(app, monkeypatch):
    at = app()
    posterior = scorecard(at)
    assert at.radio(key="parameters").value == "posterior"
    at.radio(key="parameters").set_value("point").run()
    ok(at)
    assert at.query_params["parameters"] in ("point", ["point"])
    point = scorecard(at)
    assert not posterior.equals(point)  # the seeds no longer draw their parameters
    # the same as the CLI's point runs: seed 0 and 1 of the baseline at the app's test settings
    rows = pd.concat([run_seed(baseline(), s, scale=100000, horizon=2025, engine="vector", parameters="point")
                      for s in range(2)])
    median = rows[(rows["indicator"] == DR) & (rows["year"] == 2025)]["value"].median()
    assert percent(cell(at, DR_ZH, column=5)) == pytest.approx(median, abs=0.051)
    other = _started_with({"parameters": "point"}, monkeypatch)
    assert other.radio(key="parameters").value == "point"


def test_choosing_the_preset_a_setting_was_moved_from_loads_it_as_it_is(app):
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.slider(key=f"lever_{DR}").set_value(90).run()
    ok(at)
    assert at.selectbox(key="preset").value == "__adjusted__"
    at.selectbox(key="preset").select("plan").run()  # the same preset again
    ok(at)
    assert at.slider(key=f"lever_{DR}").value == sc.slider_value(LEVERS_BY_ID[DR], PLAN.lever(DR, 2025))
    assert at.selectbox(key="preset").value == "plan" and "__adjusted__" not in at.selectbox(key="preset").options
    at.slider(key=f"lever_{DR}").set_value(80).run()
    at.button(key="reset").click().run()  # the reset button does the same
    assert at.slider(key=f"lever_{DR}").value == sc.slider_value(LEVERS_BY_ID[DR], PLAN.lever(DR, 2025))
    assert at.selectbox(key="preset").value == "plan"


def test_moving_a_slider_shows_the_preset_adjusted_in_the_same_run(app, monkeypatch):
    import streamlit

    reruns = []
    real = streamlit.rerun

    def counted(*args, **kwargs):
        reruns.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "rerun", counted)
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.slider(key=f"lever_{DR}").set_value(90).run()
    ok(at)
    assert at.selectbox(key="preset").value == "__adjusted__" and not reruns  # the slider's callback showed it
    at.slider(key=f"lever_{DR}").set_value(sc.slider_value(LEVERS_BY_ID[DR], PLAN.lever(DR, 2025))).run()
    ok(at)
    assert at.selectbox(key="preset").value == "plan" and len(reruns) == 1  # moved back: the run corrects it


# ---------------------------------------------------------------- the attribution waterfall and the brief


def test_the_attribution_waterfall_splits_the_difference_from_the_reference_on_request(app, monkeypatch):
    """The comparison's waterfall: nothing runs until the button; then each differing lever group's
    contribution and the total, which the contributions add up to and which is the seed-paired mean
    difference from the reference; another indicator is drawn from the same attribution, not run again."""
    import inspect

    from sim.analysis import attribution

    calls = []

    def counted(*args, **kwargs):
        calls.append(inspect.signature(real).bind(*args, **kwargs).arguments)
        return real(*args, **kwargs)

    real = attribution.attribute
    monkeypatch.setattr(attribution, "attribute", counted)
    at = app()
    at.slider(key=f"lever_{DR}").set_value(60).run()  # the baseline preset, two lever groups moved
    at.slider(key="lever_fine_level").set_value(2.0).run()
    at.button_group(key="view").set_value("compare").run()
    ok(at)
    assert len(at.get("vega_lite_chart")) == 1 and not calls  # only the comparison chart: nothing run yet
    at.selectbox(key="attribution_indicator").select(DR).run()
    at.button(key="attribution_run").click().run()
    ok(at)
    assert len(calls) == 1 and calls[0]["year"] == 2025 and list(calls[0]["seeds"]) == [0, 1]
    assert calls[0]["scale"] == 100000 and calls[0]["parameters"] == "posterior" and calls[0]["backend"] is not None
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2
    steps = next(d for d in chart_data(charts[1]) if "contribution" in d.columns)
    groups, total = steps[steps["kind"] != "total"], steps[steps["kind"] == "total"]
    assert list(groups["step"]) == ["“双随机”监管", "信用监管"]  # the two groups moved, in Chinese
    assert list(total["step"]) == ["总差值"] and len(total) == 1
    assert groups["contribution"].sum() == pytest.approx(total["contribution"].iloc[0], abs=1e-9)
    assert groups["end"].iloc[-1] == pytest.approx(total["end"].iloc[0], abs=1e-9)  # the steps reach the total
    assert (steps["high"] - steps["end"]).to_numpy() == pytest.approx(steps["se"].to_numpy())  # ±1 se whiskers
    # the total is the mean over seeds of the paired difference, as the CLI's runs give it
    current = sc.resolve(baseline(), {DR: 60, "fine_level": 2.0})
    diff = [run_seed(current, s, 100000, 2025, "vector").query(f"indicator == '{DR}' and year == 2025")["value"].iloc[0]
            - run_seed(baseline(), s, 100000, 2025, "vector").query(f"indicator == '{DR}' and year == 2025")["value"]
            .iloc[0] for s in range(2)]
    assert total["contribution"].iloc[0] == pytest.approx(sum(diff) / 2, rel=1e-9, abs=1e-9)
    assert groups.set_index("step").loc["“双随机”监管", "contribution"] > 30  # the share's own lever moves it
    at.selectbox(key="attribution_indicator").select("market_entities").run()
    ok(at)
    steps = next(d for d in chart_data(at.get("vega_lite_chart")[1]) if "contribution" in d.columns)
    assert steps.iloc[:-1]["contribution"].sum() == pytest.approx(steps.iloc[-1]["contribution"])
    assert len(calls) == 1  # the same attribution, kept in the session
    at.slider(key="lever_fine_level").set_value(3.0).run()  # other settings: no stale waterfall
    ok(at)
    assert len(at.get("vega_lite_chart")) == 1 and len(calls) == 1


def test_the_waterfall_leaves_out_groups_contributing_nothing_and_speaks_english():
    ind = by_id()[DR]
    frame = pd.DataFrame([
        {"indicator": DR, "group": "registration", "label_zh": "登记注册改革", "label_en": "Registration reform",
         "contribution": 0.0, "se": 0.0, "total": 5.0, "total_se": 0.5},
        {"indicator": DR, "group": "dual_random", "label_zh": "“双随机”监管", "label_en": "Double-random supervision",
         "contribution": 7.0, "se": 0.4, "total": 5.0, "total_se": 0.5},
        {"indicator": DR, "group": "credit", "label_zh": "信用监管", "label_en": "Credit supervision",
         "contribution": -2.0, "se": 0.3, "total": 5.0, "total_se": 0.5},
        {"indicator": "market_entities", "group": "credit", "label_zh": "信用监管", "label_en": "Credit supervision",
         "contribution": 1.0, "se": 0.1, "total": 1.0, "total_se": 0.1}])
    from sim.ui.waterfall import waterfall_chart, waterfall_table

    table = waterfall_table(frame, ind, "en")
    assert list(table["step"]) == ["Double-random supervision", "Credit supervision", "Total difference"]
    assert list(table["kind"]) == ["up", "down", "total"]
    assert list(table["start"]) == [0.0, 7.0, 0.0] and list(table["end"]) == [7.0, 5.0, 5.0]
    assert list(table["low"]) == pytest.approx([6.6, 4.7, 4.5])
    spec = waterfall_chart(table, ind, "en").to_dict()
    assert spec["layer"][0]["encoding"]["y"]["axis"]["title"] == "Contribution to the difference (%)"
    entities = by_id()["market_entities"]  # 10k entities in Chinese, millions in English
    assert waterfall_table(frame, entities, "en")["contribution"].tolist() == pytest.approx([0.01, 0.01])


@pytest.fixture
def media(monkeypatch):
    """What the page hands Streamlit's media store (download buttons' bytes), by file id."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = real(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return stored


def test_the_downloads_view_prepares_the_brief_as_pdf_and_html(app, media):
    at = app()
    at.selectbox(key="preset").select("plan").run()
    at.button_group(key="view").set_value("downloads").run()
    ok(at)
    assert at.checkbox(key="brief_attribution").value is True  # on by default
    assert not [b for b in at.get("download_button") if b.proto.label == tx.texts("zh")["brief_pdf"]]
    command = next(c.value for c in at.code if "sim brief" in c.value)
    assert command.startswith("python -m sim brief --scenario scenarios/plan.toml ")  # the preset's own file
    for part in ("--seeds 2 ", "--first-seed 0 ", "--scale 100000 ", "--parameters posterior", "--lang zh"):
        assert part in command, part  # the same settings as the CLI's own reproduce command spells out
    at.checkbox(key="brief_attribution").uncheck().run()
    at.button(key="brief_prepare").click().run()
    ok(at)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    pdf, html = buttons[tx.texts("zh")["brief_pdf"]], buttons[tx.texts("zh")["brief_html"]]

    def data(button) -> bytes:
        return media[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]

    assert data(pdf).startswith(b"%PDF") and len(data(pdf)) > 10_000
    page = data(html).decode("utf-8")
    assert "<html" in page.lower() and "--no-attribution" in page  # the command that reproduces it
    assert "--no-attribution" in next(c.value for c in at.code if "sim brief" in c.value)
    at.slider(key=f"lever_{DR}").set_value(90).run()  # moved settings: the brief of other settings is gone
    ok(at)
    assert tx.texts("zh")["brief_pdf"] not in [b.proto.label for b in at.get("download_button")]
    assert "--scenario <your saved scenario file> " in next(c.value for c in at.code if "sim brief" in c.value)


def test_library_runs_of_a_session_go_through_the_fair_scheduler_with_the_same_numbers():
    """The attribution and the brief take the app's pool as ``backend=``: their seeds queue as the session's
    ticket on the fair scheduler (nothing in the server's own process) and give the numbers of a plain run."""
    from sim.analysis.attribution import attribute
    from sim.runs.runner import run
    from sim.ui.scheduler import FairScheduler
    from sim.ui.session_runs import SessionRuns

    moved = sc.resolve(baseline(), {DR: 60, "fine_level": 2.0})
    here = attribute(baseline(), moved, range(2), year=2021, scale=200000, workers=1)
    pool = warm_pool(2)
    try:
        scheduler = FairScheduler(pool, run)
        pooled = attribute(baseline(), moved, range(2), year=2021, scale=200000, backend=SessionRuns(scheduler))
    finally:
        pool.shutdown()
    assert len(scheduler.dispatched) == 4 * 2 and not scheduler.queued()  # 2^2 hybrids x 2 seeds, all served
    pd.testing.assert_frame_equal(pooled, here)
