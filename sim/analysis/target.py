"""Target-finding: the least costly lever settings under which every binding target is met.

Cost: each lever has a cost per unit of change away from its 2020 value (the base
scenario's), in an editable TOML file (``scenarios/sweeps/costs.toml``); a setting's cost
is the sum over the swept levers of ``cost per unit x |value - 2020 value|``.

Search, on the levers and ranges of a sweep file:

1. run the sweep's design (resumable, in a work folder) and estimate, per design point,
   the probability that each binding (约束性) target the model computes is met in its
   target year - the share of the sweep's seeds;
2. start from the cheapest design point at which every target's probability is at
   least ``prob``;
3. refine: lever by lever, most costly first, bisect between the lever's 2020 value and
   its current value for the cheapest value that still meets every target with at
   least ``prob`` (the other levers held), re-running the sweep's seeds at each step;
   repeat while a pass still lowers the cost (at most ``passes``).

Every probability reported is measured on the sweep's seeds (common random numbers),
so ``python -m sim run`` on the written scenario with the same seeds, scale and engine
reproduces it exactly. The search assumes each target improves as a lever moves away
from its 2020 value towards the starting point (true of the binding targets' levers);
it is a local search, so its answer is the cheapest found, not a proven optimum.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath

import numpy as np
import pandas as pd

from sim.inputs.files import read_toml
from sim.outputs.indicators import Indicator, by_id
from sim.inputs.levers import LEVERS_BY_ID
from sim.inputs.scenario import Scenario
from sim.analysis.sensitivity import binding_indicators, met_by_run
from sim.analysis.sweep import evaluate, load_design, load_results, run_sweep
from sim.analysis.sweep_spec import Factor, SweepError, SweepSpec, point_scenario
from sim.runs.pools import Backend


@dataclass(frozen=True)
class Costs:
    """Cost per unit of each lever's change from its 2020 value."""

    per_unit: Mapping[str, float]
    currency: str = "cost units"
    source: str = "<costs>"


def parse_costs(data: Mapping, source: str = "<costs>") -> Costs:
    """Validate a costs mapping: ``currency = "..."`` and ``[per_unit]`` lever = number >= 0.

    Raises:
        SweepError: naming the file, the key and what is allowed.
    """
    for key in data:
        if key not in ("currency", "description", "per_unit"):
            raise SweepError(f"{source}: {key}: unknown top-level key; allowed: currency, description, per_unit")
    currency = data.get("currency", "cost units")
    if not isinstance(currency, str):
        raise SweepError(f"{source}: currency: expected text")
    raw = data.get("per_unit", {})
    if not isinstance(raw, Mapping):
        raise SweepError(f"{source}: per_unit: expected a table [per_unit] of lever = cost per unit")
    per_unit = {}
    for lid, value in raw.items():
        if lid not in LEVERS_BY_ID:
            raise SweepError(f"{source}: per_unit.{lid}: unknown lever; allowed: {', '.join(LEVERS_BY_ID)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise SweepError(f"{source}: per_unit.{lid}: {value!r} is not allowed; allowed: a number of at least 0 "
                             f"({currency} per {LEVERS_BY_ID[lid].unit})")
        per_unit[lid] = float(value)
    return Costs(per_unit, currency, source)


def load_costs(path: str | FilePath) -> Costs:
    """Read and validate a costs TOML file."""
    return parse_costs(read_toml(path, "costs", SweepError), str(path))


def reference_value(base: Scenario, factor: Factor) -> float:
    """The zero-cost value of a lever: its 2020 value in the base scenario."""
    return base.levers[factor.id].at(2020)


def setting_costs(spec: SweepSpec, costs: Costs, settings: Mapping[str, float]) -> dict[str, float]:
    """Cost of each lever's setting."""
    return {f.id: costs.per_unit[f.id] * abs(settings[f.id] - reference_value(spec.base, f)) for f in spec.factors}


