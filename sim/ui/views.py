"""Tables and charts of the app: the scorecard, scenario comparisons and Altair charts.

Functions here take tidy rows or summaries from :mod:`sim.runs.ensemble` and return pandas
tables or Altair charts with labels in the reader's language; they do not call Streamlit,
so they are tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from sim.outputs import status as target_status
from sim.runs.ensemble import bands, compare
from sim.outputs.indicators import Indicator, by_id, registry
from sim.inputs.levers import LEVERS_BY_ID
from sim.ui.text import (axis_title, display_unit, fmt, fmt_band, fmt_diff, fmt_prob, fmt_target, indicator_name,
                         lever_name, reason, texts)

# Cell colours of the status column (light backgrounds, readable in light and dark themes).
# light tints of the Okabe-Ito colour-blind-safe palette: blue met, yellow at risk, vermilion missed
STATUS_COLOUR = {"met": "#b9dcf2", "at risk": "#f7eaa0", "missed": "#f3c2a2", "not_modelled": "#e0e0e0"}
BLUE, RED, GREY = "#0072B2", "#D55E00", "#7f7f7f"  # Okabe-Ito blue and vermilion
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]  # Okabe-Ito: colour-blind safe
DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 6]]  # solid, dashed, dotted, dash-dot, ...


def scorecard_indicators() -> list[Indicator]:
    """The plan's numbered indicators (all, modelled or not), then the modelled text targets."""
    reg = registry()
    return [i for i in reg if i.no is not None] + [i for i in reg if i.attribute == "text target" and i.modelled]


def other_text_targets() -> list[Indicator]:
    """Text targets of the plan the model does not compute yet."""
    return [i for i in registry() if i.attribute == "text target" and not i.modelled]


def status(prob: float, lang: str) -> str:
    """met / at risk / missed (sim.outputs.status) in ``lang``."""
    key = target_status.status(prob)
    return texts(lang)[key] if key else "—"


def status_colours(table: pd.DataFrame, lang: str):
    """The scorecard as a pandas Styler whose status cells are coloured green, yellow, red or grey."""
    t = texts(lang)
    colour = {t[k]: c for k, c in STATUS_COLOUR.items() if k in t}
    colour[t["not_modelled"]] = STATUS_COLOUR["not_modelled"]
    col = t["col_status"]
    return table.style.map(lambda v: f"background-color: {colour[v]}; color: #222" if v in colour else "",
                           subset=[col])


def attribute_label(ind: Indicator, lang: str) -> str:
    """binding (starred), expected, text target or output in ``lang``."""
    return texts(lang).get(ind.attribute, ind.attribute)


def note(ind: Indicator, lang: str) -> str:
    """A modelled row's note: the levers that move it (the first is the main one), or that none does."""
    t = texts(lang)
    names = [lever_name(LEVERS_BY_ID[lid], lang) for lid in ind.levers if lid in LEVERS_BY_ID]
    if not names:
        return t["note_no_lever"]
    return t["note_levers"].format(levers=("、" if lang == "zh" else ", ").join(names[:2]))


