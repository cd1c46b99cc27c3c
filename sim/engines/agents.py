"""Mesa agents: market entities and the city regulators that inspect them.

Agents hold state and call the pure rules in :mod:`sim.core.rules`; the model passes in
each agent's uniforms (common random numbers) and the context of the month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.core import rules
from sim.engines import outcomes

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

    def start_month(self) -> None:
        """A month passes: ages and times in status grow, the memory of inspections fades."""
        self.age_months += 1
        self.months_in_status += 1
        self.months_since_penalty += 1
        self.memory *= self.model.p.memory_decay
        self.detected = False

    def assess(self) -> None:
        """Refresh this month's credit-risk class (A-D) and visibility to routine inspection."""
        p = self.model.p
        self.risk = rules.risk_class(self.credit_status, self.months_since_penalty, self.age_months, p)
        self.visibility = rules.routine_visibility(self.log_size, self.sector, p)

    def convert(self, u: float, rate_percent: float) -> int:
        """Individual-to-company conversion (个转企) or corporatisation of another enterprise.

        Returns:
            rules.CONVERSION, rules.CORPORATISATION or rules.NO_EVENT.
        """
        p = self.model.p
        eligible = self.status == rules.ACTIVE and self.credit_status == rules.NORMAL
        size_factor = rules.conversion_size_factor(self.log_size, p.conversion_size_exponent) \
            / self.model.ctx.size_factor_mean
        event = rules.conversion_event(self.kind, eligible, u,
                                       rules.conversion_probability(rate_percent, size_factor), p)
        if event != rules.NO_EVENT:
            self.kind = rules.COMPANY
        return event

    def grow(self, u: float, ctx: MonthContext) -> None:
        """A month of size growth (Gibrat, Laplace shocks); listed entities grow slower."""
        if self.status == rules.ACTIVE:
            self.log_size = rules.grow(self.log_size, u, self.credit_status, ctx.levers.credit_penalty_severity[self.city],
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
        cost = rules.expected_sanction_cost(perceived, ctx.levers.fine_level[self.city], ctx.levers.credit_penalty_severity[self.city], p)
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
                                       self.credit_status, marginal, ctx.levers.credit_penalty_severity[city], ctx.world.gdp_growth,
                                       ctx.world.exit_shock, p)
            outcome = rules.active_exit(u_exit, u_route, hazard, ctx.levers.simplified_deregistration[city], self.kind,
                                        self.credit_status, p)
        else:
            self.months_dormant += 1
            due = rules.compulsory_deregistration_due(ctx.levers.compulsory_deregistration[city], self.credit_status,
                                                      self.months_dormant, ctx.levers.compulsory_deregistration_months[city])
            outcome = rules.dormant_exit(u_dormant, u_route, due, ctx.levers.simplified_deregistration[city], self.credit_status, p)
        self.status, self.months_dormant, self.violating = outcomes.after_exit(
            outcome, self.status, self.months_dormant, self.violating)
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
        self.capacity = capacity
        share_pace, credit_pace = outcomes.regulator_paces(
            capacity, capacity_2020, self.capability, float(self.model.regulator_effectiveness[self.city]), p)
        self.dual_random_share = rules.regulator_move(self.dual_random_share, target_share, share_pace, u_share,
                                                      p.regulator_pace_noise)
        self.credit_application_share = rules.regulator_move(self.credit_application_share, target_credit,
                                                             credit_pace, u_credit, p.regulator_pace_noise)

    def published_rates(self, risk: int) -> tuple[float, float, float]:
        """Annual inspection rates an entity of a risk class can infer: random, routine per
        unit of visibility, and on complaints."""
        return outcomes.annual_rates(self.random_prob_by_class[risk], self.routine_prob_per_visibility,
                                     self.lead_coverage, self.model.p.complaint_rate)

    def plan(self, entities: list[MarketEntity]) -> None:
        """Set this month's selection probabilities from capacity and the register."""
        risk_mass = [0.0, 0.0, 0.0, 0.0]
        visibility_mass = violating_mass = registered = 0.0
        for entity in entities:
            registered += entity.weight
            if rules.in_random_pool(entity.status, entity.credit_status):
                risk_mass[entity.risk] += entity.weight
            if entity.status == rules.ACTIVE:
                visibility_mass += entity.weight * entity.visibility
                if entity.violating:
                    violating_mass += entity.weight
        # Digital integration (indicator 19) lets the same staff do more inspections.
        effective_capacity = self.capacity * float(self.model.regulator_effectiveness[self.city])
        random_by_class, self.routine_prob_per_visibility, self.lead_coverage = rules.inspection_plan(
            effective_capacity, registered, self.dual_random_share, self.credit_application_share, risk_mass,
            visibility_mass, violating_mass, self.model.p)
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
        detected = active and entity.violating and u_detect < self.model.ctx.detection[kind]
        w = entity.weight
        for field, counted in zip(outcomes.INSPECTION_FIELDS,
                                  outcomes.inspection_flags(kind, active, entity.violating, detected)):
            if counted:
                record[field] += w
        entity.credit_status, entity.months_in_status, entity.memory = outcomes.after_inspection(
            active, entity.credit_status, entity.months_in_status, entity.memory)
        entity.detected = detected

