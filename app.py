"""Streamlit app: set policy levers, see Zhejiang's market entities through 2025 against the plan.

Run with ``streamlit run app.py``. The page is thin: scenarios, levers, runs, medians, bands
and target probabilities all come from ``sim``; this file only lays them out.
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path as FilePath

import altair as alt
import pandas as pd
import streamlit as st

from sim.ensemble import bands, run_ensemble, summarise
from sim.indicators import Indicator, by_id
from sim.params import (LEVERS_BY_ID, Lever, Scenario, ScenarioError, apply_overrides, baseline, load_scenario,
                        parse_scenario)

SCENARIO_DIR = FilePath(os.environ.get("SIM_SCENARIO_DIR") or FilePath(__file__).resolve().parent / "scenarios")
FIRST_PRESETS = ("baseline", "plan")
SLIDER_LEVERS = ("dual_random_share", "credit_application_rate", "entry_cost_index",
                 "simplified_deregistration", "credit_penalty_severity")
HEADLINE = "market_entities"
BASE_YEAR = 2020
TARGET_YEAR = 2025
DEFAULT_SEEDS = 20
DEFAULT_SCALE = 8000  # real entities per simulated one: about a second for 20 seeds with the vector engine
ENGINE = "vector"  # the vectorised engine; it gives the Mesa reference engine's numbers (tests/test_vector.py)

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "page_title": "浙江市场主体政策模拟",
        "title": "浙江省市场主体政策模拟器",
        "intro": "“十四五”市场监管规划（2021–2025年）：调整政策杠杆，"
                 "查看全省在册市场主体的走势及达到规划目标的概率。",
        "scenario_header": "情景",
        "preset": "预设情景",
        "levers_header": "政策杠杆（2025年取值）",
        "lever_help_path": "滑块设定2025年取值；2020年为预设情景的取值（{v2020}），"
                           "其间线性变化。",
        "run_header": "运行设置",
        "seeds": "随机种子数",
        "seeds_help": "同一情景用不同随机种子运行的次数；中位数和5%–95%区间由此得出。",
        "scale": "缩放比例（每个模拟主体代表的真实主体数）",
        "scale_help": "数值越大运行越快，但随机波动越大。",
        "spinner": "正在模拟 {seeds} 次运行……",
        "run_error": "无法运行情景：{err}",
        "file_error": "情景文件无法载入：{err}",
        "no_presets": "没有可用的情景文件，使用2020年政策基准情景。",
        "metric_median": "{year}年在册市场主体（中位数）",
        "metric_delta": "较{year}年",
        "metric_band": "5%–95%区间",
        "metric_prob": "达到规划目标（{target}）的概率",
        "caption": "基于 {seeds} 次随机运行，每个模拟主体代表 {scale} 个真实主体；"
                   "计入在册的歇业主体。",
        "chart_header": "在册市场主体总量",
        "chart_caption": "实线：中位数；阴影：5%–95%区间；红色虚线与红点：{year}年规划目标；"
                         "灰色菱形：2020年基数。",
        "year": "年份",
        "y_axis": "在册市场主体（万户）",
        "median": "中位数",
        "low": "5%分位",
        "high": "95%分位",
        "table_header": "有目标的规划指标（{year}年）",
        "col_indicator": "指标",
        "col_attribute": "属性",
        "col_baseline": "2020年基数",
        "col_target": "{year}年目标",
        "col_median": "中位数",
        "col_band": "5%–95%区间",
        "col_prob": "达标概率",
        "binding": "约束性",
        "expected": "预期性",
        "text target": "规划文本目标",
    },
    "en": {
        "page_title": "Zhejiang market-entity policy simulator",
        "title": "Zhejiang market-entity policy simulator",
        "intro": "14th Five-Year Plan for market supervision (2021-2025): set policy levers and see the "
                 "province's registered market entities and the chance of meeting the plan's targets.",
        "scenario_header": "Scenario",
        "preset": "Preset scenario",
        "levers_header": "Policy levers (2025 value)",
        "lever_help_path": "The slider sets the 2025 value; 2020 keeps the preset's value ({v2020}), "
                           "linear in between.",
        "run_header": "Run settings",
        "seeds": "Seeds",
        "seeds_help": "Runs of the scenario with different random seeds; the median and 5-95% band "
                      "come from them.",
        "scale": "Scale (real entities per simulated one)",
        "scale_help": "Larger is faster but noisier.",
        "spinner": "Simulating {seeds} runs...",
        "run_error": "Cannot run the scenario: {err}",
        "file_error": "A scenario file could not be loaded: {err}",
        "no_presets": "No scenario file could be loaded; using the 2020-policy baseline.",
        "metric_median": "Registered market entities, {year} (median)",
        "metric_delta": "vs {year}",
        "metric_band": "5-95% band",
        "metric_prob": "Probability of meeting the plan target ({target})",
        "caption": "From {seeds} random runs; each simulated entity stands for {scale} real ones. "
                   "Dormant entities still on the register are counted.",
        "chart_header": "Registered market entities",
        "chart_caption": "Line: median; shading: 5-95% band; red dashed line and dot: {year} plan target; "
                         "grey diamond: 2020 baseline.",
        "year": "Year",
        "y_axis": "Registered market entities (10k)",
        "median": "Median",
        "low": "5th percentile",
        "high": "95th percentile",
        "table_header": "Plan indicators with targets ({year})",
        "col_indicator": "Indicator",
        "col_attribute": "Attribute",
        "col_baseline": "2020 baseline",
        "col_target": "{year} target",
        "col_median": "Median",
        "col_band": "5-95% band",
        "col_prob": "P(target met)",
        "binding": "binding",
        "expected": "expected",
        "text target": "plan text target",
    },
}

# Chinese for the lever units (sim.params declares units in English only).
UNIT_ZH = {"%": "%", "share 0-1": "比例，0–1", "index, 2020 = 1": "指数，2020年=1", "months": "月",
           "switch 0/1": "开关，0/1", "% per year": "%/年"}
OP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def load_presets(directory: FilePath) -> tuple[dict[str, Scenario], list[str]]:
    """Every scenario file in ``directory``, baseline and plan first, and the load errors."""
    files = sorted(directory.glob("*.toml"))
    files.sort(key=lambda f: (FIRST_PRESETS.index(f.stem) if f.stem in FIRST_PRESETS else len(FIRST_PRESETS)))
    presets: dict[str, Scenario] = {}
    errors: list[str] = []
    for file in files:
        try:
            presets[file.stem] = load_scenario(file)
        except ScenarioError as err:
            errors.append(str(err))
    return presets, errors


@st.cache_data(show_spinner=False, max_entries=64)
def ensemble(scenario_toml: str, seeds: int, scale: float) -> pd.DataFrame:
    """Tidy indicator rows of a scenario (given as its TOML text) over seeds 0..seeds-1."""
    scenario = parse_scenario(tomllib.loads(scenario_toml), "<app>")
    return run_ensemble(scenario, range(seeds), scale=scale, engine=ENGINE, workers=1)


def unit_format(ind: Indicator, lang: str) -> tuple[float, int, str]:
    """(factor, decimals, suffix) to show an indicator's values to readers of ``lang``."""
    if ind.unit_en == "10k entities":
        return (1.0, 1, "万户") if lang == "zh" else (0.01, 2, " million")
    if ind.unit_en == "%":
        return 1.0, 1, "%"
    return 1.0, 1, ind.unit_zh if lang == "zh" else f" {ind.unit_en}"


