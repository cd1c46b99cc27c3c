"""VectorMarketModel: the same model with entities held in typed numpy arrays.

Entities live in a struct of arrays with spare capacity (entrants are appended in
place; deregistered rows get weight 0 and are compacted away in batches). Every
process calls the same pure rules from :mod:`sim.core.rules` as the per-agent engine, for
each entity in the same order and with the same counter-based random draws, so both engines
give the same numbers. Where the two differ it is orchestration: entry works on arrays, and the
rest of the month is conversion and two compiled passes over the rows
(:mod:`sim.engines.passes`), with per-city sums gathered in the passes. Regulators are rows of
per-city arrays.
"""

from __future__ import annotations

import numpy as np

from sim.core import compiled
from sim.engines import kernels, outcomes, passes
from sim.core import rules
from sim.core.calendar import DEFAULT_HORIZON, DEFAULT_SCALE
from sim.engines.base import BaseMarketModel, MonthContext, regulator_capability
from sim.inputs.levers import CITIES, LEVERS_BY_ID
from sim.inputs.scenario import Scenario
from sim.core.population import ENTITY_FIELDS, InitialStock, build_population, count_entries, draw_entrants

N_CITIES = len(CITIES)
CITY_FIELDS = [f"registered_{city}" for city in CITIES]  # the record's registered entities by city
N_SECTORS = len(rules.SECTORS)
DTYPES = {
    "key": np.uint64, "kind": np.int8, "city": np.int8, "sector": np.int8, "age_months": np.int32,
    "log_size": np.float64, "status": np.int8, "months_dormant": np.int32, "honesty": np.float64,
    "credit_status": np.int8, "months_in_status": np.int32, "months_since_penalty": np.int32,
    "memory": np.float64, "marginal": np.bool_, "violating": np.bool_, "weight": np.float64,
    "honesty_exp": np.float64, "size_factor": np.float64,
}
COMPACT_SHARE = 0.05  # compact when this share of rows is deregistered
# Rows from which exit hazards and violation probabilities are screened by their bounds (below, building
# the bounds costs more than it saves).
SCREEN_FROM = 50_000
# Columns the vector engine derives from the entity fields, kept beside them.
DERIVED = {"honesty_exp": lambda fields: np.exp(fields["honesty"])}
# Columns the kernels set and carry over months: an active individual business's conversion size
# factor as the month's end left its size, which the next month's conversions read (one ``exp`` a
# month instead of two).
CARRIED = ("size_factor",)
# Per-month columns of the first pass that the second reads (not carried over months).
SCRATCH = {"risk": np.int8, "visibility": np.float64}
# The random streams of the second pass, in the order sim.engines.passes.supervise reads them.
SUPERVISION_STREAMS = ("complaint", "inspection", "detection", "sanction", "annual_report", "repair", "exit",
                       "deregistration", "dormancy")
SUPERVISION_STREAM_IDS = np.array([rules.STREAMS[name] for name in SUPERVISION_STREAMS])
ALL_STREAM_IDS = np.arange(max(rules.STREAMS.values()) + 1)  # (a month's bases, indexed by stream id)


