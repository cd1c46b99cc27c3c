"""Attribution: each indicator's difference B - A split among lever groups by Shapley values.

The levers fall into a few groups (:data:`GROUPS`, from each lever's ``group`` in
:mod:`sim.inputs.levers`). For a set S of groups, the *hybrid* scenario takes, for every
lever of a group in S, scenario B's path and B's city overrides of it, and A's otherwise
(:func:`hybrid`). Running every hybrid on the same seeds (common random numbers) gives, per
seed and indicator, a cooperative game v(S); a group's Shapley value is its marginal effect
v(S + group) - v(S) averaged over the orders in which the groups could be switched from A to
B. The values add up to v(all) - v(none) = B - A in every seed (efficiency), so their means
over seeds add up to the mean difference.

- Groups that A and B set identically get exactly 0 and are not simulated (the dummy axiom).
- Whatever else differs between A and B that the model reads - the parameters of any
  parameter set (``[parameters]``) - forms one more group, :data:`OTHER` ("other settings").
  Names, labels and the source file do not change a run and are ignored.
- Exact over all 2^k subsets of the k differing groups when k <= ``max_exact_groups``;
  otherwise the mean marginal effect over random orders (seeded), each evaluated on every
  seed; efficiency holds order by order, so the sum is still exact.
- Parameters: with ``parameters="posterior"`` each seed draws its uncertain parameters as
  ``run`` does (:func:`sim.inputs.posterior.for_seed`). The draw depends on the seed and on
  which parameters the scenario sets itself, never on lever values, so a seed draws the same
  parameters in every hybrid (a test checks this).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.calendar import DEFAULT_SCALE
from sim.inputs.levers import (CITIES, FIRST_YEAR, LAST_YEAR, LEVERS, LEVERS_BY_ID, UNCERTAINTIES, Path,
                               ScenarioError)
from sim.inputs.posterior import MODES, is_mode
from sim.inputs.scenario import Scenario, with_values
from sim.outputs.indicators import registry
from sim.runs.ensemble import ENGINES, run_ensemble
from sim.runs.pools import Backend, as_backend, backend_for

ATTRIBUTION_COLUMNS = ["indicator", "name_zh", "name_en", "unit", "group", "label_zh", "label_en",
                       "contribution", "se", "total", "total_se", "method"]
OTHER = "other"
# Scenario fields that do not change a run; every other field not handled by a lever group is "other".
_INERT_FIELDS = ("name", "label_zh", "label_en", "source", "_memo")
_LEVER_FIELDS = ("levers", "city_levers", "uncertainties")


class AttributionError(ScenarioError):
    """Attribution input that cannot be run (a year after the horizon, no seeds, ...)."""


@dataclass(frozen=True)
class LeverGroup:
    """A group of levers (or uncertainties) switched from A to B together.

    Attributes:
        id: Stable identifier (outputs, CSV).
        label_zh: Chinese label.
        label_en: English label.
        levers: Ids of the levers and uncertainties in the group (empty for :data:`OTHER`).
    """

    id: str
    label_zh: str
    label_en: str
    levers: tuple[str, ...]


# (id, zh, en, the levers.py groups it takes); product_spot_check_effort moves to product safety.
_GROUP_SPECS = (
    ("registration", "登记注册改革", "Registration reform", ("registration",)),
    ("dual_random", "“双随机”监管", "Double-random supervision", ("dual_random",)),
    ("credit", "信用监管", "Credit supervision", ("credit",)),
    ("quality_ip_standards", "质量、知识产权与标准化", "Quality, IP and standards", ("quality", "ip", "standards")),
    ("food_product_safety", "食品和产品安全", "Food and product safety", ("food_safety", "markets")),
    ("digital", "数字化监管", "Digital supervision", ("digital",)),
    ("economy", "经济环境", "Economy", ("economy",)),
)
_MOVED = {"product_spot_check_effort": "food_product_safety"}


def _declare_groups() -> tuple[LeverGroup, ...]:
    members: dict[str, list[str]] = {gid: [] for gid, *_ in _GROUP_SPECS}
    of_plan_group = {plan: gid for gid, _, _, plans in _GROUP_SPECS for plan in plans}
    for lever in (*LEVERS, *UNCERTAINTIES):
        gid = _MOVED.get(lever.id) or of_plan_group.get(lever.group)
        if gid is None:
            raise AssertionError(f"lever {lever.id}: its group '{lever.group}' has no attribution group")
        members[gid].append(lever.id)
    groups = [LeverGroup(gid, zh, en, tuple(members[gid])) for gid, zh, en, _ in _GROUP_SPECS]
    return (*groups, LeverGroup(OTHER, "其他设置（模型参数）", "Other settings (model parameters)", ()))


GROUPS: tuple[LeverGroup, ...] = _declare_groups()
GROUPS_BY_ID: dict[str, LeverGroup] = {g.id: g for g in GROUPS}


# --------------------------------------------------------------------------------------------
# Shapley values of a game (pure)


def shapley_values(game: Mapping[frozenset, object], players: Sequence[str]) -> dict[str, np.ndarray]:
    """Exact Shapley values of a game given on every subset of ``players``.

    Args:
        game: v(S) for every subset S (a frozenset) of ``players``; a number or an array
            (computed elementwise, e.g. one value per seed and indicator).
        players: The players.

    Returns:
        Each player's value; they add up to v(all) - v(none) (efficiency).
    """
    k = len(players)
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    out = {}
    for player in players:
        rest = [p for p in players if p != player]
        total = 0.0
        for size in range(k):
            for subset in itertools.combinations(rest, size):
                s = frozenset(subset)
                total = total + weight[size] * (np.asarray(game[s | {player}], float) - np.asarray(game[s], float))
        out[player] = np.asarray(total, float)
    return out


def permutation_orders(players: Sequence[str], permutations: int, seed: int = 0) -> list[tuple[str, ...]]:
    """``permutations`` random orders of the players (uniform, with replacement, seeded)."""
    rng = np.random.default_rng(seed)
    return [tuple(players[i] for i in rng.permutation(len(players))) for _ in range(permutations)]


def order_subsets(orders: Sequence[Sequence[str]]) -> list[frozenset]:
    """Every subset an order passes through (its prefixes, the empty and the full set included), once each."""
    seen: dict[frozenset, None] = {}
    for order in orders:
        for i in range(len(order) + 1):
            seen.setdefault(frozenset(order[:i]), None)
    return list(seen)


def permutation_marginals(game: Mapping[frozenset, object], orders: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
    """Each player's marginal effect in each order: an array with the orders on its first axis.

    In every order the marginal effects add up to v(all) - v(none).
    """
    players = list(orders[0]) if orders else []
    out: dict[str, list] = {p: [] for p in players}
    for order in orders:
        before = np.asarray(game[frozenset()], float)
        for i, player in enumerate(order):
            after = np.asarray(game[frozenset(order[:i + 1])], float)
            out[player].append(after - before)
            before = after
    return {p: np.stack(v) for p, v in out.items()}


def permutation_shapley(game: Mapping[frozenset, object] | Callable[[frozenset], object], players: Sequence[str],
                        permutations: int, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Shapley values estimated from random orders, with their standard errors.

    Args:
        game: v(S) as a mapping or a function of the subset (only the orders' prefixes are asked for).
        players: The players.
        permutations: Number of random orders.
        seed: Seed of the orders.

    Returns:
        (estimates, standard errors): the mean marginal effect over the orders (efficiency holds
        exactly) and its standard deviation over the orders / sqrt(orders).
    """
    orders = permutation_orders(players, permutations, seed)
    values = game if isinstance(game, Mapping) else {s: game(s) for s in order_subsets(orders)}
    marginals = permutation_marginals(values, orders)
    estimates = {p: m.mean(axis=0) for p, m in marginals.items()}
    errors = {p: _standard_error(m, axis=0) for p, m in marginals.items()}
    return estimates, errors


