"""The programme submodel's parameters (sim.submodels.programmes): every number with its unit, status
and source."""

from __future__ import annotations

from dataclasses import dataclass

from sim.inputs.parameters.declare import documented, parameter_rows, replaced

_p = documented


@dataclass(frozen=True)
class ProgrammeParameters:
    """Numbers of the programme, regulator and market processes; defaults describe 2020."""

    programme_delivery: float = _p(
        1.0, "share of a programme lever's change delivered", "assumption",
        "delivery risk from a reference class: Zhejiang's 13th Five-Year Plan delivered its administrative "
        "programme targets at 0.5, 0.64, 1.0 and 1.0 of target (innovation bases, quality cities, local "
        "standards, brand firms; docs/research/plan13_record.csv), and once at 3.96 (Zhejiang Made standards, "
        "a target set below the pace already under way); prior 0.5-1.5 around full delivery, drawn once per "
        "seed; it scales each programme lever's change from 2020 practice",
        low=0.0, high=3.0, prior=(0.5, 1.5))

    # --- IP protection centres (indicator 8) -------------------------------------------------------
    ip_centers_2020: float = _p(5.0, "centres", "source", "plan indicator 8, 2020 baseline")
    ip_center_rate: float = _p(1.0, "new centres per year at support 1", "assumption",
                               "no yearly history in the data: the 5 centres of 2020 built up over about "
                               "five years of the national protection-centre programme (from 2016)", prior=(0.5, 1.5))
    # --- China Quality Award (indicators 9, 10) -------------------------------------------------------
    awards_2020: float = _p(0.0, "awards", "source", "plan indicator 9, 2020 baseline")
    nominations_2020: float = _p(16.0, "nomination awards", "source", "plan indicator 10, 2020 baseline")
    award_first_round_year: float = _p(2021.0, "year", "source",
                                       "4th round decided 2021-09-16 at the China Quality (Hangzhou) conference, "
                                       "which the plan says Zhejiang hosts (三(一) 全力办好第4届中国质量大会)")
    award_round_interval_years: float = _p(2.0, "years", "source", "China Quality Award rules: one round every "
                                           "two years (Anhui Daily 2013-08-28)")
    award_round_month: float = _p(9.0, "month", "source", "the 4th round was announced in September 2021")
    award_quota: float = _p(10.0, "awards per round", "source",
                            "at most 10 organisations and individuals per round (award rules, Anhui Daily 2013-08-28)")
    nomination_quota: float = _p(90.0, "nominations per round", "source",
                                 "at most 90 nominations per round (award rules); 89 were named in 2021")
    nomination_share_2020: float = _p(16.0 / 226.0, "share of a round's nominations", "derived",
                                      "16 Zhejiang nominations in the rounds of 2013 (46 named), 2016 and 2018 "
                                      "(taken at the quota of 90): 16 / 226")
    award_winner_factor: float = _p(0.5, "winner share / nomination share", "assumption",
                                    "no Zhejiang winner in three rounds to 2020 (plan baseline 0; the 2016 "
                                    "quality plan still aimed at a first one) against 16 nominations", prior=(0.25, 1.0))
    national_pool_growth: float = _p(0.10, "per year", "assumption",
                                     "the rest of China's pool of candidate firms grows like the national "
                                     "enterprise stock, about 10% a year in the late 2010s", prior=(0.0, 0.2))
    leader_pool_elasticity: float = _p(1.0, "elasticity", "assumption",
                                       "Zhejiang's pool of quality leaders grows with its registered companies")
    quality_programme_elasticity: float = _p(1.0, "elasticity", "assumption",
                                             "the quality programme multiplies the leaders ready to compete", prior=(0.5, 1.5))
    # --- standards (indicators 20-22) ----------------------------------------------------------------
    measurement_standards_2020: float = _p(3472.0, "standards", "source", "plan indicator 20, 2020 baseline")
    measurement_net_growth: float = _p(0.0225, "per year", "derived",
                                       "3308 standards in October 2018 (Zhejiang quality bureau via cncal.com, "
                                       "2018-10-09) to 3472 at the end of 2020: +2.25% a year")
    measurement_retire_rate: float = _p(0.02, "per year", "assumption",
                                        "standards retired or lapsed; only the net growth is known")
    intl_standards_rate: float = _p(8.0, "new standards per year at programme 1", "assumption",
                                    "no history in the data; above the 2016 quality plan's aim of 15 in "
                                    "2016-2020, below the 14th plan's 50 in 2021-2025", prior=(4.0, 12.0))
    national_standards_rate: float = _p(100.0, "new standards per year at programme 1", "assumption",
                                        "no history in the data; above the 2016 quality plan's aim of 300 in "
                                        "2016-2020, below the 14th plan's 600 in 2021-2025", prior=(50.0, 150.0))
    standards_year_sigma: float = _p(0.25, "log sd of a year's rate", "assumption",
                                     "standards are approved in batches: some years bring more than others")
    led_standards_elasticity: float = _p(1.0, "elasticity", "assumption", "new standards in proportion to the programme", prior=(0.5, 1.5))
    standards_pool_elasticity: float = _p(0.5, "elasticity", "assumption",
                                          "more registered companies, more firms drafting standards (less than "
                                          "in proportion: few firms lead standards)")
    # --- national centres (indicators 23, 24) ---------------------------------------------------------
    inspection_centers_2020: float = _p(55.0, "centres", "source", "plan indicator 23, 2020 baseline")
    inspection_center_rate: float = _p(2.2, "new centres per year at investment 1", "derived",
                                       "44 (2015) to 55 (2020) national inspection centres (history_zhejiang.csv)")
    metrology_centers_2020: float = _p(3.0, "centres", "source", "plan indicator 24, 2020 baseline")
    metrology_center_rate: float = _p(0.5, "new centres per year at investment 1", "assumption",
                                      "no history in the data: 3 centres since the national programme's first "
                                      "approvals around 2015 (Metrology Development Plan 2013-2020)", prior=(0.25, 1.0))
    # --- city regulators (indicators 15, 17, 18, 19) ---------------------------------------------------
    city_capability_spread: float = _p(0.3, "half-width of a city's lasting pace factor", "assumption",
                                       "cities differ in staff, labs and systems (as regulator_capability_spread)")
    food_sampling_2020: float = _p(4.4, "batches per 1000 residents per year", "source",
                                   "plan indicator 17, 2020 baseline (national requirement for 2020: 4, "
                                   "CPC/State Council food-safety opinions 2019)")
    food_sampling_city_spread: float = _p(0.15, "half-width, relative", "assumption",
                                          "cities' 2020 sampling per 1000 residents around the provincial value")
    food_sampling_pace: float = _p(0.15, "share of 2020 batches per year", "assumption",
                                   "labs and purchased testing can grow a city's batches this much a year", prior=(0.05, 0.3))
    food_sampling_cut_pace: float = _p(0.3, "share of 2020 batches per year", "assumption",
                                       "how fast a city can cut sampling when the budget falls")
    sampling_month_noise: float = _p(0.15, "half-width, relative", "assumption",
                                     "month-to-month variation of batches tested")
    spot_checks_2020: float = _p(7000.0, "batches per year", "source", "plan indicator 18, 2020 baseline")
    spot_check_pace: float = _p(0.30, "relative growth per year", "assumption",
                                "how fast a city can expand product spot checks (procurement of testing, "
                                "抽检分离 reform), relative to its current level", prior=(0.1, 0.5))
    spot_check_cut_pace: float = _p(0.3, "share of 2020 batches per year", "assumption",
                                    "how fast a city can cut spot checks when the budget falls")
    digital_2020: float = _p(0.70, "share", "source", "plan indicator 19, 2020 baseline (70%)")
    digital_items_per_city: float = _p(20.0, "business lines per city", "assumption",
                                       "supervision business lines that are integrated one by one")
    digital_city_spread: float = _p(0.10, "half-width of the 2020 share", "assumption",
                                    "cities' 2020 integration around the provincial 70%")
    digital_innovation: float = _p(0.05, "per year", "assumption",
                                   "Bass p: integration hazard of a line independent of the city's progress", prior=(0.02, 0.1))
    digital_imitation: float = _p(0.25, "per year per unit share integrated", "assumption",
                                  "Bass q: integrated lines make the next easier (shared platform); with p "
                                  "gives about 90% by 2025 at 2020 investment (no history in the data)", prior=(0.1, 0.5))
    digital_effect_gain: float = _p(0.5, "effectiveness per unit share integrated", "assumption",
                                    "digital_effectiveness = 1 + gain x (integration - 2020 integration)")
    demo_first_round_year: float = _p(2021.0, "year", "assumption",
                                      "national demonstration-city evaluation rounds, first in the plan period")
    demo_round_interval_years: float = _p(2.0, "years", "assumption", "evaluation rounds every two years")
    demo_round_month: float = _p(12.0, "month", "assumption", "a round's decisions at year end")
    demo_sampling_threshold: float = _p(4.5, "batches per 1000 residents per year", "assumption",
                                        "a qualifying food-safety record: sampling clearly above the national "
                                        "requirement of 4 per 1000 (2019 food-safety opinions)", prior=(4.0, 5.0))
    demo_years_required: float = _p(3.0, "consecutive years", "assumption",
                                    "years of adequate sampling before a city applies (a creation cycle of "
                                    "about three years; 2020 counts as the first)")
    demo_accept_probability: float = _p(0.5, "probability per round at support 1", "assumption",
                                        "national evaluation passes half of qualifying applicants", prior=(0.25, 0.75))
    # --- commodity markets (indicator 14) --------------------------------------------------------------
    markets_2020: float = _p(4000.0, "markets", "assumption",
                             "near the 4212 commodity markets of 2011-12 (provincial AIC via lygaw.com); at most "
                             "ten times that (one row per market)", high=40000.0)
    large_markets_2020: float = _p(1200.0, "markets above 100M yuan", "source", "plan indicator 14, 2020 baseline")
    market_turnover_sigma: float = _p(2.2, "log sd of turnover", "assumption",
                                      "with 4000 markets and 1200 above 100M yuan puts total turnover near "
                                      "1.4 trillion yuan (1.4 trillion in 2011, provincial AIC)")
    market_turnover_drift: float = _p(0.10, "log turnover per year at GDP reference", "calibrate",
                             "markets above 100M yuan 731 (2011) to 1200 (2020), +5.7% a year "
                             "(history_zhejiang.csv; definitions may differ); turnover grew over 10% a "
                             "year for a decade to 2011 (provincial AIC)")
    market_growth_sigma: float = _p(0.15, "log sd per year", "assumption", "markets' idiosyncratic turnover growth")
    market_gdp_elasticity: float = _p(1.5, "log turnover per unit GDP growth", "assumption",
                                      "wholesale trade moves more than GDP")
    market_gdp_reference: float = _p(6.0, "% per year", "assumption", "growth at which market_turnover_drift applies")
    market_upgrading_effect: float = _p(0.03, "log turnover per year per unit of the lever above 1", "assumption",
                                        "upgraded markets (五化改造) trade more", prior=(0.0, 0.06))
    market_exit_small: float = _p(0.03, "per year", "assumption", "markets below 100M yuan close")
    market_exit_large: float = _p(0.01, "per year", "assumption", "large markets rarely close")
    market_entry_rate: float = _p(0.024, "new markets per year per 2020 market", "assumption",
                                  "entries about balance exits: the stock stays near the 2011 count")
    market_entrant_offset: float = _p(-1.0, "log turnover relative to the 2020 median", "assumption",
                                      "new markets start smaller")
    # --- AA wholesale markets (indicator 16) --------------------------------------------------------
    wholesale_markets: float = _p(100.0, "farm-produce wholesale markets", "assumption", "no count in the data")
    aa_markets_2020: float = _p(4.0, "markets", "source", "plan indicator 16, 2020 baseline")
    aa_upgrades_2020: float = _p(1.3, "upgrades per year at standardisation 1", "assumption",
                                 "no history in the data: 4 AA markets since grading began about 2018")
    wholesale_size_sigma: float = _p(0.8, "log sd of market size", "assumption", "larger markets upgrade first")

    def replace(self, **changes: float) -> ProgrammeParameters:
        """A copy with some values changed; unknown names raise ValueError."""
        return replaced(self, "programme parameter", changes)


def programme_parameter_table() -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source, for docs and the CLI."""
    return parameter_rows(ProgrammeParameters)
