"""Published history for an indicator's chart, from the history file of :mod:`sim.calibration.history`.

A history series belongs to an indicator when :func:`sim.calibration.history.series_of` names
it for the indicator (its entry in ``INDICATOR_SERIES``, else the indicator's id) and it has
the indicator's unit. Stocks dated by month
(``2019-12``) sit on the year axis at their month (December = the year, as the model's
year-end values); yearly flows (``2017``) at their year; part-year flows (``2019-Q1``)
are left out because they do not compare with a year's value. Shipped points go up to 2020,
the model's starting year; a user's history file (uploaded in the app, the same format and
validation as ``python -m sim calibrate --history``) adds its actual figures, 2021 on included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

import pandas as pd

from sim.calibration.history import HISTORY_FILE, load_history, series_of
from sim.outputs.indicators import Indicator

COLUMNS = ["year", "value", "period", "kind", "source"]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@cache
def _rows() -> tuple[dict[str, object], ...]:
    """The shipped history's rows (none if the file is not there, as outside a source checkout)."""
    if not HISTORY_FILE.is_file():
        return ()
    return tuple(load_history(HISTORY_FILE).to_dict("records"))


def period_year(period: str, flow: bool) -> float | None:
    """Position of a period on the year axis, or None if it does not compare with the model's years.

    A month of a stock: year + (month - 12) / 12 (December is the year itself). A year of a flow:
    the year. Anything else (quarters, halves, a month of a flow): None.
    """
    month = _MONTH.match(period)
    if month and not flow:
        return int(month[1]) + (int(month[2]) - 12) / 12
    year = _YEAR.match(period)
    if year and flow:
        return float(year[1])
    return None


def history_points(ind: Indicator, until: float = 2020.0,
                   rows: Iterable[Mapping[str, object]] | None = None) -> pd.DataFrame:
    """History points of an indicator up to ``until``: year (axis position), value, period, kind, source.

    ``rows`` are history rows (a user's file as :func:`sim.calibration.history.parse_history` validated it);
    the shipped file when None.
    """
    series = series_of(ind.id)
    out = []
    for row in _rows() if rows is None else rows:
        if row.get("series") != series or row.get("unit") != ind.unit_en:
            continue
        year = period_year(str(row.get("period", "")), ind.flow)
        try:
            value = float(row.get("value", ""))
        except (TypeError, ValueError):
            continue
        if year is not None and year <= until:
            out.append((year, value, row["period"], row.get("kind", ""), row.get("source", "")))
    return pd.DataFrame(out, columns=COLUMNS).sort_values("year", ignore_index=True)


def chart_points(ind: Indicator, actual: pd.DataFrame | None = None, until: float = 2020.0) -> pd.DataFrame:
    """Points for an indicator's chart: the shipped history up to 2020 and, if a user gave a history
    (a frame from :func:`sim.calibration.history.parse_history`), its figures up to ``until`` that the shipped
    file does not already hold. A column ``actual`` marks the user's points."""
    shipped = history_points(ind).assign(actual=False)
    if actual is None or actual.empty:
        return shipped
    user = history_points(ind, until, actual.to_dict("records")).assign(actual=True)
    user = user[~user.set_index(["period", "value"]).index.isin(shipped.set_index(["period", "value"]).index)]
    return pd.concat([shipped, user], ignore_index=True).sort_values("year", ignore_index=True)