def _standard_error(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard deviation / sqrt(n) along ``axis`` (NaN for fewer than two values)."""
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis), np.nan)
    return values.std(axis=axis, ddof=1) / np.sqrt(n)


def crossed_standard_error(values: np.ndarray) -> np.ndarray:
    """Standard error of the mean of values laid out (order, seed, ...), orders and seeds crossed.

    The mean's variance is about var(seed means) / seeds + var(order means) / orders (each term
    carries a little of the residual, so this errs on the large side); with one order or one
    seed its term is left out.
    """
    orders, seeds = values.shape[:2]
    var = np.zeros(values.shape[2:])
    if seeds > 1:
        var = var + values.mean(axis=0).var(axis=0, ddof=1) / seeds
    if orders > 1:
        var = var + values.mean(axis=1).var(axis=0, ddof=1) / orders
    if seeds < 2 and orders < 2:
        return np.full(values.shape[2:], np.nan)
    return np.sqrt(var)


# --------------------------------------------------------------------------------------------
# Scenarios: which groups differ, and the hybrids


def _same_path(p: Path, q: Path) -> bool:
    return p == q or all(p.at(y) == q.at(y) for y in range(FIRST_YEAR, LAST_YEAR + 1))


def _city_path(scenario: Scenario, city: str, lever_id: str) -> Path:
    return scenario.city_levers.get(city, {}).get(lever_id, scenario.levers[lever_id])


def _parameter_changes(a: Scenario, b: Scenario) -> dict[str, float]:
    """B's value of every parameter, in any set, that differs from A's."""
    out = {}
    for name in ("entity", *b.submodel_parameters):
        pa, pb = a.parameter_set(name), b.parameter_set(name)
        out.update({f.name: getattr(pb, f.name) for f in dataclasses.fields(pb)
                    if getattr(pa, f.name) != getattr(pb, f.name)})
    return out


def _other_fields(a: Scenario, b: Scenario) -> list[str]:
    """Scenario fields outside the lever groups and the parameters that differ (none today)."""
    skip = {*_INERT_FIELDS, *_LEVER_FIELDS, "parameters", "submodel_parameters"}
    return [f.name for f in dataclasses.fields(Scenario)
            if f.name not in skip and getattr(a, f.name) != getattr(b, f.name)]


def group_differs(a: Scenario, b: Scenario, group: LeverGroup) -> bool:
    """Whether A and B set any lever of the group differently (in any year, province-wide or in
    any city), or, for :data:`OTHER`, any parameter or other field a run reads."""
    if group.id == OTHER:
        return bool(_parameter_changes(a, b) or _other_fields(a, b))
    for lid in group.levers:
        if lid in LEVERS_BY_ID:
            if not _same_path(a.levers[lid], b.levers[lid]) or any(
                    not _same_path(_city_path(a, c, lid), _city_path(b, c, lid)) for c in CITIES):
                return True
        elif not _same_path(a.uncertainties[lid], b.uncertainties[lid]):
            return True
    return False


def hybrid_subsets(players: Sequence[str], max_exact_groups: int = 6, permutations: int = 20,
                   permutation_seed: int = 0) -> tuple[list[frozenset], list[tuple[str, ...]]]:
    """The sets of groups switched to B that :func:`attribute` runs (each a hybrid scenario, on every
    seed), and the sampled orders they come from (none when exact: every subset, up to
    ``max_exact_groups`` players)."""
    if len(players) <= max_exact_groups:
        return [frozenset(c) for size in range(len(players) + 1) for c in itertools.combinations(players, size)], []
    orders = permutation_orders(players, permutations, permutation_seed)
    return order_subsets(orders), orders


def differing_groups(a: Scenario, b: Scenario) -> list[str]:
    """Ids of the groups in which B differs from A, in :data:`GROUPS` order."""
    return [g.id for g in GROUPS if group_differs(a, b, g)]


def hybrid(a: Scenario, b: Scenario, groups: Sequence[str] | frozenset) -> Scenario:
    """Scenario A with the groups ``groups`` switched to B: B's paths of their levers and
    uncertainties and B's city overrides of their levers (A's overrides of them dropped); for
    :data:`OTHER`, B's value of every parameter that differs."""
    unknown = set(groups) - set(GROUPS_BY_ID)
    if unknown:
        raise AttributionError(f"unknown lever groups {sorted(unknown)}; allowed: {', '.join(GROUPS_BY_ID)}")
    chosen = [g for g in GROUPS if g.id in set(groups)]
    values: dict[str, dict[int, float]] = {}
    city_levers = {city: dict(over) for city, over in a.city_levers.items()}
    for group in chosen:
        for lid in group.levers:
            source = b.levers if lid in LEVERS_BY_ID else b.uncertainties
            values[lid] = dict(source[lid].points)
            if lid not in LEVERS_BY_ID:
                continue
            for city in CITIES:
                if lid in b.city_levers.get(city, {}):
                    city_levers.setdefault(city, {})[lid] = b.city_levers[city][lid]
                elif city in city_levers:
                    city_levers[city].pop(lid, None)
    # with_values validates and builds the paths; it has no way to set or drop a city override
    out = with_values(a, values, source=f"hybrid of {a.source} and {b.source}")
    name = "+".join(g.id for g in chosen) or "none"
    out = dataclasses.replace(out, city_levers={c: o for c, o in city_levers.items() if o},
                              name=f"{a.name}<-{b.name}:{name}")
    if any(g.id == OTHER for g in chosen):
        out = out.with_parameters(_parameter_changes(a, b))
        out = dataclasses.replace(out, **{f: getattr(b, f) for f in _other_fields(a, b)})
    return out


