"""Streamlit app: set policy levers, see Zhejiang's market and the plan's 24 indicators against targets.

Run with ``make app`` (``python -m sim.ui.serve``: Streamlit with the model and worker pool warmed
at server start) or ``streamlit run app.py``. The page is thin: levers, indicators,
targets, runs, medians, bands and probabilities all come from ``sim``; ``sim.ui`` holds the
labels, tables and charts. Chinese first, with an English switch.

Environment (optional): ``SIM_SCENARIO_DIR`` (preset folder, default ``scenarios/``),
``SIM_APP_SEEDS`` and ``SIM_APP_SCALE`` (default seeds and scale of a new session),
``SIM_APP_WORKERS`` (worker processes for the seeds, default the CPU count; 1 runs them in the
app's process).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim.runs.ensemble import summarise
from sim.outputs.indicators import Indicator, by_id, registry
from sim.inputs.levers import CITIES, LEVERS_BY_ID
from sim.inputs.scenario import ScenarioError
from sim.ui import link, reports, runner, session, shared, views
from sim.ui.session import choose, select
from sim.ui import scenario as sc
from sim.ui import text as tx
from sim.ui.history import chart_points
from sim.ui.progress import APP_DELAY, STALE_STYLE, Progress
from sim.ui.sidebar import Settings, city_label, scenario_label, sidebar

SCENARIO_DIR, DEFAULT_SEEDS, DEFAULT_SCALE = sc.scenario_dir(), sc.default_seeds(), sc.default_scale()
TARGET_YEAR = sc.TARGET_YEAR
MAX_PINNED = 4
HEADLINE = "market_entities"
VIEWS = ("scorecard", "charts", "compare", "downloads")
TABLE_ROW_HEIGHT = {"zh": 35, "en": 66}  # px; Streamlit wraps text only in rows taller than 4rem (64 px)


seed_cache = shared.seed_cache  # seed runs shared by every session of this server


def chart_history(ind: Indicator, until: float) -> pd.DataFrame:
    """Shipped history and the user's actual figures of an indicator, for its chart."""
    return chart_points(ind, st.session_state.get("actual_history"), until)


# ---------------------------------------------------------------- runs


def run(requests: list[runner.Request], settings: Settings, t: dict[str, str]) -> list[pd.DataFrame]:
    """Ensembles of the requested scenarios on the same seeds; missing seed runs are computed with a
    progress bar (an interrupted run keeps the seeds it finished)."""
    cache = seed_cache()
    seeds = range(settings.seeds)
    for r in requests:
        cost = runner.request_cost(sc.from_key(r.key), settings.seeds, settings.scale, settings.horizon)
        if cost > runner.MAX_REQUEST_COST:
            raise ScenarioError(t["run_too_costly"].format(name=r.name, cost=tx.num(cost / 1e6),
                                                           cap=tx.num(runner.MAX_REQUEST_COST / 1e6)))
    shared.wait_for_prefetch()  # the server's start computes the first page: not asked for twice
    todo = runner.missing(cache, requests, seeds, settings.scale, settings.horizon, parameters=settings.parameters)
    # the bar's place, kept on every run so that the elements after it keep theirs whether or not seeds
    # are missing; the bar itself is drawn only if the run lasts (sim.ui.progress)
    slot = st.empty()
    if todo:
        bar = Progress(slot, lambda done, total, left: t["progress"].format(done=done, total=total, left=left),
                       delay=APP_DELAY)
        # this session's ticket on the shared pool: served in turn with the other sessions, cancelled if
        # this page reruns or closes; a broken pool is replaced (seeds never run in the server itself)
        runner.compute(cache, todo, sc.from_key, bar, scheduler=shared.scheduler())
        bar.close()
    return [runner.ensemble(cache, r, seeds, settings.scale, settings.horizon, sc.from_key,
                            parameters=settings.parameters) for r in requests]


# ---------------------------------------------------------------- main area


