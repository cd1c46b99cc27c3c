"""Mesa agents: market entities and the city regulators that inspect them.

Agents hold state and call the pure rules in :mod:`sim.core.rules`; the model passes in
each agent's uniforms (common random numbers) and the context of the month.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from sim.core import rules

if TYPE_CHECKING:
    from sim.engines.base import MonthContext
    from sim.engines.model import MarketModel


class MarketEntity(mesa.Agent):
    """A registered market entity: a company, another enterprise or an individual business.

    Attributes mirror :data:`sim.core.population.ENTITY_FIELDS`; ``weight`` is the number of
    real entities this agent stands for.
    """

    def __init__(self, model: MarketModel, **state: float) -> None:
        super().__init__(model)
        for name, value in state.items():
            setattr(self, name, value)
        self.inspection = rules.NOT_INSPECTED
        self.detected = False

    @property
    def registered(self) -> bool:
        """Whether the entity is still on the register (active or dormant)."""
        return self.status != rules.DEREGISTERED

    def assess(self) -> None:
        """Refresh this month's credit-risk class (A-D) and visibility to routine inspection."""
        p = self.model.p
        self.risk = rules.risk_class(self.credit_status, self.months_since_penalty, self.age_months, p)
        self.visibility = rules.routine_visibility(self.log_size, self.sector, p)

    def convert(self, u: float, rate_percent: float, size_norm: float) -> int:
        """Individual-to-company conversion (个转企) or corporatisation of another enterprise.

        Returns:
            rules.CONVERSION, rules.CORPORATISATION or rules.NO_EVENT.
        """
        p = self.model.p
        eligible = self.status == rules.ACTIVE and self.credit_status == rules.NORMAL
        size_factor = math.exp((self.log_size - size_norm) * p.conversion_size_exponent) \
            / self.model.ctx.size_factor_mean
        event = rules.conversion_event(self.kind, eligible, u,
                                       rules.conversion_probability(rate_percent, size_factor), p)
        if event != rules.NO_EVENT:
            self.kind = rules.COMPANY
        return event

    def grow(self, u: float, ctx: MonthContext) -> None:
        """A month of size growth (Gibrat, Laplace shocks); listed entities grow slower."""
        if self.status == rules.ACTIVE:
            self.log_size = rules.grow(self.log_size, u, self.credit_status, ctx.severity[self.city],
                                       ctx.log_size_floor, self.model.p)

    def decide_compliance(self, u: float, ctx: MonthContext, regulator: Regulator) -> None:
        """Violate or comply this month, weighing expected sanctions and peers' behaviour."""
        if self.status != rules.ACTIVE:
            self.violating = False
            return
        p = self.model.p
        rate_random, rate_routine_unit, rate_lead = regulator.published_rates(self.risk)
        perceived = rules.perceived_detection(rate_random, rate_routine_unit * self.visibility, rate_lead,
                                              self.memory, p)
        cost = rules.expected_sanction_cost(perceived, ctx.fine_level[self.city], ctx.severity[self.city], p)
        prob = rules.violation_probability(self.honesty, ctx.peer_violation[self.city][self.sector], cost, p)
        self.violating = u < prob

    def cease_or_linger(self, u_exit: float, u_dormant: float, u_route: float, ctx: MonthContext) -> int:
        """Exit process: an active entity may cease (``u_exit``) and deregister or go dormant;
        a dormant one (``u_dormant``) may deregister, voluntarily or compulsorily, or resume
        business. ``u_route`` picks the deregistration route.

        Returns:
            The outcome code (rules.STAY, DEREG_*, GO_DORMANT or REACTIVATE).
        """
        p = self.model.p
        city = self.city
        if self.status == rules.ACTIVE:
            base = rules.take(ctx.hazard_table, min(self.age_months, len(ctx.hazard_table) - 1))
            marginal = self.marginal and self.age_months < 24
            hazard = rules.exit_hazard(base, self.kind, self.log_size, ctx.log_size_min[self.kind],
                                       self.credit_status, marginal, ctx.severity[city], ctx.gdp_growth,
                                       ctx.exit_shock, p)
            outcome = rules.active_exit(u_exit, u_route, hazard, ctx.simplified[city], self.kind,
                                        self.credit_status, p)
        else:
            self.months_dormant += 1
            due = rules.compulsory_deregistration_due(ctx.compulsory_on[city], self.credit_status,
                                                      self.months_dormant, ctx.compulsory_months[city])
            outcome = rules.dormant_exit(u_dormant, u_route, due, ctx.simplified[city], self.credit_status, p)
        if outcome in rules.DEREG_ROUTES:
            self.status = rules.DEREGISTERED
            self.violating = False
        elif outcome == rules.GO_DORMANT:
            self.status = rules.DORMANT
            self.months_dormant = 0
            self.violating = False
        elif outcome == rules.REACTIVATE:
            self.status = rules.ACTIVE
            self.months_dormant = 0
        return outcome


