"""The patterns the model should reproduce, and how the model's value of each is computed.

Two kinds: the Zhejiang series the history file holds (entity totals by year, the split by
kind, entries, deregistrations and conversions, net increases), read off the model's yearly
records (:data:`SERIES`), and the literature patterns of GROUNDING.md (:data:`LITERATURE`:
annual-report rate, random-sample finding rates, the age shape of the enterprise exit hazard,
the share of exits within 5 years, the share of enterprises under 5 years old, the size tail),
read off the last year of a run, whose record also holds the end-state and pooled measures of
:func:`state_measures`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.calibration.history import MODEL_SERIES

Annual = Mapping[int, Mapping[str, float]]


# ---------------------------------------------------------------- Zhejiang series
def _stock(field_fn: Callable[[Mapping[str, float]], float]) -> Callable[[Annual, int], float]:
    return lambda annual, year: field_fn(annual[year])


def _net(annual: Annual, year: int) -> float:
    return (annual[year]["registered"] - annual[year - 1]["registered"]) / 1e4


# How each history series the model produces is read off its yearly records.
_READERS: dict[str, Callable[[Annual, int], float]] = {
    "market_entities_total": _stock(lambda r: r["registered"] / 1e4),
    "enterprises_total": _stock(lambda r: (r["registered_company"] + r["registered_other"]) / 1e4),
    "individual_businesses_total": _stock(lambda r: r["registered_individual"] / 1e4),
    "enterprise_share_of_entities": _stock(
        lambda r: 100.0 * (r["registered_company"] + r["registered_other"]) / r["registered"]),
    "new_registrations_total": _stock(lambda r: r["entries"] / 1e4),
    "enterprise_new_registrations": _stock(lambda r: (r["entries_company"] + r["entries_other"]) / 1e4),
    "individual_new_registrations": _stock(lambda r: r["entries_individual"] / 1e4),
    "individual_deregistrations": _stock(lambda r: r["deregistrations_individual"] / 1e4),
    "individual_to_company_conversions": _stock(lambda r: r["conversions"] / 1e4),
    "net_increase_total": _net,
}
# Each model series: (kind, reader); "stock" series need a December (YYYY-12) period, "flow" series a whole year.
SERIES: dict[str, tuple[str, Callable[[Annual, int], float]]] = {
    name: (kind, _READERS[name]) for name, kind in MODEL_SERIES.items()}


@dataclass(frozen=True)
class Pattern:
    """One observed figure the model should reproduce."""

    series: str
    period: str
    year: int
    target: float
    tolerance: float  # relative
    weight: float
    source: str
    read: Callable[[Annual, int], float] = field(repr=False)

    def model_value(self, annual: Annual) -> float:
        """The model's value of this pattern from yearly records."""
        return self.read(annual, self.year)


# ---------------------------------------------------------------- literature patterns
# Literature patterns (GROUNDING.md), not Zhejiang series. Their figures are national or from
# another province and not year-specific, so they are read off the last year of a calibration run
# (the end state, or flows pooled over the run; see ``state_measures``). Each: name, target,
# relative tolerance, weight in the objective, source, reader.
SURVIVAL_2013 = {1: 1.6, 2: 6.3, 3: 9.5, 4: 8.0, 5: 8.0, 6: 8.0, 7: 8.0}  # % a year, data/survival_china_2013.csv
_SURVIVAL_SOURCE = "enterprise exit hazard by age, national survival report 2013 (GROUNDING.md)"


def _measure(name: str) -> Callable[[Annual, int], float]:
    return lambda annual, year: annual[year][name]


def _pooled_share(part: str, whole: str) -> Callable[[Annual, int], float]:
    """100 x part / whole summed over the simulated years up to ``year`` (the start year-end excluded)."""
    def read(annual: Annual, year: int) -> float:
        years = [y for y in annual if min(annual) < y <= year]
        total = sum(annual[y][whole] for y in years)
        return 100.0 * sum(annual[y][part] for y in years) / total if total else float("nan")
    return read


