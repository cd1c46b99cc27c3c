"""The attribution waterfall of the comparison view: one indicator's difference B - A split among the
lever groups (:func:`sim.analysis.attribution.attribute`), as a table and an Altair chart.

Pure functions of the attribution frame, without Streamlit, so they are tested directly.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.outputs.brief import waterfall_steps
from sim.outputs.indicators import Indicator
from sim.ui.text import display_unit, texts
from sim.ui.views import BLUE, GREY, RED, y_axis

STEP_COLUMNS = ["step", "kind", "group", "contribution", "se", "start", "end", "low", "high"]


def waterfall_table(frame: pd.DataFrame, ind: Indicator, lang: str) -> pd.DataFrame:
    """The waterfall's steps for one indicator, in the display unit of ``lang``.

    Each lever group's contribution (groups contributing exactly 0 with a standard error of 0 are
    left out) from where the previous one ended, then the total from 0; ``low`` and ``high`` are
    the bar's end -/+ one standard error. ``kind``: ``up``, ``down`` or ``total``.

    Args:
        frame: :func:`sim.analysis.attribution.attribute`'s rows (every indicator, or this one's).
        ind: The indicator.
        lang: zh or en (the labels and the unit).
    """
    factor, _ = display_unit(ind, lang)
    rows = frame[frame["indicator"] == ind.id]
    if rows.empty:
        return pd.DataFrame(columns=STEP_COLUMNS)
    steps = waterfall_steps(rows, factor).rename(columns={"label_zh" if lang == "zh" else "label_en": "step"})
    steps["kind"] = np.where(steps["contribution"] >= 0, "up", "down")
    first = rows.iloc[0]
    total, total_se = first["total"] * factor, first["total_se"] * factor
    steps.loc[len(steps), ["step", "kind", "group", "contribution", "se", "start", "end"]] = \
        [texts(lang)["attribution_total"], "total", "total", total, total_se, 0.0, total]
    steps["low"], steps["high"] = steps["end"] - steps["se"], steps["end"] + steps["se"]
    return steps[STEP_COLUMNS].reset_index(drop=True)


def waterfall_chart(table: pd.DataFrame, ind: Indicator, lang: str) -> alt.LayerChart:
    """Bars from each step's start to its end (increases blue, decreases vermilion, the total grey),
    whiskers of ±1 standard error at each bar's end, and the zero line."""
    t = texts(lang)
    _, unit = display_unit(ind, lang)
    title = f"{t['attribution_axis']}（{unit}）" if lang == "zh" else f"{t['attribution_axis']} ({unit})"
    order = list(table["step"])
    x = alt.X("step:N", title=None, sort=order,
              axis=alt.Axis(labelAngle=0 if lang == "zh" else -25, labelLimit=220, labelOverlap=False))
    tooltip = [alt.Tooltip("step:N", title=" "),
               alt.Tooltip("contribution:Q", title=t["attribution_contribution"], format=",.3~f"),
               alt.Tooltip("se:Q", title=t["attribution_se"], format=",.3~f")]
    base = alt.Chart(table).encode(x=x)
    bars = base.mark_bar(opacity=0.85).encode(
        y=alt.Y("start:Q", axis=y_axis(title)), y2="end:Q", tooltip=tooltip,
        color=alt.Color("kind:N", legend=None,
                        scale=alt.Scale(domain=["up", "down", "total"], range=[BLUE, RED, GREY])))
    whiskers = base.mark_rule(color="black", strokeWidth=1.5).encode(y="low:Q", y2="high:Q", tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color=GREY, strokeDash=[4, 3]).encode(y="zero:Q")
    return alt.layer(bars, whiskers, zero)
