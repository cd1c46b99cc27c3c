"""The app's session state: selectboxes that keep their choice across the language switch, the
settings a page's URL asks for (:mod:`sim.ui.link`) taken once, on a session's first run, and the
sliders a chosen preset sets (choosing a preset, the one moved from included, loads it as it is)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from sim.inputs.levers import LEVERS, LEVERS_BY_ID, UNCERTAINTIES, UNCERTAINTIES_BY_ID
from sim.inputs.scenario import Scenario
from sim.ui import link
from sim.ui import scenario as sc
from sim.ui import text as tx


def widget_key(key: str, lang: str) -> str:
    """The key of a selectbox whose option labels depend on the language: ``key`` in Chinese,
    ``key__en`` in English. A browser keeps a selectbox's choice as its label, so one widget whose
    labels change would fall back to its first option; a widget per language does not."""
    return key if lang == "zh" else f"{key}__{lang}"


def choose(key: str, value: str) -> None:
    """Set a language-dependent selectbox's choice (before it is drawn in this run)."""
    st.session_state.setdefault("_choices", {})[key] = value
    for lang in tx.LANGS:
        st.session_state.pop(widget_key(key, lang), None)


def select(container, label: str, options: list, key: str, lang: str, default=None, **kwargs):
    """A selectbox whose choice is kept across the language switch (see :func:`widget_key`)."""
    store = st.session_state.setdefault("_choices", {})
    wkey = widget_key(key, lang)
    if st.session_state.get(wkey) in options:
        store[key] = st.session_state[wkey]
    else:
        st.session_state[wkey] = store[key] if store.get(key) in options else (
            default if default in options else options[0])
    value = container.selectbox(label, options, key=wkey, **kwargs)
    store[key] = value
    return value


def open_link(scenario_dir: Path, views: Sequence[str]) -> None:
    """On a session's first run, take the settings its URL asks for (:mod:`sim.ui.link`); the language,
    view, run settings and preset now, the slider values once the preset has set the sliders."""
    if "_link" in st.session_state:
        return
    names = list(sc.load_presets(scenario_dir)[0]) or ["baseline"]
    asked = link.decode(st.query_params.to_dict(), tx.LANGS, views, names)
    st.session_state["_link"] = st.session_state["_link_pending"] = asked
    for key, value in (("lang", asked.lang), ("view", asked.view), ("parameters", asked.parameters),
                       *asked.run.items()):
        if value is not None:
            st.session_state[key] = value
    if asked.preset:
        choose("preset", asked.preset)


def apply_link(box, t: dict[str, str]) -> None:
    """The link's lever, uncertainty and city values (after the preset set the sliders), once, and its
    errors, shown for as long as the session lasts (the page it was opened with)."""
    asked = st.session_state.pop("_link_pending", None)
    if asked is not None:
        for lid, value in asked.levers.items():
            st.session_state[f"lever_{lid}"] = sc.slider_value(LEVERS_BY_ID[lid], value)
        for uid, value in asked.uncertainties.items():
            st.session_state[f"unc_{uid}"] = sc.slider_value(UNCERTAINTIES_BY_ID[uid], value)
        if asked.city:
            st.session_state["city_overrides"] = dict(asked.city)
    opened = st.session_state.get("_link")
    for err in opened.errors if opened is not None else []:
        box.warning(t["link_error"].format(err=err))


ADJUSTED = "__adjusted__"  # the preset list's entry while a preset's settings are moved: choosing a preset loads it


def reset_to_preset() -> None:
    """The reset button: the preset whose settings were moved, as it is."""
    st.session_state.pop("_sliders_from", None)
    base = st.session_state.pop("_adjusted_from", None)
    if base:
        choose("preset", base)


def settings_moved() -> None:
    """A slider moved (its callback, before the run): the preset list shows "<preset> (adjusted)" in the
    run the move starts, not in one more (the run puts the preset back if every setting is at its value)."""
    current = st.session_state.get("_choices", {}).get("preset")
    if current is not None and current != ADJUSTED:
        st.session_state["_adjusted_from"] = current
        choose("preset", ADJUSTED)


def preset_chosen() -> None:
    """A preset picked from the list (the one moved from included) is loaded as it is."""
    st.session_state.pop("_sliders_from", None)
    st.session_state.pop("_adjusted_from", None)


def sync_sliders(preset_key: str, preset: Scenario) -> None:
    """A new preset (or an edited preset file) puts every slider at the preset's value."""
    if st.session_state.get("_sliders_from") == preset_key:
        return
    for lever in LEVERS:
        st.session_state[f"lever_{lever.id}"] = sc.slider_value(lever, preset.levers[lever.id].at(sc.TARGET_YEAR))
    for unc in UNCERTAINTIES:
        st.session_state[f"unc_{unc.id}"] = sc.slider_value(unc, preset.uncertainties[unc.id].at(sc.POLICY_START))
    st.session_state["city_overrides"] = {}
    st.session_state["_sliders_from"] = preset_key
