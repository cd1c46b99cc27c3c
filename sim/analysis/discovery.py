"""Scenario discovery: the ranges of the swept levers in which every binding target is met.

Each design point of a finished sweep is a case of interest when all binding (约束性)
targets that the model computes are met together, in their target year, in at least a
given share of the point's seeds. PRIM - the Patient Rule Induction Method, from the EMA
Workbench (``ema_workbench.analysis.prim``) - then peels the factor space down to a box
that holds many of those cases (coverage: the share of all cases of interest inside the
box) and few others (density: the share of the box's points that are cases of interest).
From PRIM's peeling trajectory we report the box with the highest coverage among those
whose density reaches ``min_density``, or the densest box when none does.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import binding_indicators, met_by_run
from sim.analysis.sweep_spec import SweepError, SweepSpec

BOX_COLUMNS = ["factor", "kind", "sweep_low", "sweep_high", "box_low", "box_high", "restricted"]


@dataclass
class DiscoveryResult:
    """A PRIM box and its statistics."""

    prob: float
    min_density: float
    binding: list[str]
    n_points: int
    n_of_interest: int
    box: pd.DataFrame  # BOX_COLUMNS
    coverage: float = float("nan")
    density: float = float("nan")
    mass: float = float("nan")
    restricted: int = 0
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""

    def to_dict(self) -> dict:
        return {"prob": self.prob, "min_density": self.min_density, "binding_indicators": self.binding,
                "n_points": self.n_points, "n_of_interest": self.n_of_interest, "coverage": self.coverage,
                "density": self.density, "mass": self.mass, "restricted_dimensions": self.restricted,
                "note": self.note, "method": "PRIM (ema_workbench.analysis.prim.Prim)",
                "box": self.box.to_dict(orient="records")}


def _import_prim():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError as err:  # the project depends on ema-workbench; say so plainly if it is missing
        raise SweepError(f"scenario discovery needs the EMA Workbench (pip install ema-workbench): {err}") from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def cases_of_interest(results: pd.DataFrame, n_points: int, prob: float) -> np.ndarray:
    """Per design point: whether every binding target is met together in at least ``prob`` of the seeds."""
    met = met_by_run(results)
    share = met.groupby("point")["all"].mean().reindex(range(n_points))
    if share.isna().any():
        raise SweepError(f"sweep results: {int(share.isna().sum())} of {n_points} design points have no "
                         "results; finish the sweep first (run the sweep command again)")
    return (share.to_numpy() >= prob - 1e-12)


def discover(spec: SweepSpec, design: pd.DataFrame, results: pd.DataFrame, prob: float = 0.8,
             min_density: float = 0.8, peel_alpha: float = 0.05, mass_min: float = 0.05) -> DiscoveryResult:
    """The PRIM box of design points where all binding targets are met with probability >= ``prob``."""
    binding = [ind.id for ind in binding_indicators()]
    y = cases_of_interest(results, len(design), prob)
    full = pd.DataFrame({"factor": spec.factor_ids, "kind": [f.kind for f in spec.factors],
                         "sweep_low": [f.low for f in spec.factors], "sweep_high": [f.high for f in spec.factors]})
    n_interest = int(y.sum())
    result = DiscoveryResult(prob, min_density, binding, len(design), n_interest, full.assign(
        box_low=full["sweep_low"], box_high=full["sweep_high"], restricted=False)[BOX_COLUMNS])
    if n_interest == 0:
        result.note = (f"no design point meets every binding target with probability >= {prob:g}; "
                       "widen the lever ranges or lower --prob")
        return result
    if n_interest == len(design):
        result.coverage, result.density, result.mass = 1.0, 1.0, 1.0
        result.note = "every design point meets the targets: the whole swept space is the box"
        return result
    prim = _import_prim()
    x = design[spec.factor_ids].copy()
    for f in spec.factors:
        x[f.id] = x[f.id].astype("int64" if f.integer else "float64")
    with warnings.catch_warnings():  # the Workbench's own pandas deprecations are not the analyst's business
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.copy()
    ok = traj.index[traj["density"] >= min_density - 1e-12]
    chosen = int(traj.loc[ok, "coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
    # among equal coverage, prefer the densest (the later box on the trajectory)
    if len(ok):
        best = traj.loc[ok]
        best = best[best["coverage"] == best["coverage"].max()]
        chosen = int(best["density"].idxmax())
    box.select(chosen)
    lims, init = box.box_lims[chosen], p.box_init  # PRIM's first box spans the design's values
    rows = []
    for f in spec.factors:
        low, high = float(lims.at[0, f.id]), float(lims.at[1, f.id])
        restricted = low > float(init.at[0, f.id]) or high < float(init.at[1, f.id])
        rows.append((f.id, f.kind, f.low, f.high, low, high, bool(restricted)))
    result.box = pd.DataFrame(rows, columns=BOX_COLUMNS)
    result.coverage, result.density = float(traj.at[chosen, "coverage"]), float(traj.at[chosen, "density"])
    result.mass, result.restricted = float(traj.at[chosen, "mass"]), int(traj.at[chosen, "res_dim"])
    result.trajectory = traj
    if len(ok) == 0:
        result.note = (f"no box on PRIM's peeling trajectory reaches density {min_density:g}; "
                       "the densest box is shown")
    return result


def format_discovery(res: DiscoveryResult) -> str:
    """A readable report of the box."""
    lines = [f"cases of interest: design points where all binding targets ({', '.join(res.binding)}) are met "
             f"together with probability >= {res.prob:g}: {res.n_of_interest} of {res.n_points}"]
    if res.note:
        lines.append(res.note)
    if res.n_of_interest and res.n_of_interest < res.n_points:
        lines.append(f"PRIM box: coverage {res.coverage:.2f}, density {res.density:.2f}, mass {res.mass:.2f}, "
                     f"{res.restricted} restricted dimension(s)")
    lines.append(f"{'factor':34} {'swept':>19}   {'box':>19}")
    for r in res.box.itertuples():
        mark = " *" if r.restricted else ""
        lines.append(f"{r.factor:34} {r.sweep_low:8.4g} - {r.sweep_high:<8.4g}   {r.box_low:8.4g} - "
                     f"{r.box_high:<8.4g}{mark}")
    lines.append("* restricted by the box")
    return "\n".join(lines)
