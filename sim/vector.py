"""VectorMarketModel: the same model with entities held in typed numpy arrays.

Entities live in a struct of arrays; every process calls the same pure rules from
:mod:`sim.rules` as the per-agent engine, on whole arrays, in the same order and with
the same counter-based random draws per entity. Where the two engines differ it is
orchestration only: loops become masks, per-city sums become ``bincount``.
Regulators are rows of per-city arrays.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import rules
from sim.engine import (BASE_YEAR, DEFAULT_HORIZON, DEFAULT_SCALE, BaseMarketModel, MonthContext,
                        regulator_capability)
from sim.params import CITIES, LEVERS_BY_ID, Scenario
from sim.population import ENTITY_FIELDS, build_population, count_entries, draw_entrants

N_CITIES = len(CITIES)
N_SECTORS = len(rules.SECTORS)


class VectorMarketModel(BaseMarketModel):
    """Zhejiang's market entities and city regulators, vectorised.

    Args:
        scenario: Levers, uncertainties and parameters; the 2020-policy baseline if None.
        scale: Real entities per simulated entity (1 = the whole province).
        seed: Run seed; the same seed gives the same numbers bit for bit.
        horizon: Last simulated year (December).
    """

    engine = "vector"

    def __init__(self, scenario: Scenario | None = None, scale: float = DEFAULT_SCALE, seed: int = 0,
                 horizon: int = DEFAULT_HORIZON) -> None:
        super().__init__(scenario, scale, seed, horizon)
        population = build_population(self.p, self.scale, self.seed)
        self.kind_weights = population.kind_weights
        self.e = {name: population.arrays[name] for name in ENTITY_FIELDS}
        self.risk = np.zeros(self.n, dtype=np.int64)
        self.visibility = np.zeros(self.n)
        city_value = lambda lever: np.array([self.policy.lever(lever, BASE_YEAR, c) for c in CITIES])  # noqa: E731
        self.dual_random_share = city_value("dual_random_share")
        self.credit_application_share = city_value("credit_application_rate")
        self.capacity = city_value("inspection_capacity")
        # Pace towards the double-random target is set at the declared 2020 capacity.
        self.reference_capacity = LEVERS_BY_ID["inspection_capacity"].value_2020
        self.capability = regulator_capability(self.seed, self.p)
        self.random_prob_by_class = np.zeros((N_CITIES, 4))
        self.routine_prob_per_visibility = np.zeros(N_CITIES)
        self.lead_coverage = np.zeros(N_CITIES)
        self.datacollector = mesa.DataCollector(model_reporters=self._model_reporters())
        self._initialise_behaviour()

    @property
    def n(self) -> int:
        """Number of simulated registered entities."""
        return len(self.e["key"])

    def _u(self, stream: str, mask: np.ndarray | None = None, step: int | None = None) -> np.ndarray:
        keys = self.e["key"] if mask is None else self.e["key"][mask]
        return rules.crn_uniform(self.seed, rules.STREAMS[stream], keys, self.month_index if step is None else step)

    def _by_city(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        city = self.e["city"]
        if mask is not None:
            return np.bincount(city[mask], weights=values[mask], minlength=N_CITIES)
        return np.bincount(city, weights=values, minlength=N_CITIES)

    # ------------------------------------------------------------------ set-up
    def _initialise_behaviour(self) -> None:
        self.ctx = self._context(BASE_YEAR, 12)
        self._assess()
        self._plan_inspections(np.zeros(self.n, dtype=bool))
        e = self.e
        rate_random = 12.0 * self.random_prob_by_class[e["city"], self.risk]
        rate_routine = 12.0 * self.routine_prob_per_visibility[e["city"]] * self.visibility
        active = e["status"] == rules.ACTIVE
        memory = np.minimum(1.0, (rate_random + rate_routine) / 12.0 / (1.0 - self.p.memory_decay))
        e["memory"] = np.where(active, memory, e["memory"])
        u = self._u("compliance", step=-1)
        for _ in range(6):
            self._decide_compliance(u)
            self._update_peers()
        self._record_stocks()
        self.initial_record = dict(self.record)

    # ------------------------------------------------------------------ processes
    def step(self) -> None:
        """Advance one month through the processes, in order."""
        ctx = self._begin_month()
        e = self.e
        e["age_months"] += 1
        e["months_in_status"] += 1
        e["months_since_penalty"] += 1
        e["memory"] *= self.p.memory_decay
        self.enter(ctx)
        self.convert(ctx)
        self.grow(ctx)
        self._assess()
        self._decide_compliance(self._u("compliance"))
        detected = self.inspect(ctx)
        self.sanction_and_credit(ctx, detected)
        self.exit(ctx)
        self._update_peers()
        self._record_stocks()
        self._end_month()

    def enter(self, ctx: MonthContext) -> None:
        """Process 1, entry: the same entrant arrays as the Mesa engine, appended."""
        new = draw_entrants(self.policy, self.kind_weights, self.seed, ctx.step, ctx.year)
        if len(new["key"]):
            self.e = {name: np.concatenate((self.e[name], new[name])) for name in ENTITY_FIELDS}
        count_entries(self.record, new)

    def convert(self, ctx: MonthContext) -> None:
        """Process 2, conversion: individual businesses to companies, and corporatisation."""
        e, p = self.e, self.p
        active = e["status"] == rules.ACTIVE
        individuals = active & (e["kind"] == rules.INDIVIDUAL)
        size_norm = float(e["log_size"][individuals].mean()) if individuals.any() else 0.0
        factor = np.exp((e["log_size"] - size_norm) * p.conversion_size_exponent)
        ctx.size_factor_mean = float(factor[individuals].mean()) if individuals.any() else 1.0
        rate = np.asarray(ctx.conversion_rate)[e["city"]]
        event = rules.conversion_event(e["kind"], active & (e["credit_status"] == rules.NORMAL), self._u("conversion"),
                                       rules.conversion_probability(rate, factor / ctx.size_factor_mean), p)
        self.record["conversions"] += float(e["weight"][event == rules.CONVERSION].sum())
        self.record["corporatisations"] += float(e["weight"][event == rules.CORPORATISATION].sum())
        e["kind"] = np.where(event != rules.NO_EVENT, rules.COMPANY, e["kind"])

    def grow(self, ctx: MonthContext) -> None:
        """Process 3, growth of active entities."""
        e = self.e
        active = e["status"] == rules.ACTIVE
        severity = np.asarray(ctx.severity)[e["city"]]
        grown = rules.grow(e["log_size"], self._u("growth"), e["credit_status"], severity, ctx.log_size_floor, self.p)
        e["log_size"] = np.where(active, grown, e["log_size"])

    def _assess(self) -> None:
        e = self.e
        self.risk = rules.risk_class(e["credit_status"], e["months_since_penalty"], e["age_months"], self.p)
        self.visibility = rules.routine_visibility(e["log_size"], e["sector"], self.p)

    def _decide_compliance(self, u: np.ndarray) -> None:
        """Process 5, compliance of active entities."""
        e, p, ctx = self.e, self.p, self.ctx
        city = e["city"]
        perceived = rules.perceived_detection(
            12.0 * self.random_prob_by_class[city, self.risk],
            12.0 * self.routine_prob_per_visibility[city] * self.visibility,
            12.0 * p.complaint_rate * self.lead_coverage[city], e["memory"], p)
        cost = rules.expected_sanction_cost(perceived, np.asarray(ctx.fine_level)[city],
                                            np.asarray(ctx.severity)[city], p)
        peer = np.asarray(self.peer_violation)[city, e["sector"]]
        prob = rules.violation_probability(e["honesty"], peer, cost, p)
        e["violating"] = (e["status"] == rules.ACTIVE) & (u < prob)

    def _adapt_regulators(self, ctx: MonthContext) -> None:
        p = self.p
        year = ctx.year
        keys = np.arange(2 * N_CITIES, dtype=np.uint64)
        u = rules.crn_uniform(self.seed, rules.STREAMS["regulator"], keys, ctx.step)
        target_share = np.array([self.policy.lever("dual_random_share", year, c) for c in CITIES])
        target_credit = np.array([self.policy.lever("credit_application_rate", year, c) for c in CITIES])
        self.capacity = np.array([self.policy.lever("inspection_capacity", year, c) for c in CITIES])
        ratio = np.minimum(2.0, self.capacity / self.reference_capacity)
        self.dual_random_share = rules.regulator_move(
            self.dual_random_share, target_share, p.dual_random_pace / 12.0 * ratio * self.capability, u[0::2],
            p.regulator_pace_noise)
        self.credit_application_share = rules.regulator_move(
            self.credit_application_share, target_credit, p.credit_application_pace / 12.0 * self.capability,
            u[1::2], p.regulator_pace_noise)

    def _plan_inspections(self, complaints: np.ndarray) -> None:
        e = self.e
        w = e["weight"]
        active = e["status"] == rules.ACTIVE
        registered = self._by_city(w)
        pool = rules.in_random_pool(e["status"], e["credit_status"])
        risk_mass = np.bincount(e["city"][pool] * 4 + self.risk[pool], weights=w[pool],
                                minlength=N_CITIES * 4).reshape(N_CITIES, 4)
        visibility_mass = self._by_city(w * self.visibility, active)
        lead_mass = self._by_city(w, active & complaints)
        for c in range(N_CITIES):
            self.random_prob_by_class[c], self.routine_prob_per_visibility[c], self.lead_coverage[c] = \
                rules.inspection_plan(self.capacity[c], registered[c], self.dual_random_share[c],
                                      self.credit_application_share[c], risk_mass[c], visibility_mass[c],
                                      lead_mass[c], self.p)

    def inspect(self, ctx: MonthContext) -> np.ndarray:
        """Process 6, inspection: regulators adapt, plan and inspect. Returns who was caught."""
        e, r = self.e, self.record
        self._adapt_regulators(ctx)
        complaints = e["violating"] & (self._u("complaint") < self.p.complaint_rate)
        self._plan_inspections(complaints)
        city = e["city"]
        active = e["status"] == rules.ACTIVE
        pool = rules.in_random_pool(e["status"], e["credit_status"])
        p_random = np.where(pool, np.minimum(1.0, self.random_prob_by_class[city, self.risk]), 0.0)
        p_routine = np.where(active, self.routine_prob_per_visibility[city] * self.visibility, 0.0)
        p_lead = np.where(active & complaints, self.lead_coverage[city], 0.0)
        kind = rules.inspection_type(self._u("inspection"), p_random, p_routine, p_lead)
        inspected = kind != rules.NOT_INSPECTED
        random = kind == rules.RANDOM_INSPECTION
        w = e["weight"]
        r["inspections"] += float(w[inspected].sum())
        r["inspections_random"] += float(w[random].sum())
        r["random_checked"] += float(w[random].sum())
        dormant_found = inspected & ~active
        r["random_found_abnormal"] += float(w[dormant_found & random].sum())
        newly_listed = dormant_found & (e["credit_status"] == rules.NORMAL)
        e["credit_status"] = np.where(newly_listed, rules.ABNORMAL, e["credit_status"])
        e["months_in_status"] = np.where(newly_listed, 0, e["months_in_status"])
        checked = inspected & active
        e["memory"] = np.where(checked, 1.0, e["memory"])
        r["inspections_on_compliant"] += float(w[checked & ~e["violating"]].sum())
        detection = np.asarray(ctx.detection)[kind]
        detected = checked & e["violating"] & (self._u("detection") < detection)
        r["violations_detected"] += float(w[detected].sum())
        return detected

    def sanction_and_credit(self, ctx: MonthContext, detected: np.ndarray) -> None:
        """Process 7, sanctions and credit: fines and listing; annual reports in June; repair."""
        e, p = self.e, self.p
        city = e["city"]
        e["log_size"] = np.where(detected, e["log_size"] - p.fine_size_hit * np.asarray(ctx.fine_level)[city],
                                 e["log_size"])
        e["months_since_penalty"] = np.where(detected, 0, e["months_since_penalty"])
        e["violating"] &= ~detected
        self._set_credit(rules.after_sanction(e["credit_status"], detected, self._u("sanction"),
                                              np.asarray(ctx.severity)[city], p))
        just_listed = np.zeros(self.n, dtype=bool)
        if ctx.month == 6:
            filed = rules.annual_report_filed(e["status"], self._u("annual_report"), p)
            self.record["annual_reports_due"] += float(e["weight"].sum())
            self.record["annual_reports_filed"] += float(e["weight"][filed].sum())
            just_listed = ~filed & (e["credit_status"] == rules.NORMAL)
            self._set_credit(np.where(just_listed, rules.ABNORMAL, e["credit_status"]))
        moved = rules.credit_transition(e["credit_status"], e["months_in_status"], e["kind"],
                                        e["status"] == rules.ACTIVE, self._u("repair"), p)
        self._set_credit(np.where(just_listed, e["credit_status"], moved))

    def _set_credit(self, status: np.ndarray) -> None:
        e = self.e
        changed = status != e["credit_status"]
        e["credit_status"] = status
        e["months_in_status"] = np.where(changed, 0, e["months_in_status"])

    def exit(self, ctx: MonthContext) -> None:
        """Process 8, exit: ceasing, dormancy and deregistration (simplified, ordinary, compulsory)."""
        e, p, r = self.e, self.p, self.record
        city = e["city"]
        active = e["status"] == rules.ACTIVE
        simplified = np.asarray(ctx.simplified)[city]
        base = ctx.hazard_table[np.minimum(e["age_months"], len(ctx.hazard_table) - 1)]
        marginal = e["marginal"] & (e["age_months"] < 24)
        hazard = rules.exit_hazard(base, e["kind"], e["log_size"], np.asarray(ctx.log_size_min)[e["kind"]],
                                   e["credit_status"], marginal, np.asarray(ctx.severity)[city], ctx.gdp_growth,
                                   ctx.exit_shock, p)
        u_route = self._u("deregistration")
        active_outcome = rules.active_exit(self._u("exit"), u_route, hazard, simplified, e["kind"],
                                           e["credit_status"], p)
        e["months_dormant"] = np.where(active, e["months_dormant"], e["months_dormant"] + 1)
        due = rules.compulsory_deregistration_due(np.asarray(ctx.compulsory_on)[city], e["credit_status"],
                                                  e["months_dormant"], np.asarray(ctx.compulsory_months)[city])
        dormant_outcome = rules.dormant_exit(self._u("dormancy"), u_route, due, simplified, e["credit_status"], p)
        outcome = np.where(active, active_outcome, dormant_outcome)
        w = e["weight"]
        for code, route in rules.DEREG_ROUTES.items():
            weight = float(w[outcome == code].sum())
            r["dereg_" + route] += weight
            r["deregistrations"] += weight
        to_dormant = outcome == rules.GO_DORMANT
        to_active = outcome == rules.REACTIVATE
        e["status"] = np.where(to_dormant, rules.DORMANT, np.where(to_active, rules.ACTIVE, e["status"]))
        e["months_dormant"] = np.where(to_dormant | to_active, 0, e["months_dormant"])
        e["violating"] &= ~to_dormant
        keep = ~np.isin(outcome, list(rules.DEREG_ROUTES))
        if not keep.all():
            self.e = {name: values[keep] for name, values in e.items()}
            self.risk = self.risk[keep]
            self.visibility = self.visibility[keep]

    # ------------------------------------------------------------------ records
    def _update_peers(self) -> None:
        e = self.e
        active = e["status"] == rules.ACTIVE
        cell = e["city"] * N_SECTORS + e["sector"]
        size = N_CITIES * N_SECTORS
        active_w = np.bincount(cell[active], weights=e["weight"][active], minlength=size)
        viol = active & e["violating"]
        violating_w = np.bincount(cell[viol], weights=e["weight"][viol], minlength=size)
        share = np.where(active_w > 0, violating_w / np.maximum(active_w, 1e-12), self.p.peer_reference)
        self.peer_violation = share.reshape(N_CITIES, N_SECTORS).tolist()
        self.ctx.peer_violation = self.peer_violation

    def _record_stocks(self) -> None:
        e, r = self.e, self.record
        w = e["weight"]
        by_kind = np.bincount(e["kind"], weights=w, minlength=3)
        active = e["status"] == rules.ACTIVE
        active_w = float(w[active].sum())
        r["registered"] = float(by_kind.sum())
        r["registered_company"], r["registered_other"], r["registered_individual"] = map(float, by_kind)
        r["active"] = active_w
        r["dormant"] = float(w[~active].sum())
        r["abnormal_listed"] = float(w[e["credit_status"] == rules.ABNORMAL].sum())
        r["serious_listed"] = float(w[e["credit_status"] == rules.SERIOUS].sum())
        violating_w = float(w[active & e["violating"]].sum())
        r["compliance_rate"] = 100.0 * (1.0 - violating_w / active_w) if active_w else 100.0
        by_city = self._by_city(w)
        city_weights = by_city / by_city.sum() if by_city.sum() else np.full(N_CITIES, 1 / N_CITIES)
        r["dual_random_share"] = float((city_weights * self.dual_random_share).sum())
        r["credit_application_share"] = float((city_weights * self.credit_application_share).sum())
