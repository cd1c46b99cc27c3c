"""Where each plan indicator's numbers come from: the data its mechanism is fitted on, the source of
its parameters and what the plan scenario's lever rests on (docs/ODD.md, "Where each indicator's
numbers come from", rendered by ``python -m sim docs``).

Source kinds: *history fit* (a posterior or fit on Zhejiang's series up to 2020), *literature*
(GROUNDING.md), *reference class* (the 13th plan's record of delivery), *assumption* (a declared
range, drawn per seed where it has a prior). No parameter of a mechanism is computed from that
indicator's own 2025 target; where a plan lever is sized from the target because the plan commits
nothing else, the last column says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    """One indicator's data, parameter sources and plan-lever basis."""

    fitted_on: str
    parameters: str
    plan_lever: str


PROVENANCE: dict[str, Provenance] = {
    "market_entities": Provenance(
        "register 2016-2020 (year-end stocks, entries, deregistrations, enterprise share) and the age pattern "
        "of the 2013 survival table: ABC-SMC posterior",
        "history fit: entry levels and trend, hazard scale, individual multiplier; literature priors: entry "
        "cost elasticity (Barwick et al.), licence effect; assumption (prior): density ceiling, trend damping",
        "quoted: 企业开办一日办结, 证照分离 full coverage, 简易注销, 强制注销; the sizes (20% cost cut, timing) "
        "are assumptions the plan does not give"),
    "dual_random_share": Provenance(
        "none beyond the 2020 baseline: the share of the year's inspections drawn at random",
        "assumption (prior 3-20 points a year): dual_random_pace; assumption (prior 5-35%): key_area_share; "
        "entity model: the complaints to follow; inspection capacity held",
        "quoted: the target itself (>60%) and 双随机全覆盖 - the lever is the plan's own target path"),
    "credit_application_rate": Provenance(
        "none beyond the 2020 baseline",
        "assumption (prior 2-10 points a year): credit_application_pace",
        "quoted: the target (80%) and 信用风险分类管理 - the lever is the plan's own target path"),
    "valid_trademarks": Provenance(
        "valid marks 2016, 2017, 2020 (back-cast of the registration cohorts)",
        "history fit: back-cast registrations; source: ten-year term; assumption: renewal 45%, cancellation, "
        "shares by kind",
        "assumption: trademark_support 1.2 (商标品牌战略, no number in the plan)"),
    "high_value_patents_per_10k": Provenance(
        "the 2020 baseline (the definition dates from 2021); the growth of all invention patents from their "
        "counts per 10k residents 2012-2018 (logistic curve, posterior)",
        "history fit: the stock's growth 2018-2020 and at 2020 (about 19% a year); assumption: lapse rates, "
        "high-value share of grants, first-patent hazard",
        "assumption: ip_programme 1.5 (知识产权强省, no number in the plan)"),
    "patent_coverage_above_scale": Provenance(
        "the 2020 baseline (37%)",
        "assumption: first-patent hazard, entry from below; literature: Gibrat growth, Pareto tail (Axtell)",
        "assumption: ip_programme 1.5"),
    "overseas_patent_grants": Provenance(
        "the 2020 baseline (3000 grants)",
        "assumption: examination stages (2 x 15 months), grant ratio 60%, filings per high-value patent",
        "assumption: ip_programme 1.5"),
    "ip_protection_centers": Provenance(
        "5 centres by 2020 (about one a year)",
        "history: the 2016-2020 pace; reference class: programme_delivery 0.5-1.5",
        "sized from the target (10 centres in 5 years): the plan commits nothing else; delivery risk from "
        "the reference class"),
    "china_quality_awards": Provenance(
        "no Zhejiang winner by 2020; 16 nominations 2013-2018",
        "source: award rounds and caps; assumption: winner share of nominees",
        "assumption: quality_programme 1.5 (质量提升行动, 办好中国质量大会)"),
    "china_quality_award_nominations": Provenance(
        "16 nominations in the rounds of 2013-2018 (7% of the national pool)",
        "history: Zhejiang's share of nominations; source: rounds and caps",
        "assumption: quality_programme 1.5"),
    "zhejiang_made_standards": Provenance(
        "counts of November 2016, October 2017, October 2018 (lower bound) and 2020: logistic diffusion, "
        "posterior in calibration/posterior_submodels.parquet",
        "history fit: ceiling and rate; assumption: size elasticity, covered-category factor, withdrawal 1%, "
        "capacity elasticity prior 0-1 (a programme raises the ceiling)",
        "assumption: standards_programme 1.3 (标准强省, no number in the plan)"),
    "zhejiang_made_intl_certs": Provenance(
        "counts of November 2016, October 2017 and 2020: logistic diffusion (ceiling hardly identified)",
        "history fit: ceiling and rate; assumption: lapse 5%, size elasticity, capacity elasticity prior 0-1",
        "assumption: brand_programme 1.3 (品字标, no number in the plan)"),
    "pinzi_brand_firms": Provenance(
        "counts of November 2016, October 2017, October 2018 (lower bound) and 2020: logistic diffusion",
        "history fit: ceiling and rate; assumption: lapse 3%, leader factor, capacity elasticity prior 0-1; "
        "entity model: listing",
        "assumption: brand_programme 1.3; credit_penalty_severity quoted (失信惩戒)"),
    "large_commodity_markets": Provenance(
        "731 markets above 100M yuan in 2011 and 1200 in 2020 (the drift of turnover)",
        "history: turnover drift; assumption: market count, noise, exit",
        "quoted: 商品市场五化改造 (1.5: assumption on size)"),
    "food_safety_demo_cities": Provenance(
        "none (no baseline in the plan)",
        "assumption: sampling threshold 4.5 per 1000, pass probability; national rounds every two years",
        "quoted: 创建国家食品安全示范城市 (2.0: assumption on size)"),
    "aa_wholesale_markets": Provenance(
        "4 AA markets in 2020",
        "assumption: 100 wholesale markets, upgrade hazard by size; reference class: programme_delivery",
        "sized from the target (21 upgrades, 3.5 x the 2020 pace): the plan commits nothing else"),
    "food_sampling_per_1000": Provenance(
        "4.4 batches per 1000 in 2020",
        "assumption: lab-capacity pace, monthly noise; reference class: programme_delivery",
        "sized from the target (1.24 x the batches, 1.3 with a margin): the plan commits nothing else"),
    "product_quality_spot_checks": Provenance(
        "7000 batches in 2020",
        "assumption: at most 30% growth a year times capability; reference class: programme_delivery",
        "sized from the target (20000 / 7000 = 2.9): the plan commits nothing else"),
    "digital_integration_rate": Provenance(
        "70% in 2020",
        "literature: Bass diffusion; assumption: innovation and imitation coefficients, 20 lines per city",
        "quoted: 数字化改革 across systems (3.0: assumption on size)"),
    "public_measurement_standards": Provenance(
        "3308 in October 2018 and 3472 in 2020 (net growth 2.25% a year)",
        "history: the 2018-2020 growth; assumption: retirement 2%",
        "quoted: 加大关键质量基础设施建设投入 (1.3: assumption on size)"),
    "new_international_standards": Provenance(
        "36 led in total by 2020; no yearly path",
        "assumption: arrival rate and batch factor",
        "assumption: standards_programme 1.3"),
    "new_national_standards": Provenance(
        "none yearly (the 13th plan's 300 in five years was a target)",
        "assumption: arrival rate and batch factor",
        "assumption: standards_programme 1.3"),
    "national_inspection_centers": Provenance(
        "44 in 2015 and 55 in 2020 (2.2 a year)",
        "history: the 2015-2020 pace; reference class: programme_delivery",
        "quoted: 优化国家和省级质检中心建设布局 (1.3: assumption on size)"),
    "industrial_metrology_centers": Provenance(
        "3 in 2020",
        "assumption: 0.5 a year at 2020 investment; reference class: programme_delivery",
        "quoted: 产业计量测试中心建设 (1.3: assumption on size)"),
}
