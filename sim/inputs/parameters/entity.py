"""The entity model's parameters: every number with its unit, status and source.

``status`` says where a number comes from: ``source`` (a published figure, named),
``derived`` (arithmetic on published figures), ``assumption`` (no source; a user or
calibration may move it) or ``calibrate`` (a prior that calibration fits on 2016-2020).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sim.inputs.parameters.declare import SIGNED_LIMIT, documented, replaced

_p = documented


@dataclass(frozen=True)
class Parameters:
    """Model parameters (not policy levers); defaults describe Zhejiang in 2020."""

    # --- initial population, end of 2020 -------------------------------------------------
    # (the population's size bounds what a run at scale 1 costs: up to 3000万 entities, about four times 2020's)
    entities_2020: float = _p(803.0, "10k entities", "source", "plan indicator 1, 2020 baseline", low=1.0, high=3000.0)
    enterprises_2020: float = _p(282.0, "10k entities", "derived",
                                 "2021 stock 313.79 / (1 + 11.26%) (history_zhejiang.csv)", low=0.1, high=3000.0)
    company_share_of_enterprises_2020: float = _p(
        0.89, "share", "assumption",
        "no Zhejiang figure in the data; the plan's 92% target for 2025 implies a lower 2020 value")
    dormant_share_2020: float = _p(0.10, "share of registered", "calibrate",
                                   "assumption near the 7.88% abnormal-list finding rate in random samples "
                                   "(Sichuan 2015, GROUNDING.md)")
    entry_growth_before_2020: float = _p(0.08, "per year", "calibrate",
                                         "assumption; entity stock grew 11% a year 2016-2020 (history)")
    hazard_after_year_7: float = _p(0.05, "per year", "assumption",
                                    "survival report gives >8% to year 7 and a decline after; the hazard "
                                    "fades linearly to this level by year 12 (assumed)")
    dormancy_age_scale_months: float = _p(36.0, "months", "assumption",
                                          "dormancy share rises with age as 1 - exp(-age / scale)")
    initial_dormancy_max_months: float = _p(60.0, "months", "assumption",
                                            "initial months dormant drawn uniformly up to this (and the age)")
    listing_lag_months: float = _p(6.0, "months", "assumption",
                                   "a dormant entity misses its next annual report and is listed about this "
                                   "many months after it stops (initial population)")
    initial_active_listed_share: float = _p(0.02, "share of active", "assumption",
                                            "active entities on the abnormal list at the start (steady state of "
                                            "~5% missed reports repaired at 8% a month)")
    max_age_years: float = _p(40.0, "years", "assumption", "oldest cohort in the initial population")
    # --- sectors (manufacturing, trade, food & catering, services) ---------------------
    sector_share_company_mfg: float = _p(0.25, "share", "assumption", "no sector split in the data")
    sector_share_company_food: float = _p(0.05, "share", "assumption", "no sector split in the data")
    sector_share_individual_mfg: float = _p(0.05, "share", "assumption", "no sector split in the data")
    sector_share_individual_food: float = _p(0.20, "share", "assumption", "no sector split in the data")
    sector_share_trade: float = _p(0.40, "share", "assumption", "no sector split in the data")
    # --- size and growth ------------------------------------------------------------------
    size_tail_alpha: float = _p(1.05, "Pareto exponent", "source", "Axtell 2001, Science 293:1818 (Zipf, alpha ~ 1)",
                                low=0.2, high=5.0)
    size_min_company: float = _p(50.0, "10k yuan revenue", "assumption", "lower bound of the size distribution")
    size_min_other: float = _p(20.0, "10k yuan revenue", "assumption", "lower bound of the size distribution")
    size_min_individual: float = _p(5.0, "10k yuan revenue", "assumption", "lower bound of the size distribution")
    growth_drift: float = _p(0.02, "log per year", "calibrate", "assumption")
    growth_sigma_ref: float = _p(0.40, "log per year at 1M yuan", "calibrate",
                                 "order of Stanley et al. 1996 (Nature 379:804) for small firms", low=0.0, high=5.0)
    growth_size_beta: float = _p(0.2, "exponent", "source", "Stanley et al. 1996; Amaral et al. 1997 (sigma ~ S^-0.2)")
    listed_growth_penalty: float = _p(0.10, "log per year at severity 1", "assumption",
                                      "credit restrictions on finance and bidding; no effect size published",
                                      low=0.0, high=SIGNED_LIMIT)
    # --- entry ------------------------------------------------------------------------------
    entries_individual_2020: float = _p(117.95, "10k per year", "source",
                                        "Zhejiang AMR via China Daily 2022-02 (history_zhejiang.csv)",
                                        low=0.0, high=1000.0)
    entries_enterprise_2020: float = _p(49.1, "10k per year", "derived",
                                        "117.95 x 10/24, the enterprise:individual ratio of new "
                                        "registrations in 2019-Q1 (history_zhejiang.csv)", low=0.0, high=1000.0)
    company_share_of_new_enterprises: float = _p(0.97, "share", "assumption", "most new enterprises are companies")
    entry_trend: float = _p(0.02, "per year", "calibrate",
                            "growth of entries 2016-2020 beyond the modelled reforms, fitted on the history; "
                            "read as the reforms of those years that no lever carries, so it is not projected "
                            "past 2020 unless entry_trend_damping says so", low=-0.5, high=1.0, prior=(-0.05, 0.30))
    entry_trend_damping: float = _p(0.25, "factor per year", "assumption",
                                    "share of the 2016-2020 entry trend that carries on after 2020, fading by "
                                    "this factor a year (damped trend, Gardner & McKenzie 1985); 0 = none. The "
                                    "plan's cost and licence reforms act through their levers, so a trend that "
                                    "kept going would count them twice; data up to 2020 cannot tell, so the prior "
                                    "0-0.5 is carried whole into every run; 1 = an undamped trend", prior=(0.0, 0.5), low=0.0, high=1.0)
    entry_cost_elasticity: float = _p(0.4, "elasticity", "calibrate",
                                      "prior 0.1-0.8: 0.8 = ln(15.1/6.9) / ln(22.9/8.6), daily entries 6.9k to 15.1k "
                                      "as start-up time fell 22.9 to 8.6 days, an upper bound since the 2014 reform "
                                      "did more than cut time; the +25% of Barwick et al. 2024 for a whole reform "
                                      "gives about 0.25 (GROUNDING.md); fitted with the 2016-2020 cost path",
                                      prior=(0.1, 0.8))
    licence_entry_effect: float = _p(0.15, "relative entries at full coverage", "calibrate",
                                     "prior 0.05-0.25: +5% registered businesses from Mexico's one-stop shop "
                                     "(Bruhn 2011) to +25% entry for a whole reform (Barwick et al. 2024)",
                                     prior=(0.05, 0.25))
    entity_density_ceiling: float = _p(250.0, "entities per 1,000 residents", "calibrate",
                                       "entries fall in proportion to the room left below this density "
                                       "(124 in 2020: 803万 / 6,457万 residents). No published ceiling: "
                                       "prior 160-400 (assumption; the densest Chinese city registers, e.g. "
                                       "Shenzhen, held about 200 per 1,000 in 2020 - a figure not checked "
                                       "against a source here)", low=130.0, high=2000.0, prior=(160.0, 400.0))
    resident_population_2020: float = _p(6456.8, "10k residents", "source",
                                         "7th national census, Zhejiang resident population (history_zhejiang.csv); "
                                         "held at its 2020 level", low=1.0, high=100000.0)
    gdp_entry_elasticity: float = _p(0.03, "relative per GDP point", "assumption", "to be calibrated")
    economy_factor_floor: float = _p(0.2, "multiplier", "assumption",
                                     "entry and exit factors from GDP growth never fall below this")
    gdp_reference: float = _p(6.0, "% per year", "assumption", "growth at which entry and exit rates are the 2020 ones")
    marginal_entrant_hazard: float = _p(2.0, "multiplier, first 24 months", "assumption",
                                        "Branstetter et al. 2014: extra entrants less likely to survive two years")
    # --- exit, dormancy, deregistration ------------------------------------------------------
    hazard_scale: float = _p(1.6, "multiplier", "calibrate", prior=(0.8, 3.0), source=
                             "the survival table counts deregistrations; ceasing operation (some stay "
                             "dormant) is more frequent. Hand-set with hazard_individual_multiplier and "
                             "dormant_dereg_rate so 2021 under 2020 policy repeats 2020's published flows "
                             "(net +79; 10 seeds at scale 8000 give +79 in 2021)")
    hazard_individual_multiplier: float = _p(1.8, "multiplier", "calibrate",
                                             "2020 individual deregistrations 64.39 of ~521 (12.4%) vs the "
                                             "enterprise survival table", prior=(1.0, 3.0))
    hazard_size_elasticity: float = _p(-0.10, "elasticity", "assumption",
                                       "larger firms survive longer (survival report 2013)")
    hazard_listed_effect: float = _p(0.30, "added multiplier per severity", "assumption",
                                     "penalties raise exit; no effect size published")
    gdp_exit_elasticity: float = _p(0.04, "relative per GDP point", "assumption", "to be calibrated")
    dereg_simplified_completion: float = _p(0.85, "probability", "assumption",
                                            "share of ceasing entities that deregister at once via simplified route")
    dereg_ordinary_completion_enterprise: float = _p(0.35, "probability", "assumption",
                                                     "ordinary deregistration is slow and costly")
    dereg_ordinary_completion_individual: float = _p(0.60, "probability", "assumption",
                                                     "individual businesses deregister more easily")
    dormant_dereg_rate: float = _p(0.02, "per month", "calibrate", "assumption; see hazard_scale",
                                   prior=(0.002, 0.06))
    dormant_dereg_simplified_boost: float = _p(2.0, "added multiplier at full simplified uptake", "assumption",
                                               "simplified deregistration makes dormant entities more likely to "
                                               "clean up")
    dormant_listed_dereg_factor: float = _p(0.3, "multiplier", "assumption",
                                            "listed entities must repair before simplified deregistration (GROUNDING.md)")
    dormant_reactivation_rate: float = _p(0.004, "per month", "assumption", "dormant entities resuming business")
    compulsory_processing_rate: float = _p(0.25, "per month once eligible", "assumption",
                                           "regulators clear eligible entities in monthly batches")
    # --- conversion -------------------------------------------------------------------------
    conversion_size_exponent: float = _p(0.5, "exponent", "assumption", "larger individual businesses convert first")
    corporatisation_rate: float = _p(0.01, "per year", "assumption",
                                     "non-company enterprises becoming companies (公司制改制)")
    # --- compliance --------------------------------------------------------------------------
    violation_intercept: float = _p(-2.2, "logit", "calibrate",
                                    "set so about 11% of active entities violate in a month at 2020 values "
                                    "(assumption near the 7.88% abnormal and ~4% falsified findings)")
    peer_reference: float = _p(0.12, "violation share", "assumption",
                               "peer violation share at which peers neither raise nor lower violation")
    peer_weight: float = _p(2.0, "logit per unit of peer violation share", "assumption",
                            "norms and peers dominate (Pellizzari & Rizzi 2014; Andrei et al. 2014)")
    deterrence_weight: float = _p(0.7, "logit per unit of expected cost", "calibrate",
                                  "set so the inspection elasticity of violation is -0.19 at 2020 values "
                                  "(capacity +10%, 2022, peers included; Scholz & Gray 1990: about -0.2)")
    fine_to_gain: float = _p(2.0, "fine / gain from violating", "assumption", "2020 practice")
    credit_cost_to_gain: float = _p(1.5, "credit cost / gain", "assumption", "listing and joint punishment, 2020 practice")
    detection_random: float = _p(0.8, "probability", "assumption", "unannounced inspection finds a violation")
    routine_predictability: float = _p(0.47, "share fewer violations found", "source",
                                       "Makofske: scheduled inspections find 41-53% fewer violations (midpoint)")
    detection_lead: float = _p(0.9, "probability", "assumption", "an inspection on a complaint finds the violation")
    complaint_rate: float = _p(0.02, "per violating entity-month", "assumption", "leads and complaints")
    lead_share_cap: float = _p(0.5, "share of non-random capacity", "assumption", "most inspections are routine")
    key_area_share: float = _p(0.2, "share of inspection capacity", "assumption",
                               "capacity kept for key-area and risk-targeted supervision (重点监管: special "
                               "equipment, food, licensed industrial products) that no double-random draw "
                               "replaces; with the complaints to follow it caps the share of inspections "
                               "drawn at random. No source gives it; 2016-2020 shares (at most 10%) never "
                               "reached the cap, so calibration cannot see it: prior 5-35%",
                               low=0.0, high=0.9, prior=(0.05, 0.35))
    memory_bump: float = _p(0.3, "added perceived detection", "assumption",
                            "specific deterrence after inspection (Ko, Mendeloff, Gray 2010; Kleven et al. 2011)")
    memory_decay: float = _p(0.9, "per month", "assumption", "perceived risk decays after an inspection (Ko et al. 2010)")
    routine_size_exponent: float = _p(0.3, "exponent", "assumption", "routine inspections favour visible, larger firms")
    routine_food_factor: float = _p(2.0, "multiplier", "assumption", "food businesses get more routine checks")
    # --- inspection and credit -----------------------------------------------------------------
    risk_weight_a: float = _p(1.0, "relative sampling weight", "source", "Henan 2021 class ratios 1:2:10:30 (GROUNDING.md)")
    risk_weight_b: float = _p(2.0, "relative sampling weight", "source", "Henan 2021 class ratios")
    risk_weight_c: float = _p(10.0, "relative sampling weight", "source", "Henan 2021 class ratios")
    risk_weight_d: float = _p(30.0, "relative sampling weight", "source", "Henan 2021 class ratios")
    dual_random_pace: float = _p(11.5, "percentage points per year at 2020 capacity", "assumption",
                                 "how fast a city can move items to double-random inspection. No source: "
                                 "Zhejiang moved about 1.75 points a year in 2016-2020 (3% to the plan's 10% "
                                 "baseline, history_policies.toml) under a weaker push; prior 3-20 (a city "
                                 "turning over its whole item list in five years at the top). Earlier sessions "
                                 "set 11, the plan path's own slope (65-10)/5: the prior replaces that",
                                 low=0.0, high=100.0, prior=(3.0, 20.0))
    credit_application_pace: float = _p(6.0, "percentage points per year", "assumption",
                                        "how fast risk classes can be built into sampling at 2020 digital "
                                        "integration (scaled by the city's digital effectiveness). No source: prior "
                                        "2-10, up to the 10 a year of the assumed 2016-2020 path (20% to 60%); "
                                        "earlier sessions set 4, the plan path's slope (80-60)/5",
                                        low=0.0, high=100.0, prior=(2.0, 10.0))
    regulator_pace_noise: float = _p(0.5, "half-width of uniform noise on pace", "assumption",
                                     "cities progress unevenly month to month")
    regulator_capability_spread: float = _p(0.3, "half-width of a city's lasting pace factor", "assumption",
                                            "cities differ in staff and systems (a persistent factor)")
    serious_violation_share: float = _p(0.05, "probability at severity 1", "assumption",
                                        "detected violations that put an entity on the serious-dishonesty list")
    annual_report_file_active: float = _p(0.95, "probability", "calibrate",
                                          "annual-report rate 85-90% (2013-14) with dormant entities not filing",
                                          prior=(0.85, 0.995))
    annual_report_file_dormant: float = _p(0.05, "probability", "calibrate",
                                           "dormant entities rarely file (assumption); fitted with the annual-report "
                                           "rate and the random-sample finding rate", prior=(0.01, 0.6))
    abnormal_repair_rate: float = _p(0.08, "per month, active entities", "assumption", "file the missing report and apply")
    abnormal_to_serious_months: float = _p(36.0, "months", "source",
                                           "3 years on the abnormal-operation list moves an entity to the "
                                           "serious-dishonesty list (GROUNDING.md)")
    serious_min_months: float = _p(12.0, "months", "assumption", "earliest credit repair from the serious list")
    serious_repair_rate: float = _p(0.02, "per month", "assumption", "credit repair after the minimum time")
    penalty_memory_months: float = _p(36.0, "months", "assumption", "a penalty counts in the risk class this long")
    fine_size_hit: float = _p(0.02, "log size per fine at level 1", "assumption", "fines cost a little growth")

    def replace(self, **changes: float) -> Parameters:
        """A copy with some values changed; unknown names or non-numbers raise.

        Raises:
            ValueError: naming the parameter and what is allowed.
        """
        return replaced(self, "parameter", changes)

    def changed(self) -> dict[str, float]:
        """Parameters that differ from the defaults (the fitted values where there are some)."""
        from sim.inputs.parameters import default_parameters  # the package applies the committed fit
        default = default_parameters()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}