@dataclass
class TargetResult:
    """What the target search found."""

    prob: float
    feasible: bool
    settings: dict[str, float]
    cost: float
    cost_by_lever: dict[str, float]
    probabilities: dict[str, float]  # per target, at the settings
    joint: float  # all targets met together
    targets: list[str]
    scenario: Scenario
    evaluations: int
    start_point: int | None
    start_cost: float
    seeds: tuple[int, ...]
    history: list[dict] = field(default_factory=list)


def _quantise(factor: Factor, value: float, away_from: float | None = None) -> float:
    """Round a value to 1/10000 of the factor's range and 6 significant digits, so that the
    scenario file written (numbers with up to 6 significant digits) reproduces it exactly;
    with ``away_from``, round away from that value (towards more effort)."""
    if factor.integer:
        return float(round(value))
    step = (factor.high - factor.low) / 10000
    if away_from is None:
        steps = round(value / step)
    else:
        steps = math.ceil(value / step - 1e-9) if value >= away_from else math.floor(value / step + 1e-9)
    value = min(factor.high, max(factor.low, steps * step))
    return float(f"{value:.6g}")


def _probabilities(frame: pd.DataFrame, targets: Sequence[Indicator]) -> tuple[dict[str, float], float]:
    rows = frame.assign(run_id=frame["seed"], point=0)
    met = met_by_run(rows, targets)
    return {t.id: float(met[t.id].mean()) for t in targets}, float(met["all"].mean())


def _targets(only: Sequence[str] | None) -> list[Indicator]:
    binding = binding_indicators()
    if not only:
        return binding
    reg, ids = by_id(), [b.id for b in binding]
    for iid in only:
        if iid not in ids:
            why = "is not a modelled binding indicator" if iid in reg else "is not an indicator"
            raise SweepError(f"--targets {iid}: {why}; allowed: {', '.join(ids)}")
    return [reg[i] for i in only]


