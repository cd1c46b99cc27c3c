"""Zhejiang's published history: the one history file, its loader and its series.

The history is ``calibration/data/history_zhejiang.csv`` (columns series, period, value,
unit, kind, source), committed once; the calibration, ``python -m sim run --history`` and the
app's charts all read it, or a user's copy in the same format, through :func:`load_history`
or :func:`parse_history`. :data:`MODEL_SERIES` names the series the model produces (read off
its yearly records by :mod:`sim.calibration.patterns`), :data:`OTHER_SERIES` those kept for
the record, and :data:`INDICATOR_SERIES` which series are the figures of which indicator.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION_DIR = ROOT / "calibration"
HISTORY_FILE = CALIBRATION_DIR / "data" / "history_zhejiang.csv"
HISTORY_COLUMNS = ("series", "period", "value", "unit", "kind", "source")
PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4])|-H([12]))?$")

# Series the model produces, each a "stock" (compared at a December period, YYYY-12) or a
# "flow" (compared over a whole year, YYYY).
MODEL_SERIES: dict[str, str] = {
    "market_entities_total": "stock",
    "enterprises_total": "stock",
    "individual_businesses_total": "stock",
    "enterprise_share_of_entities": "stock",
    "new_registrations_total": "flow",
    "enterprise_new_registrations": "flow",
    "individual_new_registrations": "flow",
    "individual_deregistrations": "flow",
    "individual_to_company_conversions": "flow",
    "net_increase_total": "flow",
}
# Series the history may hold that the model does not produce (kept for the record).
OTHER_SERIES = {"new_small_micro_enterprises", "valid_trademarks", "madrid_marks", "zhejiang_made_standards",
                "zhejiang_made_intl_certs", "pinzi_brand_firms", "national_inspection_centers",
                "invention_patents_per_10k", "high_value_patents_per_10k", "large_commodity_markets_100m",
                "population"}
# History series -> the indicator (id in sim.outputs.indicators) whose figures it holds, in the
# indicator's own units; actual figures of these are drawn on the indicator's chart and laid
# beside its projection. An indicator not named here takes the series of its own id.
INDICATOR_SERIES: dict[str, str] = {
    "market_entities_total": "market_entities",
    "enterprises_total": "enterprises",
    "individual_businesses_total": "individual_businesses",
    "new_registrations_total": "new_registrations",
}


# Years a history row may name: the register's statistics start in the 1980s; the model projects to 2035.
FIRST_YEAR, LAST_YEAR = 1978, 2035


class HistoryError(ValueError):
    """The history file is unreadable or malformed; the message names the row and what is allowed."""


def series_of(indicator_id: str) -> str:
    """The history series holding an indicator's figures (:data:`INDICATOR_SERIES`, else the id itself)."""
    return next((s for s, ind in INDICATOR_SERIES.items() if ind == indicator_id), indicator_id)


def load_history(path: str | Path = HISTORY_FILE) -> pd.DataFrame:
    """Read and validate a history CSV (columns series, period, value, unit, kind, source).

    Periods are ``YYYY`` (a year's flow), ``YYYY-MM`` (a month-end stock), ``YYYY-Qn`` or
    ``YYYY-Hn``; series must be known; values numeric.

    Raises:
        HistoryError: naming the file, the row and what is allowed.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HistoryError(f"{source}: cannot read the history file ({err})") from None
    return parse_history(text, source)


def parse_history(text: str | bytes, source: str) -> pd.DataFrame:
    """Validate history CSV text (as :func:`load_history`); ``source`` names it in messages.

    Raises:
        HistoryError: naming the source, the row and what is allowed.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise HistoryError(f"{source}: not UTF-8 text ({err.reason})") from None
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in HISTORY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise HistoryError(f"{source}: missing columns {', '.join(missing)}; required: {', '.join(HISTORY_COLUMNS)}")
    known = set(MODEL_SERIES) | OTHER_SERIES
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        where = f"{source}: row {line}"
        if row["series"] not in known:
            raise HistoryError(f"{where}: unknown series '{row['series']}'; allowed: {', '.join(sorted(known))}")
        match = PERIOD.match(row["period"] or "")
        if not match:
            raise HistoryError(f"{where}: bad period '{row['period']}'; allowed: YYYY, YYYY-MM, YYYY-Qn, YYYY-Hn")
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise HistoryError(f"{where}: value '{row['value']}' is not a number") from None
        if not math.isfinite(value):
            raise HistoryError(f"{where}: value '{row['value']}' is not a finite number")
        year, month = int(match.group(1)), match.group(2)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise HistoryError(f"{where}: year {year} is out of range; allowed: {FIRST_YEAR}-{LAST_YEAR}")
        if value < 0:
            raise HistoryError(f"{where}: value {row['value']} is negative; counts, stocks and shares are not")
        if (row["series"], row["period"]) in seen:
            raise HistoryError(f"{where}: {row['series']} {row['period']} is given twice (first in row "
                               f"{seen[row['series'], row['period']]}); keep one row per series and period")
        seen[row["series"], row["period"]] = line
        rows.append({**row, "value": value, "year": year, "month": int(month) if month else None,
                     "subannual": bool(match.group(3) or match.group(4))})
    if not rows:
        raise HistoryError(f"{source}: no data rows under the header")
    return pd.DataFrame(rows)