# --------------------------------------------------------------------------------------------
# Running the game on the model


def _indicators() -> list:
    return [ind for ind in registry() if ind.modelled]


def _values_at(tidy: pd.DataFrame, seeds: Sequence[int], year: int, ids: Sequence[str]) -> np.ndarray:
    """(seed, indicator) values in ``year`` (NaN where a run has none)."""
    rows = tidy[tidy["year"] == year]
    table = rows.pivot_table(index="seed", columns="indicator", values="value", aggfunc="first", dropna=False)
    return table.reindex(index=list(seeds), columns=list(ids)).to_numpy(dtype=float)


def _play(a: Scenario, b: Scenario, subsets: Sequence[frozenset], seeds: Sequence[int], year: int, run: dict,
          backend: Backend, progress: Callable[[int, int], None] | None) -> dict[frozenset, np.ndarray]:
    """v(S) for every subset: (seed, indicator) values of the hybrid in ``year``."""
    ids = [ind.id for ind in _indicators()]
    total = len(subsets) * len(seeds)
    out = {}
    for i, subset in enumerate(subsets):
        def step(done: int, _: int, offset: int = i * len(seeds)) -> None:
            if progress:
                progress(offset + done, total)
        tidy = run_ensemble(hybrid(a, b, subset), seeds, backend=backend, progress=step, **run)
        out[subset] = _values_at(tidy, seeds, year, ids)
    return out


