"""The monthly processes of the simulated firms and the trademark cohorts: a mixin of
:class:`~sim.submodels.innovation.model.Innovation`, whose ``step`` calls them in this order: exit,
credit listing and repair, patents, overseas filings, standards, certification, entry, trademarks.
Firm events come from the clocks (``Innovation._fire``); every other draw is on the submodel's
streams (``Innovation._uniform``). docs/ODD.md 7.4 describes them."""

from __future__ import annotations

import math

import numpy as np

from sim.core import rules
from sim.submodels.innovation.clocks import credit_scan
from sim.submodels.innovation.parameters import ABNORMAL, NORMAL, SERIOUS
from sim.submodels.innovation.rules import band_log_excess, firm_exit_hazard, listing_hazard, tail_log_excess
from sim.submodels.innovation.table import NEVER

ENTRY_MONTHS = 3  # entrants drawn each month are added at the end of each quarter


class MonthlyProcesses:
    """A month of the firms' processes and the trademark cohorts. Reads and sets the attributes of
    ``Innovation``."""

    def _leave(self, rows: np.ndarray) -> None:
        """Firms leaving the simulated strata (exit, or a non-industrial firm without patents left):
        their patents lapse, filings in examination and certificates end; standards stay in force."""
        t = self.firms
        rows = np.unique(rows)
        rows = rows[t["alive"][rows]]
        self.trademark_weight -= float(t["f_tm"][rows].sum())
        t["alive"][rows] = False
        for name in ("n_inv", "n_hv", "pend1", "pend2", "n_intl"):
            t[name][rows] = 0
        t["certified"][rows] = False
        t["factor"][:, rows] = 0.0
        t["trigger"][:, rows] = np.inf

    def _exit(self, step: int, gdp: float, shock: float) -> None:
        hazard = firm_exit_hazard(1.0, 0.0, self.penalty_severity, gdp, shock, self.entity_params)
        rows, _ = self._fire("exit", hazard / 12.0, step)
        if rows.size:
            self._leave(rows)

    def _credit(self, step: int) -> None:
        q, t, p = self.params, self.firms, self.entity_params
        total, abnormal = listing_hazard(self.detection_rate / q.detection_rate_2020, self.penalty_severity, q, p)
        listed, _ = self._fire("listing", total / 12.0, step)
        credit = t["credit"]
        if listed.size:
            u = self._uniform("type_listing", t["key"][listed], step)
            credit[listed] = np.where(u < abnormal / max(total, 1e-12), ABNORMAL, SERIOUS)
            t["listed_step"][listed] = step
            t["status_step"][listed] = step
            lost = listed[t["certified"][listed]]
            self.month_lost_listing = float(lost.size)
            t["certified"][lost] = False
            t["n_intl"][lost] = 0
        # repair: off the abnormal list at once when repaired, off the serious list after a minimum time
        g = t.groups
        on_list, cleared = np.empty(t.n_rows, np.int64), np.empty(t.n_rows, np.int64)
        a, b = credit_scan(t.n_rows, g["ints"], g["flags"], step - int(p.penalty_memory_months), on_list, cleared)
        on_list, cleared = on_list[:a], cleared[:b]
        status = credit[on_list]
        chance = np.where(status == ABNORMAL, p.abnormal_repair_rate,
                          np.where(step - t["status_step"][on_list] >= p.serious_min_months, p.serious_repair_rate, 0.0))
        repaired = on_list[self._uniform("repair", t["key"][on_list], step) < chance]
        credit[repaired] = NORMAL
        t["status_step"][repaired] = step
        # rebase the listed, the repaired, and firms listed 36 months ago (``cleared``), whose record
        # becomes clean if they are off the lists (a row given twice is rebased twice: no change)
        self._rebase(("exit", "listing", "standard", "cert", "intl"), np.concatenate((listed, repaired, cleared)))

    def _patents(self, step: int) -> None:
        q, t, r = self.params, self.firms, self.rates
        n_inv, n_hv = t["n_inv"], t["n_hv"]
        got, count = self._fire("patent", self.grant_scalar / 12.0, step)
        if got.size:
            u = self._uniform("type_patent", t["key"][got], step)
            hv = rules.binomial_count(u, count, r["high_value_share_of_grants"])
            n_inv[got] += count
            n_hv[got] += hv
        lost, lapses = self._fire("lapse", 1.0 / 12.0, step)
        if lost.size:
            lapses = np.minimum(lapses, n_inv[lost])
            rate = q.invention_lapse * (n_inv[lost] - n_hv[lost]) + q.high_value_lapse * n_hv[lost]
            share = q.high_value_lapse * n_hv[lost] / np.maximum(1e-12, rate)
            u = self._uniform("type_lapse", t["key"][lost], step)
            hv = np.minimum(rules.binomial_count(u, lapses, share), n_hv[lost])
            n_inv[lost] -= lapses
            n_hv[lost] = np.minimum(n_hv[lost] - hv, n_inv[lost])
        changed = np.concatenate((got, lost))
        self._rebase(("patent", "lapse", "ofile"), changed)
        gone = changed[(n_inv[changed] == 0) & ~t["industrial"][changed] & t["alive"][changed]]
        if gone.size:  # a non-industrial firm without patents leaves the simulated strata
            self._leave(gone)
        # universities, institutes and individuals: one aggregate stock
        nf = self.nonfirm_high_value
        new = rules.large_count(self._uniform("nonfirm_grants", 0, step), nf * self.nonfirm_scalar / 12.0)
        lapsed = rules.large_count(self._uniform("nonfirm_lapse", 0, step), nf * q.high_value_lapse / 12.0)
        self.nonfirm_high_value = max(0.0, nf + new - lapsed)

    def _overseas(self, step: int) -> None:
        q, t = self.params, self.firms
        pend1, pend2 = t["pend1"], t["pend2"]
        filers, filings = self._fire("ofile", self.overseas_scalar / 12.0, step)
        h = 1.0 / q.overseas_stage_months
        moving, moved = self._fire("stage1", h, step)
        deciding, decided = self._fire("stage2", h, step)
        moved = np.minimum(moved, pend1[moving])
        decided = np.minimum(decided, pend2[deciding])
        pend1[moving] -= moved
        pend2[moving] += moved
        pend2[deciding] -= decided
        pend1[filers] += filings
        if deciding.size:
            granted = rules.binomial_count(self._uniform("type_stage2", t["key"][deciding], step), decided,
                                       q.overseas_grant_ratio)
            t["os_grants"][deciding] += granted
            self.month_overseas_grants = float(granted.sum())
        self._rebase(("stage1", "stage2"), np.concatenate((filers, moving, deciding)))

    def _standards(self, step: int) -> None:
        q, t = self.params, self.firms
        led, new = self._fire("standard", self.standard_scalar / 12.0, step)
        if led.size:
            t["n_std"][led] += new
            self.standards += float(new.sum())
            categories = np.unique(t["category"][led])
            fresh = categories[~self.category_has_standard[categories]]
            self.category_has_standard[categories] = True
            mates = self._category_rows(fresh) if fresh.size else np.zeros(0, np.int64)
            self._rebase(("standard", "cert"), np.concatenate((led, mates)))
        abolished = rules.large_count(self._uniform("standards_abolish", 0, step),
                                 self.standards * q.standards_abolish_rate / 12.0)
        self.standards = max(0.0, self.standards - abolished)

    def _certification(self, step: int) -> None:
        t = self.firms
        certified, n_intl = t["certified"], t["n_intl"]
        changed, _ = self._fire("cert", self.cert_scalar / 12.0, step)
        if changed.size:  # certification of eligible firms, non-renewal of certified ones
            lapsing = changed[certified[changed]]
            certified[changed] = ~certified[changed]
            n_intl[lapsing] = 0
        rows, events = self._fire("intl", self.intl_scalar / 12.0, step)
        if rows.size:  # a new international certificate (certified firms) or the lapse of one
            gain = t["f_intl"][rows] * certified[rows]
            share = gain / np.maximum(1e-12, gain + self.intl_lapse_ratio * n_intl[rows])
            gained = rules.binomial_count(self._uniform("type_intl", t["key"][rows], step), events, share)
            n_intl[rows] = np.maximum(0, n_intl[rows] + gained - (events - gained))
        self._rebase(("cert", "intl"), np.concatenate((changed, rows)))

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
        d = t.full_columns
        kind = np.repeat(np.array([0, 1], np.uint64), (n_ind, n_hold))
        index = np.concatenate((np.arange(n_ind), np.arange(n_hold))).astype(np.uint64)
        keys = (np.uint64(step + 1) << np.uint64(24)) | (kind << np.uint64(20)) | index
        industrial = kind == 0
        d["key"][sl] = keys
        self._assign_cities(sl)
        d["alive"][sl] = True
        d["industrial"][sl] = industrial
        d["listed_step"][sl] = NEVER
        d["status_step"][sl] = NEVER
        u = self._uniform("entry_size", keys, step)
        d["log_size"][sl] = self.log_threshold + np.where(
            industrial, band_log_excess(u, self.size_tail_alpha, q.band_log_width),
            q.other_holder_log_offset + tail_log_excess(u, self.size_tail_alpha, q.largest_log_excess))
        d["category"][sl] = np.where(
            industrial, (self._uniform("entry_category", keys, step) * self.n_categories).astype(np.int64), -1)
        holder = ~industrial | (self._uniform("entry_holder", keys, step) < q.entrant_holder_share)
        hv = self._uniform("entry_holder", keys | np.uint64(1 << 19), step) < self.rates["high_value_share_of_grants"]
        d["n_inv"][sl] = holder
        d["n_hv"][sl] = holder & hv
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