def fmt(value: float | None, ind: Indicator, lang: str, sign: bool = False, trim: bool = False) -> str:
    """A value with its unit, e.g. 1149.4万户 or 11.49 million; ``trim`` drops trailing zeros
    (for round numbers such as targets), ``sign`` always shows + or -."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    factor, decimals, suffix = unit_format(ind, lang)
    text = f"{value * factor:{'+' if sign else ''}.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def fmt_band(low: float, high: float, ind: Indicator, lang: str) -> str:
    """A 5-95% band, e.g. 1049.4–1289.2万户."""
    if math.isnan(low) or math.isnan(high):
        return "—"
    factor, decimals, suffix = unit_format(ind, lang)
    return f"{low * factor:.{decimals}f}–{high * factor:.{decimals}f}{suffix}"


def fmt_prob(prob: float) -> str:
    """A probability as a whole percentage."""
    return "—" if math.isnan(prob) else f"{prob:.0%}"


def fmt_target(ind: Indicator, lang: str) -> str:
    """The target with its comparison, e.g. ≥1100万户."""
    return OP_SYMBOL.get(ind.target_op, ind.target_op) + fmt(ind.target, ind, lang, trim=True)


def lever_label(lever: Lever, lang: str) -> str:
    """A lever's label with its unit in the chosen language."""
    if lang == "zh":
        return f"{lever.label_zh}（{UNIT_ZH.get(lever.unit, lever.unit)}）"
    return f"{lever.label_en} ({lever.unit})"