def scorecard(summary: pd.DataFrame, lang: str, year: int = 2025,
              final: pd.DataFrame | None = None, final_year: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The scorecard table for readers of ``lang`` and the indicator id of each row.

    Args:
        summary: :func:`sim.runs.ensemble.summarise` at the target year.
        lang: zh or en.
        year: The target year.
        final: The summary at the horizon, if it is later than the target year.
        final_year: That horizon year.
    """
    t = texts(lang)
    rows_by_id = summary.set_index("indicator")
    rows, ids = [], []
    for ind in scorecard_indicators():
        have = ind.modelled and ind.id in rows_by_id.index
        r = rows_by_id.loc[ind.id] if have else None
        prob = float(r["prob_target_met"]) if have else math.nan
        row = {
            t["col_no"]: f"{ind.no:>2}" if ind.no is not None else "—",  # " 1" sorts before "10"
            t["col_indicator"]: indicator_name(ind, lang),
            t["col_attribute"]: attribute_label(ind, lang),
            t["col_baseline"]: fmt(ind.baseline_2020, ind, lang),
            t["col_target"].format(year=year): fmt_target(ind, lang),
            t["col_median"].format(year=year): fmt(r["median_2025"], ind, lang) if have else "—",
            t["col_band"]: fmt_band(r["p05_2025"], r["p95_2025"], ind, lang) if have else "—",
            # the median's Monte Carlo standard error: the simulation's own noise, not the world's
            t["col_mc"]: fmt(r.get("mc_error_2025", math.nan), ind, lang) if have else "—",
            t["col_prob"]: None if math.isnan(prob) else round(100 * prob),
            t["col_status"]: status(prob, lang) if have else t["not_modelled"],
            t["col_note"]: note(ind, lang) if have else t["not_modelled_reason"].format(reason=reason(ind, lang)),
        }
        if final is not None and final_year is not None:
            fin = final.set_index("indicator")
            value = fin.loc[ind.id, "median_2025"] if have and ind.id in fin.index else None
            row[t["col_final"].format(year=final_year)] = fmt(value, ind, lang)
        rows.append(row)
        ids.append(ind.id)
    table = pd.DataFrame(rows)
    table[t["col_prob"]] = table[t["col_prob"]].astype("Int64")
    return table, ids


def scorecard_order(table: pd.DataFrame, lang: str, year: int = 2025) -> list[str]:
    """The scorecard's columns as shown: what the verdict needs first (number, indicator, target,
    median, probability, verdict), then the rest (baseline, band, Monte Carlo error, attribute,
    note and any horizon column), so the verdict fits a 1366 px screen without scrolling."""
    t = texts(lang)
    first = [t["col_no"], t["col_indicator"], t["col_target"].format(year=year), t["col_median"].format(year=year),
             t["col_prob"], t["col_status"]]
    return first + [c for c in table.columns if c not in first]


def binding_counts(summary: pd.DataFrame) -> dict[str, int]:
    """How many modelled binding indicators are met, at risk and missed."""
    reg = by_id()
    counts = {"met": 0, "at risk": 0, "missed": 0}
    for row in summary.itertuples(index=False):
        if reg[row.indicator].attribute == "binding":
            key = target_status.status(row.prob_target_met)
            if key:
                counts[key] += 1
    return counts


# ---------------------------------------------------------------- comparison


def compare_indicators() -> list[Indicator]:
    """Modelled indicators in registry order: plan, text targets, then outputs."""
    return [i for i in registry() if i.modelled]


def side_by_side(tidies: Sequence[pd.DataFrame], names: Sequence[str], lang: str, year: int) -> pd.DataFrame:
    """Median in ``year`` of each scenario, with the probability of meeting the target."""
    t = texts(lang)
    at = [tidy[tidy["year"] == year].groupby("indicator")["value"] for tidy in tidies]
    medians = [g.median() for g in at]
    values = [g.apply(list) for g in at]
    rows = []
    for ind in compare_indicators():
        row = {t["col_indicator"]: indicator_name(ind, lang), t["target"]: fmt_target(ind, lang)}
        for name, med, vals in zip(names, medians, values):
            if ind.id not in med.index:
                row[name] = "—"
                continue
            text = fmt(float(med[ind.id]), ind, lang)
            if ind.target is not None:
                text += f"（{fmt_prob(float(np.mean([ind.met(v) for v in vals[ind.id]])))}）" if lang == "zh" \
                    else f" ({fmt_prob(float(np.mean([ind.met(v) for v in vals[ind.id]])))})"
            row[name] = text
        rows.append(row)
    return pd.DataFrame(rows)


def differences(reference: pd.DataFrame, tidies: Sequence[pd.DataFrame], names: Sequence[str], lang: str,
                year: int) -> pd.DataFrame:
    """Each scenario minus the reference in ``year``, paired by seed (:func:`sim.runs.ensemble.compare`)."""
    t = texts(lang)
    reg = by_id()
    tables = [compare(reference, tidy, year=year).set_index("indicator") for tidy in tidies]
    rows = []
    for ind in compare_indicators():
        row = {t["col_indicator"]: indicator_name(ind, lang)}
        for name, table in zip(names, tables):
            if ind.id not in table.index:
                row[name] = "—"
                continue
            r = table.loc[ind.id]
            row[name] = fmt_diff(r["difference_median"], r["difference_p05"], r["difference_p95"], reg[ind.id], lang)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- charts


def series_bands(tidy: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """Median and 5-95% band by year for the given indicator (or record) ids, in the order given."""
    rows = tidy[tidy["indicator"].isin(ids)]
    if rows.empty:
        return pd.DataFrame(columns=["scenario", "year", "indicator", "median", "low", "high"])
    return bands(rows)


def _x(t: dict[str, str], history: pd.DataFrame | None = None) -> alt.X:
    """The year axis: from 2020 (or the first history point) on every chart."""
    first = 2020 if history is None or history.empty else min(2020, int(history["year"].min()))
    return alt.X("year:Q", title=t["year"], axis=alt.Axis(format="d", tickMinStep=1),
                 scale=alt.Scale(domainMin=first, nice=False))


ZERO = alt.Scale(zero=True)  # counts and shares from zero: a tenth of a point does not look like a collapse


def y_axis(title: str) -> alt.Axis:
    """A value axis whose title (with its unit) reads horizontally above the axis, never clipped or
    turned on its side."""
    return alt.Axis(title=title, titleAngle=0, titleAlign="left", titleBaseline="bottom",
                    titleX=0, titleY=-8, titleFontWeight="normal", titleLimit=600)


def history_layers(history: pd.DataFrame | None, factor: float, t: dict[str, str]) -> list[alt.Chart]:
    """Published history as black dots and a user's actual figures (rows with ``actual`` true) as squares."""
    if history is None or history.empty:
        return []
    actual = history["actual"].astype(bool) if "actual" in history else pd.Series(False, index=history.index)
    layers = []
    for part, label, mark in ((history[~actual], t["history"], "circle"), (history[actual], t["actual"], "square")):
        if part.empty:
            continue
        data = part.drop(columns="actual", errors="ignore").assign(value=part["value"] * factor, label=label)
        chart = alt.Chart(data)
        chart = chart.mark_circle(color="black", size=45) if mark == "circle" else \
            chart.mark_square(color="black", size=70)
        layers.append(chart.encode(
            x="year:Q", y="value:Q",
            tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("period:N", title=t["year"]),
                     alt.Tooltip("value:Q", title=t["value"], format=",.2f"),
                     alt.Tooltip("source:N", title=t["history_source"])]))
    return layers