def headline(summary: pd.DataFrame, settings: Settings, lang: str, t: dict[str, str]) -> None:
    """Registered market entities in 2025 (median, band, probability) and the binding indicators' marks."""
    rows = summary.set_index("indicator")
    cols = st.columns([1.1, 1.4, 1.1, 1.1])
    if HEADLINE in rows.index:
        ind, row = by_id()[HEADLINE], rows.loc[HEADLINE]
        cols[0].metric(t["metric_median"].format(year=TARGET_YEAR), tx.fmt(row["median_2025"], ind, lang, short=True),
                       delta=f"{tx.fmt(row['median_2025'] - ind.baseline_2020, ind, lang, sign=True, short=True)} "
                             f"{t['metric_delta']}")
        cols[1].metric(t["metric_band"], tx.fmt_band(row["p05_2025"], row["p95_2025"], ind, lang,
                                                     digits=0 if lang == "zh" else 1, short=True))
        cols[2].metric(t["metric_prob"].format(target=tx.fmt_target(ind, lang, short=True)),
                       tx.fmt_prob(row["prob_target_met"]))
    counts = views.binding_counts(summary)
    cols[3].metric(t["metric_binding"], t["metric_binding_value"].format(
        met=counts["met"], risk=counts["at risk"], missed=counts["missed"]),
        help=t["metric_binding_help"].format(year=TARGET_YEAR))
    st.caption(t["caption"].format(scenario=scenario_label(settings.scenario, lang), seeds=settings.seeds,
                                   scale=f"{settings.scale:,}", horizon=settings.horizon,
                                   parameters=t[f"parameters_{settings.parameters}"]))


def indicator_options() -> list[str]:
    """Indicators a chart can show: the scorecard's, the model's outputs, then text targets not modelled
    (which show why)."""
    ids = [ind.id for ind in views.scorecard_indicators()]
    ids += [ind.id for ind in registry() if ind.modelled and ind.id not in ids]
    return ids + [ind.id for ind in views.other_text_targets() if ind.id not in ids]


def indicator_option_label(iid: str, lang: str) -> str:
    ind = by_id()[iid]
    prefix = f"{ind.no}. " if ind.no is not None else ""
    return prefix + tx.indicator_name(ind, lang)


def indicator_detail(tidy: pd.DataFrame, ind: Indicator, lang: str, t: dict[str, str], scenario=None) -> None:
    """The chart of one indicator (or why it is not modelled), its mechanism and levers; for the
    regulators' indicators (2, 3) also the lever's path and why the share can miss at its target."""
    st.subheader(t["indicator_header"].format(name=tx.indicator_name(ind, lang)))
    if ind.modelled:
        references = views.regulator_references(tidy, ind, scenario, lang) if scenario is not None else []
        st.altair_chart(views.indicator_chart(tidy, ind, lang, chart_history(ind, tidy["year"].max()), references),
                        width="stretch")
        st.caption(t["indicator_caption"].format(year=ind.target_year))
        if references:
            st.caption(t["regulator_pace_caption"])
    else:
        st.info(t["indicator_not_modelled"].format(reason=tx.reason(ind, lang)))
    levers = [tx.lever_name(LEVERS_BY_ID[lid], lang) for lid in ind.levers if lid in LEVERS_BY_ID]
    st.caption(t["levers_moving"].format(levers="、".join(levers) if lang == "zh" else ", ".join(levers))
               if levers else t["no_levers"])
    if ind.mechanism:
        with st.expander(t["mechanism"]):
            st.write(tx.mechanism(ind, lang))


def scorecard_view(tidy: pd.DataFrame, summary: pd.DataFrame, settings: Settings, lang: str,
                   t: dict[str, str]) -> None:
    st.subheader(t["scorecard_header"].format(year=TARGET_YEAR))
    st.caption(t["scorecard_caption"])
    final = summarise(tidy, settings.horizon) if settings.horizon > TARGET_YEAR else None
    table, ids = views.scorecard(summary, lang, TARGET_YEAR, final, settings.horizon if final is not None else None)
    row_height = TABLE_ROW_HEIGHT[lang]  # two lines in English: long names and units wrap instead of being cut
    event = st.dataframe(
        views.status_colours(table, lang), hide_index=True, width="stretch", height=(row_height + 1) * len(table) + 40,
        row_height=row_height, key="scorecard", on_select="rerun", selection_mode="single-row",
        column_order=views.scorecard_order(table, lang, TARGET_YEAR),  # the verdict's columns first: they fit at 1366 px
        column_config={
            t["col_no"]: st.column_config.TextColumn(t["col_no"], width=40, pinned=True),
            # wide enough for the names (English ones are longer) with the verdict still inside 1366 px
            t["col_indicator"]: st.column_config.TextColumn(t["col_indicator"], width=340 if lang == "en" else 300,
                                                            pinned=True),
            t["col_target"].format(year=TARGET_YEAR): st.column_config.TextColumn(width=150 if lang == "en" else 125),
            t["col_median"].format(year=TARGET_YEAR): st.column_config.TextColumn(width=150 if lang == "en" else 125),
            t["col_prob"]: st.column_config.ProgressColumn(t["col_prob"], format="%d%%", min_value=0,
                                                           max_value=100, width=100),
        })
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if rows and rows[0] < len(ids):
        picked = ids[rows[0]]
        if st.session_state.get("_scorecard_pick") != picked:
            st.session_state["_scorecard_pick"] = picked
            choose("indicator", picked)
    others = views.other_text_targets()
    if others:
        with st.expander(t["other_text_targets"].format(n=len(others))):
            st.dataframe(pd.DataFrame({
                t["col_indicator"]: [tx.indicator_name(i, lang) for i in others],
                t["col_target"].format(year=TARGET_YEAR): [tx.fmt_target(i, lang) for i in others],
                t["col_note"]: [t["not_modelled_reason"].format(reason=tx.reason(i, lang)) for i in others],
            }), hide_index=True, width="stretch")
    options = indicator_options()
    iid = select(st, t["pick_indicator"], options, "indicator", lang, default=HEADLINE,
                       format_func=lambda i: indicator_option_label(i, lang))
    indicator_detail(tidy, by_id()[iid], lang, t, settings.scenario)


