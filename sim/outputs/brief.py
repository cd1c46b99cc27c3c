"""The brief: one scenario against another as a bilingual HTML and PDF document, for a reader who
will not open the app (``python -m sim brief``, :mod:`sim.cli.brief`).

:func:`build_context` turns the two ensembles and the material gathered by the command (history
points, attribution, the committed backtest's skill) into plain data for the template; charts are
matplotlib SVG, text kept as text, inlined in the page. :func:`render_html` fills the Jinja2
template (``templates/brief.html.j2``, autoescaped, with ``brief.css`` inlined) and
:func:`write_brief` writes ``brief.html`` and ``brief.pdf`` (weasyprint) atomically. Verdicts
read :mod:`sim.outputs.status`, the thresholds the app and the console use.
"""

from __future__ import annotations

import io
import logging
import math
import tomllib
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs.files import atomic_write_bytes, atomic_write_text
from sim.inputs.levers import LEVERS, UNCERTAINTIES
from sim.inputs.scenario import Scenario
from sim.outputs import status as target_status
from sim.outputs.indicators import Indicator, display_decimals as _decimals, display_unit, registry
from sim.outputs.provenance import PROVENANCE

LANGS = ("zh", "en")
ATTRIBUTION_COLUMNS = ("indicator", "group", "label_zh", "label_en", "contribution", "se")
FIRST_HISTORY_YEAR = 2016  # the charts' history: 2016-2020, then any actual figures after 2020
FONT = "WenQuanYi Zen Hei"
BLUE, RED, GREY = "#0072B2", "#D55E00", "#7f7f7f"  # Okabe-Ito, as the app's charts
COUNT_UNITS = ("个", "家", "项")  # counts: medians shown as whole numbers (as the app)


@cache
def _strings() -> dict[str, dict[str, str]]:
    return tomllib.loads(resources.files("sim.outputs").joinpath("templates", "brief_strings.toml").read_text("utf-8"))


def strings(lang: str) -> dict[str, str]:
    """The brief's words in ``lang`` (``zh`` or ``en``), from ``templates/brief_strings.toml``."""
    if lang not in LANGS:
        raise ValueError(f"language '{lang}' is not allowed; allowed: {', '.join(LANGS)}")
    return _strings()[lang]


# ---------------------------------------------------------------- numbers


def scorecard_indicators() -> list[Indicator]:
    """The plan's numbered indicators, then its modelled text targets (the app's scorecard rows)."""
    reg = registry()
    return [i for i in reg if i.no is not None] + [i for i in reg if i.attribute == "text target" and i.modelled]


def binding_indicators() -> list[Indicator]:
    """The binding (约束性) indicators the model computes, in table order."""
    return [i for i in scorecard_indicators() if i.attribute == "binding" and i.modelled]


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(shown: float, decimals: int, lang: str, sign: bool = False) -> str:
    if round(shown, decimals) == 0:
        shown = 0.0  # no "-0.0" for a value that rounds to zero
    text = f"{shown:{'+' if sign else ''},.{decimals}f}"
    return text.replace(",", "") if lang == "zh" else text


def fmt_value(value: float | None, ind: Indicator, lang: str) -> str:
    """A value in the display unit, without the unit (a count's median as a whole number)."""
    if _missing(value):
        return "—"
    factor, _ = display_unit(ind, lang)
    shown = value * factor
    if ind.unit_zh in COUNT_UNITS and factor == 1.0:
        shown = math.copysign(math.floor(abs(shown) + 0.5), shown)
    return _number(shown, _decimals(shown, factor), lang)


def fmt_band(low: float, high: float, ind: Indicator, lang: str) -> str:
    """A 5-95% band, a count's rounded outwards to whole numbers."""
    if _missing(low) or _missing(high):
        return "—"
    factor, _ = display_unit(ind, lang)
    if ind.unit_zh in COUNT_UNITS and factor == 1.0:
        return f"{_number(math.floor(low + 1e-9), 0, lang)}–{_number(math.ceil(high - 1e-9), 0, lang)}"
    d = max(_decimals(low * factor, factor), _decimals(high * factor, factor))
    return f"{_number(low * factor, d, lang)}–{_number(high * factor, d, lang)}"