def indicator_chart(tidy: pd.DataFrame, ind: Indicator, lang: str, history: pd.DataFrame | None = None,
                    references: Sequence[tuple[str, pd.DataFrame]] = ()) -> alt.LayerChart:
    """Median and band of one indicator by year, with its target, its 2020 baseline, history points
    and ``references``: (label, frame of year and value) drawn as dashed grey lines (the lever's
    path, a realised share)."""
    t = texts(lang)
    factor, _ = display_unit(ind, lang)
    data = series_bands(tidy, [ind.id])
    data = data.assign(median=data["median"] * factor, low=data["low"] * factor, high=data["high"] * factor)
    y_title = axis_title(ind, lang)
    tooltip = [alt.Tooltip("year:Q", title=t["year"], format="d"),
               alt.Tooltip("median:Q", title=t["median"], format=",.2f"),
               alt.Tooltip("low:Q", title=t["low"], format=",.2f"),
               alt.Tooltip("high:Q", title=t["high"], format=",.2f")]
    base = alt.Chart(data).encode(x=_x(t, history))
    layers = [
        base.mark_area(opacity=0.25, color=BLUE).encode(
            y=alt.Y("low:Q", axis=y_axis(y_title), scale=ZERO), y2="high:Q"),
        base.mark_line(point=True, color=BLUE).encode(y="median:Q", tooltip=tooltip),
    ]
    if ind.target is not None:
        target = pd.DataFrame({"year": [ind.target_year], "value": [ind.target * factor], "label": [t["target"]]})
        tip = [alt.Tooltip("label:N", title=" "), alt.Tooltip("value:Q", title=t["value"], format=",.2f")]
        layers.append(alt.Chart(target).mark_rule(color=RED, strokeDash=[6, 4]).encode(y="value:Q"))
        layers.append(alt.Chart(target).mark_point(color=RED, filled=True, size=90).encode(
            x="year:Q", y="value:Q", tooltip=tip))
    if ind.baseline_2020 is not None:
        base_pt = pd.DataFrame({"year": [2020], "value": [ind.baseline_2020 * factor], "label": [t["baseline"]]})
        layers.append(alt.Chart(base_pt).mark_point(color=GREY, shape="diamond", filled=True, size=110).encode(
            x="year:Q", y="value:Q", tooltip=[alt.Tooltip("label:N", title=" "),
                                              alt.Tooltip("value:Q", title=t["value"], format=",.2f")]))
    for (label, frame), dash in zip(references, ([4, 3], [1, 2], [8, 2])):
        ref = frame.assign(value=frame["value"] * factor, label=label)
        layers.append(alt.Chart(ref).mark_line(color=GREY, strokeDash=dash).encode(
            x="year:Q", y="value:Q", detail="label:N",
            tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("year:Q", title=t["year"], format="d"),
                     alt.Tooltip("value:Q", title=t["value"], format=",.2f")]))
    layers += history_layers(history, factor, t)
    return alt.layer(*layers)