class VectorMarketModel(BaseMarketModel):
    """Zhejiang's market entities and city regulators, vectorised.

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

    engine = "vector"

    def __init__(self, scenario: Scenario | None = None, scale: float = DEFAULT_SCALE, seed: int | None = 0,
                 horizon: int = DEFAULT_HORIZON, start: InitialStock | None = None, rng=None,
                 **values: object) -> None:
        super().__init__(scenario, scale, seed, horizon, start, rng, **values)
        population = build_population(self.p, self.scale, self.seed, self.start)
        self.kind_weights = population.kind_weights
        n = population.size
        capacity = int(n * 1.5) + 1024
        self._buffers = {name: np.zeros(capacity, dtype=DTYPES[name]) for name in (*ENTITY_FIELDS, *DERIVED, *CARRIED)}
        for name in ENTITY_FIELDS:
            self._buffers[name][:n] = population.arrays[name]
        for name, derive in DERIVED.items():
            self._buffers[name][:n] = derive(population.arrays)
        self._scratch = {name: np.empty(capacity, dtype=dtype) for name, dtype in SCRATCH.items()}
        self._set_length(n)
        self.dead = 0
        self._kept_rows = np.empty(0, np.int64)  # (see _compact)
        self._bases, self._bases_step = np.empty(0, np.uint64), None  # (see _stream_bases)
        start = self.levers.year(self.base_year).city
        self.dual_random_share = np.array(start.dual_random_share)
        self.credit_application_share = np.array(start.credit_application_rate)
        self.capacity = np.array(start.inspection_capacity)
        # Pace towards the double-random target is set at the declared 2020 capacity.
        self.reference_capacity = LEVERS_BY_ID["inspection_capacity"].value_2020
        self.capability = regulator_capability(self.seed, self.p)
        self.random_prob_by_class = np.zeros((N_CITIES, 4))
        self.routine_prob_per_visibility = np.zeros(N_CITIES)
        self.lead_coverage = np.zeros(N_CITIES)
        self.pt = compiled.parameter_tuple(self.p)
        self._initialise_behaviour()
        # the active individual businesses' summed size factors and number, as conversions read them
        # (kept up to date by the second pass and by entry)
        self.individual_sizes = self._individual_sizes()

    # ------------------------------------------------------------------ storage
    def _set_length(self, n: int) -> None:
        self.n = n
        self.e = {name: buf[:n] for name, buf in self._buffers.items()}

    def _append(self, new: dict[str, np.ndarray]) -> None:
        k = len(new["key"])
        if not k:
            return
        n = self.n
        if n + k > len(self._buffers["key"]):
            capacity = int((n + k) * 1.5) + 1024
            for name, buf in self._buffers.items():
                grown = np.zeros(capacity, dtype=buf.dtype)
                grown[:n] = buf[:n]
                self._buffers[name] = grown
            self._scratch = {name: np.empty(capacity, dtype=dtype) for name, dtype in SCRATCH.items()}
        for name, buf in self._buffers.items():
            if name not in CARRIED:
                buf[n:n + k] = DERIVED[name](new) if name in DERIVED else new[name]
        self._set_length(n + k)

    def _compact(self) -> None:
        # the kept rows' numbers, in a buffer kept between compactions (fresh memory each time cost
        # about 1.6 us a page in the kernel: 0.35 s over a whole-province run)
        if self._kept_rows.size < self.n:
            self._kept_rows = np.empty(len(self._buffers["key"]), np.int64)
        rows = self._kept_rows[:kernels.registered_rows(self.e["status"], self._kept_rows)]
        for buf in self._buffers.values():
            kernels.keep_rows(buf, rows)
        self._set_length(rows.size)
        self.dead = 0

    def _stream_bases(self, step: int | None = None) -> np.ndarray:
        """Every stream's base in a month (this one by default), computed once for the month."""
        step = self.month_index if step is None else step
        if step != self._bases_step:
            self._bases, self._bases_step = compiled.stream_bases(self.seed, ALL_STREAM_IDS, step), step
        return self._bases

    def _base(self, stream: str, step: int | None = None) -> np.uint64:
        return self._stream_bases(step)[rules.STREAMS[stream]]

    @property
    def simulated_entities(self) -> int:
        """Number of simulated registered entities (rows not deregistered)."""
        return self.n - self.dead

    @property
    def registered(self) -> np.ndarray:
        """Mask of rows still on the register."""
        return self.e["status"] != rules.DEREGISTERED

    # ------------------------------------------------------------------ set-up
    def _initialise_behaviour(self) -> None:
        self.ctx = self._context(self.base_year, 12)
        self._behave(age=False, grow=False, comply=False)
        self._plan_inspections()
        e = self.e
        # Every registered entity, dormant ones too, as the reference engine (MarketModel) does: a
        # dormant entity that resumes business brings this decayed memory with it.
        kernels.initial_memory(e["city"], self.risk, self.visibility, self.random_prob_by_class,
                               self.routine_prob_per_visibility, self.p.complaint_rate, self.p.memory_decay, e["memory"],
                               kernels.BLOCK)
        for _ in range(6):
            self._behave(age=False, grow=False, comply=True, step=-1)
            self._tally()
        self.initial_record = dict(self.record)

    # ------------------------------------------------------------------ processes
    def step(self) -> None:
        """Advance one month through the processes, in order: entry, then one pass over the entities
        for conversion, ageing, growth and compliance (processes 2-5), the regulators' plan, and one
        pass for inspection, sanctions and credit, exit and the month-end stocks (6-8)."""
        ctx = self._begin_month()
        aged = self.n  # this month's entrants start at age 0
        self.enter(ctx)
        self.convert(ctx)
        self._behave(age=aged, grow=True, comply=True, convert=True)
        self._adapt_regulators(ctx)
        self._plan_inspections()
        self._supervise(ctx)
        if self.dead > COMPACT_SHARE * self.n:
            self._compact()
        self._end_month()

    def enter(self, ctx: MonthContext) -> None:
        """Process 1, entry: the same entrant arrays as the Mesa engine, appended."""
        new = draw_entrants(self.p, self.levers.year(ctx.year), self.kind_weights, self.seed, ctx.step,
                            self.registered_total)
        first = self.n
        self._append(new)
        count_entries(self.record, new)
        self.individual_sizes += self._individual_sizes(first)

    def _individual_sizes(self, first: int = 0) -> np.ndarray:
        """The active individual businesses' summed size factors and number among the rows from
        ``first``, each one's factor set in its ``size_factor``."""
        e, out = self.e, np.zeros(2)
        kernels.individual_size_sums(e["status"][first:], e["kind"][first:], e["log_size"][first:],
                                     self.p.conversion_size_exponent, e["size_factor"][first:], out, kernels.BLOCK)
        return out

    def convert(self, ctx: MonthContext) -> None:
        """Process 2, conversion: the mean size factor the month's conversions are relative to (the
        conversions themselves happen in the first pass, :meth:`_behave`)."""
        total, count = self.individual_sizes
        ctx.size_factor_mean = float(total / count) if count else 1.0

    def _behave(self, age: int | bool, grow: bool, comply: bool, step: int | None = None,
                convert: bool = False) -> None:
        """Processes 2-5 in one pass (:func:`sim.engines.passes.behave`): active entities of normal
        credit may change kind (if ``convert``); rows below ``age`` age a month; active entities grow (if
        ``grow``) and decide whether to violate (if ``comply``)."""
        e, ctx = self.e, self.ctx
        fine, severity = np.asarray(ctx.levers.fine_level), np.asarray(ctx.levers.credit_penalty_severity)
        peer = np.asarray(self.peer_violation)
        odds = kernels.NO_ODDS
        if comply and self.n >= SCREEN_FROM:
            odds = kernels.violation_odds_at_no_cost(peer, fine, severity, self.p)
        self.risk, self.visibility = self._scratch["risk"][:self.n], self._scratch["visibility"][:self.n]
        self.masses = np.empty((N_CITIES, passes.N_MASSES))
        self.smallest_log_size = passes.behave(
            e["status"], e["kind"], e["city"], e["sector"], e["credit_status"], e["age_months"], e["months_in_status"],
            e["months_since_penalty"], e["memory"], e["log_size"], e["honesty"], e["honesty_exp"], e["weight"],
            e["violating"], e["key"], convert, self._base("conversion"),
            np.asarray(ctx.levers.individual_to_company_rate, dtype=np.float64), e["size_factor"],
            ctx.size_factor_mean, int(age), self.p.memory_decay, grow, self._base("growth"), severity,
            ctx.log_size_floor, comply, self._base("compliance", step), self.random_prob_by_class,
            self.routine_prob_per_visibility, self.lead_coverage, fine, peer, odds, self.pt, self.risk,
            self.visibility, self.masses, kernels.BLOCK)
        if convert:
            self.record["conversions"] += float(self.masses[:, passes.MASS_CONVERTED].sum())
            self.record["corporatisations"] += float(self.masses[:, passes.MASS_CORPORATISED].sum())

    def _adapt_regulators(self, ctx: MonthContext) -> None:
        p = self.p
        u = rules.crn_uniform(self.seed, rules.STREAMS["regulator"], np.arange(2 * N_CITIES, dtype=np.uint64),
                              ctx.step)
        target_share = np.array(ctx.levers.dual_random_share)
        target_credit = np.array(ctx.levers.credit_application_rate)
        self.capacity = np.array(ctx.levers.inspection_capacity)
        share_pace, credit_pace = outcomes.regulator_paces(self.capacity, self.reference_capacity, self.capability,
                                                           self.regulator_effectiveness, p)
        self.dual_random_share = rules.regulator_move(self.dual_random_share, target_share, share_pace, u[0::2],
                                                      p.regulator_pace_noise)
        self.credit_application_share = rules.regulator_move(self.credit_application_share, target_credit,
                                                             credit_pace, u[1::2], p.regulator_pace_noise)

    def _plan_inspections(self) -> None:
        """Each city regulator's selection probabilities from the per-city sums of the last pass."""
        m = self.masses
        # Digital integration (indicator 19) lets the same staff do more inspections.
        effective_capacity = self.capacity * self.regulator_effectiveness
        self.random_prob_by_class, self.routine_prob_per_visibility, self.lead_coverage = rules.inspection_plan(
            effective_capacity, m[:, passes.MASS_REGISTERED], self.dual_random_share, self.credit_application_share,
            m[:, passes.MASS_RISK:passes.MASS_RISK + 4], m[:, passes.MASS_VISIBILITY], m[:, passes.MASS_VIOLATING],
            self.p)

    def _supervise(self, ctx: MonthContext) -> None:
        """Processes 6-8 and the month-end stocks in one pass (:func:`sim.engines.passes.supervise`)."""
        e, p = self.e, self.p
        fine, severity = np.asarray(ctx.levers.fine_level), np.asarray(ctx.levers.credit_penalty_severity)
        bounds = kernels.NO_BOUNDS
        if self.n >= SCREEN_FROM:
            bounds = kernels.exit_hazard_bounds(ctx.hazard_table, passes.smallest_after_fines(
                self.smallest_log_size, fine, p), ctx.log_size_min, severity, ctx.world.gdp_growth,
                ctx.world.exit_shock, p)
        bases = self._stream_bases()[SUPERVISION_STREAM_IDS]
        counts = np.empty(passes.N_COUNTS)
        tallies = self._tally_arrays()
        passes.supervise(
            e["status"], e["kind"], e["city"], e["sector"], e["credit_status"], e["age_months"],
            e["months_in_status"], e["months_since_penalty"], e["months_dormant"], e["memory"], e["log_size"],
            e["marginal"], e["violating"], e["weight"], e["key"], self.risk, self.visibility, bases,
            self.random_prob_by_class, self.routine_prob_per_visibility, self.lead_coverage,
            np.asarray(ctx.detection), fine, severity, ctx.month == 6, ctx.hazard_table, np.asarray(ctx.log_size_min),
            np.asarray(ctx.levers.simplified_deregistration), np.asarray(ctx.levers.compulsory_deregistration),
            np.asarray(ctx.levers.compulsory_deregistration_months), ctx.world.gdp_growth, ctx.world.exit_shock,
            bounds, self.p.conversion_size_exponent, e["size_factor"], self.pt, counts, *tallies, self.individual_sizes,
            kernels.BLOCK)
        for field, value in zip(passes.COUNT_FIELDS, counts):
            self.record[field] += float(value)
        self.dead += int(counts[-1])
        self._record_stocks(*tallies)

    # ------------------------------------------------------------------ records
    def _tally_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return np.empty(8), np.empty(N_CITIES), np.empty((N_CITIES, N_SECTORS)), np.empty((N_CITIES, N_SECTORS))

    def _tally(self) -> None:
        """End-of-month stocks and peers' violation shares, in one pass."""
        e = self.e
        tallies = self._tally_arrays()
        kernels.tally(e["status"], e["kind"], e["city"], e["sector"], e["credit_status"], e["violating"], e["weight"],
                      N_CITIES, N_SECTORS, *tallies, kernels.BLOCK)
        self._record_stocks(*tallies)

    def _record_stocks(self, totals: np.ndarray, by_city: np.ndarray, peer_active: np.ndarray,
                       peer_violating: np.ndarray) -> None:
        r = self.record
        share = np.where(peer_active > 0, peer_violating / np.maximum(peer_active, 1e-12), self.p.peer_reference)
        self.peer_violation = share.tolist()
        self.ctx.peer_violation = self.peer_violation
        company, other, individual, active_w, dormant_w, abnormal_w, serious_w, violating_w = map(float, totals)
        r["registered"] = company + other + individual
        r["registered_company"], r["registered_other"], r["registered_individual"] = company, other, individual
        r.update(zip(CITY_FIELDS, by_city.tolist()))
        r["active"], r["dormant"] = active_w, dormant_w
        r["abnormal_listed"], r["serious_listed"] = abnormal_w, serious_w
        r["compliance_rate"] = 100.0 * (1.0 - violating_w / active_w) if active_w else 100.0
        total = by_city.sum()
        city_weights = by_city / total if total else np.full(N_CITIES, 1 / N_CITIES)
        r["dual_random_share"] = float((city_weights * self.dual_random_share).sum())
        r["credit_application_share"] = float((city_weights * self.credit_application_share).sum())
