"""The innovation submodel's state and its month: :class:`Innovation` (the trademark cohorts and the
simulated firms, their clocks, the monthly step and the indicator values) and :func:`run_innovation`
(the submodel alone, for tests and quick looks). The 2020 state and its rates are set by
:class:`~sim.submodels.innovation.initial.InitialState`, the month's processes run in
:class:`~sim.submodels.innovation.processes.MonthlyProcesses`; see the package docstring."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.core import compiled  # noqa: F401  (registers the rules numba compiles: rules.uniform_from_key, ...)
from sim.core import rules
from sim.core.population import city_shares
from sim.core.calendar import MAX_FIRM_SCALE, firm_scale
from sim.inputs.resolved import ResolvedLevers
from sim.submodels.base import Submodel
from sim.inputs.scenario import Scenario
from sim.submodels.innovation.clocks import (draw_cities, ever_listed, group_by_category, grow_firms, rebase_clocks,
                                             size_factors, start_thresholds, tally)
from sim.submodels.innovation.initial import InitialState
from sim.submodels.innovation.parameters import (AGGREGATION, BASE_YEAR, CLOCKS, INDICATORS, NORMAL, STREAMS, YEARLY,
                                                 InnovationParameters)
from sim.submodels.innovation.processes import MonthlyProcesses
from sim.submodels.innovation.table import FirmTable, clock_ids


class MonthLike(Protocol):
    year: int
    month: int
    step: int


@dataclass(frozen=True)
class MonthContext:
    """A month as ``Innovation.step`` reads it (the engines pass their own month context)."""

    year: int
    month: int
    step: int


class Innovation(Submodel, InitialState, MonthlyProcesses):
    """Trademark cohorts and the simulated firms behind plan indicators 4-7 and 11-13.

    Args:
        policy: The scenario (levers by year, uncertainties, entity-model parameters).
        seed: Run seed; the same seed gives identical numbers.
        params: Innovation parameters; the defaults if None.
        firm_scale: Real firms per simulated firm (1: one to one, at most 10); every 2020 count is divided by
            it and every count in the outputs multiplied by it.

    Attributes:
        initial_values: The indicators at the end of 2020 (the plan's baselines) and the extra fields.
        rates: Rates set at initialisation from the 2020 state and the history (see docs/ODD.md 7.4).
        firms: The simulated firms, a :class:`FirmTable` (``firms["log_size"]``, ``firms["n_inv"]``,
            ... over the rows; rows of firms that left have ``alive`` False until the yearly compaction).
        firm_scale: Real firms per simulated firm.
        params: The innovation parameters; ``entity_params`` the entity model's (``policy.parameters``).
        clock_totals, clock_horizons, candidates, n_candidates: Each clock's cumulative monthly scalar,
            the horizon of its candidate list and the candidates (``candidates[c, :n_candidates[c]]``,
            rows whose trigger falls within the horizon).
        listed_rows, n_listed_rows: The rows of firms ever listed (``listed_rows[:n_listed_rows[0]]``),
            the only ones the month's credit scan reads.
    """

    name = "innovation"
    streams = STREAMS
    indicators = INDICATORS
    aggregation = AGGREGATION

    @classmethod
    def for_run(cls, policy: Scenario, levers: ResolvedLevers, seed: int, scale: float) -> Innovation:
        """The firms at the end of 2020 for one run: one simulated firm for ``firm_scale(scale)`` real ones."""
        return cls(policy, seed, firm_scale=firm_scale(scale), levers=levers)

    def __init__(self, policy: Scenario, seed: int, params: InnovationParameters | None = None,
                 firm_scale: float = 1.0, levers: ResolvedLevers | None = None) -> None:
        if not 1.0 <= firm_scale <= MAX_FIRM_SCALE:  # (coarser samples leave the smaller strata without a firm)
            raise ValueError(f"firm_scale must be from 1 to {MAX_FIRM_SCALE:g} (real firms per simulated firm), "
                             f"got {firm_scale}")
        self.policy = policy
        self.levers = levers or ResolvedLevers(policy)
        self.seed = int(seed)
        self.firm_scale = float(firm_scale)
        self.params = q = params or policy.submodel_parameters["innovation"]
        self.entity_params = p = policy.parameters
        self.entity_params_tuple = compiled.parameter_tuple(p)  # the parameters as compiled code reads them
        self.log_threshold = math.log(q.above_scale_threshold)
        self.size_tail_alpha = p.size_tail_alpha
        # the main model's 2020 register (the engines' initial record has the same numbers)
        self.companies_2020 = p.enterprises_2020 * 1e4 * p.company_share_of_enterprises_2020
        self.others_2020 = p.enterprises_2020 * 1e4 * (1.0 - p.company_share_of_enterprises_2020)
        self.individuals_2020 = (p.entities_2020 - p.enterprises_2020) * 1e4
        self.population = q.population_2020
        self.detection_rate = q.detection_rate_2020  # moving average of the main model's detection rate
        self.step_now = -1
        self.year_now = BASE_YEAR
        self._clock_scalars_when: tuple[int, int] | None = None
        self.firms: FirmTable  # set by _init_firms
        self.clock_totals = np.zeros(len(CLOCKS))  # cumulative scalar of each clock
        self.clock_horizons = np.full(len(CLOCKS), -np.inf)  # horizon of each clock's candidate list
        self.candidates = np.zeros((len(CLOCKS), 0), np.int64)  # each clock's candidate rows (a row per clock)
        self.n_candidates = np.zeros(len(CLOCKS), np.int64)  # and their number
        self.listed_rows = np.zeros(0, np.int64)  # rows of firms ever listed (see _index_listed)
        self.n_listed_rows = np.zeros(1, np.int64)  # and their number
        self._scratch_rows = np.zeros(0, np.int64)  # the month's row lists (see _scratch)
        self.clock_base = np.uint64(rules.crn_base(self.seed, STREAMS["clock"], -2))
        self.city_base = np.uint64(rules.crn_base(self.seed, STREAMS["firm_city"], -1))
        self.city_cdf = np.cumsum(city_shares())  # (firms' cities are drawn on the cities' cumulative shares)
        self.month_overseas_grants = 0.0
        self.month_registrations = 0.0
        self.month_lost_listing = 0.0
        self.rates: dict[str, float] = {}
        self._pending_entrants = [0, 0]  # entrants drawn this quarter, not yet added
        self._init_firms()
        self._init_patents()
        self._init_standards_and_certs()
        self._refresh_factors()
        self._index_categories()
        self._index_listed()
        self._calibrate()
        self._set_levers(BASE_YEAR)
        self._start_clocks(slice(0, self.firms.n_rows))
        self._init_trademarks()
        self.initial_values = self.values()
        self.initial_values["overseas_patent_grants"] = q.overseas_grants_2020
        self.initial_values["trademark_registrations"] = self.rates["trademark_registrations_2020"]
        self.initial_values["certifications_lost_to_listing"] = 0.0

    # ------------------------------------------------------------------ helpers
    def _uniform(self, stream: str, key, step: int):
        return rules.crn_uniform(self.seed, STREAMS[stream], key, step)

    def _assign_cities(self, rows: slice) -> None:
        """Each new firm's city, drawn in proportion to the cities' shares of the register (the entity
        model's initial population and entrants use the same shares)."""
        g = self.firms.groups
        draw_cities(rows.start, rows.stop, g["key"][0], self.city_base, self.city_cdf, g["ints"])

    def _set_levers(self, year: int) -> None:
        """The year's lever values and the clock ratios that fold them into factors."""
        q, r, p = self.params, self.rates, self.entity_params
        levers = self.levers.year(year)
        lever = levers.province
        self.year_now = year
        # the credit penalty bites by city: a city override reaches its firms' growth and exit hazard
        self.severity_by_city = np.array(levers.city.credit_penalty_severity)
        self.listed_exit_effect = p.hazard_listed_effect * self.severity_by_city
        self.penalty_severity = lever.credit_penalty_severity
        ip = lever.ip_programme
        self.grant_scalar = r["grants_per_invention"] * ip ** q.ip_grant_elasticity
        first = q.first_patent_hazard * ip ** q.ip_first_elasticity
        self.first_patent_ratio = first / self.grant_scalar if self.grant_scalar > 0 else 0.0
        self.overseas_scalar = r["overseas_filings_per_hv"] * ip ** q.ip_overseas_elasticity
        self.nonfirm_scalar = r["nonfirm_grants_per_patent"] * ip ** q.ip_grant_elasticity
        self.holder_entry_factor = ip ** q.ip_first_elasticity
        brand = lever.brand_programme ** q.brand_elasticity
        # the Zhejiang Made diffusions: this year's rates give the fitted logistic pace at the simulated
        # counts (falling as a count nears its ceiling), scaled by the programmes
        year_rates = self.adoption_rates()
        # (kept above zero: with the programme at 0 nobody is certified, but certificates still lapse)
        self.cert_scalar = max(year_rates["cert_rate"] * brand, 1e-9)
        self.cert_lapse_ratio = q.cert_lapse / self.cert_scalar
        self.intl_scalar = max(year_rates["intl_rate"] * brand, 1e-9)
        self.intl_lapse_ratio = q.intl_lapse / self.intl_scalar
        self.standard_scalar = year_rates["standard_rate"] * lever.standards_programme ** q.zhejiang_made_elasticity
        self.trademark_support = lever.trademark_support ** q.trademark_support_elasticity

    def adoptions(self) -> list[tuple[str, float, float, float]]:
        """(name, count now in real units, ceiling, rate) of the three Zhejiang Made diffusions:
        standards, Pinzi-brand firms, international certificates."""
        q, t, scale = self.params, self.firms, self.firm_scale
        _, _, _, intl, certified = tally(t.n_rows, t.groups["ints"], t.groups["flags"])
        standards, brand = self.capacity_factors()
        return [("standards", scale * float(self.standards), q.standards_ceiling * standards,
                 q.standards_diffusion_rate),
                ("pinzi", scale * float(certified), q.pinzi_ceiling * brand, q.pinzi_diffusion_rate),
                ("intl", scale * float(intl), q.intl_certs_ceiling * brand, q.intl_certs_diffusion_rate)]

    def capacity_factors(self) -> tuple[float, float]:
        """How far this year's programmes move the fitted ceilings (standards, then the brand's two):
        ``L^standards_capacity_elasticity`` and ``L^brand_capacity_elasticity``, 1 at 2020 practice."""
        q, lever = self.params, self.levers.year(self.year_now).province
        return (lever.standards_programme ** q.standards_capacity_elasticity,
                lever.brand_programme ** q.brand_capacity_elasticity)

    # ------------------------------------------------------------------ factors, categories and eligibility
    def _refresh_factors(self, rows: slice | None = None) -> None:
        """Size factors of the hazards (sizes move once a year) and the above-scale flag; for every
        row (and the firms' trademark filing weight) unless a slice of new ``rows`` is given."""
        q, t = self.params, self.firms
        start, stop = (0, t.n_rows) if rows is None else (rows.start, rows.stop)
        weight = size_factors(start, stop, t.groups["floats"], t.groups["flags"], self.log_threshold,
                              q.largest_log_excess, q.first_patent_size_elasticity, q.standard_size_elasticity,
                              q.cert_size_elasticity, q.intl_size_elasticity, q.trademark_size_elasticity,
                              q.trademark_nonindustrial_factor, self.entity_params_tuple)
        # the firms' trademark filing weight
        self.trademark_weight = weight if rows is None else self.trademark_weight + weight

    def _index_categories(self) -> None:
        """Rows grouped by product category, to find a category's firms (rebuilt at each compaction;
        rows added since are searched directly)."""
        self._category_order = np.empty(self.firms.n_rows, np.int64)
        self._category_start = np.zeros(self.n_categories + 1, np.int64)
        group_by_category(self.firms["category"], self._category_order, self._category_start)
        self._category_indexed_rows = self.firms.n_rows

    def _index_listed(self) -> None:
        """The rows of firms ever listed, the only ones the month's credit scan reads (rebuilt at each
        compaction; firms listed for the first time are added as they are listed)."""
        self.listed_rows = np.empty(self.firms.groups["key"].shape[1], np.int64)
        self.n_listed_rows[0] = ever_listed(self.firms.n_rows, self.firms.groups["ints"], self.listed_rows)

    def _listed_list(self) -> np.ndarray:
        """``listed_rows`` with room for every row."""
        capacity = self.firms.groups["key"].shape[1]
        if self.listed_rows.size < capacity:
            grown = np.empty(capacity, np.int64)
            grown[:self.n_listed_rows[0]] = self.listed_rows[:self.n_listed_rows[0]]
            self.listed_rows = grown
        return self.listed_rows

    # ------------------------------------------------------------------ what the firms' rates depend on
    def _clean_record(self, rows) -> np.ndarray:
        """A clean credit record: on no list, and none within the penalty memory."""
        d = self.firms.full_columns
        memory = self.entity_params.penalty_memory_months
        return (d["credit"][rows] == NORMAL) & (self.step_now - d["listed_step"][rows] >= memory)

    def _has_category_standard(self, rows) -> np.ndarray:
        """Whether a firm's product category has a Zhejiang Made standard."""
        cat = self.firms.full_columns["category"][rows]
        return (cat >= 0) & self.category_has_standard[np.maximum(cat, 0)]

    # ------------------------------------------------------------------ clocks
    def _clock_scalars(self) -> np.ndarray:
        """What the clocks' factors read besides the firms' state (see ``rebase_clocks``); they change
        with the month and the year's levers."""
        when = (self.step_now, self.year_now)
        if self._clock_scalars_when != when:
            self._clock_scalars_when, self._clock_scalars_now = when, self._compute_clock_scalars()
        return self._clock_scalars_now

    def _compute_clock_scalars(self) -> np.ndarray:
        q, p = self.params, self.entity_params
        return np.array([self.first_patent_ratio, q.invention_lapse,
                         q.high_value_lapse, q.covered_category_factor, q.cert_leader_factor, self.cert_lapse_ratio,
                         self.intl_lapse_ratio, p.penalty_memory_months, float(self.step_now)])

    def _candidate_lists(self) -> np.ndarray:
        """The clocks' candidate lists (``candidates[c, :n_candidates[c]]``), with room for every row."""
        capacity = self.firms.groups["key"].shape[1]
        if self.candidates.shape[1] < capacity:
            grown = np.zeros((len(CLOCKS), capacity), np.int64)
            grown[:, :self.candidates.shape[1]] = self.candidates
            self.candidates = grown
        return self.candidates

    def _scratch(self, lists: int) -> np.ndarray:
        """Room for ``lists`` lists of row numbers as long as the table's capacity, kept from month to month."""
        size = lists * self.firms.groups["key"].shape[1]
        if self._scratch_rows.size < size:
            self._scratch_rows = np.empty(size, np.int64)
        return self._scratch_rows

    def _rebase(self, clocks, rows) -> None:
        """Refresh clocks' factors for rows whose state changed, keeping each firm's threshold left,
        and put rows that may fire within a clock's horizon on its candidate list. (A row given
        twice is rebased twice, which changes nothing.)"""
        rows = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else np.asarray(rows, np.int64)
        if rows.size:
            g = self.firms.groups
            rebase_clocks(rows, clock_ids(clocks), self.clock_totals, self.clock_horizons, g["factor"], g["trigger"],
                          g["threshold_left"], g["candidate"], self._candidate_lists(), self.n_candidates, g["floats"],
                          g["ints"], g["flags"], self.category_has_standard, self._clock_scalars(),
                          self.listed_exit_effect)

    def _start_clocks(self, rows: slice) -> None:
        """Fresh thresholds (each firm's first on every clock) and factors for new rows."""
        g = self.firms.groups
        start_thresholds(rows.start, rows.stop, g["key"][0], self.clock_base, g["threshold_left"], g["factor"],
                         g["trigger"])
        self._rebase(CLOCKS, rows)

    # ------------------------------------------------------------------ the month
    def step(self, ctx: MonthLike, summary: dict[str, float]) -> None:
        """Advance trademarks and the simulated firms by one month.

        Args:
            ctx: The month (year, month, step).
            summary: The month's record so far: registered_company, registered_other,
                registered_individual, active, violations_detected, resident_population.
        """
        year, step = int(ctx.year), int(ctx.step)
        q = self.params
        self.step_now = step
        self.month_overseas_grants = 0.0
        self.month_lost_listing = 0.0
        pop = float(summary.get("resident_population", 0.0) or 0.0)
        if pop > 0.0:
            self.population = pop
        else:
            self.population *= (1.0 + self.levers.year(year).world.population_growth / 100.0) ** (1.0 / 12.0)
        active = float(summary.get("active", 0.0) or 0.0)
        if active > 0.0 and "violations_detected" in summary:
            observed = 12.0 * float(summary["violations_detected"]) / active
            self.detection_rate += (observed - self.detection_rate) / q.detection_smoothing_months
        world = self.levers.year(year).world
        gdp = world.gdp_growth
        if year != self.year_now:
            self._new_year(year, step)
        self._firm_month(step, gdp, world.exit_shock)
        self._entry(step, summary, gdp)
        self._trademarks(year, step, summary, gdp)

    def _new_year(self, year: int, step: int) -> None:
        """Once a year: Gibrat growth, drop-outs below the band, rows of firms that left removed,
        size factors and the year's levers; every firm's yearly clocks rebased."""
        q, t = self.params, self.firms
        self._set_levers(year)
        keep = np.empty(t.n_rows, np.bool_)
        grow_firms(t.n_rows, t.groups["key"][0], np.uint64(rules.crn_base(self.seed, STREAMS["growth"], step)),
                   t.groups["floats"], t.groups["ints"], t.groups["flags"], self.severity_by_city,
                   self.entity_params_tuple, self.log_threshold, q.band_log_width, keep)
        t.compact(keep)
        self.clock_horizons[:] = -np.inf  # row numbers changed: candidate lists are rebuilt at the next month
        self.n_candidates[:] = 0
        self._index_categories()
        self._index_listed()
        self._refresh_factors()
        self._rebase(YEARLY, slice(0, t.n_rows))

    # ------------------------------------------------------------------ outputs
    def values(self) -> dict[str, float]:
        """The current value of each indicator in the plan's units, and the extra fields.

        Overseas grants, registrations and certifications lost are this month's flows (the record
        sums them over the year); ``initial_values`` holds the 2020 flows instead.
        """
        t, scale = self.firms, self.firm_scale
        n_above, covered, hv, intl, certified = tally(t.n_rows, t.groups["ints"], t.groups["flags"])
        high_value = scale * float(hv) + self.nonfirm_high_value
        return {
            "valid_trademarks": sum(self.cohorts.values()) / 1e4,
            "high_value_patents_per_10k": high_value / self.population,
            "patent_coverage_above_scale": 100.0 * covered / max(1, n_above),
            "overseas_patent_grants": scale * self.month_overseas_grants,
            "zhejiang_made_standards": scale * float(self.standards),
            "zhejiang_made_intl_certs": scale * float(intl),
            "pinzi_brand_firms": scale * float(certified),
            "above_scale_firms": scale * float(n_above),
            "high_value_patents": high_value,
            "trademark_registrations": float(self.month_registrations),
            "certifications_lost_to_listing": scale * self.month_lost_listing,
        }


def run_innovation(policy: Scenario, seed: int, horizon: int = 2025, company_growth: float = 0.095,
                   individual_growth: float = 0.065, detection_ratio: float = 1.0,
                   params: InnovationParameters | None = None, firm_scale: float = 1.0) -> dict[int, dict[str, float]]:
    """Innovation alone, month by month, with the register growing from its 2020 counts at the given
    rates and detected violations at ``detection_ratio`` times the 2020 rate (tests, quick looks).

    Returns:
        Yearly values: 2020 from the initial state, then each year's December value (flows summed
        over the year, as the engines' records do).
    """
    return simulate_innovation(policy, seed, horizon, company_growth, individual_growth, detection_ratio, params,
                               firm_scale)[1]


def simulate_innovation(policy: Scenario, seed: int, horizon: int = 2025, company_growth: float = 0.095,
                        individual_growth: float = 0.065, detection_ratio: float = 1.0,
                        params: InnovationParameters | None = None,
                        firm_scale: float = 1.0) -> tuple[Innovation, dict[int, dict[str, float]]]:
    """:func:`run_innovation` that also returns the submodel at the end (its firms, for tests)."""
    inn = Innovation(policy, seed, params, firm_scale)
    out = {BASE_YEAR: dict(inn.initial_values)}
    step = 0
    for year in range(BASE_YEAR + 1, horizon + 1):
        months = []
        for month in range(1, 13):
            years = (step + 1) / 12.0
            companies = inn.companies_2020 * (1.0 + company_growth) ** years
            individuals = inn.individuals_2020 * (1.0 + individual_growth) ** years
            active = 0.92 * (companies + inn.others_2020 + individuals)
            summary = {
                "registered_company": companies, "registered_other": inn.others_2020,
                "registered_individual": individuals, "active": active,
                "violations_detected": active * inn.params.detection_rate_2020 * detection_ratio / 12.0,
            }
            inn.step(MonthContext(year, month, step), summary)
            months.append(inn.values())
            step += 1
        out[year] = {name: (float(sum(m[name] for m in months)) if how == "flow" else months[-1][name])
                     for name, how in AGGREGATION.items()}
    return inn, out
