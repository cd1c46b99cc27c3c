"""The app's two reports that cost more than a page's runs, each computed only when asked:

- the attribution waterfall of the comparison view (:func:`attribution_panel`): the current settings
  against the chosen reference, split among lever groups by :func:`sim.analysis.attribution.attribute`,
  kept in the session per (reference, current settings, seeds, scale, parameters);
- the brief of the downloads view (:func:`brief_panel`): :func:`sim.cli.brief.produce` for the current
  settings against the 2020-policy baseline, offered as PDF and HTML downloads.

Both run on the app's pool through the fair scheduler (:mod:`sim.ui.session_runs`), with a progress bar.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path as FilePath

import pandas as pd
import streamlit as st

from sim.analysis.attribution import differing_groups, hybrid_subsets
from sim.inputs.scenario import Scenario, baseline
from sim.outputs.indicators import by_id
from sim.ui import runner, views
from sim.ui import scenario as sc
from sim.ui import text as tx
from sim.ui.session import select
from sim.ui.progress import Progress
from sim.ui.session_runs import session_backend
from sim.ui.waterfall import waterfall_chart, waterfall_table

YEAR = sc.TARGET_YEAR  # the year the attribution splits (the brief's too)
KEPT = 8  # attributions a session keeps (each a small table)
UNSAVED = "<your saved scenario file>"  # the brief command's --scenario when the settings are no file


def attribution_runs(a: Scenario, b: Scenario) -> int:
    """Hybrid scenarios :func:`sim.analysis.attribution.attribute` runs per seed (its defaults)."""
    players = differing_groups(a, b)
    return len(hybrid_subsets(players)[0]) if players else 0


def too_costly(name: str, runs: int, scenario: Scenario, seeds: int, scale: float, t: dict[str, str]) -> str | None:
    """The app's cap on a request (simulated entity-years), for ``runs`` ensembles to :data:`YEAR`."""
    cost = runs * runner.request_cost(scenario, seeds, scale, YEAR)
    if cost <= runner.MAX_REQUEST_COST:
        return None
    return t["run_too_costly"].format(name=name, cost=tx.num(cost / 1e6), cap=tx.num(runner.MAX_REQUEST_COST / 1e6))


def _option_label(iid: str, lang: str) -> str:
    ind = by_id()[iid]
    return (f"{ind.no}. " if ind.no is not None else "") + tx.indicator_name(ind, lang)


# ---------------------------------------------------------------- the comparison's waterfall


def attribution_panel(ref: runner.Request, key: str, settings, lang: str, t: dict[str, str],
                      default: str = "market_entities") -> None:
    """The current settings (run key ``key``) against the reference ``ref``: the button that computes the
    attribution, then the chosen indicator's waterfall (once computed for these settings)."""
    current = t["current"]
    st.markdown(f"**{t['attribution_header']}**")
    st.caption(t["attribution_caption"].format(current=current, ref=ref.name, year=YEAR))
    if key == ref.key:
        st.info(t["attribution_same"])
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    options = [ind.id for ind in views.compare_indicators()]
    iid = select(left, t["attribution_indicator"], options, "attribution_indicator", lang, default=default,
                 format_func=lambda i: _option_label(i, lang))
    store: dict = st.session_state.setdefault("_attribution", {})
    cache_key = (ref.key, key, settings.seeds, float(settings.scale), settings.parameters, YEAR)
    if right.button(t["attribution_run"], key="attribution_run", type="primary"):
        a, b = sc.from_key(ref.key), sc.from_key(key)
        refused = too_costly(t["attribution_run"], attribution_runs(a, b), b, settings.seeds, settings.scale, t)
        if refused:
            st.error(refused)
            return
        bar = st.progress(0.0, text=t["attribution_progress"].format(done=0, total="…"))
        try:
            frame = compute_attribution(a, b, settings.seeds, settings.scale, settings.parameters, Progress(
                bar, lambda done, total: t["attribution_progress"].format(done=done, total=total)))
        except Exception as err:  # a failed run says so; the rest of the page stays
            bar.empty()
            st.error(t["attribution_error"].format(err=f"{type(err).__name__}: {err}"))
            return
        bar.empty()
        store.pop(cache_key, None)
        store[cache_key] = frame
        while len(store) > KEPT:
            store.pop(next(iter(store)))
    frame = store.get(cache_key)
    if frame is None:
        return
    ind = by_id()[iid]
    table = waterfall_table(frame, ind, lang)
    heading = t["attribution_chart"].format(name=tx.indicator_name(ind, lang), year=YEAR, current=current, ref=ref.name)
    st.markdown(f"**{heading}**")
    st.altair_chart(waterfall_chart(table, ind, lang), width="stretch", key="attribution_chart")
    row = frame[frame["indicator"] == ind.id].iloc[0]
    method = t["attribution_permutations"] if frame.attrs.get("method") == "permutations" else t["attribution_exact"]
    total = tx.fmt(row["total"], ind, lang, sign=True) + f" ± {tx.fmt(row['total_se'], ind, lang)}"
    st.caption(t["attribution_chart_caption"].format(total=total, method=method))


