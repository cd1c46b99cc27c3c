"""The monthly processes of the simulated firms and the trademark cohorts: a mixin of
:class:`~sim.submodels.innovation.model.Innovation`, whose ``step`` calls them in this order: the
firms' month (exit, credit listing and repair, patents, overseas filings, standards, certification:
one compiled call, :mod:`sim.submodels.innovation.month`), entry, trademarks. Firm events come from
the clocks (:func:`sim.submodels.innovation.clocks.fire`); every other draw is on the submodel's
streams (``Innovation._uniform``). docs/ODD.md 7.4 describes them."""

from __future__ import annotations

import math

import numpy as np

from sim.core import compiled, rules
from sim.submodels.innovation.clocks import enter_firms
from sim.submodels.innovation.month import (EXITED, LEAVERS, LOST_LISTING, N_OUT, NEW_STANDARDS, OVERSEAS_GRANTS,
                                            SCRATCH_LISTS, WITHOUT_PATENTS, MonthRates, firm_month, month_bases)
from sim.submodels.innovation.parameters import STREAMS
from sim.submodels.innovation.rules import band_log_excess, firm_exit_hazard, listing_hazard, tail_log_excess

ENTRY_MONTHS = 3  # entrants drawn each month are added at the end of each quarter
# The entrants' streams, in the order of ``enter_firms``'s bases (their cities are drawn as the 2020 firms' are).
ENTRY_STREAM_IDS = np.array([STREAMS[s] for s in ("entry_size", "entry_category", "entry_holder")], np.int64)