def charts_view(tidy: pd.DataFrame, settings: Settings, lang: str, t: dict[str, str]) -> None:
    reg = by_id()
    st.subheader(t["charts_header"])
    entities = reg[HEADLINE]
    factor, unit = tx.display_unit(entities, lang)
    y_entities = f"{t['chart_kinds'].split('（')[0]}（{unit}）" if lang == "zh" else f"Entities ({unit})"
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t['chart_kinds']}**")
        kinds = [(runner.RECORD_PREFIX + "registered_company", t["kind_company"]),
                 (runner.RECORD_PREFIX + "registered_other", t["kind_other"]),
                 (runner.RECORD_PREFIX + "registered_individual", t["kind_individual"])]
        st.altair_chart(views.lines_chart(tidy, kinds, y_entities, lang, factor, chart_history(entities, settings.horizon),
                                          stacked=True), width="stretch")
        st.caption(t["chart_kinds_caption"])
    with right:
        st.markdown(f"**{t['chart_cities']}**")
        chart = views.city_chart(tidy, [(c, city_label(c, lang)) for c in CITIES], settings.horizon, y_entities,
                                 lang, runner.CITY_PREFIX, factor)
        if chart is None:
            st.info(t["cities_unavailable"])
        else:
            st.altair_chart(chart, width="stretch")
            st.caption(t["chart_cities_caption"].format(year=settings.horizon))
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t['chart_flows']}**")
        flows = [(i, tx.indicator_name(reg[i], lang)) for i in ("new_registrations", "deregistrations",
                                                                 "dormant_entities") if i in reg]
        if flows:
            f, u = tx.display_unit(reg[flows[0][0]], lang)
            st.altair_chart(views.lines_chart(tidy, flows, u, lang, f), width="stretch")
        st.caption(t["chart_flows_caption"])
    with right:
        st.markdown(f"**{t['chart_compliance']}**")
        if "compliance_rate" in reg:
            st.altair_chart(views.indicator_chart(tidy, reg["compliance_rate"], lang), width="stretch")
        st.caption(t["chart_compliance_caption"])
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t['chart_inspections']}**")
        ids = [i for i in ("inspections", "inspections_on_compliant") if i in reg]
        if ids:
            f, u = tx.display_unit(reg[ids[0]], lang)
            st.altair_chart(views.lines_chart(tidy, [(i, tx.indicator_name(reg[i], lang)) for i in ids], u, lang, f),
                            width="stretch")
        if len(ids) == 2 and "compliant_share_of_inspections" in reg:
            at = tidy[tidy["year"] == settings.horizon].groupby("indicator")["value"].median()
            if at.get(ids[0], 0) > 0:
                st.caption(t["chart_inspections_caption"].format(
                    year=settings.horizon, share=f"{at['compliant_share_of_inspections']:.0f}%",
                    on=tx.fmt(at[ids[1]], reg[ids[1]], lang), all=tx.fmt(at[ids[0]], reg[ids[0]], lang)))
    with right:
        if "dual_random_share" in reg:
            ind = reg["dual_random_share"]
            st.markdown(f"**{tx.indicator_name(ind, lang)}**")
            st.altair_chart(views.indicator_chart(tidy, ind, lang), width="stretch")


