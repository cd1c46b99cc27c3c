"""The app's sidebar: the preset or an uploaded scenario, the levers by plan group, city overrides,
the uncertainties and the run settings, decided into :class:`Settings` (the page's ``app.py`` draws
the rest). Streamlit widgets and their callbacks; every number comes from :mod:`sim`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path as FilePath

import streamlit as st

from sim.calibration.history import HistoryError, parse_history
from sim.inputs.levers import CITIES, CITY_NAMES_ZH, LEVERS, LEVERS_BY_ID, UNCERTAINTIES, Lever, Path
from sim.inputs.scenario import Scenario, ScenarioError, baseline
from sim.ui import runner, session
from sim.ui import scenario as sc
from sim.ui import text as tx
from sim.ui.session import (ADJUSTED, choose, preset_chosen, reset_to_preset, select, settings_moved,
                            sync_sliders, widget_key)

TARGET_YEAR = sc.TARGET_YEAR
MAX_HORIZON = 2035
MAX_SEEDS = 100


@dataclass
class Settings:
    """What the sidebar decided."""

    presets: dict[str, Scenario]
    preset_name: str
    preset: Scenario
    scenario: Scenario
    changed: list[str]
    seeds: int
    scale: int
    horizon: int
    moved: tuple[dict, dict, dict] = ({}, {}, {})  # levers, uncertainties, city overrides moved from the preset
    parameters: str = "posterior"  # a posterior draw per seed, or the point fit for every seed


def city_label(city: str, lang: str) -> str:
    return CITY_NAMES_ZH.get(city, city) if lang == "zh" else city


def scenario_label(s: Scenario, lang: str) -> str:
    return s.label_zh if lang == "zh" else s.label_en


def decimals(step: float | int) -> int:
    return 0 if isinstance(step, int) else max(0, -int(math.floor(math.log10(step))))


def handle_upload(box, t: dict[str, str]) -> str | None:
    """The scenario file uploader: a valid file joins the presets (returns its preset key when new);
    a bad one shows the ScenarioError text and changes nothing."""
    upload = box.file_uploader(t["upload"], type=["toml"], key="upload", help=t["upload_help"])
    if upload is None:
        return None
    try:
        scenario = sc.scenario_from_bytes(upload.getvalue(), upload.name)
    except ScenarioError as err:
        box.error(t["upload_error"].format(err=err))
        return None
    key = sc.UPLOAD_PREFIX + FilePath(upload.name).stem
    st.session_state.setdefault("uploaded", {})[key] = scenario
    if st.session_state.get("_upload_id") != upload.file_id:
        st.session_state["_upload_id"] = upload.file_id
        return key
    return None


def handle_history_upload(box, t: dict[str, str]) -> None:
    """The actual-figures uploader: a history CSV validated as `python -m sim calibrate --history` does;
    its figures (2021 on included) go on the indicator charts. A bad file shows its message, nothing else
    changes."""
    upload = box.file_uploader(t["history_upload"], type=["csv"], key="history_upload",
                               help=t["history_upload_help"])
    if upload is None:
        st.session_state.pop("actual_history", None)
        return
    try:
        history = parse_history(upload.getvalue(), upload.name)
    except HistoryError as err:
        box.error(t["history_upload_error"].format(err=err))
        st.session_state.pop("actual_history", None)
        return
    st.session_state["actual_history"] = history
    box.caption(t["history_upload_ok"].format(n=len(history), year=int(history["year"].max())))


def value_slider(spec: Lever, path: Path, year: int, key: str, lang: str, t: dict[str, str]) -> float:
    """A slider for a lever or uncertainty with its unit, help and 2020 value; returns its value."""
    step = sc.slider_step(spec)
    st.session_state.setdefault(key, sc.slider_value(spec, path.at(year)))
    low, high = (int(spec.low), int(spec.high)) if spec.integer else (float(spec.low), float(spec.high))
    value = st.slider(
        tx.lever_label(spec, lang), min_value=low, max_value=high, step=step, format=f"%.{decimals(step)}f",
        key=key, on_change=settings_moved, help=tx.lever_help(spec, lang) + "\n\n" + t["lever_help_tail"].format(
            v2020=tx.num(spec.value_2020), low=tx.num(spec.low), high=tx.num(spec.high)))
    st.caption(t["lever_marks"].format(v2020=tx.num(spec.value_2020), year=year, preset=tx.num(path.at(year))))
    return value


def add_city_override(lang: str) -> None:
    lid = st.session_state[widget_key("city_lever_pick", lang)]
    city = st.session_state[widget_key("city_pick", lang)]
    st.session_state.setdefault("city_overrides", {})[(city, lid)] = st.session_state[f"city_value_{lid}"]
    settings_moved()


def remove_city_override(city: str, lid: str) -> None:
    st.session_state.get("city_overrides", {}).pop((city, lid), None)


def city_overrides(preset: Scenario, lever_values: dict[str, float], lang: str, t: dict[str, str]) -> dict:
    """The city-override editor: pick a city and a lever, set its 2025 value, add; remove any."""
    overrides: dict[tuple[str, str], float] = st.session_state.setdefault("city_overrides", {})
    with st.sidebar.expander(t["city_header"], expanded=bool(overrides)):
        st.caption(t["city_caption"].format(year=TARGET_YEAR))
        select(st, t["city_pick"], list(CITIES), "city_pick", lang, format_func=lambda c: city_label(c, lang))
        lid = select(st, t["city_lever"], [lv.id for lv in LEVERS], "city_lever_pick", lang,
                     format_func=lambda i: tx.lever_label(LEVERS_BY_ID[i], lang))
        spec = LEVERS_BY_ID[lid]
        step = sc.slider_step(spec)
        vkey = f"city_value_{lid}"
        st.session_state.setdefault(vkey, sc.slider_value(spec, lever_values.get(lid, spec.value_2020)))
        low, high = (int(spec.low), int(spec.high)) if spec.integer else (float(spec.low), float(spec.high))
        st.number_input(t["city_value"].format(year=TARGET_YEAR), min_value=low, max_value=high, step=step,
                        format=f"%.{decimals(step)}f", key=vkey, help=tx.lever_help(spec, lang))
        st.button(t["city_add"], key="city_add", on_click=add_city_override, args=(lang,))
        if preset.city_levers:
            items = [f"{city_label(c, lang)} · {tx.lever_name(LEVERS_BY_ID[k], lang)}"
                     for c, over in preset.city_levers.items() for k in over]
            st.caption(t["city_from_preset"].format(items="；".join(items) if lang == "zh" else "; ".join(items)))
        if not overrides:
            st.caption(t["city_none"])
        for (city, lever_id), value in list(overrides.items()):
            item = f"{city_label(city, lang)} · {tx.lever_name(LEVERS_BY_ID[lever_id], lang)} = {tx.num(value)}"
            st.button(t["city_remove"].format(item=item), key=f"city_remove_{city}_{lever_id}",
                      on_click=remove_city_override, args=(city, lever_id), width="stretch")
    return dict(overrides)


def sidebar(lang: str, t: dict[str, str]) -> Settings:
    """Preset or uploaded scenario, levers by plan group, city overrides, economy, run settings."""
    sb = st.sidebar
    sb.header(t["scenario_header"])
    presets, errors = sc.load_presets(sc.scenario_dir())
    for err in errors:
        sb.error(t["file_error"].format(err=err))
    if not presets:
        sb.warning(t["no_presets"])
        presets = {"baseline": baseline()}
    preset_box, upload_box = sb.container(), sb.container()
    new_upload = handle_upload(upload_box, t)
    handle_history_upload(sb.container(), t)
    presets.update(st.session_state.get("uploaded", {}))
    if new_upload:
        choose("preset", new_upload)

    base = st.session_state.get("_adjusted_from")
    base = base if base in presets else None

    def preset_label(name: str) -> str:
        if name == ADJUSTED:
            return preset_label(base) + t["adjusted_suffix"]
        label = scenario_label(presets[name], lang)
        return label + t["uploaded_suffix"] if name.startswith(sc.UPLOAD_PREFIX) else label

    choice = select(preset_box, t["preset"], ([ADJUSTED] if base else []) + list(presets), "preset", lang,
                    format_func=preset_label, help=t["preset_help"], on_change=preset_chosen)
    name = base if choice == ADJUSTED else choice
    preset = presets[name]
    sync_sliders(name + "\n" + sc.run_key(preset), preset)
    session.apply_link(preset_box, t)

    sb.header(t["levers_header"])
    sb.caption(t["levers_caption"].format(year=TARGET_YEAR))
    lever_values: dict[str, float] = {}
    groups = sc.lever_groups()
    for group in tx.group_order(groups):
        with sb.expander(tx.group_label(group, lang), expanded=group in tx.OPEN_GROUPS):
            for lever in groups[group]:
                lever_values[lever.id] = value_slider(lever, preset.levers[lever.id], TARGET_YEAR,
                                                      f"lever_{lever.id}", lang, t)
    overrides = city_overrides(preset, lever_values, lang, t)
    unc_values: dict[str, float] = {}
    with sb.expander(t["uncertainty_header"]):
        st.caption(t["uncertainty_caption"])
        for unc in UNCERTAINTIES:
            unc_values[unc.id] = value_slider(unc, preset.uncertainties[unc.id], sc.POLICY_START,
                                              f"unc_{unc.id}", lang, t)

    sb.header(t["run_header"])
    st.session_state.setdefault("seeds", sc.default_seeds())
    st.session_state.setdefault("scale", sc.default_scale())
    st.session_state.setdefault("horizon", TARGET_YEAR)
    seeds = sb.number_input(t["seeds"], min_value=1, max_value=MAX_SEEDS, step=1, key="seeds", help=t["seeds_help"])
    horizon = sb.slider(t["horizon"], min_value=TARGET_YEAR, max_value=MAX_HORIZON, step=1, key="horizon",
                        help=t["horizon_help"])
    scale = sb.number_input(t["scale"], min_value=1000, max_value=1_000_000, step=1000, key="scale",
                            help=t["scale_help"])
    st.session_state.setdefault("parameters", "posterior")
    parameters = sb.radio(t["parameters"], ("posterior", "point"), key="parameters", horizontal=True,
                          format_func=lambda m: t[f"parameters_{m}"], help=t["parameters_help"])
    sb.caption(t["run_caption"])
    cost_box = sb.empty()

    lever_changes = {lid: v for lid, v in lever_values.items()
                     if v != sc.slider_value(LEVERS_BY_ID[lid], preset.levers[lid].at(TARGET_YEAR))}
    unc_changes = {uid: v for uid, v in unc_values.items()
                   if v != sc.slider_value(next(u for u in UNCERTAINTIES if u.id == uid),
                                           preset.uncertainties[uid].at(sc.POLICY_START))}
    scenario = sc.resolve(preset, lever_changes, unc_changes, overrides)
    changed = sc.changed_levers(preset, scenario)
    if changed:
        scenario = sc.renamed(scenario, f"{preset.name}-adjusted", f"{preset.label_zh}（调整）",
                              f"{preset.label_en} (adjusted)")
        names = []
        for item in changed:
            city, _, lid = item.rpartition(".")
            spec = LEVERS_BY_ID.get(lid) or next((u for u in UNCERTAINTIES if u.id == lid), None)
            label = tx.lever_name(spec, lang) if spec else lid
            names.append(f"{city_label(city, lang)}·{label}" if city else label)
        preset_box.caption(t["changed_some"].format(n=len(changed), items="、".join(names) if lang == "zh"
                                                    else ", ".join(names)))
        preset_box.button(t["reset"], key="reset", on_click=reset_to_preset)
    else:
        preset_box.caption(t["changed_none"])
    # the list shows "<preset> (adjusted)" exactly while settings moved (a slider's or the city override's
    # callback has shown it before this run; settings moved back to the preset's need one more run)
    if bool(changed) != (choice == ADJUSTED):
        st.session_state["_adjusted_from"] = name if changed else None
        choose("preset", ADJUSTED if changed else name)
        st.rerun()
    preset_box.download_button(t["download_toml"], data=scenario.to_toml(), file_name=f"{scenario.name}.toml",
                               mime="application/toml", key="download_toml_sidebar", help=t["download_toml_help"],
                               on_click="ignore")
    preset_box.caption(t["share_link"])
    cost = runner.request_cost(scenario, int(seeds), int(scale), int(horizon))
    cost_box.caption(t["run_cost"].format(cost=tx.num(cost / 1e6), cap=tx.num(runner.MAX_REQUEST_COST / 1e6)))
    return Settings(presets, name, preset, scenario, changed, int(seeds), int(scale), int(horizon),
                    (lever_changes, unc_changes, overrides), parameters)
