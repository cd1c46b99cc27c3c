"""The posterior's report: marginals against priors, pair plots and posterior predictive checks.

A posterior predictive check runs the history once per posterior draw (draw ``i`` on seed ``i``,
as a projection would) and asks whether each observed point lies in the 5-95% range of the runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.abc import AbcResult
from sim.calibration.fit import apply_by_set, history_patterns, history_policies, simulate
from sim.inputs.parameters import Parameters
from sim.inputs.posterior import WEIGHT, Posterior
from sim.inputs.scenario import Scenario


def predictive_checks(history: pd.DataFrame, posterior: Posterior, through: int, draws: int = 40,
                      scale: float = 2000.0, after_2020: Scenario | None = None) -> pd.DataFrame:
    """Per pattern: observed, and the 5%, median and 95% of the history runs over posterior draws
    (after 2020 under ``after_2020``'s policies, :func:`sim.calibration.fit.history_policies`)."""
    start, used, _ = history_patterns(history, through)
    policies = history_policies(after_2020)
    values = []
    for seed in range(draws):
        entity, submodels = apply_by_set(Parameters(), posterior.draw(seed))
        (run,) = simulate(entity, start, through, [seed], scale, policies, submodels)
        values.append([pat.model_value(run) for pat in used])
    values = np.array(values)
    table = pd.DataFrame({"pattern": [p.series for p in used], "period": [p.period for p in used],
                          "target": [p.target for p in used], "tolerance_pct": [100.0 * p.tolerance for p in used],
                          "source": [p.source for p in used]})
    table["p05"], table["median"], table["p95"] = (np.quantile(values, q, axis=0) for q in (0.05, 0.5, 0.95))
    table["covered"] = (table["target"] >= table["p05"]) & (table["target"] <= table["p95"])
    return table


def marginals(result: AbcResult) -> pd.DataFrame:
    """Per parameter: prior range, and the posterior's weighted 5%, median and 95%."""
    weights = result.particles[WEIGHT].to_numpy()
    rows = []
    for name, (low, high) in result.priors.items():
        values = result.particles[name].to_numpy()
        order = np.argsort(values)
        cumulative = np.cumsum(weights[order]) / weights.sum()
        q = [float(values[order][min(np.searchsorted(cumulative, p), len(values) - 1)]) for p in (0.05, 0.5, 0.95)]
        rows.append({"parameter": name, "prior_low": low, "prior_high": high, "p05": q[0], "median": q[1],
                     "p95": q[2], "narrowing": (q[2] - q[0]) / (0.9 * (high - low))})
    return pd.DataFrame(rows)


def report(result: AbcResult, checks: pd.DataFrame, history_name: str, settings_text: str, draws: int) -> str:
    """The posterior report as Markdown."""
    table = marginals(result)
    lines = [f"# Posterior (history through {result.through})", "",
             f"Written by `python -m sim calibrate --history {history_name} --through {result.through}`: ABC-SMC "
             f"(pyabc) with {settings_text}; {len(result.epsilons)} generations, {result.simulations} simulations, "
             f"{result.minutes:.1f} minutes; effective sample size {result.effective_sample_size:.0f} of "
             f"{len(result.particles)} particles. Tolerance by generation: "
             + ", ".join(f"{e:.3g}" for e in result.epsilons) + ".", "",
             "Every uncertain parameter starts from a uniform prior over the range its source gives "
             "(`python -m sim params`, docs/ODD.md). `narrowing` is the posterior's 5-95% width over 90% of the "
             "prior's: near 1 means the history says little about the parameter, and the runs carry its prior.",
             "", "| parameter | prior | posterior 5% | median | 95% | narrowing |", "| --- | --- | --- | --- | --- | --- |"]
    for r in table.itertuples(index=False):
        lines.append(f"| `{r.parameter}` | {r.prior_low:g} - {r.prior_high:g} | {r.p05:.4g} | {r.median:.4g} | "
                     f"{r.p95:.4g} | {r.narrowing:.2f} |")
    covered = int(checks["covered"].sum())
    lines += ["", "## Posterior predictive checks", "",
              f"The history re-run on {draws} posterior draws (draw i on seed i). {covered} of "
              f"{len(checks)} observed points lie in the runs' 5-95% range.", "",
              "| pattern | period | observed | 5% | median | 95% | covered |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in checks.itertuples(index=False):
        lines.append(f"| {r.pattern} | {r.period} | {r.target:.4g} | {r.p05:.4g} | {r.median:.4g} | {r.p95:.4g} | "
                     f"{'yes' if r.covered else 'no'} |")
    lines += ["", "Plots: `posterior_marginals.png` (each marginal over its prior), `posterior_pairs.png` (pairs of the "
              "parameters the history narrows most), `posterior_checks.png` (the checks above)."]
    return "\n".join(lines) + "\n"


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)


def plot(result: AbcResult, checks: pd.DataFrame, folder: Path, pairs: int = 5) -> list[Path]:
    """Marginals, pair plot and predictive checks as PNG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = result.particles[WEIGHT].to_numpy()
    names = list(result.priors)
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(names) / cols), cols, figsize=(3.4 * cols, 2.4 * math.ceil(len(names) / cols)),
                             squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        low, high = result.priors[name]
        ax.hist(result.particles[name], bins=20, range=(low, high), weights=weights, density=True, color="tab:blue")
        ax.axhline(1.0 / (high - low), color="black", linestyle="--", linewidth=1, label="prior")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    out = [folder / "posterior_marginals.png"]
    _save(fig, out[0])

    narrow = marginals(result).sort_values("narrowing")["parameter"].tolist()[:pairs]
    fig, axes = plt.subplots(len(narrow), len(narrow), figsize=(2.2 * len(narrow), 2.2 * len(narrow)), squeeze=False)
    for i, a in enumerate(narrow):
        for j, b in enumerate(narrow):
            ax = axes[i, j]
            if i == j:
                ax.hist(result.particles[a], bins=15, weights=weights, color="tab:blue")
            else:
                ax.scatter(result.particles[b], result.particles[a], s=4 + 400 * weights, alpha=0.5)
            ax.tick_params(labelsize=6)
            if i == len(narrow) - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0:
                ax.set_ylabel(a, fontsize=7)
    out.append(folder / "posterior_pairs.png")
    _save(fig, out[1])

    series: Sequence[str] = list(dict.fromkeys(checks["pattern"]))
    fig, axes = plt.subplots(math.ceil(len(series) / cols), cols,
                             figsize=(3.4 * cols, 2.4 * math.ceil(len(series) / cols)), squeeze=False)
    for ax, name in zip(axes.ravel(), series):
        part = checks[checks["pattern"] == name]
        x = np.arange(len(part))
        ax.vlines(x, part["p05"], part["p95"], color="tab:blue", linewidth=4, alpha=0.5, label="5-95% of draws")
        ax.plot(x, part["median"], "s", color="tab:blue")
        ax.plot(x, part["target"], "o", color="black", label="observed")
        ax.set_xticks(x, part["period"], fontsize=6)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(series):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    out.append(folder / "posterior_checks.png")
    _save(fig, out[2])
    return out
