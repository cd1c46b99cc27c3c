"""Rolling-origin backtests: the model against naive forecasters on held-out year ends.

For each origin year (the first year-end after the calibration's start, to the year before the
history's last), the model is fitted on the history up to the origin only
(:func:`sim.calibration.fit.fit` with ``through`` the origin: no figure after it is read) and run
from the start to the last year under the history's policies; three naive forecasters from
statsmodels see the same series up to the origin. Both are scored on every held-out year end:
the absolute percentage error by horizon (years ahead of the origin), and whether the model's
90% band (5-95% over seeds) covers the actual figure. ``python -m sim backtest`` writes the
table, a report and a plot.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.abc import AbcSettings, abc_fit
from sim.calibration.fit import apply_by_set, fit, simulate, start_2016
from sim.calibration.history import HistoryError, MODEL_SERIES
from sim.calibration.patterns import SERIES
from sim.inputs.parameters import Parameters

NAIVE = {
    "random_walk_drift": "random walk with drift (statsmodels ARIMA(0,1,0) with a drift term)",
    "holt_damped": "Holt's damped trend (statsmodels ExponentialSmoothing, additive damped trend)",
    "linear_trend": "linear trend (statsmodels OLS on the year)",
}
MODEL = "model"
STOCK_SERIES = tuple(s for s, kind in MODEL_SERIES.items() if kind == "stock")


class BacktestError(ValueError):
    """The backtest cannot run as asked; the message says what is allowed."""


def output_path(text: str) -> Path:
    """The report's path, checked before any work: a Markdown file in a folder that exists (or can be
    made) and can be written."""
    path = Path(text)
    if path.suffix != ".md" or path.is_dir():
        raise BacktestError(f"backtest: --out {text} must name a Markdown file (e.g. calibration/backtest.md)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BacktestError(f"backtest: cannot make the folder {path.parent}: {err.strerror}") from None
    if not os.access(path.parent, os.W_OK):
        raise BacktestError(f"backtest: the folder {path.parent} is not writable")
    return path


@dataclass(frozen=True)
class Settings:
    """How the model is fitted and run at each origin."""

    seeds: int = 20  # runs of each projection (the band: 5-95% over them)
    fit_seeds: int = 2  # seeds of each fit evaluation
    scale: float = 2000.0
    max_evaluations: int = 160  # the point fit's optimiser budget (method "point")
    method: str = "abc"  # "abc": a posterior at each origin, one draw per seed; "point": Nelder-Mead
    population: int = 150  # ABC particles per generation
    generations: int = 5  # ABC generations
    workers: int = 2  # ABC sampling processes


def year_ends(history: pd.DataFrame, series: str) -> pd.Series:
    """A stock series' year-end figures by year (the first of any duplicates)."""
    if series not in STOCK_SERIES:
        raise HistoryError(f"backtest: '{series}' is not a stock series the model produces; "
                           f"allowed: {', '.join(STOCK_SERIES)}")
    rows = history[(history.series == series) & (history.month == 12) & ~history.subannual]
    out = rows.groupby("year")["value"].first().sort_index()
    out.index = out.index.astype(int)
    return out