def compute_attribution(a: Scenario, b: Scenario, seeds: int, scale: float, parameters: str,
                        progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """B - A in :data:`YEAR` split among lever groups, on the app's pool (or in this process)."""
    from sim.analysis.attribution import attribute

    return attribute(a, b, range(seeds), year=YEAR, scale=scale, engine=runner.ENGINE, backend=session_backend(),
                     parameters=parameters, progress=progress)


# ---------------------------------------------------------------- the downloads' brief


def scenario_argument(settings) -> str:
    """The brief command's ``--scenario``: the preset's file if the settings are that file as it is, else
    :data:`UNSAVED` (the reader saves the scenario TOML the view offers)."""
    source = FilePath(settings.preset.source)
    if settings.changed or settings.preset_name.startswith(sc.UPLOAD_PREFIX) or not source.is_file():
        return UNSAVED
    try:
        return str(source.resolve().relative_to(FilePath.cwd()))
    except ValueError:
        return str(source)


def brief_command(scenario: str, seeds: int, scale: float, parameters: str, lang: str, attribution: bool,
                  history: str | None) -> str:
    """The ``python -m sim brief`` command that writes the same brief (against the 2020-policy baseline)."""
    from sim.cli.brief import reproduce_command

    args = argparse.Namespace(scenario=scenario, against=None, out="brief/", lang=lang, seeds=seeds, first_seed=0,
                              scale=scale, parameters=parameters, history=history, posterior=None,
                              no_attribution=not attribution)
    return reproduce_command(args, placeholder=UNSAVED)


def brief_panel(settings, lang: str, t: dict[str, str]) -> None:
    """The button that writes the brief of the current settings, then its PDF and HTML downloads."""
    st.markdown(f"**{t['brief_header']}**")
    history = st.session_state.get("actual_history")
    upload = st.session_state.get("history_upload") if history is not None else None
    history_name = getattr(upload, "name", None) or ("history.csv" if history is not None else None)
    st.caption(t["brief_caption"].format(seeds=settings.seeds, scale=f"{settings.scale:,}",
                                         parameters=t[f"parameters_{settings.parameters}"],
                                         history=t["brief_history"] if history is not None else ""))
    st.session_state.setdefault("brief_attribution", True)
    attribution = st.checkbox(t["brief_attribution"], key="brief_attribution", help=t["brief_attribution_help"])
    scenario_arg = scenario_argument(settings)
    command = brief_command(scenario_arg, settings.seeds, settings.scale, settings.parameters, lang,
                            attribution, history_name)
    s = settings.scenario
    brief_key = (sc.run_key(s), settings.seeds, float(settings.scale), settings.parameters, lang, attribution,
                 getattr(upload, "file_id", history_name), command)
    if st.button(t["brief_prepare"], key="brief_prepare", type="primary"):
        against = baseline()
        runs = 2 + (attribution_runs(against, s) if attribution else 0)
        refused = too_costly(t["brief_header"], runs, s, settings.seeds, settings.scale, t)
        if refused:
            st.error(refused)
            return
        try:
            st.session_state["_brief"] = (brief_key, *write_brief(s, against, settings, lang, attribution, history,
                                                                   history_name, command, t),
                                          time.strftime("%H:%M:%S"))
        except Exception as err:  # a failed brief says so; the rest of the page stays
            st.error(t["brief_error"].format(err=f"{type(err).__name__}: {err}"))
            return
    done = st.session_state.get("_brief")
    if done is not None and done[0] == brief_key:
        _, pdf, html, when = done
        st.success(t["brief_ready"].format(when=when))
        left, right = st.columns(2)
        left.download_button(t["brief_pdf"], data=pdf, file_name=f"brief-{s.name}.pdf", mime="application/pdf",
                             key="download_brief_pdf", on_click="ignore", type="primary")
        right.download_button(t["brief_html"], data=html, file_name=f"brief-{s.name}.html", mime="text/html",
                              key="download_brief_html", on_click="ignore")
    st.markdown(t["brief_command"] if scenario_arg == UNSAVED else t["brief_command_file"])
    st.code(command, language="bash")


def write_brief(scenario: Scenario, against: Scenario, settings, lang: str, attribution: bool,
                history: pd.DataFrame | None, history_name: str | None, command: str,
                t: dict[str, str]) -> tuple[bytes, bytes]:
    """:func:`sim.cli.brief.produce` into a temporary folder with a progress bar; (PDF bytes, HTML bytes)."""
    from sim.cli.brief import produce

    bar = st.progress(0.0, text=t["brief_progress"].format(stage=1, done=0, total="…"))
    stages = [0]

    def stage(what: str) -> Callable[[int, int], None]:
        stages[0] += 1
        number = stages[0]
        return Progress(bar, lambda done, total: t["brief_progress"].format(stage=number, done=done, total=total))

    try:
        with tempfile.TemporaryDirectory(prefix="brief-") as folder:
            html_path, pdf_path = produce(
                scenario, against, folder, lang=lang, seeds=range(settings.seeds), scale=settings.scale,
                parameters=settings.parameters, history=history, history_file=history_name,
                attribution=attribution, command=command, backend=session_backend(), progress=stage)
            return FilePath(pdf_path).read_bytes(), FilePath(html_path).read_bytes()
    finally:
        bar.empty()
