"""The indicator registry: each indicator declared once, with its target and mechanism.

The plan's 24 indicators and its text targets come from the plan data
(``sim/data/plan_indicators.csv``, ``plan_text_targets.csv``), so a later plan can be
loaded as data. This module adds, per indicator, the mechanism that drives it, the
levers that move it and, where the model computes it, how it is read off the
model's yearly record. Policy-reader outputs (entries, exits, inspections, ...) are
declared here too.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

Record = Mapping[str, float]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}


@dataclass(frozen=True)
class Indicator:
    """One indicator: identity, target and how the model produces it."""

    id: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    attribute: str  # binding, expected, text target, or output
    level: str  # entity, regulator, market, programme, output
    mechanism: str
    levers: tuple[str, ...] = ()
    no: int | None = None
    baseline_2020: float | None = None
    target: float | None = None
    target_year: int = 2025
    target_op: str = ">="
    compute: Callable[[Record], float] | None = None
    flow: bool = False
    not_modelled_reason: str = ""

    @property
    def modelled(self) -> bool:
        """Whether the model computes this indicator now."""
        return self.compute is not None

    def met(self, value: float) -> bool:
        """Whether a value meets the target."""
        if self.target is None:
            return False
        # A value within rounding of the target counts as on it (regulators sit exactly at a target).
        tolerance = 1e-9 * max(1.0, abs(self.target))
        nudged = value + tolerance if self.target_op in (">=", ">") else value - tolerance
        if self.target_op in (">", "<"):
            nudged = value
        return OPERATORS[self.target_op](nudged, self.target)


def _share(num: str, den: str) -> Callable[[Record], float]:
    return lambda r: 100.0 * r[num] / r[den] if r[den] else 0.0


def _count(field: str) -> Callable[[Record], float]:
    return lambda r: r[field] / 1e4


def _field(field: str) -> Callable[[Record], float]:
    return lambda r: r[field]


# How the model produces each indicator it computes: (level, mechanism, levers, compute, flow).
MECHANISMS: dict[str, tuple[str, str, tuple[str, ...], Callable[[Record], float] | None, bool]] = {
    "market_entities": (
        "entity", "Registered entities (active and dormant) at year end: entries by kind respond to "
        "registration cost, licence reform and the economy; ceasing follows the age-hazard table; "
        "ceasing entities deregister or stay dormant until they deregister or are compulsorily removed.",
        ("entry_cost_index", "licence_reform_coverage", "simplified_deregistration", "compulsory_deregistration"),
        _count("registered"), False),
    "dual_random_share": (
        "regulator", "Share of inspections chosen by double-random draw, averaged over the city "
        "regulators (weighted by registered entities) at year end; each regulator moves towards the "
        "provincial target at a pace set by its inspection capacity, with month-to-month noise.",
        ("dual_random_share", "inspection_capacity"), lambda r: r["dual_random_share"], False),
    "credit_application_rate": (
        "regulator", "Share of double-random inspections sampled by credit-risk class, averaged over "
        "city regulators at year end; regulators move towards the target at a limited pace.",
        ("credit_application_rate",), lambda r: r["credit_application_share"], False),
    "company_share_of_enterprises": (
        "entity", "Companies among enterprises at year end: most new enterprises are companies, "
        "individual businesses convert (个转企) and other enterprises corporatise.",
        ("individual_to_company_rate", "entry_cost_index"),
        lambda r: 100.0 * r["registered_company"] / max(1e-9, r["registered_company"] + r["registered_other"]),
        False),
    # Programme, city-regulator and market indicators (sim/programmes.py; docs/ODD.md 7.9-7.11).
    "ip_protection_centers": (
        "programme", "New national IP protection and rapid rights-protection centres arrive at random "
        "(Poisson, about one a year at 2020 support) at a rate the support lever scales; centres stay.",
        ("ip_protection_center_support",), _field("ip_protection_centers"), False),
    "china_quality_awards": (
        "programme", "National China Quality Award rounds every two years (2021, 2023, 2025) with at most 10 "
        "winners; Zhejiang's places are binomial at its share of the national pool of quality leaders, "
        "which grows with its registered companies against the rest of China and with the quality "
        "programme; winners' share is half the nomination share. Cumulative count.",
        ("quality_programme",), _field("china_quality_awards"), False),
    "china_quality_award_nominations": (
        "programme", "The same national rounds with at most 90 nominations: Zhejiang's nominations are "
        "binomial at its share of the pool (7% in 2013-2018). Cumulative count.",
        ("quality_programme",), _field("china_quality_award_nominations"), False),
    "large_commodity_markets": (
        "market", "About 4000 commodity markets with lognormal turnover; log turnover drifts with GDP "
        "growth and the upgrading lever plus idiosyncratic Laplace noise; small markets exit more; new "
        "markets enter small. Counted: markets above 100M yuan at year end.",
        ("commodity_market_upgrading",), _field("large_commodity_markets"), False),
    "food_safety_demo_cities": (
        "regulator", "A city applies once its food sampling has been at least 4.5 batches per 1000 "
        "residents for three consecutive years, and passes a national round (every two years from 2021) "
        "with a probability the support lever raises; named cities stay named.",
        ("food_sampling_effort", "food_safety_city_support"), _field("food_safety_demo_cities"), False),
    "aa_wholesale_markets": (
        "market", "Farm-produce wholesale markets (100) upgrade to AA grade with a hazard proportional to "
        "the standardisation lever and rising with market size; upgraded markets stay AA.",
        ("wholesale_market_standardisation",), _field("aa_wholesale_markets"), False),
    "food_sampling_per_1000": (
        "regulator", "Each city's sampling batches move towards its funded level (effort x 2020 batches) "
        "at a pace its lab capacity allows, with monthly noise; the provincial sum is divided by the "
        "resident population, which grows with the population_growth uncertainty. Year's mean.",
        ("food_sampling_effort",), _field("food_sampling_per_1000"), False),
    "product_quality_spot_checks": (
        "regulator", "Each city's spot-check batches grow towards the funded level (effort x 2020 batches) "
        "by at most 30% a year (times the city's capability), with monthly noise. Year's mean of the "
        "annualised monthly batches.",
        ("product_spot_check_effort",), _field("product_quality_spot_checks"), False),
    "digital_integration_rate": (
        "regulator", "Each city's 20 supervision business lines join the digital platform one by one with a "
        "Bass hazard (innovation + imitation x share integrated) scaled by the investment lever and the "
        "city's capability; the share integrated at year end. Sets each city's digital_effectiveness.",
        ("digital_investment",), _field("digital_integration_rate"), False),
    "public_measurement_standards": (
        "programme", "Stock of public measurement standards: new ones at a rate (net growth 2.25% a year "
        "2018-2020 plus retirements) scaled by quality-infrastructure investment, retirements at 2% a year.",
        ("quality_infrastructure_investment",), _field("public_measurement_standards"), False),
    "new_international_standards": (
        "programme", "International standards led or co-drafted arrive at random at a rate scaled by the "
        "standards programme, the companies' pool and a yearly batch factor. Cumulative from 2021.",
        ("standards_programme",), _field("new_international_standards"), False),
    "new_national_standards": (
        "programme", "National standards led arrive at random at a rate scaled by the standards programme, "
        "the companies' pool and a yearly batch factor. Cumulative from 2021.",
        ("standards_programme",), _field("new_national_standards"), False),
    "national_inspection_centers": (
        "programme", "New national quality-inspection centres arrive at random, 2.2 a year at 2020 "
        "investment (44 in 2015 to 55 in 2020), scaled by quality-infrastructure investment.",
        ("quality_infrastructure_investment",), _field("national_inspection_centers"), False),
    "industrial_metrology_centers": (
        "programme", "New national industrial metrology test centres arrive at random, 0.5 a year at 2020 "
        "investment, scaled by quality-infrastructure investment.",
        ("quality_infrastructure_investment",), _field("industrial_metrology_centers"), False),
    # Firm-level innovation and brand indicators (sim/innovation.py, docs/ODD.md 7.4).
    "valid_trademarks": (
        "entity", "Valid marks held in cohorts by the year their ten-year term began: registrations follow "
        "filings (after a 6-month examination) by companies, other enterprises and individual businesses "
        "(the month's register) and by the simulated firms (by size and sector), scaled by the support lever "
        "and the economy; an expiring cohort is renewed with probability 0.45 or lapses; a small hazard "
        "cancels marks early. Pre-2021 cohorts back-cast from the 2016, 2017 and 2020 stocks.",
        ("trademark_support",), _field("valid_trademarks"), False),
    "high_value_patents_per_10k": (
        "entity", "Simulated firms (above-scale and near-threshold industrial firms, other holders) gain "
        "invention grants in proportion to their portfolio (a share high-value) and let patents lapse; "
        "firms without patents get a first one by size; patents lapse when a firm exits; universities and "
        "institutes hold an aggregate stock. High-value patents over the resident population (10k).",
        ("ip_programme",), _field("high_value_patents_per_10k"), False),
    "patent_coverage_above_scale": (
        "entity", "Share of above-scale industrial firms (revenue >= 20M yuan) holding an invention patent at "
        "year end: firms enter the group by Gibrat growth past the threshold and leave by shrinking or "
        "exiting; new firms come in from below with registered companies and the economy; firms without "
        "patents get a first one at a hazard the IP programme raises; holders lose coverage when their last "
        "patent lapses.",
        ("ip_programme",), _field("patent_coverage_above_scale"), False),
    # A yearly flow (grants in the year; the record field is a FLOW summed over the months). Declared
    # flow=False so that its 2020 value, the plan's 3000 carried in Innovation.initial_values, is reported
    # for 2020 like the other baselines.
    "overseas_patent_grants": (
        "entity", "Holders of high-value patents file overseas in proportion to them (IP programme raises "
        "filing); filings pass two examination stages of 15 months each on average and 60% are granted. "
        "Grants in the year.",
        ("ip_programme",), _field("overseas_patent_grants"), False),
    "zhejiang_made_standards": (
        "entity", "Clean-credit industrial firms lead Zhejiang Made standards for their product category at a "
        "hazard rising with size, lower where the category already has one, scaled by the standards "
        "programme (2020 pace 543 a year, 2017-2020 history); standards stay in force when their firm exits "
        "and are withdrawn at 1% a year.",
        ("standards_programme",), _field("zhejiang_made_standards"), False),
    "zhejiang_made_intl_certs": (
        "entity", "Certified firms obtain international certificates (一次认证、多国证书) at a hazard by size "
        "scaled by the brand programme (2020 pace 56 a year) and lose them at renewal or with their Zhejiang "
        "Made certification (listing, non-renewal, exit).",
        ("brand_programme", "credit_penalty_severity"), _field("zhejiang_made_intl_certs"), False),
    "pinzi_brand_firms": (
        "entity", "Industrial firms with a Zhejiang Made standard for their product, a clean credit record "
        "(no listing for 36 months) are certified at a hazard by size, higher for a standard's leader, scaled "
        "by the brand programme (2020 pace 446 a year); certified firms listed on the abnormal or "
        "serious-dishonesty list lose certification. Listing follows the main model's detected violations "
        "and the credit penalty severity (fine_level acts through detected violations).",
        ("brand_programme", "credit_penalty_severity", "standards_programme"), _field("pinzi_brand_firms"), False),
}

OUTPUTS: tuple[tuple[str, str, str, str, str, tuple[str, ...], Callable[[Record], float], bool], ...] = (
    ("new_registrations", "新设登记市场主体", "New registrations", "万户", "10k entities",
     ("entry_cost_index", "licence_reform_coverage"), _count("entries"), True),
    ("deregistrations", "注销市场主体", "Deregistrations", "万户", "10k entities",
     ("simplified_deregistration", "compulsory_deregistration"), _count("deregistrations"), True),
    ("dormant_entities", "歇业（吊而未销）主体", "Dormant entities on the register", "万户", "10k entities",
     ("simplified_deregistration", "compulsory_deregistration"), _count("dormant"), False),
    ("compliance_rate", "守法经营率", "Compliance rate of active entities", "％", "%",
     ("dual_random_share", "credit_penalty_severity", "fine_level", "inspection_capacity"),
     lambda r: r["compliance_rate"], False),
    ("inspections", "检查次数", "Inspections", "万次", "10k inspections",
     ("inspection_capacity",), _count("inspections"), True),
    ("inspections_on_compliant", "落在守法主体上的检查", "Inspections of compliant entities", "万次",
     "10k inspections", ("dual_random_share", "credit_application_rate"), _count("inspections_on_compliant"), True),
    ("enterprises", "企业", "Enterprises", "万户", "10k entities", ("entry_cost_index",),
     lambda r: (r["registered_company"] + r["registered_other"]) / 1e4, False),
    ("individual_businesses", "个体工商户", "Individual businesses", "万户", "10k entities",
     ("entry_cost_index", "individual_to_company_rate"), _count("registered_individual"), False),
    ("conversions", "个转企", "Individual-to-company conversions", "万户", "10k entities",
     ("individual_to_company_rate",), _count("conversions"), True),
    ("abnormal_list", "经营异常名录在册", "Entities on the abnormal-operation list", "万户", "10k entities",
     ("compulsory_deregistration",), _count("abnormal_listed"), False),
    ("serious_dishonesty_list", "严重违法失信名单在册", "Entities on the serious-dishonesty list", "万户",
     "10k entities", ("credit_penalty_severity",), _count("serious_listed"), False),
    ("annual_report_rate", "年报率", "Annual-report filing rate", "％", "%", (),
     _share("annual_reports_filed", "annual_reports_due"), True),
    ("random_check_abnormal_rate", "随机抽查发现异常率", "Random checks finding entities not operating",
     "％", "%", ("credit_application_rate",), _share("random_found_abnormal", "random_checked"), True),
)

# Plan indicators the model does not compute yet: their mechanism as planned (none left: indicators
# 4-7 and 11-13 moved to MECHANISMS with sim/innovation.py).
PLANNED: dict[str, tuple[str, str, tuple[str, ...]]] = {}

TEXT_TARGET_REASON = "not modelled: no mechanism in the model yet (plan text target)"


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("sim.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def registry() -> tuple[Indicator, ...]:
    """All indicators: the plan's 24, the plan's text targets, then policy-reader outputs."""
    out: list[Indicator] = []
    for row in _rows("plan_indicators.csv"):
        iid = row["id"]
        if iid in MECHANISMS:
            level, mechanism, levers, compute, flow = MECHANISMS[iid]
        else:
            level, mechanism, levers = PLANNED[iid]
            compute, flow = None, False
        out.append(Indicator(
            id=iid, no=int(row["no"]), name_zh=row["name_zh"], name_en=row["name_en"],
            unit_zh=row["unit_zh"], unit_en=row["unit_en"], attribute=row["attribute_en"], level=level,
            mechanism=mechanism, levers=levers, baseline_2020=_float(row["baseline_2020"]),
            target=_float(row["target_2025"]), target_op=row["target_op"], compute=compute, flow=flow,
            not_modelled_reason="" if compute else "not modelled yet: mechanism planned (see docs/ODD.md)"))
    for row in _rows("plan_text_targets.csv"):
        iid = row["id"]
        if iid in MECHANISMS:
            level, mechanism, levers, compute, flow = MECHANISMS[iid]
        else:
            level, mechanism, levers, compute, flow = "text", "", (), None, False
        out.append(Indicator(
            id=iid, name_zh=row["name_zh"], name_en=row["name_en"], unit_zh=row["unit"], unit_en=row["unit"],
            attribute="text target", level=level, mechanism=mechanism, levers=levers,
            target=_float(row["target_2025"]), target_op=row["target_op"], compute=compute, flow=flow,
            not_modelled_reason="" if compute else TEXT_TARGET_REASON))
    for iid, zh, en, unit_zh, unit_en, levers, compute, flow in OUTPUTS:
        out.append(Indicator(id=iid, name_zh=zh, name_en=en, unit_zh=unit_zh, unit_en=unit_en,
                             attribute="output", level="output", mechanism="model output", levers=levers,
                             compute=compute, flow=flow, target=None))
    return tuple(out)


def by_id() -> dict[str, Indicator]:
    """The registry keyed by indicator id."""
    return {ind.id: ind for ind in registry()}


def plan_indicators() -> list[Indicator]:
    """The plan's numbered indicators, in table order."""
    return [ind for ind in registry() if ind.no is not None]


def indicator_values(record: Record, initial: bool = False) -> dict[str, float]:
    """Values of every modelled indicator from one yearly record.

    Flow indicators are left out for the initial year (the model starts from a stock).
    """
    return {ind.id: float(ind.compute(record)) for ind in registry()
            if ind.modelled and not (initial and ind.flow)}
