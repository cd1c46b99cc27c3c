"""The innovation submodel's parameters (sim.submodels.innovation): every number with its unit, status
and source."""

from __future__ import annotations

from dataclasses import dataclass

from sim.inputs.parameters.declare import SIGNED_LIMIT, documented, parameter_rows, replaced

_p = documented


@dataclass(frozen=True)
class InnovationParameters:
    """Numbers of the trademark, patent, standards and certification processes; defaults describe 2020."""

    # --- trademarks (indicator 4) ---------------------------------------------------------------------
    trademarks_2016: float = _p(131.57, "10k marks", "source", "2016 Zhejiang trademark and brand report "
                                "(history_zhejiang.csv)")
    trademarks_2017: float = _p(154.48, "10k marks", "source", "2017 Zhejiang trademark and brand report "
                                "(history_zhejiang.csv)")
    trademarks_2020: float = _p(300.0, "10k marks", "source", "plan indicator 4, 2020 baseline")
    trademark_term_years: float = _p(10.0, "years", "source", "PRC Trademark Law arts. 39-40: a registration is "
                                     "valid ten years and may be renewed for ten years at a time")
    trademark_renewal: float = _p(0.45, "probability at expiry", "assumption",
                                  "share of marks renewed when their term ends (no Zhejiang figure): prior 30-60%",
                                  low=0.0, high=1.0, prior=(0.3, 0.6))
    trademark_cancel_rate: float = _p(0.005, "per year", "assumption",
                                      "marks cancelled before expiry (non-use, invalidation, surrender); no "
                                      "figure: prior 0.2-2% a year", low=0.0, high=0.2, prior=(0.002, 0.02))
    trademark_exam_months: float = _p(6.0, "months", "assumption", "filing to registration")
    trademark_share_company: float = _p(0.62, "share of 2020 registrations", "assumption",
                                        "companies file most marks")
    trademark_share_other: float = _p(0.02, "share of 2020 registrations", "assumption",
                                      "other (non-company) enterprises")
    trademark_share_individual: float = _p(0.28, "share of 2020 registrations", "assumption",
                                           "individual businesses (natural-person filers must hold a "
                                           "business licence); the simulated firms file the rest")
    trademark_size_elasticity: float = _p(0.3, "elasticity", "assumption",
                                          "larger simulated firms file more marks, less than in proportion")
    trademark_nonindustrial_factor: float = _p(1.5, "multiplier", "assumption",
                                               "non-industrial firms (consumer services, software) file more marks "
                                               "than industrial firms of the same size")
    trademark_filing_trend: float = _p(0.0, "per year", "assumption",
                                       "change a year of filings per entity after 2020. Centred on holding the "
                                       "2020 rate: the 2017-2020 boom (registrations +39% a year in the back-cast) "
                                       "pushes up, the 2019 revision of the Trademark Law (art. 4: filings without "
                                       "intent to use are rejected) pushes down; no source sizes either, so each "
                                       "seed draws it from a prior of -10% to +10% a year",
                                       low=-0.5, high=0.5, prior=(-0.10, 0.10))
    trademark_support_elasticity: float = _p(0.5, "elasticity", "assumption",
                                             "brand-service stations and filing support raise filings less than "
                                             "in proportion", prior=(0.25, 1.0))
    trademark_gdp_elasticity: float = _p(0.03, "relative per GDP point", "assumption",
                                         "as gdp_entry_elasticity of the entity model")
    trademark_year_sigma: float = _p(0.08, "log sd of a year's filings", "assumption",
                                     "filing waves (campaigns, rule changes) from year to year")
    # --- the simulated firms --------------------------------------------------------------------------
    above_scale_2020: float = _p(48000.0, "firms", "assumption",
                                 "about 4.8万 above-scale industrial enterprises in Zhejiang in 2020 (provincial "
                                 "statistics, from memory; not in the project's data); at most ten times that "
                                 "(simulated one to one at scale 1: it sizes the run's memory)", high=480000.0)
    above_scale_threshold: float = _p(2000.0, "10k yuan revenue", "source",
                                      "NBS definition since 2011: main-business revenue of 20M yuan or more")
    largest_log_excess: float = _p(10.0, "log size above the threshold", "assumption",
                                   "the largest Zhejiang firms have revenue of a few hundred billion yuan, about "
                                   "e^10 times the 20M threshold: the Pareto tail is cut there, and size factors "
                                   "of the hazards stop growing there", low=0.5, high=SIGNED_LIMIT)
    band_log_width: float = _p(0.4, "log size", "assumption",
                               "industrial firms simulated below the threshold: revenue from 20M x e^-0.4 = 13.4M "
                               "yuan (one year's growth rarely crosses more)", low=0.01, high=5.0)
    above_scale_growth: float = _p(0.04, "per year", "assumption",
                                   "net growth of the group at 2020 policies (about 4万 in 2016 to 4.8万 in 2020, "
                                   "from memory); sets the 2020 entry rate from below")
    entry_company_elasticity: float = _p(0.5, "elasticity", "assumption",
                                         "entry from below grows with registered companies, less than in "
                                         "proportion (most new companies are small)")
    entry_gdp_elasticity: float = _p(0.05, "relative per GDP point", "assumption",
                                     "more firms grow past the threshold in good years")
    other_holders_2020: float = _p(15000.0, "firms", "assumption",
                                   "non-industrial and small firms holding invention patents (software, services, "
                                   "small high-tech firms); at most ten times that (simulated firms)", high=150000.0)
    other_holders_growth: float = _p(0.08, "per year", "assumption",
                                     "net growth of non-industrial holders at 2020 policies; sets their entry rate")
    other_holder_log_offset: float = _p(-1.5, "log size relative to the threshold", "assumption",
                                        "smallest non-industrial holder: revenue about 4.5M yuan")
    # --- patents (indicators 5, 6, 7) -------------------------------------------------------------------
    invention_per_10k_2018: float = _p(23.6, "patents per 10k residents", "source",
                                       "valid invention patents, 2018 (Zhejiang Online 2019-01-11, "
                                       "history_zhejiang.csv)")
    invention_growth_2018_2020: float = _p(0.22, "per year", "calibrate",
                                           "growth of the valid invention stock 2018-2020: a logistic curve of "
                                           "invention patents per 10k residents through 23.6 (2018) fitted to "
                                           "2012-2017 (history_zhejiang.csv), plus population growth; sim "
                                           "calibrate (calibration/posterior_submodels.parquet; default the "
                                           "posterior median)", low=0.0, high=1.0, prior=(0.0, 0.5))
    firm_share_inventions: float = _p(0.70, "share", "assumption",
                                      "enterprises' share of valid invention patents (the rest: universities, "
                                      "institutes, individuals)")
    high_value_per_10k_2020: float = _p(11.1, "patents per 10k residents", "source",
                                        "plan indicator 5, 2020 baseline")
    firm_share_high_value: float = _p(0.70, "share", "assumption", "as firm_share_inventions")
    population_2020: float = _p(6456.8, "10k residents", "source", "7th national census (history_zhejiang.csv)")
    coverage_2020: float = _p(0.37, "share", "source", "plan indicator 6, 2020 baseline")
    band_holder_share: float = _p(0.15, "share", "assumption", "below-scale industrial firms holding an invention patent")
    entrant_holder_share: float = _p(0.15, "share", "assumption", "firms coming in from below holding one")
    holder_size_slope: float = _p(1.0, "log odds per log size", "assumption",
                                  "larger above-scale firms are more often holders")
    portfolio_size_elasticity: float = _p(0.7, "elasticity", "assumption",
                                          "patent portfolios grow less than in proportion to revenue")
    patent_growth_2020: float = _p(0.19, "per year", "calibrate",
                                   "growth of the invention and high-value stocks at 2020 policies: the same "
                                   "fitted curve's growth at the end of 2020 plus population growth; sets the "
                                   "grant rate and the high-value share of grants at initialisation",
                                   low=0.0, high=1.0, prior=(0.0, 0.5))
    invention_lapse: float = _p(0.08, "per year", "assumption",
                                "invention patents not maintained (fees rise with age)")
    high_value_lapse: float = _p(0.04, "per year", "assumption", "high-value patents are maintained longer")
    first_patent_hazard: float = _p(0.06, "per year at the threshold size", "assumption",
                                    "an industrial firm without invention patents gets its first (no history of "
                                    "coverage in the data)")
    first_patent_size_elasticity: float = _p(0.3, "elasticity", "assumption", "larger firms patent sooner")
    ip_grant_elasticity: float = _p(0.5, "elasticity", "assumption",
                                    "the IP programme raises holders' grants less than in proportion", prior=(0.25, 1.0))
    ip_first_elasticity: float = _p(1.0, "elasticity", "assumption",
                                    "the IP programme (强企计划, patent navigation for clusters) reaches firms "
                                    "without patents in proportion", prior=(0.5, 1.5))
    ip_overseas_elasticity: float = _p(0.5, "elasticity", "assumption", "support for overseas filing", prior=(0.25, 1.0))
    overseas_grants_2020: float = _p(3000.0, "grants per year", "source", "plan indicator 7, 2020 baseline")
    overseas_stage_months: float = _p(15.0, "months per stage", "assumption",
                                      "two stages (search and national phase, examination), 30 months in all")
    overseas_grant_ratio: float = _p(0.6, "share of filings granted", "assumption", "overseas examination outcome", prior=(0.4, 0.8))
    # --- Zhejiang Made standards (indicator 11) --------------------------------------------------------
    standards_2020: float = _p(1979.0, "standards", "source", "plan indicator 11, 2020 baseline")
    standards_ceiling: float = _p(7100.0, "standards", "calibrate",
                                  "ceiling of the logistic diffusion of Zhejiang Made standards, fitted to the "
                                  "2016-2020 counts (history_zhejiang.csv) by sim calibrate "
                                  "(calibration/posterior_submodels.parquet; the default is the posterior median); "
                                  "prior from the 2020 count to about the model's product categories "
                                  "(industrial firms / firms_per_category, about 1.2万)",
                                  low=1979.0, high=50000.0, prior=(1979.0, 15000.0))
    standards_diffusion_rate: float = _p(0.71, "per year", "calibrate",
                                         "rate of the logistic diffusion of Zhejiang Made standards (growth while "
                                         "far from the ceiling), fitted as standards_ceiling",
                                         low=0.0, high=5.0, prior=(0.1, 3.0))
    firms_per_category: float = _p(5.0, "industrial firms per product category", "assumption",
                                   "a standard covers one product category")
    standards_per_leader: float = _p(1.2, "standards per leading firm", "assumption", "in 2020")
    standard_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger firms lead standards")
    covered_category_factor: float = _p(0.3, "multiplier", "assumption",
                                        "a firm whose category already has a standard leads another less often")
    standards_abolish_rate: float = _p(0.01, "per year", "assumption", "standards withdrawn")
    zhejiang_made_elasticity: float = _p(1.0, "elasticity", "assumption", "standards programme effect on leading", prior=(0.5, 1.5))
    standards_capacity_elasticity: float = _p(0.5, "elasticity", "assumption",
                                              "a standards programme above its 2020 level L raises the standards "
                                              "diffusion's ceiling to ceiling x L^e (drafting capacity: technical "
                                              "committees, standard-innovation platforms); no source gives e, so "
                                              "each seed draws it from its prior",
                                              low=0.0, high=2.0, prior=(0.0, 1.0))
    # --- certification (indicators 12, 13) ------------------------------------------------------------
    pinzi_2020: float = _p(1500.0, "firms", "source", "plan indicator 13, 2020 baseline")
    pinzi_ceiling: float = _p(2050.0, "firms", "calibrate",
                              "ceiling of the logistic diffusion of Pinzi-brand certification, fitted to the "
                              "2016-2020 counts as standards_ceiling; prior up to about ten times the 2020 count",
                              low=1500.0, high=50000.0, prior=(1500.0, 15000.0))
    pinzi_diffusion_rate: float = _p(1.24, "per year", "calibrate",
                                     "rate of the logistic diffusion of Pinzi-brand certification, fitted as "
                                     "standards_ceiling", low=0.0, high=5.0, prior=(0.1, 3.0))
    intl_certs_2020: float = _p(200.0, "certificates", "source", "plan indicator 12, 2020 baseline")
    intl_certs_ceiling: float = _p(2500.0, "certificates", "calibrate",
                                   "ceiling of the logistic diffusion of Zhejiang Made international certificates, "
                                   "fitted to the 2016-2020 counts as standards_ceiling (two points before 2020: "
                                   "the ceiling is barely identified and its posterior is close to the prior); "
                                   "prior up to 25 times the 2020 count",
                                   low=200.0, high=50000.0, prior=(200.0, 5000.0))
    intl_certs_diffusion_rate: float = _p(0.75, "per year", "calibrate",
                                          "rate of the logistic diffusion of international certificates, fitted "
                                          "as standards_ceiling", low=0.0, high=5.0, prior=(0.1, 3.0))
    cert_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger firms certify first")
    cert_leader_factor: float = _p(3.0, "multiplier", "assumption",
                                   "firms that led their category's standard certify more readily")
    cert_lapse: float = _p(0.03, "per year", "assumption", "certificates not renewed (three-year cycle)", prior=(0.01, 0.06))
    intl_size_elasticity: float = _p(0.5, "elasticity", "assumption", "larger certified firms export more")
    intl_lapse: float = _p(0.05, "per year", "assumption", "international certificates not renewed", prior=(0.02, 0.1))
    brand_elasticity: float = _p(1.0, "elasticity", "assumption", "brand programme effect on certification", prior=(0.5, 1.5))
    brand_capacity_elasticity: float = _p(0.5, "elasticity", "assumption",
                                          "a brand programme above its 2020 level L raises the ceilings of the Pinzi "
                                          "and international-certificate diffusions to ceiling x L^e (certifiers' "
                                          "capacity and the firms the programme reaches); no source gives e, so each "
                                          "seed draws it from its prior", low=0.0, high=2.0, prior=(0.0, 1.0))
    # --- credit listing of the simulated firms ----------------------------------------------------------
    listing_abnormal_2020: float = _p(0.005, "per year", "assumption",
                                      "a simulated firm put on the abnormal-operation list (missed report, address)")
    listing_detected_2020: float = _p(0.005, "per year at 2020 practice", "assumption",
                                      "listed after a detected violation: about a quarter of the main model's "
                                      "detection rate of active entities (large certified firms violate less)")
    detection_rate_2020: float = _p(0.0186, "detected violations per active entity per year", "calibrate",
                                    "the main model at 2020 policies: mean of 12 x violations_detected / active "
                                    "over 2021-2022, 6 seeds, vector engine at scale 8000 (0.0185-0.0186)")
    detection_smoothing_months: float = _p(12.0, "months", "assumption",
                                           "certifiers and regulators act on the recent record (moving average)")

    def replace(self, **changes: float) -> InnovationParameters:
        """A copy with some values changed; unknown names raise ValueError."""
        return replaced(self, "innovation parameter", changes)


def innovation_parameter_table() -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source, for docs and the CLI."""
    return parameter_rows(InnovationParameters)