class MonthlyProcesses:
    """A month of the firms' processes and the trademark cohorts. Reads and sets the attributes of
    ``Innovation``."""

    def _firm_month(self, step: int, gdp: float, shock: float) -> None:
        """The firms' month in one compiled call (:func:`~sim.submodels.innovation.month.firm_month`:
        exit, credit listing and repair, patents, overseas filings, standards, certification), then
        what is not about single firms: the trademark weight of the firms that left, the non-firm
        patent stock, and standards abolished."""
        q, t, p, r = self.params, self.firms, self.entity_params, self.rates
        exit_hazard = firm_exit_hazard(1.0, 0.0, self.penalty_severity, gdp, shock, p)
        listing, abnormal = listing_hazard(self.detection_rate / q.detection_rate_2020, self.penalty_severity, q, p)
        stage = 1.0 / q.overseas_stage_months
        scalars = np.array([exit_hazard / 12.0, listing / 12.0, self.grant_scalar / 12.0, 1.0 / 12.0,
                            self.overseas_scalar / 12.0, stage, stage, self.standard_scalar / 12.0,
                            self.cert_scalar / 12.0, self.intl_scalar / 12.0])
        bases = month_bases(self.seed, step, self.clock_base)
        rates = MonthRates(abnormal / max(listing, 1e-12), p.abnormal_repair_rate, p.serious_repair_rate,
                           p.serious_min_months, p.penalty_memory_months, r["high_value_share_of_grants"],
                           q.invention_lapse, q.high_value_lapse, q.overseas_grant_ratio, self.intl_lapse_ratio)
        g, out, n = t.groups, np.zeros(N_OUT, np.int64), t.n_rows
        scratch = self._scratch(SCRATCH_LISTS)
        firm_month(n, step, scalars, bases, rates, g["key"], g["floats"], g["ints"], g["flags"], g["factor"],
                   g["trigger"], g["threshold_left"], g["events"], g["candidate"], self.clock_totals,
                   self.clock_horizons, self._candidate_lists(), self.n_candidates, self.category_has_standard,
                   self._category_order, self._category_start, self._category_indexed_rows, self._clock_scalars(),
                   self.listed_exit_effect, self._listed_list(), self.n_listed_rows, out, scratch)
        leavers = scratch[LEAVERS * n:(LEAVERS + 1) * n]
        f_tm, exited = t["f_tm"], out[EXITED]
        self.trademark_weight -= float(f_tm[leavers[:exited]].sum())  # (as numpy adds them: the same bits)
        self.trademark_weight -= float(f_tm[leavers[exited:exited + out[WITHOUT_PATENTS]]].sum())
        self.month_lost_listing = float(out[LOST_LISTING])
        self.month_overseas_grants = float(out[OVERSEAS_GRANTS])
        # universities, institutes and individuals: one aggregate stock
        nf = self.nonfirm_high_value
        new = rules.large_count(self._uniform("nonfirm_grants", 0, step), nf * self.nonfirm_scalar / 12.0)
        lapsed = rules.large_count(self._uniform("nonfirm_lapse", 0, step), nf * q.high_value_lapse / 12.0)
        self.nonfirm_high_value = max(0.0, nf + new - lapsed)
        self.standards += float(out[NEW_STANDARDS])
        abolished = rules.large_count(self._uniform("standards_abolish", 0, step),
                                      self.standards * q.standards_abolish_rate / 12.0)
        self.standards = max(0.0, self.standards - abolished)

    def _entry(self, step: int, summary: dict[str, float], gdp: float) -> None:
        q, p, r = self.params, self.entity_params, self.rates
        companies = float(summary.get("registered_company", 0.0) or 0.0) or self.companies_2020
        pool = (companies / self.companies_2020) ** q.entry_company_elasticity
        economy = rules.economy_factor(gdp, q.entry_gdp_elasticity, p)
        n_ind = rules.large_count(self._uniform("entry_count", 0, step), r["industrial_entry_2020"] * pool * economy / 12.0)
        n_hold = rules.large_count(self._uniform("holder_entry_count", 0, step),
                              r["holder_entry_2020"] * pool * self.holder_entry_factor / 12.0)
        self._pending_entrants[0] += n_ind
        self._pending_entrants[1] += n_hold
        if step % ENTRY_MONTHS == ENTRY_MONTHS - 1 and sum(self._pending_entrants):
            # the quarter's entrants join together at its end (sizes move only in January)
            self._add_firms(step, *self._pending_entrants)
            self._pending_entrants = [0, 0]

    def _add_firms(self, step: int, n_ind: int, n_hold: int) -> None:
        """Firms coming in: ``n_ind`` industrial ones from below into the band, ``n_hold`` new
        non-industrial holders of a first invention patent."""
        q, t = self.params, self.firms
        sl = t.add(n_ind + n_hold)
        g, u = t.groups, np.empty(n_ind + n_hold)
        enter_firms(sl.start, n_ind, n_hold, step, self.city_base, compiled.stream_bases(self.seed, ENTRY_STREAM_IDS, step),
                    self.city_cdf, self.n_categories, q.entrant_holder_share, self.rates["high_value_share_of_grants"],
                    g["key"][0], g["ints"], g["flags"], u)
        industrial = t["industrial"][sl]
        t["log_size"][sl] = self.log_threshold + np.where(
            industrial, band_log_excess(u, self.size_tail_alpha, q.band_log_width),
            q.other_holder_log_offset + tail_log_excess(u, self.size_tail_alpha, q.largest_log_excess))
        self._refresh_factors(sl)
        self._start_clocks(sl)

    def _trademarks(self, year: int, step: int, summary: dict[str, float], gdp: float) -> None:
        q, r, p = self.params, self.rates, self.entity_params
        month = step % 12 + 1
        companies = float(summary.get("registered_company", 0.0) or 0.0) or self.companies_2020
        others = float(summary.get("registered_other", 0.0) or 0.0) or self.others_2020
        individuals = float(summary.get("registered_individual", 0.0) or 0.0) or self.individuals_2020
        base = companies * r["tm_company"] + others * r["tm_other"] + individuals * r["tm_individual"] \
            + self.trademark_weight * r["tm_firm"]
        economy = rules.economy_factor(gdp, q.trademark_gdp_elasticity, p)
        z = rules.normal_quantile(self._uniform("trademark_year", 0, year))
        year_factor = math.exp(q.trademark_year_sigma * z - 0.5 * q.trademark_year_sigma ** 2)
        trend = (1.0 + q.trademark_filing_trend) ** ((step + 1) / 12.0)
        filings = rules.large_count(self._uniform("trademark_month", 0, step),
                               base * self.trademark_support * economy * year_factor * trend / 12.0)
        self.trademark_queue.append(float(filings))
        registered = self.trademark_queue.pop(0)
        self.month_registrations = registered
        # the cohort whose term began ten years before reaches expiry over the year: renewed or lapsed
        start = year - int(q.trademark_term_years)
        due = self.cohorts.get(start, 0.0) / (13 - month)
        if due > 0.0:
            mean = due * q.trademark_renewal
            sd = math.sqrt(max(1e-9, mean * (1.0 - q.trademark_renewal)))
            z = rules.normal_quantile(self._uniform("trademark_renewal", 0, step))
            renewed = min(due, max(0.0, round(mean + sd * z)))
            self.cohorts[start] -= due
            self.cohorts[year] = self.cohorts.get(year, 0.0) + renewed
        keep = (1.0 - q.trademark_cancel_rate) ** (1.0 / 12.0)
        for y in self.cohorts:
            self.cohorts[y] *= keep
        self.cohorts[year] = self.cohorts.get(year, 0.0) + registered
