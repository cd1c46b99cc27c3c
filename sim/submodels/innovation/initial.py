"""The 2020 state of the innovation submodel and the rates calibrated on it: a mixin of
:class:`~sim.submodels.innovation.model.Innovation` (its ``__init__`` calls these once, in order:
firms, patents, standards and certification, then, once the size factors are set, the rates and the
trademark cohorts). docs/ODD.md 5 (initialisation) and 7.4 describe them."""

from __future__ import annotations

import math

import numpy as np

from sim.core import rules
from sim.submodels.innovation.clocks import adoption_weights
from sim.submodels.innovation.parameters import ABNORMAL, BASE_YEAR, NORMAL, SERIOUS
from sim.submodels.innovation.rules import (adoption_path, backcast_registrations, band_log_excess, drop_probability,
                                            firm_exit_hazard, listing_hazard, overseas_pipeline,
                                            systematic_allocation, tail_log_excess, trademark_backcast,
                                            trademark_cohorts_2020, weighted_choice)
from sim.submodels.innovation.table import FIRM_GROUPS, NEVER, FirmTable


class InitialState:
    """The simulated firms and trademark cohorts at the end of 2020, and the rates that make them
    move at the 2020 pace (``Innovation.rates``). Reads and sets the attributes of ``Innovation``."""

    # ------------------------------------------------------------------ the firms at the end of 2020
    def _init_firms(self) -> None:
        q, alpha = self.params, self.size_tail_alpha
        n_above = int(round(q.above_scale_2020 / self.firm_scale))
        n_band = int(round(n_above * (math.exp(alpha * q.band_log_width) - 1.0)))
        n_other = int(round(q.other_holders_2020 / self.firm_scale))
        n = n_above + n_band + n_other
        self.firms = t = FirmTable(FIRM_GROUPS, n)
        t["key"][:] = np.arange(n, dtype=np.uint64)
        u = self._uniform("init_size", t["key"], -1)
        x = np.empty(n)
        x[:n_above] = tail_log_excess((np.arange(n_above) + u[:n_above]) / n_above, alpha, q.largest_log_excess)
        x[n_above:n_above + n_band] = band_log_excess((np.arange(n_band) + u[n_above:n_above + n_band]) / n_band,
                                                      alpha, q.band_log_width)
        x[n_above + n_band:] = q.other_holder_log_offset + tail_log_excess(
            (np.arange(n_other) + u[n_above + n_band:]) / n_other, alpha, q.largest_log_excess)
        t["log_size"][:] = self.log_threshold + x
        t["industrial"][:n_above + n_band] = True
        t["alive"][:] = True
        t["listed_step"][:] = NEVER
        t["status_step"][:] = NEVER
        self._assign_cities(slice(0, n))
        self.n_above_2020, self.n_band_2020, self.n_other_2020 = n_above, n_band, n_other
        # holders: exactly coverage_2020 of above-scale firms (larger ones more often), a share of the
        # band, and every non-industrial firm
        u = self._uniform("init_holder", t["key"], -1)
        holder = np.zeros(n, bool)
        above = np.arange(n_above)
        pick = weighted_choice(u[above], np.exp(q.holder_size_slope * x[above]), int(round(q.coverage_2020 * n_above)))
        holder[above[pick]] = True
        band = np.arange(n_above, n_above + n_band)
        holder[band[u[band] < q.band_holder_share]] = True
        holder[n_above + n_band:] = True
        self._holders_2020 = holder

    def _init_patents(self) -> None:
        q, t = self.params, self.firms
        x = t["log_size"] - self.log_threshold
        pop_2018 = q.population_2020 / (1.0 + self.levers.year(BASE_YEAR).world.population_growth / 100.0) ** 2
        inventions = q.firm_share_inventions * q.invention_per_10k_2018 * pop_2018 \
            * (1.0 + q.invention_growth_2018_2020) ** 2 / self.firm_scale
        holders = np.flatnonzero(self._holders_2020)
        extra = systematic_allocation(np.exp(q.portfolio_size_elasticity * x[holders]),
                                      int(round(inventions)) - len(holders), self._uniform("init_patents", 0, -1))
        t["n_inv"][holders] = 1 + extra
        high_value_total = q.high_value_per_10k_2020 * q.population_2020
        firm_hv = int(round(q.firm_share_high_value * high_value_total / self.firm_scale))
        hv = systematic_allocation(t["n_inv"][holders], firm_hv, self._uniform("init_hv", 0, -1))
        t["n_hv"][holders] = np.minimum(hv, t["n_inv"][holders])
        self.nonfirm_high_value = high_value_total - self.firm_scale * float(t["n_hv"].sum())
        # overseas filings in examination, in steady growth at the 2020 pace
        filings, stage1, stage2 = overseas_pipeline(q.overseas_grants_2020 / self.firm_scale, q.patent_growth_2020,
                                                    q.overseas_stage_months, q.overseas_grant_ratio)
        self.rates["overseas_filings_2020"] = filings
        weights = t["n_hv"].astype(float)
        t["pend1"][:] = systematic_allocation(weights, int(round(stage1)), self._uniform("init_pending", 0, -1))
        t["pend2"][:] = systematic_allocation(weights, int(round(stage2)), self._uniform("init_pending", 1, -1))

    def _init_standards_and_certs(self) -> None:
        q, t, p = self.params, self.firms, self.entity_params
        n_ind = self.n_above_2020 + self.n_band_2020
        x = t["log_size"] - self.log_threshold
        self.n_categories = max(1, int(round(n_ind / q.firms_per_category)))
        t["category"][:] = -1
        draws = self._uniform("init_category", t["key"][:n_ind], -1)
        t["category"][:n_ind] = (draws * self.n_categories).astype(np.int64)
        # leaders of the 2020 standards, larger firms first; extra standards to the larger leaders
        standards_2020 = q.standards_2020 / self.firm_scale
        n_leaders = int(round(standards_2020 / q.standards_per_leader))
        leaders = weighted_choice(self._uniform("init_leader", t["key"][:n_ind], -1),
                                  np.exp(q.standard_size_elasticity * x[:n_ind]), n_leaders)
        extra = systematic_allocation(np.exp(q.standard_size_elasticity * x[leaders]),
                                      int(round(standards_2020)) - n_leaders, self._uniform("init_standards", 0, -1))
        t["n_std"][leaders] = 1 + extra
        self.standards = float(t["n_std"].sum())
        self.category_has_standard = np.zeros(self.n_categories, bool)
        self.category_has_standard[t["category"][leaders]] = True
        # credit: firms on a list in the steady state of the 2020 listing and repair rates
        total, abnormal = listing_hazard(1.0, 1.0, q, p)
        share_abn = abnormal / 12.0 / p.abnormal_repair_rate
        share_ser = (total - abnormal) / 12.0 * (p.serious_min_months + 1.0 / p.serious_repair_rate)
        u = self._uniform("init_credit", t["key"], -1)
        months = (self._uniform("init_credit", t["key"] + np.uint64(1 << 32), -1)
                  * p.penalty_memory_months).astype(np.int64) + 1
        listed = u < share_abn + share_ser
        t["credit"][listed] = np.where(u[listed] < share_abn, ABNORMAL, SERIOUS)
        t["listed_step"][listed] = -1 - months[listed]
        t["status_step"][listed] = -1 - months[listed]
        # certified (Pinzi-brand) firms among clean firms with a standard for their product
        x_all = slice(0, t.n_rows)
        weights = np.where(self._has_category_standard(x_all) & self._clean_record(x_all),
                           np.exp(q.cert_size_elasticity * x) * np.where(t["n_std"] > 0, q.cert_leader_factor, 1.0),
                           0.0)
        scale = self.firm_scale
        certified = weighted_choice(self._uniform("init_cert", t["key"], -1), weights, int(round(q.pinzi_2020 / scale)))
        t["certified"][certified] = True
        intl = weighted_choice(self._uniform("init_intl", t["key"][certified], -1),
                               np.exp(q.intl_size_elasticity * x[certified]), int(round(q.intl_certs_2020 / scale)))
        t["n_intl"][certified[intl]] = 1

    # ------------------------------------------------------------------ rates and trademark cohorts
    def _calibrate(self) -> None:
        """Rates that make the 2020 state move at the 2020 pace (history or stated assumption)."""
        q, t, p, r = self.params, self.firms, self.entity_params, self.rates
        listed = (t["credit"] != NORMAL).astype(float)
        h_exit = firm_exit_hazard(t["f_exit"], listed, 1.0, p.gdp_reference, 1.0, p)
        x = t["log_size"] - self.log_threshold
        industrial = t["industrial"]
        n_ind = float(np.count_nonzero(industrial))
        # entry from below: the industrial strata grow at above_scale_growth after exits and drop-outs
        drift = p.growth_drift - p.listed_growth_penalty * listed
        scale = rules.growth_sigma(t["log_size"], p) / math.sqrt(2.0)
        droppable = industrial & (t["n_inv"] == 0) & ~t["certified"] & (t["n_std"] == 0)
        drops = float(np.sum(drop_probability(x, drift, scale, q.band_log_width)[droppable]))
        r["industrial_entry_2020"] = q.above_scale_growth * n_ind + float(h_exit[industrial].sum()) + drops
        other = ~industrial
        single = other & (t["n_inv"] == 1)
        lose_all = np.where(t["n_hv"] > 0, q.high_value_lapse, q.invention_lapse)
        r["holder_entry_2020"] = q.other_holders_growth * float(np.count_nonzero(other)) \
            + float(h_exit[other].sum()) + float(lose_all[single].sum())
        # grants per invention held and the high-value share of grants
        n_inv, n_hv = t["n_inv"].astype(float), t["n_hv"].astype(float)
        first = float(np.sum((q.first_patent_hazard * t["f_first"])[industrial & (t["n_inv"] == 0)]))
        entrants = r["industrial_entry_2020"] * q.entrant_holder_share + r["holder_entry_2020"]
        lapses = float(np.sum(q.invention_lapse * (n_inv - n_hv) + q.high_value_lapse * n_hv))
        exits = float(np.sum(h_exit * n_inv))
        total = float(n_inv.sum())
        r["grants_per_invention"] = max(1e-9, (q.patent_growth_2020 * total + lapses + exits - first - entrants) / total)
        grants = r["grants_per_invention"] * total + first + entrants
        hv_total = float(n_hv.sum())
        r["high_value_share_of_grants"] = min(1.0, (q.patent_growth_2020 * hv_total + q.high_value_lapse * hv_total
                                                    + float(np.sum(h_exit * n_hv))) / grants)
        r["nonfirm_grants_per_patent"] = q.patent_growth_2020 + q.high_value_lapse
        r["overseas_filings_per_hv"] = r["overseas_filings_2020"] / hv_total
        # the Zhejiang Made rates are set each January from the simulated counts (adoption_rates)

    def adoption_rates(self) -> dict[str, float]:
        """Hazards of leading a standard, certifying and gaining an international certificate that give
        the next year's increase of the three fitted logistic diffusions (``adoption_path`` one year on
        from the simulated counts; the programme levers scale them in ``Innovation._set_levers``) after
        the expected losses (exit, listing, non-renewal) at 2020 conditions: the diffusions decide how
        many adopt, the firms' weights who."""
        q, t, p = self.params, self.firms, self.entity_params
        # above its ceiling (a programme cut back lowers it) a diffusion's pace is negative: fewer new
        # adopters than losses, until the count is back at the ceiling (no rate below zero)
        pace = {name: (adoption_path(1.0, count, ceiling, rate) - count) / self.firm_scale
                for name, count, ceiling, rate in self.adoptions()}
        list_2020, _ = listing_hazard(1.0, 1.0, q, p)
        # the firms' weights, and the expected losses of the certified firms alive (exit, listing, lapse)
        weights = np.empty((5, t.n_rows))
        k = adoption_weights(t.n_rows, t.groups["floats"], t.groups["ints"], t.groups["flags"],
                             self.category_has_standard, self.step_now, p.penalty_memory_months,
                             q.covered_category_factor, q.cert_leader_factor, list_2020, q.cert_lapse, q.intl_lapse,
                             self.entity_params_tuple, weights)
        standard, certification = float(weights[0].sum()), float(weights[1].sum())
        losses, intl_losses, intl_weight = (float(w[:k].sum()) for w in weights[2:])
        return {"standard_rate": max(pace["standards"], 0.0) / max(standard, 1e-12),
                "cert_rate": (pace["pinzi"] + losses) / max(certification, 1e-12),
                "intl_rate": (pace["intl"] + intl_losses) / max(intl_weight, 1e-12)}

    def _init_trademarks(self) -> None:
        q, r = self.params, self.rates
        self.cohorts = dict(trademark_cohorts_2020(q))
        r17, g0, g1 = trademark_backcast(q)
        regs = backcast_registrations(BASE_YEAR, r17, g0, g1) * 1e4
        r["trademark_registrations_2020"] = regs
        r["trademark_backcast_r17"], r["trademark_backcast_g0"], r["trademark_backcast_g1"] = r17 * 1e4, g0, g1
        firm_share = 1.0 - q.trademark_share_company - q.trademark_share_other - q.trademark_share_individual
        r["tm_company"] = regs * q.trademark_share_company / self.companies_2020
        r["tm_other"] = regs * q.trademark_share_other / self.others_2020
        r["tm_individual"] = regs * q.trademark_share_individual / self.individuals_2020
        r["tm_firm"] = regs * firm_share / self.trademark_weight
        self.trademark_queue = [regs / 12.0] * int(q.trademark_exam_months)