def fmt_target(ind: Indicator, lang: str) -> str:
    """The target with its comparison, e.g. ≥1100."""
    if ind.target is None:
        return "—"
    return {">=": "≥", "<=": "≤"}.get(ind.target_op, ind.target_op) + fmt_value(ind.target, ind, lang)


def _stats(values: np.ndarray, ind: Indicator) -> dict[str, float]:
    """Median, 5% and 95% quantiles over seeds and the share meeting the target (as ensemble.summarise)."""
    if values.size == 0:
        return {"median": math.nan, "low": math.nan, "high": math.nan, "prob": math.nan}
    prob = float(np.mean([ind.met(v) for v in values])) if ind.target is not None else math.nan
    return {"median": float(np.median(values)), "low": float(np.quantile(values, 0.05)),
            "high": float(np.quantile(values, 0.95)), "prob": prob}


def yearly_bands(tidy: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Median and 5-95% band by year of one indicator across seeds (year, median, low, high)."""
    rows = tidy[tidy["indicator"] == indicator].groupby("year")["value"]
    if rows.ngroups == 0:
        return pd.DataFrame(columns=["year", "median", "low", "high"])
    return pd.DataFrame({"median": rows.median(), "low": rows.quantile(0.05),
                         "high": rows.quantile(0.95)}).reset_index()


def _cell(ind: Indicator, tidy: pd.DataFrame, year: int, lang: str) -> dict[str, object]:
    values = tidy.loc[(tidy["year"] == year) & (tidy["indicator"] == ind.id), "value"].to_numpy(dtype=float)
    s = _stats(values, ind)
    key = target_status.status(s["prob"])
    return {"median": fmt_value(s["median"], ind, lang), "band": fmt_band(s["low"], s["high"], ind, lang),
            "prob": "—" if math.isnan(s["prob"]) else f"{s['prob']:.0%}", "status_key": key.replace(" ", "-"),
            "status": strings(lang)[key] if key else "—", "raw": s}


# ---------------------------------------------------------------- charts (matplotlib SVG, text as text)


@cache
def _chart_font() -> list[str]:
    """The charts' font families: WenQuanYi Zen Hei if the system has it (matplotlib's font cache may
    predate the font's installation: fonts it has not seen are added for this process), then DejaVu Sans."""
    from matplotlib import font_manager

    if FONT not in {f.name for f in font_manager.fontManager.ttflist}:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a font file FreeType cannot read
                    continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return [FONT, "DejaVu Sans"] if FONT in names else ["DejaVu Sans"]


@contextmanager
def _quiet(*loggers: str):
    """Only errors from these loggers while the block runs."""
    saved = [(log, log.level) for log in map(logging.getLogger, loggers)]
    for log, _ in saved:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in saved:
            log.setLevel(level)


def _chart_rc(salt: str) -> dict[str, object]:
    return {"svg.fonttype": "none", "svg.hashsalt": salt, "font.family": _chart_font(),
            "font.size": 6.5, "axes.unicode_minus": False, "axes.linewidth": 0.6, "xtick.major.width": 0.6,
            "ytick.major.width": 0.6, "axes.spines.top": False, "axes.spines.right": False}


def _svg(draw, salt: str, size: tuple[float, float]) -> str:
    """An SVG element drawn by ``draw(figure)``: no XML prolog, no date, ids salted per chart."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    # WenQuanYi has one weight: no note each time that it stands in for another
    with _quiet("matplotlib.font_manager"), matplotlib.rc_context(_chart_rc(salt)):
        fig = Figure(figsize=size)
        draw(fig)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.03)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def indicator_chart(ind: Indicator, bands: pd.DataFrame, bands_against: pd.DataFrame, points: pd.DataFrame | None,
                    lang: str) -> str:
    """One binding indicator's chart as SVG: median and band, the against scenario's median, target,
    2020 baseline, 2016-2020 history (dots) and actual figures after 2020 (squares)."""
    factor, unit = display_unit(ind, lang)
    points = points if points is not None else pd.DataFrame(columns=["year", "value", "actual"])
    points = points[points["year"] >= FIRST_HISTORY_YEAR]

    def draw(fig) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.add_subplot()
        if not bands.empty:
            ax.fill_between(bands["year"], bands["low"] * factor, bands["high"] * factor, color=BLUE, alpha=0.22, lw=0)
            ax.plot(bands["year"], bands["median"] * factor, color=BLUE, lw=1.2)
        if not bands_against.empty:
            ax.plot(bands_against["year"], bands_against["median"] * factor, color=GREY, lw=1.0, ls="--")
        if ind.target is not None:
            ax.axhline(ind.target * factor, color=RED, lw=0.8, ls=(0, (4, 3)))
            ax.plot([ind.target_year], [ind.target * factor], "o", color=RED, ms=4)
        if ind.baseline_2020 is not None:
            ax.plot([2020], [ind.baseline_2020 * factor], "D", color=GREY, ms=3.5)
        actual = points["actual"].astype(bool) if "actual" in points else pd.Series(False, index=points.index)
        for part, marker in ((points[~actual], "o"), (points[actual], "s")):
            if not part.empty:
                ax.plot(part["year"], part["value"] * factor, marker, color="black", ms=3, ls="none")
        years = list(bands["year"]) + list(points["year"]) + [2020, ind.target_year]
        ax.set_xlim(min(years) - 0.3, max(years) + 0.3)
        ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.04)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="y", color="#dddddd", lw=0.5)
        ax.set_title(unit, loc="left", fontsize=6.5, color="#333333")

    return _svg(draw, f"brief-{ind.id}", (2.45, 1.75))


def waterfall_steps(rows: pd.DataFrame, factor: float = 1.0) -> pd.DataFrame:
    """One indicator's attribution rows as waterfall steps, times ``factor`` (the display unit): each
    group's ``contribution`` and ``se`` from ``start`` (where the previous step ended) to ``end``;
    groups contributing exactly nothing with no error (set alike in both scenarios) are left out."""
    steps = rows[(rows["contribution"] != 0) | (rows["se"] != 0)].copy()
    steps["contribution"] = steps["contribution"].astype(float) * factor
    steps["se"] = steps["se"].astype(float) * factor
    steps["end"] = steps["contribution"].cumsum()
    steps["start"] = steps["end"] - steps["contribution"]
    return steps.reset_index(drop=True)


def waterfall_chart(ind: Indicator, rows: pd.DataFrame, lang: str) -> str:
    """A horizontal waterfall of one indicator's attribution as SVG: each lever group's contribution
    (with +-1 standard error) from zero, then the total (with ``total_se`` if the table has it); groups
    contributing exactly nothing with no error (set alike in both scenarios) are left out."""
    t = strings(lang)
    factor, unit = display_unit(ind, lang)
    total_se = float(rows["total_se"].iloc[0]) * factor if "total_se" in rows else math.nan
    steps = waterfall_steps(rows, factor)
    labels = list(steps["label_zh" if lang == "zh" else "label_en"].astype(str)) + [t["total"]]
    contrib, se, starts = (steps[c].to_numpy(dtype=float) for c in ("contribution", "se", "start"))
    total = float(contrib.sum())
    n = len(contrib)

    def draw(fig) -> None:
        ax = fig.add_subplot()
        ax.barh(range(n), contrib, left=starts, height=0.6, color=[BLUE if c >= 0 else RED for c in contrib])
        ax.errorbar(starts + contrib, range(n), xerr=np.nan_to_num(se), fmt="none", ecolor="black", elinewidth=0.6,
                    capsize=1.5)
        ax.barh([n], [total], height=0.6, color=GREY)
        if not math.isnan(total_se):
            ax.errorbar([total], [n], xerr=[total_se], fmt="none", ecolor="black", elinewidth=0.6, capsize=1.5)
        for i in range(n):  # connectors from one bar's end to the next bar's start
            ax.plot([starts[i] + contrib[i]] * 2, [i + 0.3, i + 0.7], color="#999999", lw=0.5)
        ends = list(starts + contrib) + [total]
        span = max([abs(e) for e in ends] + [abs(s) for s in starts] + [1e-12])
        digits = 0 if span >= 100 else 1 if span >= 10 else 2
        errors = list(np.nan_to_num(se)) + [0.0 if math.isnan(total_se) else total_se]
        for i, (value, end, err) in enumerate(zip(list(contrib) + [total], ends, errors)):
            pad = err + 0.02 * span  # beyond the error bar
            ax.text(end + (pad if value >= 0 else -pad), i, _number(value, digits, lang, sign=True),
                    va="center", ha="left" if value >= 0 else "right", fontsize=6)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(range(n + 1), labels)
        ax.invert_yaxis()
        ax.margins(x=0.18)
        ax.set_xlabel(t["difference"].format(unit=unit))
        ax.grid(axis="x", color="#dddddd", lw=0.5)

    return _svg(draw, f"brief-waterfall-{ind.id}", (3.5, 0.6 + 0.17 * (n + 1)))


# ---------------------------------------------------------------- sections


def _scorecard(tidy: pd.DataFrame, tidy_against: pd.DataFrame, year: int, lang: str) -> list[dict[str, object]]:
    rows = []
    for ind in scorecard_indicators():
        if not ind.modelled:
            continue
        rows.append({"id": ind.id, "no": ind.no if ind.no is not None else "—",
                     "name": ind.name_zh if lang == "zh" else ind.name_en, "binding": ind.attribute == "binding",
                     "unit": display_unit(ind, lang)[1], "baseline": fmt_value(ind.baseline_2020, ind, lang),
                     "target": fmt_target(ind, lang), "a": _cell(ind, tidy, year, lang),
                     "b": _cell(ind, tidy_against, year, lang)})
    return rows


def _headline(rows: Sequence[Mapping[str, object]], side: str, name: str, year: int, lang: str) -> str:
    binding = [r[side]["status_key"] for r in rows if r["binding"]]
    return strings(lang)["headline"].format(n=len(binding), year=year, name=name, met=binding.count("met"),
                                            risk=binding.count("at-risk"), missed=binding.count("missed"))


def _attribution(attribution: pd.DataFrame | None, note: str, lang: str) -> dict[str, object]:
    """Waterfalls per binding indicator, or the note saying why there are none."""
    t = strings(lang)
    if attribution is None:
        return {"note": note or t["attribution_skipped"], "charts": [], "groups": [], "rows": []}
    missing = [c for c in ATTRIBUTION_COLUMNS if c not in attribution.columns]
    if missing:
        raise ValueError(f"attribution table: missing columns {', '.join(missing)}; "
                         f"required: {', '.join(ATTRIBUTION_COLUMNS)}")
    charts = []
    for ind in binding_indicators():
        rows = attribution[attribution["indicator"] == ind.id]
        if not rows.empty:
            charts.append({"id": ind.id, "title": _title(ind, lang), "svg": waterfall_chart(ind, rows, lang)})
    return {"note": "" if charts else t["attribution_none"], "charts": charts,
            **_attribution_table(attribution, lang)}


def _attribution_table(attribution: pd.DataFrame, lang: str) -> dict[str, object]:
    """Every scorecard indicator's attribution as a table: a column per lever group that contributes
    anything to some indicator (contribution ±standard error, display units), then the total."""
    moving = attribution[(attribution["contribution"] != 0) | (attribution["se"] != 0)]
    groups = list(dict.fromkeys(moving["group"]))
    labels = {g: str(lab) for g, lab in zip(attribution["group"], attribution["label_zh" if lang == "zh" else "label_en"])}
    rows = []
    for ind in scorecard_indicators():
        part = attribution[attribution["indicator"] == ind.id].set_index("group")
        if part.empty:
            continue
        factor, unit = display_unit(ind, lang)
        total = float(part["contribution"].sum())
        se = float(part["total_se"].iloc[0]) if "total_se" in part else math.nan
        largest = max([abs(total), *part["contribution"].abs()]) * factor
        d = 2 if largest < 10 else 1 if largest < 1000 else 0  # by the largest value: one precision per row
        cell = (lambda c, e: "0" if c == 0 and (e == 0 or _missing(e)) else _number(c * factor, d, lang, sign=True)
                + ("" if _missing(e) else f" ±{_number(e * factor, d, lang)}"))
        rows.append({"name": _title(ind, lang), "unit": unit,
                     "cells": [cell(float(part.at[g, "contribution"]), float(part.at[g, "se"])) if g in part.index
                               else "—" for g in groups],
                     "total": cell(total, se)})
    return {"groups": [labels[g] for g in groups], "rows": rows}


def _title(ind: Indicator, lang: str) -> str:
    name = ind.name_zh if lang == "zh" else ind.name_en
    return f"{ind.no}. {name}" if ind.no is not None else name


def _lever_rows(scenario: Scenario, against: Scenario, year: int, lang: str) -> list[dict[str, str]]:
    """Levers and uncertainties either scenario sets away from 2020 in some year up to ``year``."""
    rows = []
    for spec, get_a, get_b in [(lv, scenario.lever, against.lever) for lv in LEVERS] + \
                              [(u, scenario.uncertainty, against.uncertainty) for u in UNCERTAINTIES]:
        years = range(2021, year + 1)
        if all(math.isclose(get(spec.id, y), spec.value_2020) for get in (get_a, get_b) for y in years):
            continue
        rows.append({"name": spec.label_zh if lang == "zh" else spec.label_en,
                     "unit": spec.unit_zh if lang == "zh" else spec.unit, "v2020": f"{spec.value_2020:g}",
                     "a": f"{get_a(spec.id, year):g}", "b": f"{get_b(spec.id, year):g}"})
    return rows


def _provenance_rows(lang: str) -> list[dict[str, str]]:
    return [{"name": _title(ind, lang), "fitted_on": p.fitted_on, "parameters": p.parameters,
             "plan_lever": p.plan_lever}
            for ind in scorecard_indicators() if (p := PROVENANCE.get(ind.id)) is not None]


def _name_of(indicator: str, lang: str) -> str:
    ind = {i.id: i for i in registry()}.get(indicator)
    return indicator if ind is None else (ind.name_zh if lang == "zh" else ind.name_en)


def _backtest(skill: Mapping[str, object] | None, lang: str) -> dict[str, object] | None:
    """The backtest's table and plain sentences; None if there is no committed backtest."""
    if not skill:
        return None
    t = strings(lang)
    methods = list(dict.fromkeys(m for h in skill["horizons"] for m in h["mapes"] if m != "model"))
    rows, lines = [], []
    for h in skill["horizons"]:
        word = "beats" if h["model"] < h["best_mape"] else ("ties" if math.isclose(h["model"], h["best_mape"])
                                                            else "loses")
        horizon = t["horizon"].format(h=h["horizon"])
        rows.append({"horizon": horizon, "model": f"{h['model']:.1f}%", "loses": word == "loses",
                     "naive": [("—" if _missing(h["mapes"].get(m)) else f"{h['mapes'][m]:.1f}%") for m in methods],
                     "best": t.get(h["best"], h["best"]), "verdict": t[word]})
        lines.append({"loses": word == "loses", "text": t["verdict_line"].format(
            what=_name_of(h["indicator"], lang), horizon=horizon, model=h["model"],
            word=t[f"word_{word}"], best=t.get(h["best"], h["best"]), naive=h["best_mape"], n=h["points"])})
    subs = []
    for s in skill.get("submodels", []):
        word = "beats" if s["model"] < s["best_mape"] else "loses"
        subs.append({"loses": word == "loses", "text": t["sub_line"].format(
            what=_name_of(s["indicator"], lang), model=s["model"], word=t[f"word_{word}"],
            best=t.get(s["best"], s["best"]), naive=s["best_mape"], n=s["points"])})
    return {"intro": t["backtest_intro"].format(source=skill.get("source", "calibration/backtest.md")),
            "methods": [t.get(m, m) for m in methods], "rows": rows, "lines": lines,
            "coverage": t["coverage"].format(covered=skill["covered"], total=skill["total"]),
            "submodels": subs, "sub_coverage": t["sub_coverage"].format(
                covered=skill.get("submodel_covered", 0), total=skill.get("submodel_total", 0))
            if subs else "", "model_loses": any(r["loses"] for r in rows)}


def _projection(tidy: pd.DataFrame, ind: Indicator, year: int, lang: str) -> dict[str, float] | None:
    values = tidy.loc[(tidy["year"] == year) & (tidy["indicator"] == ind.id), "value"].to_numpy(dtype=float)
    s = _stats(values, ind)
    return None if math.isnan(s["median"]) else s


def _expost(points: Mapping[str, pd.DataFrame], history_file: str | None, tidy: pd.DataFrame,
            tidy_against: pd.DataFrame, year: int, lang: str, parameters: str = "posterior") -> dict[str, object]:
    """Actual year-end (or whole-year) figures after 2020 against the target path, the projection and
    the counterfactual (the scenario set against, 2020 policies by default): what the measures added."""
    t = strings(lang)
    if history_file is None:
        return {"intro": "", "note": t["expost_none_file"], "rows": []}
    last = int(tidy["year"].max()) if not tidy.empty else 2020
    rows = []
    for ind in scorecard_indicators():
        found = points.get(ind.id)
        if found is None or found.empty:
            continue
        found = found[(found["year"] > 2020) & (found["year"] == found["year"].round())]
        for p in found.sort_values("year").itertuples(index=False):
            y, actual = int(p.year), float(p.value)
            row = {"name": _title(ind, lang), "unit": display_unit(ind, lang)[1], "year": y,
                   "actual": fmt_value(actual, ind, lang), "source": str(getattr(p, "source", "")),
                   "path": "—", "vs_path": "", "projection": "—", "vs_band": t["beyond"], "behind": False,
                   "counterfactual": "—", "added": "—"}
            if ind.target is not None and ind.baseline_2020 is not None:
                path = ind.baseline_2020 + (ind.target - ind.baseline_2020) * (y - 2020) / (ind.target_year - 2020)
                ahead = actual >= path if ind.target_op in (">=", ">") else actual <= path
                row.update(path=fmt_value(path, ind, lang), vs_path=t["on_path" if ahead else "behind_path"],
                           behind=not ahead)
            if y <= last and (s := _projection(tidy, ind, y, lang)) is not None:
                row["projection"] = f"{fmt_value(s['median'], ind, lang)} [{fmt_band(s['low'], s['high'], ind, lang)}]"
                row["vs_band"] = t["below" if actual < s["low"] else "above" if actual > s["high"] else "within"]
            if y <= last and (c := _projection(tidy_against, ind, y, lang)) is not None:
                row["counterfactual"] = f"{fmt_value(c['median'], ind, lang)} [{fmt_band(c['low'], c['high'], ind, lang)}]"
                factor, _ = display_unit(ind, lang)
                added = [(actual - v) * factor for v in (c["median"], c["high"], c["low"])]
                d = max(_decimals(abs(v), factor) for v in added)
                row["added"] = (f"{_number(added[0], d, lang, sign=True)} "
                                f"[{_number(added[1], d, lang, sign=True)}, {_number(added[2], d, lang, sign=True)}]")
            rows.append(row)
    parameters = str(parameters)
    basis = t["expost_refit"].format(posterior=parameters) if parameters.endswith(".parquet") else t["expost_exante"]
    return {"intro": t["expost_intro"].format(file=history_file, year=year) + " " + basis,
            "note": "" if rows else t["expost_none_rows"].format(file=history_file), "rows": rows}


def build_context(scenario: Scenario, against: Scenario, tidy: pd.DataFrame, tidy_against: pd.DataFrame, *,
                  lang: str = "zh", command: str = "", version: str = "unknown",
                  run: Mapping[str, object] | None = None, points: Mapping[str, pd.DataFrame] | None = None,
                  history_file: str | None = None, attribution: pd.DataFrame | None = None,
                  attribution_note: str = "", backtest: Mapping[str, object] | None = None, year: int = 2025,
                  today: date | None = None) -> dict[str, object]:
    """Everything the template shows, as plain data (strings, lists, dicts and inline SVG).

    Args:
        scenario: The scenario the brief is about.
        against: The scenario it is set against (same seeds).
        tidy: Tidy rows of ``scenario`` (:func:`sim.runs.ensemble.run_ensemble`).
        tidy_against: Tidy rows of ``against``.
        lang: ``zh`` or ``en``.
        command: The command that reproduces the brief.
        version: The model version (package version and git commit).
        run: Run settings: ``seeds`` (list), ``scale``, ``parameters`` (posterior or point).
        points: Per indicator id, history points for the charts (year, value, actual, source), as
            :func:`sim.ui.history.chart_points` gives them; the user's actual figures marked ``actual``.
        history_file: The ``--history`` file's name, if one was given (the ex-post section).
        attribution: Columns :data:`ATTRIBUTION_COLUMNS`, one row per indicator and lever group; the
            contributions sum to ``scenario`` minus ``against``.
        attribution_note: Why there is no attribution, when ``attribution`` is None.
        backtest: The committed backtest's skill (:func:`sim.cli.brief.backtest_skill`).
        year: The target year.
        today: The date printed (today if None).
    """
    t = strings(lang)
    run = dict(run or {})
    points = points or {}
    seeds = list(run.get("seeds", sorted(set(tidy["seed"])) if "seed" in tidy else []))
    label = (lambda s: s.label_zh if lang == "zh" else s.label_en)
    name_a, name_b = label(scenario) or scenario.name, label(against) or against.name
    rows = _scorecard(tidy, tidy_against, year, lang)
    thresholds = {"met": target_status.MET_AT_LEAST, "risk": target_status.AT_RISK_AT_LEAST}
    charts = [{"id": ind.id, "title": _title(ind, lang),
               "svg": indicator_chart(ind, yearly_bands(tidy, ind.id), yearly_bands(tidy_against, ind.id),
                                      points.get(ind.id), lang)}
              for ind in binding_indicators()]
    backtest_ctx = _backtest(backtest, lang)
    settings = t["settings_text"].format(
        n=len(seeds), first=seeds[0] if seeds else "—", last=seeds[-1] if seeds else "—",
        scale=f"{run.get('scale', math.nan):g}", parameters=t.get(str(run.get("parameters", "posterior")), ""))
    return {
        "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en", "t": t, "year": year,
        "title": t["doc_title"].format(scenario=name_a, against=name_b),
        "scenario": {"name": name_a, "id": scenario.name, "source": scenario.source},
        "against": {"name": name_b, "id": against.name, "source": against.source},
        "date": (today or date.today()).isoformat(), "version": version, "command": command, "settings": settings,
        "headlines": [_headline(rows, "a", name_a, year, lang), _headline(rows, "b", name_b, year, lang)],
        "how_to_read": t["how_to_read"].format(**thresholds),
        "backtest_caveat": t["backtest_caveat"] if backtest_ctx and backtest_ctx["model_loses"] else "",
        "sections": [t["s_scorecard"].format(year=year), t["s_charts"], t["s_attribution"], t["s_assumptions"],
                     t["s_backtest"], t["s_expost"]],
        "scorecard": rows, "binding_note": t["binding_note"].format(**thresholds),
        "col_target": t["col_target"].format(year=year),
        "charts": charts, "chart_caption": t["chart_caption"].format(scenario=name_a, against=name_b, year=year),
        "attribution": {**_attribution(attribution, attribution_note, lang),
                        "caption": t["attribution_caption"].format(year=year, scenario=name_a, against=name_b)},
        "levers": _lever_rows(scenario, against, year, lang),
        "lever_cols": [t["col_in_year"].format(name=name_a, year=year), t["col_in_year"].format(name=name_b, year=year)],
        "city_notes": [t["city_overrides"].format(name=label(s) or s.name, n=sum(len(d) for d in s.city_levers.values()))
                       for s in (scenario, against) if s.city_levers],
        "provenance": _provenance_rows(lang), "backtest": backtest_ctx,
        "expost": _expost(points, history_file, tidy, tidy_against, year, lang, run.get("parameters", "posterior")),
        "col_counterfactual": t["col_counterfactual"].format(against=name_b),
    }


# ---------------------------------------------------------------- HTML and PDF


def render_html(context: Mapping[str, object]) -> str:
    """The brief as one self-contained HTML page (Jinja2, autoescaped; the CSS inlined)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.outputs", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("brief.html.j2").render(**context)


def write_brief(out_dir: str | Path, html: str) -> tuple[Path, Path]:
    """Write ``brief.html`` and ``brief.pdf`` (weasyprint, A4) into ``out_dir``, each atomically.

    The PDF is rendered first, so a rendering failure leaves both files as they were.
    """
    import weasyprint

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out / "brief.html", out / "brief.pdf"
    with _quiet("weasyprint", "fontTools"):  # notes on CSS it ignores and on font subsetting
        document = weasyprint.HTML(string=html, base_url=str(out.resolve()))
        atomic_write_bytes(pdf_path, lambda tmp: document.write_pdf(tmp))
    atomic_write_text(html_path, html)
    return html_path, pdf_path