def search(spec: SweepSpec, costs: Costs, prob: float, work: str | FilePath, backend: Backend,
           targets: Sequence[str] | None = None, refine_steps: int = 6, passes: int = 2, progress: bool = True,
           log: Callable[[str], None] | None = None) -> TargetResult:
    """Search the sweep's lever space for the least costly settings meeting every target with >= ``prob``.

    Args:
        spec: A sweep over levers only (their ranges bound the search).
        costs: Cost per unit of each swept lever.
        prob: Required probability for each target (0-1].
        work: Folder of the sweep's runs (resumable; re-used by a later search of the same sweep).
        backend: A started Backend (serial, pool or Dask) for every run.
        targets: Binding indicator ids to meet (default: every binding indicator the model computes).
        refine_steps: Bisection steps per lever and pass.
        passes: Most refinement passes over the levers.
        progress: Progress output on stderr.
        log: Where progress lines go.
    """
    say = log or ((lambda line: print(line, file=sys.stderr, flush=True)) if progress else (lambda line: None))
    inds = _targets(targets)
    if not inds:
        raise SweepError("no binding indicator is modelled; nothing to target")
    for f in spec.factors:
        if f.kind != "lever":
            raise SweepError(f"{spec.source}: uncertainties.{f.id}: the target search varies levers only; set "
                             "uncertainties in the base scenario")
        if f.id not in costs.per_unit:
            raise SweepError(f"{costs.source}: per_unit.{f.id}: no cost for swept lever {f.id!r}; add "
                             f"{f.id} = <{costs.currency} per {LEVERS_BY_ID[f.id].unit}>")
    for ind in inds:
        if ind.target_year > spec.horizon:
            raise SweepError(f"{spec.source}: horizon: {spec.horizon} is before {ind.id}'s target year "
                             f"{ind.target_year}; allowed: {ind.target_year} or later")
        if ind.id not in spec.indicators or ind.target_year not in spec.years:
            raise SweepError(f"{spec.source}: outputs: keep {ind.id} in {ind.target_year} (indicators and years) "
                             "for the target search")

    swept = set(spec.factor_ids)
    for ind in inds:
        if ind.levers and not swept & set(ind.levers):
            say(f"note: {ind.id} is moved by {', '.join(ind.levers)}, none of them in {spec.source}; "
                "it stays at the base scenario's values")
    run_sweep(spec, work, progress=progress, backend=backend, log=say, command="python -m sim target")
    design, results = load_design(work), load_results(work)
    met = met_by_run(results, inds)
    per_point = met.groupby("point")[[t.id for t in inds] + ["all"]].mean().reindex(range(len(design)))
    feasible = (per_point[[t.id for t in inds]] >= prob - 1e-12).all(axis=1).to_numpy()
    cost = np.array([sum(setting_costs(spec, costs, design.loc[p, spec.factor_ids].to_dict()).values())
                     for p in range(len(design))])
    evaluations = len(design)
    seeds = spec.seeds

    def finish(ok: bool, settings: dict[str, float], probs: dict[str, float], joint: float, start: int | None,
               start_cost: float, history: list[dict]) -> TargetResult:
        by_lever = setting_costs(spec, costs, settings)
        scenario = point_scenario(spec.base, spec.factors, settings, name=f"least-cost-p{prob * 100:g}")
        scenario = dataclasses.replace(
            scenario, label_zh=f"最低成本方案（各约束性指标达标概率≥{prob:g}）",
            label_en=f"Least-cost settings (each binding target met with P >= {prob:g})", source="<sim target>")
        return TargetResult(prob, ok, settings, float(sum(by_lever.values())), by_lever, probs, joint,
                            [t.id for t in inds], scenario, evaluations, start, start_cost, seeds, history)

    history: list[dict] = []

    def check(candidate: dict[str, float]) -> tuple[bool, dict[str, float], float]:
        nonlocal evaluations
        scenario = point_scenario(spec.base, spec.factors, candidate)
        frame = evaluate(backend, [scenario], seeds, spec.scale, spec.horizon, spec.engine,
                         [t.id for t in inds], sorted({t.target_year for t in inds}))[0]
        evaluations += 1
        p, j = _probabilities(frame, inds)
        ok = all(v >= prob - 1e-12 for v in p.values())
        history.append({"step": "check", **candidate, "cost": sum(setting_costs(spec, costs, candidate).values()),
                        "feasible": ok})
        return ok, p, j

    if feasible.any():
        start: int | None = int(np.flatnonzero(feasible)[np.argmin(cost[feasible])])
        settings = {f.id: float(design.at[start, f.id]) for f in spec.factors}
        probs = {t.id: float(per_point.at[start, t.id]) for t in inds}
        joint = float(per_point.at[start, "all"])
        start_cost = float(cost[start])
        # Round the design point's values for the scenario file, away from 2020 (more effort: still
        # feasible), and measure the rounded settings so that the file reproduces what is reported.
        rounded = {f.id: _quantise(f, settings[f.id], away_from=reference_value(spec.base, f)) for f in spec.factors}
        if rounded != settings:
            ok, p, j = check(rounded)
            if ok:
                settings, probs, joint = rounded, p, j
        say(f"cheapest design point meeting every target: point {start}, cost {start_cost:.4g} {costs.currency}; "
            "refining lever by lever")
    else:
        # No design point is good enough: try the most effort the ranges allow - every lever at the
        # end of its range farthest from its 2020 value.
        corner = {f.id: (f.high if abs(f.high - reference_value(spec.base, f)) >= abs(f.low - reference_value(
            spec.base, f)) else f.low) for f in spec.factors}
        ok, probs, joint = check(corner)
        if not ok:
            worst = per_point[[t.id for t in inds]].min(axis=1).to_numpy()
            best = int(np.argmax(worst))
            settings = {f.id: float(design.at[best, f.id]) for f in spec.factors}
            probs = {t.id: float(per_point.at[best, t.id]) for t in inds}
            say(f"no design point, nor every lever at its range's far end, meets every target with P >= {prob:g}; "
                f"closest design point: {best}")
            return finish(False, settings, probs, float(per_point.at[best, "all"]), best, float(cost[best]),
                          history)
        start, settings = None, corner
        start_cost = float(sum(setting_costs(spec, costs, corner).values()))
        say(f"no design point meets every target with P >= {prob:g}, but every lever at its range's far end "
            f"does (cost {start_cost:.4g} {costs.currency}); refining lever by lever")
    history.append({"step": "start", "point": start, **settings, "cost": start_cost, "feasible": True})

    for _ in range(passes):
        improved = False
        order = sorted(spec.factors, key=lambda f: -setting_costs(spec, costs, settings)[f.id])
        for f in order:
            ref = _quantise(f, min(f.high, max(f.low, reference_value(spec.base, f))))
            hi = settings[f.id]
            if costs.per_unit[f.id] == 0 or abs(hi - ref) < 1e-12:
                continue
            ok, p, j = check({**settings, f.id: ref})
            if ok:
                lo = hi = ref
                best_p, best_j = p, j
            else:
                lo, best_p, best_j = ref, probs, joint
            for _ in range(refine_steps):
                mid = _quantise(f, (lo + hi) / 2)
                if mid in (lo, hi):
                    break
                ok, p, j = check({**settings, f.id: mid})
                if ok:
                    hi, best_p, best_j = mid, p, j
                else:
                    lo = mid
            if hi != settings[f.id]:
                improved = True
                settings, probs, joint = {**settings, f.id: hi}, best_p, best_j
                say(f"  {f.id}: {hi:g} (cost now {sum(setting_costs(spec, costs, settings).values()):.4g})")
        if not improved:
            break
    return finish(True, settings, probs, joint, start, start_cost, history)


