"""Global sensitivity of any indicator to a sweep's factors: Sobol (first-order and total,
with confidence intervals) or Morris elementary effects, both from SALib.

The output analysed per design point is a statistic of the indicator over the sweep's
seeds in one year: the mean (default), the median, or the probability of meeting the
indicator's target (``prob_met``). The pseudo-indicator ``all_binding_met`` is the share
of seeds in which every binding (约束性) target the model computes is met in its target
year - read from the registry at run time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.indicators import Indicator, by_id, registry
from sim.inputs.levers import LEVERS_BY_ID, UNCERTAINTIES_BY_ID
from sim.analysis.sweep_spec import SweepError, SweepSpec

STATISTICS = ("mean", "median", "prob_met")
ALL_BINDING = "all_binding_met"
SOBOL_COLUMNS = ["factor", "label", "S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["factor", "label", "mu", "mu_star", "mu_star_conf", "sigma"]


def binding_indicators() -> list[Indicator]:
    """Binding plan indicators with a target that the model computes now (from the registry)."""
    return [ind for ind in registry() if ind.attribute == "binding" and ind.modelled and ind.target is not None]


def check_keeps_binding(spec: SweepSpec) -> None:
    """Raise SweepError (naming the sweep file's [outputs]) unless it keeps every binding target's value."""
    for ind in binding_indicators():
        if ind.id not in spec.indicators or ind.target_year not in spec.years:
            raise SweepError(f"{spec.source}: outputs: keep binding indicator {ind.id} in {ind.target_year} "
                             "(outputs.indicators and outputs.years; the default keeps every indicator and year)")


def met_by_run(results: pd.DataFrame, indicators: Sequence[Indicator] | None = None) -> pd.DataFrame:
    """Per run (index run_id, with point and seed): whether each indicator's target is met in its
    target year, and ``all`` of them.

    Raises:
        SweepError: if the results lack an indicator's target year.
    """
    indicators = list(indicators if indicators is not None else binding_indicators())
    runs = results[["run_id", "point", "seed"]].drop_duplicates().set_index("run_id").sort_index()
    out = runs.copy()
    for ind in indicators:
        rows = results[(results["indicator"] == ind.id) & (results["year"] == ind.target_year)]
        if rows.empty:
            raise SweepError(f"sweep results: no values of binding indicator {ind.id!r} in {ind.target_year}; "
                             f"keep it in the sweep file's [outputs] (indicators and years)")
        values = rows.set_index("run_id")["value"].reindex(out.index)
        out[ind.id] = [bool(ind.met(v)) if v == v else False for v in values]
    out["all"] = out[[ind.id for ind in indicators]].all(axis=1) if indicators else True
    return out


def point_statistic(results: pd.DataFrame, n_points: int, indicator: str, year: int = 2025,
                    statistic: str = "mean") -> np.ndarray:
    """One number per design point (in point order): the statistic of the indicator over seeds.

    Raises:
        SweepError: unknown indicator or statistic, or a point without results.
    """
    if indicator == ALL_BINDING:
        met = met_by_run(results)
        y = met.groupby("point")["all"].mean()
    else:
        reg = by_id()
        if indicator not in reg or not reg[indicator].modelled:
            kept = sorted(results["indicator"].unique())
            raise SweepError(f"--indicator {indicator}: not in the sweep's results; allowed: "
                             f"{', '.join(kept + [ALL_BINDING])}")
        rows = results[(results["indicator"] == indicator) & (results["year"] == year)]
        if rows.empty:
            years = sorted(results.loc[results["indicator"] == indicator, "year"].unique())
            raise SweepError(f"--year {year}: the sweep kept {indicator} only in years "
                             f"{', '.join(map(str, years)) or 'none'}; allowed: one of those")
        if statistic == "mean":
            y = rows.groupby("point")["value"].mean()
        elif statistic == "median":
            y = rows.groupby("point")["value"].median()
        elif statistic == "prob_met":
            ind = reg[indicator]
            if ind.target is None:
                raise SweepError(f"--statistic prob_met: {indicator} has no target; use mean or median")
            y = rows.assign(met=rows["value"].map(ind.met)).groupby("point")["met"].mean()
        else:
            raise SweepError(f"--statistic {statistic}: allowed: {', '.join(STATISTICS)}")
    y = y.reindex(range(n_points))
    if y.isna().any():
        missing = int(y.isna().sum())
        raise SweepError(f"sweep results: {missing} of {n_points} design points have no results; "
                         "finish the sweep first (run the sweep command again)")
    return y.to_numpy(dtype=float)


def _label(fid: str) -> str:
    spec = LEVERS_BY_ID.get(fid) or UNCERTAINTIES_BY_ID.get(fid)
    return spec.label_en if spec else fid


def sobol_indices(problem: dict, y: np.ndarray, second_order: bool = False, conf_level: float = 0.95,
                  num_resamples: int = 200, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with confidence half-widths (SALib's Saltelli/Jansen estimators).

    ``y`` must be in the order of SALib's Sobol sample for ``problem``.
    """
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise SweepError("sensitivity: the output has missing or infinite values")
    if np.var(y) == 0:
        raise SweepError("sensitivity: the output does not vary across the design (every point gives "
                         f"{y[0]:g}); nothing to apportion - choose another indicator or wider ranges")
    with warnings.catch_warnings():  # "constant values encountered" in some resamples: expected for switches
        warnings.simplefilter("ignore", UserWarning)
        res = sobol.analyze(problem, y, calc_second_order=second_order, num_resamples=num_resamples,
                            conf_level=conf_level, print_to_console=False, seed=seed)
    return pd.DataFrame({"factor": problem["names"], "label": [_label(n) for n in problem["names"]],
                         "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]},
                        columns=SOBOL_COLUMNS)


def morris_indices(problem: dict, x: np.ndarray, y: np.ndarray, levels: int = 4, conf_level: float = 0.95,
                   num_resamples: int = 200, seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects: mean (mu), mean of absolute effects (mu_star) with its confidence
    half-width, and standard deviation (sigma)."""
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    res = morris.analyze(problem, np.asarray(x, dtype=float), y, num_resamples=num_resamples,
                         conf_level=conf_level, print_to_console=False, num_levels=levels, seed=seed)
    return pd.DataFrame({"factor": problem["names"], "label": [_label(n) for n in problem["names"]],
                         "mu": res["mu"], "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "sigma": res["sigma"]}, columns=MORRIS_COLUMNS)


def analyse(spec: SweepSpec, design: pd.DataFrame, results: pd.DataFrame, indicator: str, year: int = 2025,
            statistic: str = "mean", conf_level: float = 0.95, seed: int = 0) -> tuple[str, pd.DataFrame]:
    """Sobol or Morris indices (by the sweep's design) of an indicator's per-point statistic.

    Returns:
        ("sobol" | "morris", the table).

    Raises:
        SweepError: a design other than sobol or morris, or unusable results.
    """
    if spec.design not in ("sobol", "morris"):
        raise SweepError(f"{spec.source}: design: sensitivity needs design = \"sobol\" or \"morris\"; "
                         f"this sweep has {spec.design!r}")
    y = point_statistic(results, len(design), indicator, year, statistic)
    problem = spec.problem()
    if spec.design == "sobol":
        return "sobol", sobol_indices(problem, y, spec.second_order, conf_level, seed=seed)
    x = design[spec.factor_ids].to_numpy(dtype=float)
    return "morris", morris_indices(problem, x, y, spec.levels, conf_level, seed=seed)


def format_indices(kind: str, table: pd.DataFrame) -> str:
    """A readable table of the indices, largest effect first."""
    if kind == "sobol":
        rows = table.sort_values("ST", ascending=False)
        head = f"{'factor':34} {'S1':>7} {'±':>6} {'ST':>7} {'±':>6}"
        lines = [f"{r.factor:34} {r.S1:7.3f} {r.S1_conf:6.3f} {r.ST:7.3f} {r.ST_conf:6.3f}"
                 for r in rows.itertuples()]
    else:
        rows = table.sort_values("mu_star", ascending=False)
        head = f"{'factor':34} {'mu*':>10} {'±':>9} {'mu':>10} {'sigma':>10}"
        lines = [f"{r.factor:34} {r.mu_star:10.4g} {r.mu_star_conf:9.3g} {r.mu:10.4g} {r.sigma:10.4g}"
                 for r in rows.itertuples()]
    return "\n".join([head, *lines])


def plot_indices(kind: str, table: pd.DataFrame, title: str, path: str | Path) -> None:
    """A bar chart of the indices with their confidence intervals, saved as PNG."""
    from matplotlib.figure import Figure

    n = len(table)
    fig = Figure(figsize=(10, 2.2 + 0.5 * n), dpi=120, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    pos = np.arange(n)
    labels = [f"{r.label}\n({r.factor})" for r in table.itertuples()]
    if kind == "sobol":
        h = 0.38
        ax.barh(pos - h / 2, table["S1"], h, xerr=table["S1_conf"], label="first order (S1)", color="#4C78A8",
                capsize=3, error_kw={"elinewidth": 1})
        ax.barh(pos + h / 2, table["ST"], h, xerr=table["ST_conf"], label="total (ST)", color="#F58518", capsize=3,
                error_kw={"elinewidth": 1})
        ax.set_xlabel("Sobol index: share of the output's variance (bars: 95% confidence interval)")
        ax.set_xlim(max(-0.5, min(-0.05, float((table[["S1", "ST"]].to_numpy()
                                                 - table[["S1_conf", "ST_conf"]].to_numpy()).min()))),
                    min(1.5, max(1.05, float((table[["S1", "ST"]].to_numpy()
                                               + table[["S1_conf", "ST_conf"]].to_numpy()).max()))))
    else:
        ax.barh(pos, table["mu_star"], 0.6, xerr=table["mu_star_conf"], color="#4C78A8", capsize=3,
                label="mu* (mean |elementary effect|)")
        ax.plot(table["sigma"], pos, "o", color="#E45756", label="sigma (interactions, non-linearity)")
        ax.set_xlabel("Morris elementary effects, in the indicator's unit per factor range (bars: 95% CI)")
    fig.legend(loc="outside lower center", ncol=2, frameon=False)
    ax.set_yticks(pos, labels)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.savefig(path, format="png")