LITERATURE = (
    ("annual_report_rate", 87.5, 0.04, 0.5, "annual-report rate 85-90% (2013-14, GROUNDING.md)",
     lambda annual, year: 100.0 * annual[year]["annual_reports_filed"] / annual[year]["annual_reports_due"]),
    ("random_sample_abnormal_rate", 7.88, 0.25, 0.5,
     "share of a random sample put on the abnormal-operation list, Sichuan 2015 (GROUNDING.md); "
     "pooled over the run's years", _pooled_share("random_found_abnormal", "random_checked")),
    ("random_sample_violation_rate", 4.0, 0.5, 0.0,
     "share of a random sample found with falsified disclosures, Sichuan 2015 (GROUNDING.md), against the "
     "violations random inspections detect; pooled over the run's years; reported, not fitted: no fitted "
     "parameter is about compliance", _pooled_share("random_found_violating", "random_checked")),
    ("exit_hazard_age1_to_age3", SURVIVAL_2013[1] / SURVIVAL_2013[3], 0.35, 0.25,
     f"founding-year over year-3 hazard: {_SURVIVAL_SOURCE}", _measure("hazard_ratio_1")),
    ("exit_hazard_age2_to_age3", SURVIVAL_2013[2] / SURVIVAL_2013[3], 0.25, 0.25,
     f"year-2 over year-3 hazard: {_SURVIVAL_SOURCE}", _measure("hazard_ratio_2")),
    ("exit_hazard_age4_7_to_age3", SURVIVAL_2013[4] / SURVIVAL_2013[3], 0.25, 0.25,
     f"years 4-7 over year-3 hazard ('above 8%' after a 9.5% peak): {_SURVIVAL_SOURCE}",
     _measure("hazard_ratio_4_7")),
    ("exits_within_5_years_pct", 59.1, 0.15, 0.25,
     "share of enterprise exits within 5 years of founding, survival report 2013 (GROUNDING.md)",
     _measure("exits_within_5_pct")),
    ("enterprises_under_5_years_pct", 49.4, 0.10, 0.25,
     "share of enterprises under 5 years old, survival report 2013 (GROUNDING.md)", _measure("under_5_pct")),
    ("size_tail_alpha", 1.0, 0.15, 0.25,
     "Zipf upper tail of firm sizes, alpha close to 1 (Axtell 2001, GROUNDING.md)", _measure("size_tail_alpha")),
)
# Entity and enterprise totals weigh more than the rest: plan indicator 1 starts from them.
STOCK_WEIGHT = 2.0
STOCK_WEIGHTED = ("market_entities_total", "enterprises_total")
# Flows behind the hazard-shape patterns are pooled over every simulated year of a run;
# the size tail is the top TAIL_SHARE of enterprises by size at the end of the run.
TAIL_SHARE = 0.05


def patterns(history: pd.DataFrame, first_year: int, through: int) -> tuple[list[Pattern], list[str]]:
    """Patterns usable for runs covering ``first_year``..``through`` (year ends), and why others are not."""
    used, skipped = [], []
    for row in history.itertuples(index=False):
        label = f"{row.series} {row.period}"
        if row.series not in SERIES:
            skipped.append(f"{label}: the model does not produce this series")
            continue
        kind, read = SERIES[row.series]
        whole_year = pd.isna(row.month)
        if row.subannual or (kind == "stock" and row.month != 12) or (kind == "flow" and not whole_year):
            skipped.append(f"{label}: not a year-end stock or a whole year's flow")
            continue
        lowest = first_year + 1  # the first year-end is the start itself: an input, not a pattern
        if not lowest <= row.year <= through:
            skipped.append(f"{label}: outside {lowest}-{through}")
            continue
        tolerance = 0.02 if kind == "stock" else 0.10
        weight = STOCK_WEIGHT if row.series in STOCK_WEIGHTED else 1.0
        used.append(Pattern(row.series, row.period, row.year, row.value, tolerance, weight, row.source, read))
    if first_year < through:
        for series, target, tolerance, weight, source, read in LITERATURE:
            used.append(Pattern(series, str(through), through, target, tolerance, weight, source, read))
    return used, skipped


def fit_table(runs: list[dict[int, dict[str, float]]], used: list[Pattern]) -> pd.DataFrame:
    """Per pattern: target, model mean over seeds, its standard error, relative error, within tolerance."""
    rows = []
    for pat in used:
        values = np.array([pat.model_value(r) for r in runs])
        mean = float(values.mean())
        error = (mean - pat.target) / pat.target
        rows.append({"pattern": pat.series, "period": pat.period, "target": pat.target, "model": mean,
                     "model_se": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0,
                     "error_pct": 100.0 * error, "tolerance_pct": 100.0 * pat.tolerance,
                     "within": abs(error) <= pat.tolerance, "weight": pat.weight, "source": pat.source})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- end-state and pooled measures
AGE_YEARS = 12  # hazards by year of life 1..12; the last bucket holds every older entity