class Regulator(mesa.Agent):
    """A city's market-supervision bureau.

    It moves its double-random share and its credit application towards the provincial
    targets at the pace its capacity allows, then spends its inspection capacity: a
    double-random share drawn at random (weighted by credit-risk class for the part that
    applies credit information), the rest on leads from complaints and routine checks.
    """

    def __init__(self, model: MarketModel, city: int, dual_random_share: float,
                 credit_application_share: float, capability: float) -> None:
        super().__init__(model)
        self.city = city
        self.dual_random_share = dual_random_share
        self.credit_application_share = credit_application_share
        self.capacity = 0.0
        self.capability = capability  # lasting factor on how fast this city can reform
        # Published monthly selection rates, read by entities when they decide.
        self.random_prob_by_class = [0.0, 0.0, 0.0, 0.0]
        self.routine_prob_per_visibility = 0.0
        self.lead_coverage = 0.0

    def adapt(self, target_share: float, target_credit: float, capacity: float, capacity_2020: float,
              u_share: float, u_credit: float) -> None:
        """Move towards the provincial targets at a pace set by capacity relative to the declared
        2020 capacity (at most double), the city's lasting capability and monthly noise."""
        p = self.model.p
        capacity_ratio = min(2.0, capacity / capacity_2020) if capacity_2020 > 0 else 1.0
        self.capacity = capacity
        self.dual_random_share = rules.regulator_move(
            self.dual_random_share, target_share, p.dual_random_pace / 12.0 * capacity_ratio * self.capability, u_share,
            p.regulator_pace_noise)
        # Sampling by credit-risk class needs the city's data systems: digital integration speeds it.
        digital = float(self.model.digital_effectiveness[self.city])
        self.credit_application_share = rules.regulator_move(
            self.credit_application_share, target_credit,
            p.credit_application_pace / 12.0 * self.capability * digital, u_credit, p.regulator_pace_noise)

    def published_rates(self, risk: int) -> tuple[float, float, float]:
        """Annual inspection rates an entity of a risk class can infer: random, routine per
        unit of visibility, and on complaints."""
        return (12.0 * self.random_prob_by_class[risk], 12.0 * self.routine_prob_per_visibility,
                12.0 * self.model.p.complaint_rate * self.lead_coverage)

    def plan(self, entities: list[MarketEntity], complaints: list[bool]) -> None:
        """Set this month's selection probabilities from capacity and the register."""
        risk_mass = [0.0, 0.0, 0.0, 0.0]
        visibility_mass = lead_mass = registered = 0.0
        for entity, complained in zip(entities, complaints):
            registered += entity.weight
            if rules.in_random_pool(entity.status, entity.credit_status):
                risk_mass[entity.risk] += entity.weight
            if entity.status == rules.ACTIVE:
                visibility_mass += entity.weight * entity.visibility
                if complained:
                    lead_mass += entity.weight
        # Digital integration (indicator 19) lets the same staff do more inspections.
        effective_capacity = self.capacity * float(self.model.digital_effectiveness[self.city])
        random_by_class, self.routine_prob_per_visibility, self.lead_coverage = rules.inspection_plan(
            effective_capacity, registered, self.dual_random_share, self.credit_application_share, risk_mass,
            visibility_mass, lead_mass, self.model.p)
        self.random_prob_by_class = random_by_class.tolist()

    def inspect(self, entity: MarketEntity, complained: bool, u_select: float, u_detect: float) -> None:
        """Decide whether and how an entity is inspected this month, and what is found."""
        record = self.model.record
        active = entity.status == rules.ACTIVE
        p_random = min(1.0, self.random_prob_by_class[entity.risk]) \
            if rules.in_random_pool(entity.status, entity.credit_status) else 0.0
        p_routine = self.routine_prob_per_visibility * entity.visibility if active else 0.0
        p_lead = self.lead_coverage if (active and complained) else 0.0
        kind = rules.inspection_type(u_select, p_random, p_routine, p_lead)
        entity.inspection = kind
        if kind == rules.NOT_INSPECTED:
            return
        w = entity.weight
        record["inspections"] += w
        if kind == rules.RANDOM_INSPECTION:
            record["inspections_random"] += w
            record["random_checked"] += w
        if not active:
            # Not operating at its registered address: the abnormal-operation list.
            if kind == rules.RANDOM_INSPECTION:
                record["random_found_abnormal"] += w
            if entity.credit_status == rules.NORMAL:
                entity.credit_status = rules.ABNORMAL
                entity.months_in_status = 0
            return
        entity.memory = 1.0
        if not entity.violating:
            record["inspections_on_compliant"] += w
            return
        if u_detect < self.model.ctx.detection[kind]:
            entity.detected = True
            record["violations_detected"] += w
            if kind == rules.RANDOM_INSPECTION:
                record["random_found_violating"] += w