def slider_step(lever: Lever) -> float | int:
    """About a hundredth of the lever's range, rounded down to a power of ten."""
    if lever.integer:
        return 1
    return 10.0 ** math.floor(math.log10((lever.high - lever.low) / 100))


def sidebar(t: dict[str, str], lang: str) -> tuple[Scenario, int, int]:
    """The scenario chosen in the sidebar (preset plus slider overrides), seeds and scale."""
    st.sidebar.header(t["scenario_header"])
    presets, errors = load_presets(SCENARIO_DIR)
    for err in errors:
        st.error(t["file_error"].format(err=err))
    if not presets:
        st.warning(t["no_presets"])
        presets = {"baseline": baseline()}
    if st.session_state.get("preset") not in presets:
        st.session_state["preset"] = next(iter(presets))
    name = st.sidebar.selectbox(
        t["preset"], list(presets), key="preset",
        format_func=lambda n: presets[n].label_zh if lang == "zh" else presets[n].label_en)
    preset = presets[name]

    # A new preset (or an edited preset file) resets the sliders to its 2025 values.
    preset_toml = preset.to_toml()
    if st.session_state.get("_sliders_from") != preset_toml:
        for lid in SLIDER_LEVERS:
            lever = LEVERS_BY_ID[lid]
            value = preset.levers[lid].at(TARGET_YEAR)
            st.session_state[f"lever_{lid}"] = int(value) if lever.integer else float(value)
        st.session_state["_sliders_from"] = preset_toml

    st.sidebar.subheader(t["levers_header"])
    overrides = []
    for lid in SLIDER_LEVERS:
        lever = LEVERS_BY_ID[lid]
        step = slider_step(lever)
        decimals = max(0, -int(math.floor(math.log10(step))))
        v2020 = preset.levers[lid].at(BASE_YEAR)
        lever_help = lever.help_zh if lang == "zh" else lever.help_en
        value = st.sidebar.slider(
            lever_label(lever, lang),
            min_value=int(lever.low) if lever.integer else float(lever.low),
            max_value=int(lever.high) if lever.integer else float(lever.high),
            step=step, format=f"%.{decimals}f", key=f"lever_{lid}",
            help=f"{lever_help}\n\n{t['lever_help_path'].format(v2020=f'{v2020:g}')}")
        if not math.isclose(value, preset.levers[lid].at(TARGET_YEAR), abs_tol=1e-9):
            overrides.append(f"{lid}={BASE_YEAR}:{v2020:g},{TARGET_YEAR}:{value:g}")
    scenario = apply_overrides(preset, overrides, source="app") if overrides else preset

    st.sidebar.subheader(t["run_header"])
    st.session_state.setdefault("seeds", DEFAULT_SEEDS)
    st.session_state.setdefault("scale", DEFAULT_SCALE)
    seeds = st.sidebar.number_input(t["seeds"], min_value=1, max_value=50, step=1, key="seeds",
                                    help=t["seeds_help"])
    scale = st.sidebar.number_input(t["scale"], min_value=1000, max_value=1_000_000, step=1000, key="scale",
                                    help=t["scale_help"])
    return scenario, int(seeds), int(scale)


def headline(summary: pd.DataFrame, t: dict[str, str], lang: str) -> None:
    """Median, band and probability of meeting the target for registered market entities."""
    ind = by_id()[HEADLINE]
    row = summary.set_index("indicator").loc[HEADLINE]
    median_col, band_col, prob_col = st.columns(3)
    median_col.metric(t["metric_median"].format(year=TARGET_YEAR), fmt(row["median_2025"], ind, lang),
                      delta=f"{fmt(row['median_2025'] - ind.baseline_2020, ind, lang, sign=True)} "
                            f"{t['metric_delta'].format(year=BASE_YEAR)}")
    band_col.metric(t["metric_band"], fmt_band(row["p05_2025"], row["p95_2025"], ind, lang))
    prob_col.metric(t["metric_prob"].format(target=fmt_target(ind, lang)), fmt_prob(row["prob_target_met"]))


