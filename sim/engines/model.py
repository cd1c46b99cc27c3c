"""MarketModel: the per-agent Mesa reference engine.

Monthly steps from January 2021. Each month runs the processes of docs/ODD.md in
order: entry, conversion, growth, compliance, inspection, sanctions and credit, exit.
Every process draws from its own counter-based random stream (common random numbers).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.core import rules
from sim.engines import outcomes
from sim.engines.agents import MarketEntity, Regulator
from sim.core.calendar import BASE_YEAR, DEFAULT_HORIZON, DEFAULT_SCALE, START_YEAR
from sim.engines.base import RECORD_FIELDS, BaseMarketModel, MonthContext, indicator_reporters, regulator_capability
from sim.inputs.levers import CITIES, LEVERS_BY_ID
from sim.inputs.scenario import Scenario
from sim.core.population import InitialStock, build_population, count_entries, draw_entrants

RECORD_PREFIX = "record."  # the DataCollector's name of a record field's reporter

__all__ = ["BASE_YEAR", "DEFAULT_HORIZON", "DEFAULT_SCALE", "START_YEAR", "MarketModel"]


class MarketModel(BaseMarketModel):
    """Zhejiang's market entities and city regulators under a policy scenario.

    Args:
        scenario: Levers, uncertainties and parameters; the 2020-policy baseline if None.
        scale: Real entities per simulated entity (1 = the whole province).
        seed: Run seed; the same seed gives the same numbers bit for bit (None: Mesa's ``rng``, else a
            fresh random seed, kept as ``model.seed``).
        horizon: Last simulated year (December).
        start: The stock a run starts from (the end of 2020 by default; calibration starts earlier).
        rng: Mesa's name for the seed (a whole number or a numpy Generator), used when ``seed`` is None.
        **values: Levers and uncertainties by id, each a number or a {year: value} mapping as in a
            scenario file (``dual_random_share=60``), over ``scenario``.
    """

    engine = "mesa"

    def __init__(self, scenario: Scenario | None = None, scale: float = DEFAULT_SCALE, seed: int | None = 0,
                 horizon: int = DEFAULT_HORIZON, start: InitialStock | None = None, rng=None,
                 **values: object) -> None:
        super().__init__(scenario, scale, seed, horizon, start, rng, **values)
        population = build_population(self.p, self.scale, self.seed, self.start)
        self.kind_weights = population.kind_weights
        self._create_entities(population.arrays)
        start = self.levers.year(self.base_year).city
        self.regulators = list(Regulator.create_agents(
            self, len(CITIES), city=list(range(len(CITIES))), dual_random_share=list(start.dual_random_share),
            credit_application_share=list(start.credit_application_rate),
            capability=regulator_capability(self.seed, self.p).tolist()))
        # The engine's monthly records: one model reporter per record field (``record.<field>``), the plan
        # indicators of the last year ended by their ids, and each regulator's state.
        self.datacollector = mesa.DataCollector(
            model_reporters={**{RECORD_PREFIX + name: (lambda m, n=name: m.record[n]) for name in RECORD_FIELDS},
                             **indicator_reporters()},
            agenttype_reporters={Regulator: {"regulator_dual_random_share": "dual_random_share",
                                             "regulator_credit_application_share": "credit_application_share"}},
        )
        self._initialise_behaviour()

    # ------------------------------------------------------------------ helpers
    def _create_entities(self, arrays: dict[str, np.ndarray]) -> None:
        """Agents for the rows of entity arrays (the initial population or a month's entrants)."""
        n = len(next(iter(arrays.values())))
        if n:
            MarketEntity.create_agents(self, n, **{name: column.tolist() for name, column in arrays.items()})

    @property
    def monthly(self) -> list[dict[str, float]]:
        """Every month's record so far, read from the DataCollector (the engine's store)."""
        columns = {name[len(RECORD_PREFIX):]: values for name, values in self.datacollector.model_vars.items()
                   if name.startswith(RECORD_PREFIX)}
        return [dict(zip(columns, row)) for row in zip(*columns.values())]

    def _store_month(self) -> None:
        self.datacollector.collect(self)

    @property
    def entities(self) -> list[MarketEntity]:
        """Registered entities, in creation order."""
        return list(self.agents_by_type[MarketEntity]) if MarketEntity in self.agents_by_type else []

    @property
    def simulated_entities(self) -> int:
        """Number of simulated registered entities (agents)."""
        return len(self.agents_by_type[MarketEntity]) if MarketEntity in self.agents_by_type else 0

    def _uniforms(self, stream: str, entities: list[MarketEntity], step: int | None = None) -> list[float]:
        keys = np.fromiter((e.key for e in entities), dtype=np.uint64, count=len(entities))
        return rules.crn_uniform(self.seed, rules.STREAMS[stream], keys,
                                 self.month_index if step is None else step).tolist()

    def _initialise_behaviour(self) -> None:
        """Regulators publish 2020 rates; entities settle into 2020 compliance."""
        self.ctx = self._context(self.base_year, 12)
        entities = self.entities
        for entity in entities:
            entity.assess()
        for reg in self.regulators:
            reg.capacity = self.ctx.levers.inspection_capacity[reg.city]
        self._plan_inspections(entities)
        for entity in entities:
            # Specific deterrence at its steady state: expected decayed memory of past inspections.
            reg = self.regulators[entity.city]
            rate_random, rate_routine_unit, _ = reg.published_rates(entity.risk)
            entity.memory = outcomes.steady_memory(rate_random, rate_routine_unit * entity.visibility,
                                                   self.p.memory_decay)
        u = self._uniforms("compliance", entities, step=-1)
        for _ in range(6):
            for entity, ui in zip(entities, u):
                entity.decide_compliance(ui, self.ctx, self.regulators[entity.city])
            self.peer_violation = self._peer_violation(entities)
            self.ctx.peer_violation = self.peer_violation
        self._record_stocks(entities)
        self.initial_record = dict(self.record)

    def _plan_inspections(self, entities: list[MarketEntity]) -> None:
        by_city: list[list[MarketEntity]] = [[] for _ in CITIES]
        for entity in entities:
            by_city[entity.city].append(entity)
        for reg in self.regulators:
            reg.plan(by_city[reg.city])

    def _peer_violation(self, entities: list[MarketEntity]) -> list[list[float]]:
        violating = np.zeros((len(CITIES), len(rules.SECTORS)))
        active = np.zeros_like(violating)
        for e in entities:
            if e.status == rules.ACTIVE:
                active[e.city, e.sector] += e.weight
                if e.violating:
                    violating[e.city, e.sector] += e.weight
        share = np.where(active > 0, violating / np.maximum(active, 1e-12), self.p.peer_reference)
        return share.tolist()

    # ------------------------------------------------------------------ processes
    def step(self) -> None:
        """Advance one month through the processes, in order."""
        ctx = self._begin_month()
        if MarketEntity in self.agents_by_type:
            self.agents_by_type[MarketEntity].do("start_month")
        self.enter(ctx)
        entities = self.entities
        self.convert(entities, ctx)
        for e, u in zip(entities, self._uniforms("growth", entities)):
            e.grow(u, ctx)
        for e in entities:
            e.assess()
        for e, u in zip(entities, self._uniforms("compliance", entities)):
            e.decide_compliance(u, ctx, self.regulators[e.city])
        self.inspect(entities, ctx)
        self.sanction_and_credit(entities, ctx)
        self.exit(entities, ctx)
        entities = self.entities
        self.peer_violation = self._peer_violation(entities)
        self._record_stocks(entities)
        self._end_month()

    def enter(self, ctx: MonthContext) -> None:
        """Process 1, entry: Poisson new registrations by kind and city."""
        new = draw_entrants(self.p, self.levers.year(ctx.year), self.kind_weights, self.seed, ctx.step,
                            self.registered_total)
        self._create_entities(new)
        count_entries(self.record, new)

    def convert(self, entities: list[MarketEntity], ctx: MonthContext) -> None:
        """Process 2, conversion: individual businesses to companies, and corporatisation."""
        individuals = np.array([e.log_size for e in entities if e.kind == rules.INDIVIDUAL and e.status == rules.ACTIVE])
        factors = rules.conversion_size_factor(individuals, self.p.conversion_size_exponent)
        ctx.size_factor_mean = float(factors.mean()) if individuals.size else 1.0
        for e, u in zip(entities, self._uniforms("conversion", entities)):
            weight_before = e.weight
            event = e.convert(u, ctx.levers.individual_to_company_rate[e.city])
            if event == rules.CONVERSION:
                self.record["conversions"] += weight_before
            elif event == rules.CORPORATISATION:
                self.record["corporatisations"] += weight_before

    def inspect(self, entities: list[MarketEntity], ctx: MonthContext) -> None:
        """Processes 5 and 6 (compliance ran before): regulators adapt, plan and inspect."""
        for reg in self.regulators:
            u_share = rules.crn_uniform(self.seed, rules.STREAMS["regulator"], 2 * reg.city, ctx.step)
            u_credit = rules.crn_uniform(self.seed, rules.STREAMS["regulator"], 2 * reg.city + 1, ctx.step)
            reg.adapt(ctx.levers.dual_random_share[reg.city], ctx.levers.credit_application_rate[reg.city],
                      ctx.levers.inspection_capacity[reg.city],
                      LEVERS_BY_ID["inspection_capacity"].value_2020, u_share, u_credit)
        complaint_u = self._uniforms("complaint", entities)
        complaints = [e.violating and u < self.p.complaint_rate for e, u in zip(entities, complaint_u)]
        self._plan_inspections(entities)
        u_select = self._uniforms("inspection", entities)
        u_detect = self._uniforms("detection", entities)
        for e, complained, us, ud in zip(entities, complaints, u_select, u_detect):
            self.regulators[e.city].inspect(e, complained, us, ud)

    def sanction_and_credit(self, entities: list[MarketEntity], ctx: MonthContext) -> None:
        """Process 7, sanctions and credit: fines and listing; annual reports in June; repair."""
        p = self.p
        u_sanction = self._uniforms("sanction", entities)
        u_report = self._uniforms("annual_report", entities) if ctx.month == 6 else None
        u_repair = self._uniforms("repair", entities)
        for i, e in enumerate(entities):
            if e.detected:
                e.log_size = outcomes.after_sanction(e.log_size, ctx.levers.fine_level[e.city], p)
                e.months_since_penalty = 0
                e.violating = False
                self._set_credit(e, rules.after_sanction(e.credit_status, True, u_sanction[i],
                                                         ctx.levers.credit_penalty_severity[e.city], p))
            if u_report is not None:
                self.record["annual_reports_due"] += e.weight
                if rules.annual_report_filed(e.status, u_report[i], p):
                    self.record["annual_reports_filed"] += e.weight
                elif e.credit_status == rules.NORMAL:
                    self._set_credit(e, rules.ABNORMAL)
                    continue  # just listed: no other credit change this month
            self._set_credit(e, rules.credit_transition(e.credit_status, e.months_in_status, e.kind,
                                                        e.status == rules.ACTIVE, u_repair[i], p))

    @staticmethod
    def _set_credit(entity: MarketEntity, status: int) -> None:
        entity.credit_status, entity.months_in_status = outcomes.credit_change(entity.credit_status, status,
                                                                               entity.months_in_status)

    def exit(self, entities: list[MarketEntity], ctx: MonthContext) -> None:
        """Process 8, exit: ceasing, dormancy and deregistration (simplified, ordinary, compulsory)."""
        u_exit = self._uniforms("exit", entities)
        u_dormant = self._uniforms("dormancy", entities)
        u_route = self._uniforms("deregistration", entities)
        for e, ue, ud, ur in zip(entities, u_exit, u_dormant, u_route):
            weight = e.weight
            outcome = e.cease_or_linger(ue, ud, ur, ctx)
            if outcome == rules.STAY:
                continue
            flags = outcomes.exit_flags(outcome, e.kind)
            for field, counted in zip(outcomes.EXIT_FIELDS, flags):
                if counted:
                    self.record[field] += weight
            if flags[0]:  # deregistered: off the register
                e.remove()

    # ------------------------------------------------------------------ records
    def _record_stocks(self, entities: list[MarketEntity]) -> None:
        r = self.record
        active_weight = violating_weight = 0.0
        by_city = np.zeros(len(CITIES))
        for e in entities:
            w = e.weight
            by_city[e.city] += w
            r["registered"] += w
            r[("registered_company", "registered_other", "registered_individual")[e.kind]] += w
            if e.status == rules.ACTIVE:
                active_weight += w
                if e.violating:
                    violating_weight += w
            else:
                r["dormant"] += w
            if e.credit_status == rules.ABNORMAL:
                r["abnormal_listed"] += w
            elif e.credit_status == rules.SERIOUS:
                r["serious_listed"] += w
        for c, city in enumerate(CITIES):
            r[f"registered_{city}"] = float(by_city[c])
        r["active"] = active_weight
        r["compliance_rate"] = 100.0 * (1.0 - violating_weight / active_weight) if active_weight else 100.0
        city_weights = by_city / by_city.sum() if by_city.sum() else np.full(len(CITIES), 1 / len(CITIES))
        r["dual_random_share"] = float(sum(w * reg.dual_random_share for w, reg in zip(city_weights, self.regulators)))
        r["credit_application_share"] = float(sum(w * reg.credit_application_share
                                                  for w, reg in zip(city_weights, self.regulators)))