def pin_current(key: str, default_name: str, t: dict[str, str]) -> None:
    pinned = st.session_state.setdefault("pinned", [])
    name = (st.session_state.get("pin_name") or "").strip() or default_name
    if len(pinned) >= MAX_PINNED:
        st.session_state["_pin_message"] = t["pin_full"].format(n=MAX_PINNED)
    elif name in [p["name"] for p in pinned] or name == t["current"]:
        st.session_state["_pin_message"] = t["pin_duplicate"].format(name=name)
    else:
        pinned.append({"name": name, "key": key})
        st.session_state["pin_name"] = ""
        st.session_state.pop("_pin_message", None)


def pin_settings(key: str, lang: str, t: dict[str, str]) -> str:
    """What a pinned scenario sets away from 2020 policies, for its button's tooltip."""
    pinned = sc.from_key(key)
    moved = [f"- {tx.lever_name(LEVERS_BY_ID[lid], lang)}: {tx.num(pinned.levers[lid].at(TARGET_YEAR))}"
             for lid in LEVERS_BY_ID if pinned.levers[lid].at(TARGET_YEAR) != LEVERS_BY_ID[lid].value_2020]
    moved += [f"- {city_label(c, lang)} · {tx.lever_name(LEVERS_BY_ID[k], lang)}: {tx.num(v.at(TARGET_YEAR))}"
              for c, over in pinned.city_levers.items() for k, v in over.items()]
    return t["pin_settings"].format(year=TARGET_YEAR) + "\n" + ("\n".join(moved) or t["pin_settings_none"])


def unpin(name: str) -> None:
    st.session_state["pinned"] = [p for p in st.session_state.get("pinned", []) if p["name"] != name]


def compare_view(tidy: pd.DataFrame, settings: Settings, lang: str, t: dict[str, str]) -> None:
    st.subheader(t["compare_header"])
    st.caption(t["compare_caption"].format(n=MAX_PINNED))
    pinned: list[dict[str, str]] = st.session_state.setdefault("pinned", [])
    key = sc.run_key(settings.scenario)
    default_name = f"{scenario_label(settings.scenario, lang)} #{len(pinned) + 1}"
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input(t["pin_name"], key="pin_name", placeholder=default_name)
    right.button(t["pin"], key="pin", on_click=pin_current, args=(key, default_name, t), type="primary",
                 disabled=len(pinned) >= MAX_PINNED)
    if st.session_state.get("_pin_message"):
        st.warning(st.session_state["_pin_message"])
    if pinned:
        st.markdown(f"**{t['pinned']}**")
        cols = st.columns(MAX_PINNED)
        for col, p in zip(cols, pinned):
            col.button(t["unpin"].format(name=p["name"]), key=f"unpin_{p['name']}", on_click=unpin,
                       args=(p["name"],), help=pin_settings(p["key"], lang, t))

    refs = {f"preset:{n}": (s, scenario_label(s, lang)) for n, s in settings.presets.items()}
    ref_options = list(refs) + [f"pinned:{p['name']}" for p in pinned]
    left, mid, right = st.columns([2, 1, 2])
    ref_id = select(left, t["reference"], ref_options, "reference", lang, default="preset:baseline",
                    help=t["reference_help"], format_func=lambda o: refs[o][1] if o in refs else o.split(":", 1)[1])
    years = list(range(sc.POLICY_START, settings.horizon + 1))
    if st.session_state.get("compare_year") not in years:
        st.session_state["compare_year"] = TARGET_YEAR
    year = mid.selectbox(t["year"], years, key="compare_year")
    if ref_id in refs:
        ref = runner.Request(sc.run_key(refs[ref_id][0]), refs[ref_id][1])
    else:
        p = next(p for p in pinned if p["name"] == ref_id.split(":", 1)[1])
        ref = runner.Request(p["key"], p["name"])
    # one column per distinct scenario: the current settings only if no pin or the reference holds them
    shown = [runner.Request(p["key"], p["name"]) for p in pinned if p["key"] != ref.key]
    if key != ref.key and key not in [r.key for r in shown]:
        shown.insert(0, runner.Request(key, t["current"]))
    ref_tidy, *tidies = run([ref] + shown, settings, t)
    names = [r.name for r in shown]
    ref_name = ref.name + (" " if ref.name in names else "")
    st.markdown(f"**{t['compare_side'].format(year=year)}**")
    side = views.side_by_side([ref_tidy] + tidies, [ref_name] + names, lang, year)
    rh = TABLE_ROW_HEIGHT[lang]
    st.dataframe(side, hide_index=True, width="stretch", key="compare_side", height=(rh + 1) * len(side) + 40,
                 row_height=rh)
    st.markdown(f"**{t['compare_diff'].format(ref=ref.name, year=year)}**")
    diff = views.differences(ref_tidy, tidies, names, lang, year)
    st.dataframe(diff, hide_index=True, width="stretch", key="compare_diff", height=(rh + 1) * len(diff) + 40,
                 row_height=rh)
    options = [ind.id for ind in views.compare_indicators()]
    iid = select(right, t["compare_indicator"], options, "compare_indicator", lang, default=HEADLINE,
                          format_func=lambda i: indicator_option_label(i, lang))
    st.markdown(f"**{t['compare_chart']}: {tx.indicator_name(by_id()[iid], lang)}**")
    st.altair_chart(views.compare_chart([ref_tidy] + tidies, [ref_name] + names, by_id()[iid], lang),
                    width="stretch")
    reports.attribution_panel(ref, key, settings, lang, t, HEADLINE)  # on request: 2^groups runs per seed