def chart(tidy: pd.DataFrame, t: dict[str, str]) -> alt.LayerChart:
    """Median line and 5-95% band of registered entities by year, with the 2020 baseline and the target."""
    ind = by_id()[HEADLINE]
    data = bands(tidy)
    data = data[data["indicator"] == HEADLINE]
    x = alt.X("year:Q", title=t["year"], axis=alt.Axis(format="d", tickMinStep=1))
    tooltip = [alt.Tooltip("year:Q", title=t["year"], format="d"),
               alt.Tooltip("median:Q", title=t["median"], format=".1f"),
               alt.Tooltip("low:Q", title=t["low"], format=".1f"),
               alt.Tooltip("high:Q", title=t["high"], format=".1f")]
    base = alt.Chart(data).encode(x=x)
    band = base.mark_area(opacity=0.25, color="#1f77b4").encode(
        y=alt.Y("low:Q", title=t["y_axis"], scale=alt.Scale(zero=False)), y2="high:Q")
    line = base.mark_line(point=True, color="#1f77b4").encode(y="median:Q", tooltip=tooltip)
    marks = pd.DataFrame({"year": [BASE_YEAR, TARGET_YEAR], "value": [ind.baseline_2020, ind.target]})
    target_rule = alt.Chart(marks.tail(1)).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(y="value:Q")
    target_point = alt.Chart(marks.tail(1)).mark_point(color="#d62728", filled=True, size=90).encode(
        x="year:Q", y="value:Q")
    base_point = alt.Chart(marks.head(1)).mark_point(color="grey", shape="diamond", filled=True, size=110).encode(
        x="year:Q", y="value:Q")
    return alt.layer(band, line, target_rule, target_point, base_point)


def target_table(summary: pd.DataFrame, t: dict[str, str], lang: str) -> pd.DataFrame:
    """Summary rows that have a target, formatted for readers of ``lang``."""
    indicators = by_id()
    rows = []
    for _, row in summary[summary["target_2025"].notna()].iterrows():
        ind = indicators[row["indicator"]]
        rows.append({
            t["col_indicator"]: ind.name_zh if lang == "zh" else ind.name_en,
            t["col_attribute"]: t.get(ind.attribute, ind.attribute),
            t["col_baseline"]: fmt(ind.baseline_2020, ind, lang, trim=True),
            t["col_target"].format(year=TARGET_YEAR): fmt_target(ind, lang),
            t["col_median"]: fmt(row["median_2025"], ind, lang),
            t["col_band"]: fmt_band(row["p05_2025"], row["p95_2025"], ind, lang),
            t["col_prob"]: fmt_prob(row["prob_target_met"]),
        })
    return pd.DataFrame(rows)


def main() -> None:
    """The page."""
    st.set_page_config(page_title=TEXT[st.session_state.get("lang", "zh")]["page_title"], layout="wide")
    lang = st.sidebar.radio("语言 / Language", ["zh", "en"], key="lang", horizontal=True,
                            format_func=lambda code: {"zh": "中文", "en": "English"}[code])
    t = TEXT[lang]
    st.title(t["title"])
    st.caption(t["intro"])
    try:
        scenario, seeds, scale = sidebar(t, lang)
    except ScenarioError as err:
        st.error(t["run_error"].format(err=err))
        return
    with st.spinner(t["spinner"].format(seeds=seeds)):
        tidy = ensemble(scenario.to_toml(), seeds, scale)
    summary = summarise(tidy, TARGET_YEAR)

    headline(summary, t, lang)
    st.caption(t["caption"].format(seeds=seeds, scale=f"{scale:,}"))
    st.subheader(t["chart_header"])
    st.altair_chart(chart(tidy, t), width="stretch")
    st.caption(t["chart_caption"].format(year=TARGET_YEAR))
    st.subheader(t["table_header"].format(year=TARGET_YEAR))
    st.dataframe(target_table(summary, t, lang), hide_index=True)


main()