def attribute(scenario_a: Scenario, scenario_b: Scenario, seeds: Sequence[int], year: int = 2025,
              scale: float = DEFAULT_SCALE, engine: str = "vector", workers: int | None = None,
              backend: Backend | Executor | None = None, parameters: str = "posterior", max_exact_groups: int = 6,
              permutations: int = 20, progress: Callable[[int, int], None] | None = None,
              horizon: int | None = None, permutation_seed: int = 0) -> pd.DataFrame:
    """Split each modelled indicator's mean difference B - A in ``year`` among the lever groups.

    Args:
        scenario_a: The reference scenario.
        scenario_b: The scenario compared with it.
        seeds: Seeds run for every hybrid (common random numbers).
        year: Year of the difference.
        scale: Real entities per simulated entity.
        engine: Engine name.
        workers: Processes when no ``backend`` is given (default: CPU count, at most one per seed).
        backend: A backend kept by the caller; otherwise one pool is started for all the runs.
        parameters: ``posterior`` (each seed its own draw, the same in every hybrid) or ``point``.
        max_exact_groups: Exact Shapley values up to this many differing groups, sampled orders beyond.
        permutations: Number of random orders when sampling.
        progress: Called with (runs done, runs in all).
        horizon: Last year simulated (default ``year``; results up to a year do not depend on it).
        permutation_seed: Seed of the random orders.

    Returns:
        One row per modelled indicator and group (every group of :data:`GROUPS` but :data:`OTHER`,
        which has a row only when it differs): ``contribution`` (mean over seeds of the group's
        Shapley value) and its standard error ``se``; ``total`` and ``total_se``, the mean
        difference B - A and its standard error (the contributions of an indicator add up to
        ``total``); ``method``: ``exact``, ``permutations`` or ``identical`` (0, not run).
        ``frame.attrs`` holds the settings, the groups run and the number of runs.

    Raises:
        AttributionError: for a year after the horizon, no seeds or bad settings.
    """
    seeds = list(seeds)
    horizon = year if horizon is None else horizon
    _check(seeds, year, horizon, engine, parameters, max_exact_groups, permutations)
    players = differing_groups(scenario_a, scenario_b)
    subsets, orders = hybrid_subsets(players, max_exact_groups, permutations, permutation_seed)
    exact = not orders
    ids = [ind.id for ind in _indicators()]
    run = {"scale": scale, "horizon": horizon, "engine": engine, "parameters": parameters}
    if not players:
        game = {frozenset(): np.zeros((len(seeds), len(ids)))}
    elif backend is not None:
        game = _play(scenario_a, scenario_b, subsets, seeds, year, run, as_backend(backend), progress)
    else:
        with backend_for(max(1, min(workers or os.cpu_count() or 1, len(seeds)))) as own:
            game = _play(scenario_a, scenario_b, subsets, seeds, year, run, own, progress)
    difference = game[frozenset(players)] - game[frozenset()]  # (seed, indicator)
    if exact:
        per_seed = shapley_values(game, players)
        estimates = {p: v.mean(axis=0) for p, v in per_seed.items()}
        errors = {p: _standard_error(v, axis=0) for p, v in per_seed.items()}
    else:
        marginals = permutation_marginals(game, orders)  # (order, seed, indicator)
        estimates = {p: m.mean(axis=(0, 1)) for p, m in marginals.items()}
        errors = {p: crossed_standard_error(m) for p, m in marginals.items()}
    frame = _frame(players, estimates, errors, difference, "exact" if exact else "permutations")
    frame.attrs.update({"year": year, "seeds": seeds, "scale": scale, "horizon": horizon, "engine": engine,
                        "parameters": parameters, "groups_run": players,
                        "method": ("exact" if exact else "permutations") if players else "identical",
                        "permutations": None if exact else permutations,
                        "runs": len(subsets) * len(seeds) if players else 0,
                        "scenario_a": scenario_a.name, "scenario_b": scenario_b.name})
    return frame