def scenario_file_text(result: TargetResult, spec: SweepSpec, costs: Costs) -> str:
    """The scenario file for ``python -m sim run``, with a header saying how it was found."""
    seeds = result.seeds
    header = [
        f"# Written by python -m sim target --prob {result.prob:g} from the sweep {spec.source}",
        f"# and the costs {costs.source}. Least-cost settings found: "
        + ", ".join(f"{k} = {v:g}" for k, v in result.settings.items()),
        f"# cost {result.cost:.6g} {costs.currency}; probabilities measured on seeds {seeds[0]}..{seeds[-1]}, "
        f"scale {spec.scale:g}, engine {spec.engine}, horizon {spec.horizon}:",
        *[f"#   {k}: P(met) = {v:.3f}" for k, v in result.probabilities.items()],
        f"#   all together: {result.joint:.3f}",
        f"# Reproduce: python -m sim run --scenario THIS_FILE --seeds {len(seeds)} --first-seed {seeds[0]} "
        f"--scale {spec.scale:g} --engine {spec.engine} --horizon {spec.horizon} --out DIR",
    ]
    if not result.feasible:
        header.insert(0, f"# NOT FEASIBLE: no setting in the sweep meets every target with P >= {result.prob:g};"
                         " these are the closest design point's settings.")
    return "\n".join(header) + "\n" + result.scenario.to_toml()


def format_result(result: TargetResult, spec: SweepSpec, costs: Costs) -> str:
    """A readable report: settings, cost, each target's probability."""
    reg = by_id()
    title = (f"least-cost settings meeting every binding target with P >= {result.prob:g}"
             if result.feasible else f"NO setting in the sweep meets every binding target with P >= "
                                     f"{result.prob:g}; the closest design point:")
    lines = [title, f"{'lever':34} {'value':>10} {'2020':>8} {'cost':>10}  unit"]
    for f in spec.factors:
        lines.append(f"{f.id:34} {result.settings[f.id]:10.4g} {reference_value(spec.base, f):8.4g} "
                     f"{result.cost_by_lever[f.id]:10.4g}  {LEVERS_BY_ID[f.id].unit}")
    lines.append(f"total cost: {result.cost:.6g} {costs.currency} (from {costs.source}; the cheapest design "
                 f"point cost {result.start_cost:.6g})")
    lines.append(f"probability of meeting each target ({len(result.seeds)} seeds, scale {spec.scale:g}, "
                 f"{spec.engine} engine):")
    for iid, p in result.probabilities.items():
        ind = reg[iid]
        lines.append(f"  {iid:32} {ind.target_op}{ind.target:g} in {ind.target_year}: P = {p:.2f}")
    lines.append(f"  {'all together':32} P = {result.joint:.2f}")
    lines.append(f"{result.evaluations} settings evaluated")
    return "\n".join(lines)