def enterprises_now(model) -> dict[str, np.ndarray]:
    """Keys, ages and weights of the registered enterprises (companies and others) of a vector model now."""
    from sim.core import rules

    e = model.e
    keep = (e["status"] != rules.DEREGISTERED) & (e["kind"] != rules.INDIVIDUAL)
    return {"key": e["key"][keep].copy(), "age_months": e["age_months"][keep].copy(),
            "weight": e["weight"][keep].copy(), "log_size": e["log_size"][keep].copy()}


class Demography:
    """Enterprise deregistrations and exposure by year of life, pooled over the years of a run.

    Year of life as the survival report counts it: the founding calendar year is year 1, so an
    enterprise aged ``a`` months at a year-end is in year ``a // 12 + 2`` during the next year.
    """

    def __init__(self) -> None:
        self.exposure = np.zeros(AGE_YEARS + 1)
        self.exits = np.zeros(AGE_YEARS + 1)

    def add_year(self, before: dict[str, np.ndarray], model) -> None:
        """Add the year just simulated: who of ``before`` (last year-end) is gone, and the entrants."""
        from sim.core import rules

        e = model.e
        registered_keys = e["key"][e["status"] != rules.DEREGISTERED]
        gone = ~np.isin(before["key"], registered_keys)
        life_year = np.minimum(before["age_months"] // 12 + 2, AGE_YEARS)
        self.exposure += np.bincount(life_year, before["weight"], AGE_YEARS + 1)
        self.exits += np.bincount(life_year[gone], before["weight"][gone], AGE_YEARS + 1)
        entered = sum(m["entries_company"] + m["entries_other"] for m in model.monthly[-12:])
        now = enterprises_now(model)
        stayed = float(now["weight"][now["age_months"] < 12].sum())
        self.exposure[1] += entered
        self.exits[1] += max(0.0, entered - stayed)

    def hazard(self, first: int, last: int) -> float:
        """Pooled yearly exit hazard over years of life ``first``..``last``."""
        exposure = self.exposure[first:last + 1].sum()
        return float(self.exits[first:last + 1].sum() / exposure) if exposure else float("nan")


def size_tail_alpha(size: np.ndarray, weight: np.ndarray, share: float = TAIL_SHARE) -> float:
    """Weighted Hill estimate of the Pareto exponent over the top ``share`` of sizes."""
    order = np.argsort(size)[::-1]
    size, weight = size[order], weight[order]
    cut = int(np.searchsorted(np.cumsum(weight), share * weight.sum()))
    if cut < 1 or cut >= len(size):
        return float("nan")
    floor = size[cut]
    logs = np.log(size[:cut] / floor)
    return float(weight[:cut].sum() / (weight[:cut] * logs).sum()) if logs.any() else float("nan")


def state_measures(model, demography: Demography) -> dict[str, float]:
    """Literature measures of a finished run: hazard shape and exit ages (pooled over the run's years),
    the share of enterprises under 5 years old and the size tail (end state). A measure a run
    has no entities for (a coarse scale, a short run) is nan, not an error."""
    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")

    peak = demography.hazard(3, 3)
    out = {f"hazard_age_{k}": 100.0 * demography.hazard(k, k) for k in range(1, AGE_YEARS + 1)}
    out |= {"hazard_ratio_1": ratio(demography.hazard(1, 1), peak), "hazard_ratio_2": ratio(demography.hazard(2, 2), peak),
            "hazard_ratio_4_7": ratio(demography.hazard(4, 7), peak),
            "exits_within_5_pct": 100.0 * ratio(demography.exits[1:6].sum(), demography.exits.sum())}
    now = enterprises_now(model)
    out["under_5_pct"] = 100.0 * float(now["weight"][now["age_months"] < 60].sum() / now["weight"].sum())
    out["size_tail_alpha"] = size_tail_alpha(np.exp(now["log_size"]), now["weight"])
    return out


def hazard_by_age(runs: list[dict[int, dict[str, float]]], through: int) -> pd.DataFrame:
    """Enterprise exit hazard by year of life, % a year: the survival report beside the model's
    mean over seeds (pooled over each run's years)."""
    rows = []
    for k in range(1, AGE_YEARS + 1):
        values = np.array([r[through][f"hazard_age_{k}"] for r in runs])
        rows.append({"year_of_life": f"{k}+" if k == AGE_YEARS else str(k), "report": SURVIVAL_2013.get(k),
                     "model": float(values.mean()),
                     "model_se": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0})
    return pd.DataFrame(rows)