def naive_forecast(method: str, values: Sequence[float], ahead: int) -> np.ndarray:
    """``method``'s forecasts 1..``ahead`` steps after the last of ``values`` (yearly, in order).

    NaN where the method cannot be fitted to so few points: Holt's damped trend needs three,
    the others two (with two points statsmodels' ARIMA cannot estimate the drift, which is then
    the one difference, its closed form).
    """
    y = np.asarray(values, dtype=float)
    steps = np.arange(1, ahead + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns about short series and convergence
        if method == "random_walk_drift":
            if y.size < 2:
                return np.full(ahead, np.nan)
            if y.size == 2:
                return y[-1] + steps * (y[1] - y[0])
            from statsmodels.tsa.arima.model import ARIMA

            return np.asarray(ARIMA(y, order=(0, 1, 0), trend="t").fit().forecast(ahead))
        if method == "holt_damped":
            if y.size < 3:
                return np.full(ahead, np.nan)
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            model = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated")
            return np.asarray(model.fit().forecast(ahead))
        if method == "linear_trend":
            if y.size < 2:
                return np.full(ahead, np.nan)
            import statsmodels.api as sm

            t = np.arange(y.size, dtype=float)
            result = sm.OLS(y, sm.add_constant(t)).fit()
            return np.asarray(result.predict(sm.add_constant(np.r_[t, y.size - 1 + steps])[y.size:]))
    raise ValueError(f"unknown naive forecaster '{method}'; allowed: {', '.join(NAIVE)}")


def model_projection(history: pd.DataFrame, origin: int, last: int, settings: Settings,
                     progress: Callable[[int, float], None] | None = None) -> tuple[dict, list]:
    """Fit on the history up to ``origin``, then run the model to ``last``: the fitted values and the
    runs' yearly records (one per seed). With ``abc`` each seed runs its own draw from the origin's
    posterior (as projections do), so the band carries parameter uncertainty; with ``point`` every
    seed runs the Nelder-Mead fit and the band is the simulation's noise alone."""
    start = start_2016(history)
    if settings.method == "point":
        result = fit(history, through=origin, seeds=range(settings.fit_seeds), scale=settings.scale,
                     max_evaluations=settings.max_evaluations, progress=progress)
        entity, submodels = apply_by_set(Parameters(), result.values)
        return result.values, simulate(entity, start, last, range(settings.seeds), settings.scale,
                                       submodel_values=submodels)
    abc = abc_fit(history, origin, AbcSettings(population=settings.population, generations=settings.generations,
                                               seeds=settings.fit_seeds, scale=settings.scale,
                                               workers=settings.workers))
    posterior = abc.posterior()
    runs = []
    for seed in range(settings.seeds):
        entity, submodels = apply_by_set(Parameters(), posterior.draw(seed))
        runs += simulate(entity, start, last, [seed], settings.scale, submodel_values=submodels)
    return abc.point(), runs


def backtest(history: pd.DataFrame, series: Sequence[str] = ("market_entities_total",),
             settings: Settings = Settings(), origins: Sequence[int] | None = None,
             progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Score the model and the naive forecasters at every origin on every held-out year end.

    Returns one row per series, origin, year and method: the forecast, the actual, the horizon,
    the absolute percentage error, and for the model its 5% and 95% quantiles over seeds and
    whether they cover the actual.
    """
    first = start_2016(history).year + 1
    ends = {s: year_ends(history, s) for s in series}
    last = max(int(e.index.max()) for e in ends.values())
    origins = list(origins) if origins is not None else list(range(first, last))
    if not origins:
        raise HistoryError(f"backtest: the history has no year to hold out after {first}")
    rows = []
    for origin in origins:
        if progress:
            progress(f"origin {origin}: fitting on the history up to {origin} ...")
        _, runs = model_projection(history, origin, last, settings)
        for name, actual in ends.items():
            known = actual[actual.index <= origin]
            ahead = last - origin
            naive = {m: naive_forecast(m, known.to_numpy(), ahead) for m in NAIVE}
            read = SERIES[name][1]
            for year in range(origin + 1, last + 1):
                if year not in actual.index:
                    continue
                truth, h = float(actual[year]), year - origin
                values = np.array([read(r, year) for r in runs])
                low, high = np.quantile(values, [0.05, 0.95])
                forecasts = {MODEL: float(np.median(values)), **{m: float(f[h - 1]) for m, f in naive.items()}}
                for method, value in forecasts.items():
                    rows.append({
                        "series": name, "origin": origin, "year": year, "horizon": h, "method": method,
                        "forecast": value, "actual": truth, "ape_pct": 100.0 * abs(value - truth) / abs(truth),
                        "p05": float(low) if method == MODEL else np.nan,
                        "p95": float(high) if method == MODEL else np.nan,
                        "covered": bool(low <= truth <= high) if method == MODEL else None,
                    })
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute percentage error by series, method and horizon (over origins), with the count
    of held-out points; NaN forecasts (a method that could not be fitted) are left out."""
    scored = table.dropna(subset=["forecast"])
    out = scored.groupby(["series", "horizon", "method"])["ape_pct"].agg(["mean", "count"]).reset_index()
    return out.rename(columns={"mean": "mape_pct", "count": "points"})


def against_best_naive(part: pd.DataFrame) -> tuple[float, str, float, int] | None:
    """For one series and horizon: the model's mean absolute % error, the best naive forecaster, its
    error and the points compared - each forecaster compared with the model on the origins where it
    has a forecast. None if no naive forecaster has one."""
    model = part[part.method == MODEL].set_index("origin")["ape_pct"]
    scores = {}
    for method in NAIVE:
        naive = part[(part.method == method) & part.forecast.notna()].set_index("origin")["ape_pct"]
        if not naive.empty:
            scores[method] = (float(model[naive.index].mean()), float(naive.mean()), naive.size)
    if not scores:
        return None
    best = min(scores, key=lambda m: scores[m][1])
    return scores[best][0], best, scores[best][1], scores[best][2]


def verdicts(table: pd.DataFrame) -> list[str]:
    """One sentence per series and horizon: the model's error against the best naive forecaster's."""
    lines = []
    for (name, h), part in table.groupby(["series", "horizon"]):
        found = against_best_naive(part)
        if found is None:
            continue
        model_mape, best, naive_mape, points = found
        word = "beats" if model_mape < naive_mape else ("ties" if math.isclose(model_mape, naive_mape) else "loses to")
        lines.append(f"{name}, {h} year{'s' if h > 1 else ''} ahead: the model ({model_mape:.1f}%) {word} the best "
                     f"naive forecaster, {best} ({naive_mape:.1f}%), mean absolute % error over {points} origin"
                     f"{'s' if points > 1 else ''}")
    return lines


def report(table: pd.DataFrame, settings: Settings, history_name: str,
           submodels: pd.DataFrame | None = None) -> str:
    """The backtest as Markdown: settings, verdicts, errors by horizon, band coverage, every point, and
    the submodel series' backtest (:func:`sim.calibration.adoption.backtest_rows`) when given."""
    model = table[table.method == MODEL]
    coverage = model["covered"].astype(bool)
    if settings.method == "point":
        how = (f"fitted on the history up to that year only (Nelder-Mead, {settings.max_evaluations} evaluations "
               f"of {settings.fit_seeds} seeds at scale {settings.scale:g}), then every seed runs that point fit")
        band = "The band is the simulation's own noise over seeds, with no parameter uncertainty, so it is " \
               "expected to be too narrow."
    else:
        how = (f"calibrated on the history up to that year only (ABC-SMC posterior: {settings.population} "
               f"particles, up to {settings.generations} generations, {settings.fit_seeds} seeds per simulation at "
               f"scale {settings.scale:g}), then each seed runs its own draw from that posterior")
        band = "The band carries the posterior's parameter uncertainty and the simulation's noise."
    lines = [
        "# Rolling-origin backtest",
        "",
        f"Written by `python -m sim backtest --history {history_name}`. At each origin the model is "
        f"{how}, from the end of 2016 under "
        f"`calibration/history_policies.toml` over {settings.seeds} seeds; its forecast is the median and "
        "its band the 5-95% quantiles over seeds. The naive forecasters see the same series up to the origin. "
        "Some year ends of the history are derived (a later total less a published increase, or divided by "
        "a published growth rate: see the history file's sources), and the origins are few (2017-2019), so "
        "each error rests on one to three points.",
        "",
        "",
        *[f"- `{m}`: {text}" for m, text in NAIVE.items()],
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in verdicts(table)],
        f"- the model's 90% band covers {int(coverage.sum())} of {len(coverage)} held-out points "
        f"({100.0 * coverage.mean():.0f}%; the aim is 80-100%). {band}",
        "",
        "## Mean absolute percentage error by horizon",
        "",
        *markdown_table(summary(table)),
        "",
        "## Every held-out point",
        "",
        *markdown_table(table),
        "",
    ]
    if submodels is not None and not submodels.empty:
        from sim.calibration.adoption import backtest_lines

        lines += backtest_lines(submodels)
    return "\n".join(lines)


def write(table: pd.DataFrame, history: pd.DataFrame, settings: Settings, history_name: str, out: Path) -> list[Path]:
    """Write the report (``out``, Markdown), the plot and every scored point (PNG and CSV beside it),
    each atomically; returns the paths."""
    from sim.inputs.files import atomic_write_text

    from sim.calibration.adoption import backtest_rows

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out, out.with_suffix(".png"), out.with_suffix(".csv"), out.with_name(out.stem + "_submodels.csv")]
    submodels = backtest_rows(history)
    atomic_write_text(paths[0], report(table, settings, history_name, submodels))
    plot(table, history, paths[1])
    atomic_write_text(paths[2], table.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(paths[3], submodels.to_csv(index=False, float_format="%.10g"))
    return paths


def notes(lang: str = "en", path: Path | None = None) -> list[str]:
    """Lines for indicator 1 beside a projection (``run --format table``): the committed backtest's
    error on the register one year ahead against the best naive forecaster's; none without one."""
    from sim.calibration.history import CALIBRATION_DIR

    path = path or CALIBRATION_DIR / "backtest.csv"
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    found = against_best_naive(table[(table.series == "market_entities_total") & (table.horizon == 1)])
    if found is None:
        return []
    model, best, naive = f"{found[0]:.1f}%", found[1], f"{found[2]:.1f}%"
    if lang == "zh":
        return [f"回测（指标1，在册市场主体）：模型提前一年的平均绝对误差 {model}，最佳朴素预测（{best}）{naive}；"
                "模型未胜过朴素预测时须谨慎解读（见 calibration/backtest.md）"]
    return [f"Backtest (indicator 1, registered entities): the model's mean absolute error one year ahead {model}, "
            f"the best naive forecaster's ({best}) {naive}; read the projection with that in mind "
            "(calibration/backtest.md)"]


def markdown_table(frame: pd.DataFrame) -> list[str]:
    """A data frame as Markdown table lines (numbers to two decimals, missing values as a dash)."""
    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "|".join(" --- " for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return lines


def plot(table: pd.DataFrame, history: pd.DataFrame, path: Path) -> None:
    """Actual year ends, and each origin's model band and median and naive forecasts, one panel per
    series, as PNG (written to a temporary file, then renamed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(table["series"]))
    fig, axes = plt.subplots(1, len(names), figsize=(6.5 * len(names), 4.2), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {"random_walk_drift": ":", "holt_damped": "-.", "linear_trend": "--"}
    for ax, name in zip(axes.ravel(), names):
        actual = year_ends(history, name)
        ax.plot(actual.index, actual.to_numpy(), "o-", color="black", label="actual")
        part = table[table.series == name]
        for k, (origin, rows) in enumerate(part.groupby("origin")):
            colour = colours[k % len(colours)]
            start = float(actual.get(origin, np.nan))
            model = rows[rows.method == MODEL].sort_values("year")
            years = np.r_[origin, model["year"].to_numpy()]
            ax.fill_between(years, np.r_[start, model["p05"]], np.r_[start, model["p95"]], color=colour, alpha=0.2)
            ax.plot(years, np.r_[start, model["forecast"]], "s-", color=colour, label=f"model from {origin}")
            for method, style in styles.items():
                naive = rows[rows.method == method].sort_values("year")
                ax.plot(np.r_[origin, naive["year"]], np.r_[start, naive["forecast"]], style, color=colour,
                        alpha=0.8, label=method if k == 0 else None)
        ax.set_xticks(list(actual.index))
        ax.set_title(f"{name}: held-out year ends", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