def _check(seeds: list[int], year: int, horizon: int, engine: str, parameters: str, max_exact_groups: int,
           permutations: int) -> None:
    if not seeds:
        raise AttributionError("no seeds; give at least one")
    if year > horizon:
        raise AttributionError(f"year {year} is after the horizon {horizon}; give a year up to the horizon")
    if engine not in ENGINES:
        raise AttributionError(f"engine '{engine}' is not allowed; allowed: {', '.join(ENGINES)}")
    if not is_mode(parameters):
        raise AttributionError(f"parameters '{parameters}' is not allowed; allowed: {', '.join(MODES)} "
                               "or a posterior .parquet file")
    if max_exact_groups < 0 or permutations < 1:
        raise AttributionError("max_exact_groups must be at least 0 and permutations at least 1")


def _frame(players: list[str], estimates: dict, errors: dict, difference: np.ndarray, method: str) -> pd.DataFrame:
    total = difference.mean(axis=0)
    total_se = _standard_error(difference, axis=0)
    rows = []
    for j, ind in enumerate(_indicators()):
        for group in GROUPS:
            if group.id == OTHER and group.id not in players:
                continue
            played = group.id in players
            rows.append({
                "indicator": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit_en,
                "group": group.id, "label_zh": group.label_zh, "label_en": group.label_en,
                "contribution": float(estimates[group.id][j]) if played else 0.0,
                "se": float(errors[group.id][j]) if played else 0.0,
                "total": float(total[j]), "total_se": float(total_se[j]) if players else 0.0,
                "method": method if played else "identical",
            })
    return pd.DataFrame(rows, columns=ATTRIBUTION_COLUMNS)


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: the total difference B - A, its standard error and the sum of the
    groups' contributions (equal to the total up to rounding)."""
    grouped = frame.groupby("indicator", sort=False)
    out = grouped[["total", "total_se"]].first()
    out["sum_of_contributions"] = grouped["contribution"].sum()
    return out.reset_index()
