"""The vectorised engine against the Mesa reference: same rules, same draws, same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_model, scenario_with
from sim.outputs.indicators import indicator_values
from sim.engines.model import MarketModel
from sim.inputs.scenario import load_scenario
from sim.engines import kernels
from sim.core import rules
from sim.engines import vector as vector_module
from sim.engines.vector import VectorMarketModel

KEY_OUTPUTS = ("registered", "registered_company", "registered_other", "registered_individual", "entries",
               "deregistrations", "dormant", "compliance_rate", "inspections", "inspections_on_compliant",
               "dual_random_share", "credit_application_share", "conversions", "abnormal_listed")


def _records(engine: str, scenario, seed: int, scale: float = 20000.0, horizon: int = 2025):
    return run_model(scenario, seed=seed, scale=scale, horizon=horizon, engine=engine).annual_records()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engines_agree_entity_for_entity_on_the_plan(seed):
    plan = load_scenario("scenarios/plan.toml")
    mesa, vector = _records("mesa", plan, seed), _records("vector", plan, seed)
    assert mesa.keys() == vector.keys()
    for year in mesa:
        for field, value in mesa[year].items():
            assert vector[year][field] == pytest.approx(value, rel=1e-9, abs=1e-6), (year, field)


def test_engines_agree_under_city_overrides_and_reforms():
    scenario = scenario_with("Wenzhou.inspection_capacity=30", "compulsory_deregistration=1",
                             "simplified_deregistration=0.9", "individual_to_company_rate=3", "fine_level=2")
    mesa, vector = _records("mesa", scenario, 5, horizon=2023), _records("vector", scenario, 5, horizon=2023)
    for year in mesa:
        for field, value in mesa[year].items():
            assert vector[year][field] == pytest.approx(value, rel=1e-9, abs=1e-6), (year, field)


def test_registered_rows_are_the_rows_not_deregistered_in_order():
    rng = np.random.default_rng(3)
    for n, share in ((0, 0.5), (1, 1.0), (1000, 0.0), (100_000, 0.1), (100_000, 1.0)):
        status = np.where(rng.random(n) < share, rules.DEREGISTERED, rng.integers(0, rules.DEREGISTERED, n))
        out = np.full(n, -1, np.int64)
        m = kernels.registered_rows(status, out)
        assert np.array_equal(out[:m], np.flatnonzero(status != rules.DEREGISTERED))


def test_vector_storage_grows_and_compacts_without_losing_entities():
    model = VectorMarketModel(load_scenario("scenarios/plan.toml"), scale=20000.0, seed=3, horizon=2025)
    reference = MarketModel(load_scenario("scenarios/plan.toml"), scale=20000.0, seed=3, horizon=2025)
    # start with no spare room, so the first entrants must grow the buffers
    model._buffers = {name: buf[:model.n].copy() for name, buf in model._buffers.items()}
    model._set_length(model.n)
    capacity = len(model._buffers["key"])
    compactions = 0
    while model.running:
        dead_before = model.dead
        model.step()
        reference.step()
        compactions += model.dead < dead_before or (model.dead == 0 and dead_before > 0)
        assert model.simulated_entities == reference.simulated_entities
        keys = model.e["key"][model.registered]
        assert len(np.unique(keys)) == len(keys)
        # each active individual business carries its size factor as the month ends, through growth,
        # entry and compaction; next month's conversions read it and the sums it is normalised by
        e = model.e
        rows = (e["status"] == rules.ACTIVE) & (e["kind"] == rules.INDIVIDUAL)
        expected = rules.conversion_size_factor(e["log_size"][rows], model.p.conversion_size_exponent)
        np.testing.assert_allclose(e["size_factor"][rows], expected, rtol=1e-13)
        np.testing.assert_allclose(model.individual_sizes, [expected.sum(), rows.sum()], rtol=1e-12)
    assert len(model._buffers["key"]) > capacity  # it grew
    assert compactions > 0


@pytest.mark.slow
def test_engines_agree_in_distribution_over_30_seeds():
    plan = load_scenario("scenarios/plan.toml")
    seeds = range(30)
    mesa = [_records("mesa", plan, s) for s in seeds]
    vector = [_records("vector", plan, s) for s in seeds]
    for year in range(2021, 2026):
        for field in KEY_OUTPUTS:
            a = np.array([r[year][field] for r in mesa])
            b = np.array([r[year][field] for r in vector])
            se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            assert abs(a.mean() - b.mean()) <= 3 * se + 1e-9 * abs(a.mean()), (year, field)
            assert b.std(ddof=1) == pytest.approx(a.std(ddof=1), rel=0.25, abs=1e-9), (year, field)
        # every modelled indicator too
        ia = [indicator_values(r[year]) for r in mesa]
        ib = [indicator_values(r[year]) for r in vector]
        for iid in ia[0]:
            a = np.array([x[iid] for x in ia])
            b = np.array([x[iid] for x in ib])
            se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            assert abs(a.mean() - b.mean()) <= 3 * se + 1e-9 * abs(a.mean()), (year, iid)


def test_screening_exits_and_violations_by_their_bounds_changes_no_outcome(monkeypatch):
    """Above SCREEN_FROM rows, active entities whose exit draw no hazard of theirs could reach, or
    whose compliance draw no violation probability of theirs could reach, skip the exact rule:
    every month's record is the same as without the screens, and the screens do skip most."""
    plan = load_scenario("scenarios/plan.toml")
    months = []
    for rows in (0, 10 ** 12):
        monkeypatch.setattr(vector_module, "SCREEN_FROM", rows)
        model = VectorMarketModel(plan, scale=4000, seed=3, horizon=2022)
        model.run()
        months.append(model.monthly)
    assert months[0] == months[1]
    e, ctx = model.e, model.ctx
    bounds = kernels.exit_hazard_bounds(ctx.hazard_table, float(e["log_size"].min()), ctx.log_size_min,
                                        ctx.levers.credit_penalty_severity, ctx.world.gdp_growth, ctx.world.exit_shock, model.p)
    active = np.flatnonzero(e["status"] == rules.ACTIVE)
    age = np.minimum(e["age_months"][active], ctx.hazard_table.size - 1)
    bound = bounds[e["city"][active], e["kind"][active], e["credit_status"][active],
                   (e["marginal"][active] & (age < 24)).astype(int), age // 12]
    hazard = rules.exit_hazard(ctx.hazard_table[age], e["kind"][active], e["log_size"][active],
                               np.asarray(ctx.log_size_min)[e["kind"][active]], e["credit_status"][active],
                               e["marginal"][active] & (age < 24), np.asarray(ctx.levers.credit_penalty_severity)[e["city"][active]],
                               ctx.world.gdp_growth, ctx.world.exit_shock, model.p)
    assert (bound >= hazard).all()
    assert rules.monthly_probability(bound).mean() < 0.05  # at most 5% of draws need the exact hazard (1.7% here)
    # compliance: the bound at no sanction cost, against the rule's probability with the month's cost
    peer = np.asarray(model.peer_violation)
    odds = kernels.violation_odds_at_no_cost(peer, np.asarray(ctx.levers.fine_level), np.asarray(ctx.levers.credit_penalty_severity), model.p)
    city, sector = e["city"][active], e["sector"][active]
    violation_bound = 1.0 / (1.0 + e["honesty_exp"][active] * odds[city, sector])
    assert np.allclose(e["honesty_exp"][active], np.exp(e["honesty"][active]))  # kept through entry and compaction
    at_cost = rules.violation_probability(e["honesty"][active], peer[city, sector], 0.3, model.p)
    assert (violation_bound >= at_cost).all() and violation_bound.mean() < 0.5


def test_the_same_numbers_on_any_number_of_threads(monkeypatch):
    """The kernels run on every core above PARALLEL_FROM rows; sums go through blocks of BLOCK rows
    added in order. With small blocks (so a small model has many), the month records are the same
    bit for bit in the serial loops and in the parallel ones on one thread or two, and the kernels
    do run in parallel when asked (numba's thread count is what it was)."""
    import numba

    plan = load_scenario("scenarios/plan.toml")
    monkeypatch.setattr(kernels, "BLOCK", 97)
    runs = {}
    threads = numba.get_num_threads()
    try:
        for label, rows, n_threads in (("serial", 10 ** 12, 1), ("parallel, 1 thread", 0, 1),
                                       ("parallel, 2 threads", 0, 2)):
            monkeypatch.setattr(kernels, "PARALLEL_FROM", rows)
            numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
            model = VectorMarketModel(plan, scale=8000, seed=5, horizon=2022)
            assert model.n > 10 * kernels.BLOCK
            model.run()
            runs[label] = model.monthly
    finally:
        numba.set_num_threads(threads)
    assert runs["parallel, 1 thread"] == runs["serial"]
    from sim.engines import passes
    for kernel in (passes.behave, passes.supervise, kernels.individual_size_sums, kernels.tally):
        assert kernel.parallel.targetoptions.get("parallel") and kernel.parallel.signatures
        # its own cache file: numba names them after the function, and would load the serial code
        assert kernel.parallel.py_func.__qualname__ != kernel.serial.py_func.__qualname__
    assert runs["parallel, 2 threads"] == runs["serial"]
    # and the blocks changed the sums' order only: the records agree with one block to rounding
    monkeypatch.setattr(kernels, "BLOCK", 65_536)
    whole = VectorMarketModel(plan, scale=8000, seed=5, horizon=2022)
    whole.run()
    for month, other in zip(runs["serial"], whole.monthly):
        for field, value in month.items():
            assert value == pytest.approx(other[field], rel=1e-9, abs=1e-6), field