def regulator_references(tidy: pd.DataFrame, ind: Indicator, scenario, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """For indicators 2 and 3: the lever's path (the province's target for the regulators) and, for
    indicator 2 (the share of the year's inspections actually drawn at random), the regulators' own
    double-random share at year end (median over seeds), which the realised share lags."""
    if ind.id not in ("dual_random_share", "credit_application_rate"):
        return []
    t = texts(lang)
    years = sorted(int(y) for y in tidy["year"].unique())
    out = [(t["lever_path"], pd.DataFrame({"year": years, "value": [scenario.lever(ind.id, y) for y in years]}))]
    planned = tidy[tidy["indicator"] == "record.dual_random_share"]
    if ind.id == "dual_random_share" and not planned.empty:
        share = planned.groupby("year")["value"].median()
        out.append((t["regulators_random_share"], pd.DataFrame({"year": share.index.astype(int), "value": share.values})))
    return out


def lines_chart(tidy: pd.DataFrame, series: Sequence[tuple[str, str]], y_title: str, lang: str,
                factor: float = 1.0, history: pd.DataFrame | None = None, stacked: bool = False) -> alt.LayerChart:
    """Several series by year: medians as lines with bands (or stacked areas of medians).

    Args:
        tidy: Tidy rows.
        series: (id, label) pairs, in legend order.
        y_title: Axis title with its unit.
        lang: zh or en.
        factor: Multiplier for display (e.g. 0.01 for millions).
        history: Points (year, value, period, source) to add in black.
        stacked: Stack the medians as areas (parts of a total) instead of lines with bands.
    """
    t = texts(lang)
    labels = dict(series)
    data = series_bands(tidy, list(labels))
    order = [label for _, label in series]
    data = data.assign(series=data["indicator"].map(labels), median=data["median"] * factor,
                       low=data["low"] * factor, high=data["high"] * factor)
    data = data.assign(order=data["series"].map({label: i for i, label in enumerate(order)}))
    scale = alt.Scale(domain=order, range=PALETTE[:len(order)])
    color = alt.Color("series:N", title=None, sort=order, scale=scale,
                      legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400, symbolType="stroke"))
    tooltip = [alt.Tooltip("series:N", title=t["series"]), alt.Tooltip("year:Q", title=t["year"], format="d"),
               alt.Tooltip("median:Q", title=t["median"], format=",.2f"),
               alt.Tooltip("low:Q", title=t["low"], format=",.2f"),
               alt.Tooltip("high:Q", title=t["high"], format=",.2f")]
    base = alt.Chart(data).encode(x=_x(t, history))
    if stacked:
        layers = [base.mark_area(opacity=0.8).encode(
            y=alt.Y("median:Q", axis=y_axis(y_title), stack="zero"), order=alt.Order("order:Q"), tooltip=tooltip,
            color=alt.Color("series:N", title=None, sort=order, scale=scale,
                            legend=alt.Legend(orient="bottom", labelLimit=400)))]
    else:
        layers = [base.mark_area(opacity=0.18).encode(y=alt.Y("low:Q", axis=y_axis(y_title), scale=ZERO),
                                                      y2="high:Q", color=color),
                  base.mark_line(point=True).encode(y="median:Q", tooltip=tooltip, color=color)]
    layers += history_layers(history, factor, t)
    return alt.layer(*layers)