def downloads_view(tidy: pd.DataFrame, summary: pd.DataFrame, settings: Settings, lang: str,
                   t: dict[str, str]) -> None:
    st.subheader(t["downloads_header"])
    s = settings.scenario
    cols = st.columns(3)
    cols[0].download_button(t["download_toml"], data=s.to_toml(), file_name=f"{s.name}.toml",
                            mime="application/toml", key="download_toml", help=t["download_toml_help"],
                            on_click="ignore")
    cols[1].download_button(t["download_csv"], data=runner.indicators_only(tidy).to_csv(index=False,
                                                                                        float_format="%.10g"),
                            file_name="indicators.csv", mime="text/csv", key="download_csv",
                            help=t["download_csv_help"], on_click="ignore")
    cols[2].download_button(t["download_summary"], data=summary.to_csv(index=False, float_format="%.10g"),
                            file_name="summary.csv", mime="text/csv", key="download_summary",
                            help=t["download_summary_help"], on_click="ignore")
    st.markdown(t["reproduce"])
    st.code(f"python -m sim run --scenario {s.name}.toml --seeds {settings.seeds} --scale {settings.scale} "
            f"--horizon {settings.horizon} --engine vector --out out/", language="bash")
    reports.brief_panel(settings, lang, t)  # on request: brief.pdf and brief.html of these settings
    with st.expander(t["toml_preview"], expanded=True):
        st.code(s.to_toml(), language="toml")


def main() -> None:
    """The page."""
    session.open_link(SCENARIO_DIR, VIEWS)
    lang0 = st.session_state.get("lang", "zh")
    st.set_page_config(page_title=tx.texts(lang0)["page_title"], layout="wide")
    st.html(STALE_STYLE)  # a rerun's stale elements dim at once instead of fading over a second
    lang = st.sidebar.radio("语言 / Language", list(tx.LANGS), key="lang", horizontal=True,
                            format_func=lambda code: tx.LANG_NAMES[code])
    t = tx.texts(lang)
    st.title(t["title"])
    st.caption(t["intro"])
    try:
        settings = sidebar(lang, t)
        tidy, = run([runner.Request(sc.run_key(settings.scenario), settings.scenario.name)], settings, t)
    except ScenarioError as err:
        st.error(t["run_error"].format(err=err))
        return
    except Exception as err:  # a failed run says so instead of leaving a half-drawn page
        st.error(t["run_error"].format(err=f"{type(err).__name__}: {err}"))
        st.exception(err)
        return
    summary = summarise(runner.indicators_only(tidy), TARGET_YEAR)
    headline(summary, settings, lang, t)
    st.session_state.setdefault("view", VIEWS[0])
    view = st.segmented_control(t["view"], VIEWS, key="view", required=True, label_visibility="collapsed",
                                format_func=lambda v: t[f"view_{v}"])
    st.query_params.from_dict(link.encode(lang, view, settings.preset_name, *settings.moved, {
        "seeds": settings.seeds, "scale": settings.scale, "horizon": settings.horizon},
        {"seeds": DEFAULT_SEEDS, "scale": DEFAULT_SCALE, "horizon": TARGET_YEAR}, settings.parameters))
    if view == "charts":
        charts_view(tidy, settings, lang, t)
    elif view == "compare":
        compare_view(tidy, settings, lang, t)
    elif view == "downloads":
        downloads_view(tidy, summary, settings, lang, t)
    else:
        scorecard_view(tidy, summary, settings, lang, t)


main()