def city_chart(tidy: pd.DataFrame, cities: Sequence[tuple[str, str]], year: int, y_title: str, lang: str,
               prefix: str, factor: float = 1.0) -> alt.Chart | None:
    """Registered entities by city: 2020 and the median in ``year``, side by side; None without city rows."""
    t = texts(lang)
    ids = {prefix + c: label for c, label in cities}
    rows = tidy[tidy["indicator"].isin(ids) & tidy["year"].isin([2020, year])]
    if rows.empty:
        return None
    data = rows.groupby(["year", "indicator"])["value"].median().reset_index()
    data = data.assign(city=data["indicator"].map(ids), value=data["value"] * factor,
                       when=data["year"].astype(str))
    order = [label for _, label in cities]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("city:N", title=None, sort=order, axis=alt.Axis(labelAngle=0 if lang == "zh" else -40,
                                                                 labelOverlap=False)),
        xOffset=alt.XOffset("when:N", sort=["2020", str(year)]),
        y=alt.Y("value:Q", axis=y_axis(y_title)),
        color=alt.Color("when:N", title=None, sort=["2020", str(year)],
                        scale=alt.Scale(range=["#aec7e8", BLUE]), legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("city:N", title=t["city"]), alt.Tooltip("when:N", title=t["year"]),
                 alt.Tooltip("value:Q", title=t["median"], format=",.2f")])


def compare_chart(tidies: Sequence[pd.DataFrame], names: Sequence[str], ind: Indicator, lang: str) -> alt.LayerChart:
    """One indicator's median and band by year for each scenario, with the target."""
    t = texts(lang)
    factor, _ = display_unit(ind, lang)
    frames = []
    for tidy, name in zip(tidies, names):
        b = series_bands(tidy, [ind.id])
        frames.append(b.assign(scenario=name))
    data = pd.concat(frames, ignore_index=True)
    data = data.assign(median=data["median"] * factor, low=data["low"] * factor, high=data["high"] * factor)
    order = list(names)
    scale = alt.Scale(domain=order, range=PALETTE[:len(order)])
    color = alt.Color("scenario:N", title=None, sort=order, scale=scale,
                      legend=alt.Legend(orient="bottom", labelLimit=400, symbolType="stroke", symbolStrokeWidth=3,
                                        symbolSize=300, labelFontSize=13))
    # each scenario its own dash too, so lines that coincide or share a hue stay apart
    dash = alt.StrokeDash("scenario:N", sort=order, legend=None,
                          scale=alt.Scale(domain=order, range=DASHES[:len(order)]))
    base = alt.Chart(data).encode(x=_x(t))
    tooltip = [alt.Tooltip("scenario:N", title=" "), alt.Tooltip("year:Q", title=t["year"], format="d"),
               alt.Tooltip("median:Q", title=t["median"], format=",.2f"),
               alt.Tooltip("low:Q", title=t["low"], format=",.2f"),
               alt.Tooltip("high:Q", title=t["high"], format=",.2f")]
    layers = [base.mark_area(opacity=0.12).encode(
                  y=alt.Y("low:Q", axis=y_axis(axis_title(ind, lang)), scale=ZERO), y2="high:Q",
                  color=color),
              base.mark_line(point=True, strokeWidth=2.5).encode(y="median:Q", tooltip=tooltip, color=color,
                                                                 strokeDash=dash)]
    if ind.target is not None:
        target = pd.DataFrame({"year": [ind.target_year], "value": [ind.target * factor]})
        layers.append(alt.Chart(target).mark_rule(color=RED, strokeDash=[6, 4]).encode(y="value:Q"))
        layers.append(alt.Chart(target).mark_point(color=RED, filled=True, size=90).encode(x="year:Q", y="value:Q"))
    return alt.layer(*layers)
