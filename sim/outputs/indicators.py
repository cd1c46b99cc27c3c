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
    mechanism: str  # how the model computes it, in English
    mechanism_zh: str  # the same in Chinese, for the app's Chinese page
    levers: tuple[str, ...] = ()
    no: int | None = None
    baseline_2020: float | None = None
    target: float | None = None
    target_year: int = 2025
    target_op: str = ">="
    compute: Callable[[Record], float] | None = None
    flow: bool = False
    not_modelled_reason: str = ""
    not_modelled_reason_zh: str = ""

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


def _realised_random_share(r: Record) -> float:
    """Indicator 2: the share of the year's inspections drawn at random; at the start (2020, a record
    of stocks with no inspections yet) the regulators' share, the plan's baseline."""
    return 100.0 * r["inspections_random"] / r["inspections"] if r["inspections"] else r["dual_random_share"]


def _count(field: str) -> Callable[[Record], float]:
    return lambda r: r[field] / 1e4


def _field(field: str) -> Callable[[Record], float]:
    return lambda r: r[field]


# How the model produces each indicator it computes: (level, mechanism in English, the same in Chinese,
# levers, compute, flow).
MECHANISMS: dict[str, tuple[str, str, str, tuple[str, ...], Callable[[Record], float] | None, bool]] = {
    "market_entities": (
        "entity", "Registered entities (active and dormant) at year end: entries by kind respond to "
        "registration cost, licence reform and the economy; ceasing follows the age-hazard table; "
        "ceasing entities deregister or stay dormant until they deregister or are compulsorily removed.",
        "年末在册市场主体（在营和歇业）：各类主体的新设登记随开办企业时间与成本、告知承诺制改革和经济形势变化；"
        "停止经营按分年龄的退出风险表发生；停止经营的主体或办理注销，或以歇业状态留在登记册上，直至注销或被强制注销。",
        ("entry_cost_index", "licence_reform_coverage", "simplified_deregistration", "compulsory_deregistration"),
        _count("registered"), False),
    "dual_random_share": (
        "regulator", "Share of the year's inspections actually drawn at random (realised, all cities): "
        "each city regulator moves its double-random share towards the provincial target at a pace set "
        "by its inspection capacity, with month-to-month noise, and can draw at random only what its "
        "key-area work and the complaints it must follow leave of its capacity.",
        "全年实际以“双随机”方式抽取的检查占全部检查的比例（全省）：各市监管部门按其检查能力决定的速度"
        "向全省目标靠近，逐月有随机波动；重点领域监管和必须处理的投诉举报占用的检查力量不能用于随机抽查。",
        ("dual_random_share", "inspection_capacity"), _realised_random_share, False),
    "credit_application_rate": (
        "regulator", "Share of double-random inspections sampled by credit-risk class, averaged over "
        "city regulators at year end; regulators move towards the target at a limited pace.",
        "年末各市“双随机”抽查中按信用风险分类确定抽查对象的比例（各市平均）；监管部门以有限的速度向目标靠近。",
        ("credit_application_rate",), lambda r: r["credit_application_share"], False),
    "company_share_of_enterprises": (
        "entity", "Companies among enterprises at year end: most new enterprises are companies, "
        "individual businesses convert (个转企) and other enterprises corporatise.",
        "年末企业中公司制企业的占比：新设企业大多为公司，个体工商户转为企业（个转企），其他企业改制为公司。",
        ("individual_to_company_rate", "entry_cost_index"),
        lambda r: 100.0 * r["registered_company"] / max(1e-9, r["registered_company"] + r["registered_other"]),
        False),
    # Programme, city-regulator and market indicators (sim/submodels/programmes.py; docs/ODD.md 7.9-7.11).
    "ip_protection_centers": (
        "programme", "New national IP protection and rapid rights-protection centres arrive at random "
        "(Poisson, about one a year at 2020 support) at a rate the support lever scales; centres stay.",
        "新的国家级知识产权保护中心和快速维权中心随机获批（泊松过程，2020年支持力度下约每年1个），"
        "获批速度随支持力度杠杆成比例提高；已建中心一直保留。",
        ("ip_protection_center_support",), _field("ip_protection_centers"), False),
    "china_quality_awards": (
        "programme", "National China Quality Award rounds every two years (2021, 2023, 2025) with at most 10 "
        "winners; Zhejiang's places are binomial at its share of the national pool of quality leaders, "
        "which grows with its registered companies against the rest of China and with the quality "
        "programme; winners' share is half the nomination share. Cumulative count.",
        "中国质量奖每两年评选一届（2021、2023、2025年），每届获奖者最多10个；浙江获奖数服从二项分布，"
        "概率为浙江在全国质量标杆储备中的占比，该占比随浙江在册公司数相对全国其他地区的增长和质量提升行动力度而提高；"
        "获奖占比为提名奖占比的一半。累计数。",
        ("quality_programme",), _field("china_quality_awards"), False),
    "china_quality_award_nominations": (
        "programme", "The same national rounds with at most 90 nominations: Zhejiang's nominations are "
        "binomial at its share of the pool (7% in 2013-2018). Cumulative count.",
        "同一全国评选，每届提名奖最多90个：浙江提名数服从二项分布，"
        "概率为浙江在储备中的占比（2013—2018年为7%）。累计数。",
        ("quality_programme",), _field("china_quality_award_nominations"), False),
    "large_commodity_markets": (
        "market", "About 4000 commodity markets with lognormal turnover; log turnover drifts with GDP "
        "growth and the upgrading lever plus idiosyncratic Laplace noise; small markets exit more; new "
        "markets enter small. Counted: markets above 100M yuan at year end.",
        "约4000个商品交易市场，年成交额呈对数正态分布；成交额（取对数）随GDP增速和商品市场改造提升杠杆增长，"
        "另加各市场自身的随机扰动（拉普拉斯分布）；小市场退出更多；新市场以小规模进入。"
        "统计年末年成交额超过1亿元的市场个数。",
        ("commodity_market_upgrading",), _field("large_commodity_markets"), False),
    "food_safety_demo_cities": (
        "regulator", "A city applies once its food sampling has been at least 4.5 batches per 1000 "
        "residents for three consecutive years, and passes a national round (every two years from 2021) "
        "with a probability the support lever raises; named cities stay named.",
        "城市食品抽检量连续三年达到每千人4.5批次以上即可申报，在国家评审（自2021年起每两年一轮）"
        "中以一定概率通过，示范城市创建支持杠杆提高该概率；已命名的城市保持命名。",
        ("food_sampling_effort", "food_safety_city_support"), _field("food_safety_demo_cities"), False),
    "aa_wholesale_markets": (
        "market", "Farm-produce wholesale markets (100) upgrade to AA grade with a hazard proportional to "
        "the standardisation lever and rising with market size; upgraded markets stay AA.",
        "农产品批发市场（100家）按一定概率升级为AA级，该概率与规范化建设力度杠杆成正比，并随市场规模增大；"
        "已升级的市场保持AA级。",
        ("wholesale_market_standardisation",), _field("aa_wholesale_markets"), False),
    "food_sampling_per_1000": (
        "regulator", "Each city's sampling batches move towards its funded level (effort x 2020 batches) "
        "at a pace its lab capacity allows, with monthly noise; the provincial sum is divided by the "
        "resident population, which grows with the population_growth uncertainty. Year's mean.",
        "各市抽检批次按检测能力允许的速度向经费保障水平（投入指数×2020年批次）靠近，逐月有随机波动；"
        "全省合计除以常住人口，常住人口按不确定性参数常住人口增速（population_growth）增长。"
        "取全年平均。",
        ("food_sampling_effort",), _field("food_sampling_per_1000"), False),
    "product_quality_spot_checks": (
        "regulator", "Each city's spot-check batches grow towards the funded level (effort x 2020 batches) "
        "by at most 30% a year (times the city's capability), with monthly noise. Year's mean of the "
        "annualised monthly batches.",
        "各市监督抽查批次向经费保障水平（投入指数×2020年批次）增长，每年增幅最多30%（再乘以该市的能力系数），"
        "逐月有随机波动。取各月年化批次的全年平均。",
        ("product_spot_check_effort",), _field("product_quality_spot_checks"), False),
    "digital_integration_rate": (
        "regulator", "Each city's 20 supervision business lines join the digital platform one by one with a "
        "Bass hazard (innovation + imitation x share integrated) scaled by the investment lever and the "
        "city's capability; the share integrated at year end. Sets each city's digital_effectiveness.",
        "各市20条监管业务线按Bass扩散概率（创新系数＋模仿系数×已融合比例）逐条接入数字平台，"
        "该概率随数字化监管投入杠杆和该市能力系数放大；指标为年末已融合的比例。"
        "融合比例决定各市的数字化效能系数（digital_effectiveness）。",
        ("digital_investment",), _field("digital_integration_rate"), False),
    "public_measurement_standards": (
        "programme", "Stock of public measurement standards: new ones at a rate (net growth 2.25% a year "
        "2018-2020 plus retirements) scaled by quality-infrastructure investment, retirements at 2% a year.",
        "社会公用计量标准存量：新建速度（2018—2020年年均净增2.25%再加上退役数）"
        "随质量基础设施建设投入放大；每年退役2%。",
        ("quality_infrastructure_investment",), _field("public_measurement_standards"), False),
    "new_international_standards": (
        "programme", "International standards led or co-drafted arrive at random at a rate scaled by the "
        "standards programme, the companies' pool and a yearly batch factor. Cumulative from 2021.",
        "主导或参与制修订的国际标准随机产生，速度随标准化创新支持力度、公司数量基础和逐年批次因子放大。"
        "自2021年起累计。",
        ("standards_programme",), _field("new_international_standards"), False),
    "new_national_standards": (
        "programme", "National standards led arrive at random at a rate scaled by the standards programme, "
        "the companies' pool and a yearly batch factor. Cumulative from 2021.",
        "主导制修订的国家标准随机产生，速度随标准化创新支持力度、公司数量基础和逐年批次因子放大。自2021年起累计。",
        ("standards_programme",), _field("new_national_standards"), False),
    "national_inspection_centers": (
        "programme", "New national quality-inspection centres arrive at random, 2.2 a year at 2020 "
        "investment (44 in 2015 to 55 in 2020), scaled by quality-infrastructure investment.",
        "新的国家质检中心随机获批，2020年投入水平下每年2.2个（2015年44个，2020年55个），"
        "随质量基础设施建设投入放大。",
        ("quality_infrastructure_investment",), _field("national_inspection_centers"), False),
    "industrial_metrology_centers": (
        "programme", "New national industrial metrology test centres arrive at random, 0.5 a year at 2020 "
        "investment, scaled by quality-infrastructure investment.",
        "新的国家产业计量测试中心随机获批，2020年投入水平下每年0.5个，随质量基础设施建设投入放大。",
        ("quality_infrastructure_investment",), _field("industrial_metrology_centers"), False),
    # Firm-level innovation and brand indicators (sim/submodels/innovation.py, docs/ODD.md 7.4).
    "valid_trademarks": (
        "entity", "Valid marks held in cohorts by the year their ten-year term began: registrations follow "
        "filings (after a 6-month examination) by companies, other enterprises and individual businesses "
        "(the month's register) and by the simulated firms (by size and sector), scaled by the support lever "
        "and the economy; an expiring cohort is renewed with probability 0.45 or lapses; a small hazard "
        "cancels marks early. Pre-2021 cohorts back-cast from the 2016, 2017 and 2020 stocks.",
        "有效注册商标按十年有效期的起始年份分批记录：公司、其他企业和个体工商户（按当月登记册）"
        "以及模拟企业（按规模和行业）提出商标申请，经6个月审查后注册，"
        "申请量随商标注册与品牌服务支持杠杆和经济形势放大；到期的一批以0.45的概率续展，否则失效；"
        "另有小概率提前注销。2021年以前的各批由2016、2017和2020年的存量倒推。",
        ("trademark_support",), _field("valid_trademarks"), False),
    "high_value_patents_per_10k": (
        "entity", "Simulated firms (above-scale and near-threshold industrial firms, other holders) gain "
        "invention grants in proportion to their portfolio (a share high-value) and let patents lapse; "
        "firms without patents get a first one by size; patents lapse when a firm exits; universities and "
        "institutes hold an aggregate stock. High-value patents over the resident population (10k).",
        "模拟企业（规上工业企业、接近规上门槛的工业企业及其他专利持有者）"
        "按已有专利量获得发明专利授权（其中一部分为高价值发明专利），已有专利也会失效；"
        "尚无专利的企业按规模获得首件专利；企业退出时其专利失效；高校和科研院所的专利按总量计。"
        "指标为高价值发明专利拥有量除以常住人口（万人）。",
        ("ip_programme",), _field("high_value_patents_per_10k"), False),
    "patent_coverage_above_scale": (
        "entity", "Share of above-scale industrial firms (revenue >= 20M yuan) holding an invention patent at "
        "year end: firms enter the group by Gibrat growth past the threshold and leave by shrinking or "
        "exiting; new firms come in from below with registered companies and the economy; firms without "
        "patents get a first one at a hazard the IP programme raises; holders lose coverage when their last "
        "patent lapses.",
        "年末规上工业企业（营业收入≥2000万元）中拥有发明专利的比例："
        "企业按吉布拉特式随机增长越过门槛进入规上企业，因规模缩小或退出而离开；"
        "新企业随在册公司数和经济形势从门槛以下补充进来；尚无专利的企业以一定概率获得首件发明专利，"
        "知识产权强企计划提高该概率；持有企业的最后一件专利失效后不再计入。",
        ("ip_programme",), _field("patent_coverage_above_scale"), False),
    # A yearly flow (grants in the year; the record field is a FLOW summed over the months). Declared
    # flow=False so that its 2020 value, the plan's 3000 carried in Innovation.initial_values, is reported
    # for 2020 like the other baselines.
    "overseas_patent_grants": (
        "entity", "Holders of high-value patents file overseas in proportion to them (IP programme raises "
        "filing); filings pass two examination stages of 15 months each on average and 60% are granted. "
        "Grants in the year.",
        "高价值发明专利持有企业按其持有量提出海外专利申请（知识产权强企计划提高申请量）；"
        "申请经过两个平均各15个月的审查阶段，60%获得授权。指标为当年授权量。",
        ("ip_programme",), _field("overseas_patent_grants"), False),
    "zhejiang_made_standards": (
        "entity", "Clean-credit industrial firms lead Zhejiang Made standards for their product category at a "
        "hazard rising with size, lower where the category already has one, scaled by the standards "
        "programme; how many a year follows a logistic diffusion whose ceiling and rate are fitted to the "
        "2016-2020 counts (posterior drawn per seed); standards stay in force when their firm exits and are "
        "withdrawn at 1% a year.",
        "信用记录良好的工业企业以一定概率主导制定本产品类别的“浙江制造”标准，该概率随企业规模提高，"
        "类别已有标准时较低，并随标准化创新支持力度放大；每年新增数量遵循按2016—2020年数据拟合的"
        "逻辑斯谛扩散（上限和速度取自后验，每个随机种子抽取一组）；"
        "主导企业退出后标准继续有效，每年有1%的标准废止。",
        ("standards_programme",), _field("zhejiang_made_standards"), False),
    "zhejiang_made_intl_certs": (
        "entity", "Certified firms obtain international certificates (一次认证、多国证书) at a hazard by size "
        "scaled by the brand programme, as many a year as a logistic diffusion fitted to the 2016-2020 counts "
        "gives, and lose them at renewal or with their Zhejiang Made certification (listing, non-renewal, "
        "exit).",
        "获证企业以随规模变化的概率取得国际认证证书（一次认证、多国证书），"
        "该概率随“品字标”品牌建设力度放大，每年数量遵循按2016—2020年数据拟合的逻辑斯谛扩散；证书在换证时失效，"
        "或随“浙江制造”认证的丧失（被列入名录、未续证、退出）而失效。",
        ("brand_programme", "credit_penalty_severity"), _field("zhejiang_made_intl_certs"), False),
    "pinzi_brand_firms": (
        "entity", "Industrial firms with a Zhejiang Made standard for their product, a clean credit record "
        "(no listing for 36 months) are certified at a hazard by size, higher for a standard's leader, scaled "
        "by the brand programme, as many a year as a logistic diffusion fitted to the 2016-2020 counts gives "
        "(its ceiling is what the slowing after 2018 identifies); certified firms listed on the abnormal or "
        "serious-dishonesty list lose certification. Listing follows the main model's detected violations "
        "and the credit penalty severity (fine_level acts through detected violations).",
        "产品有“浙江制造”标准、信用记录良好（36个月内未被列入名录）"
        "的工业企业以随规模变化的概率获得“浙江制造”认证（“品字标”），标准主导企业的概率更高，"
        "并随“品字标”品牌建设力度放大，每年数量遵循按2016—2020年数据拟合的逻辑斯谛扩散（2018年后增速放缓决定其上限）；"
        "获证企业被列入经营异常名录或严重违法失信名单即失去认证。"
        "列入名录取决于主模型中被查处的违法行为和信用惩戒力度（罚款水平fine_level通过被查处的违法行为起作用"
        "）。",
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
    ("compliant_share_of_inspections", "守法主体所受检查占比", "Share of inspections on compliant entities", "％",
     "%", ("dual_random_share", "credit_application_rate"), _share("inspections_on_compliant", "inspections"), True),
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
    ("random_check_violation_rate", "随机抽查发现违法率", "Random checks finding a violation", "％", "%",
     ("dual_random_share", "fine_level", "credit_penalty_severity"),
     _share("random_found_violating", "random_checked"), True),
)

# Why an indicator is not modelled, in English and in Chinese (the app's Chinese page puts "尚未建模："
# before the Chinese reason itself).
PLANNED_REASON = "not modelled yet: mechanism planned (see docs/ODD.md)"
PLANNED_REASON_ZH = "机制已规划，尚未实现（见 docs/ODD.md）"
TEXT_TARGET_REASON = "not modelled: no mechanism in the model yet (plan text target)"
TEXT_TARGET_REASON_ZH = "模型中尚无相应机制（规划文本目标）"

OUTPUT_MECHANISM = "model output"
OUTPUT_MECHANISM_ZH = "模型输出"


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
        level, mechanism, mechanism_zh, levers, compute, flow = MECHANISMS[iid]  # every plan indicator has one
        out.append(Indicator(
            id=iid, no=int(row["no"]), name_zh=row["name_zh"], name_en=row["name_en"],
            unit_zh=row["unit_zh"], unit_en=row["unit_en"], attribute=row["attribute_en"], level=level,
            mechanism=mechanism, mechanism_zh=mechanism_zh, levers=levers,
            baseline_2020=_float(row["baseline_2020"]),
            target=_float(row["target_2025"]), target_op=row["target_op"], compute=compute, flow=flow,
            not_modelled_reason="" if compute else PLANNED_REASON,
            not_modelled_reason_zh="" if compute else PLANNED_REASON_ZH))
    for row in _rows("plan_text_targets.csv"):
        iid = row["id"]
        if iid in MECHANISMS:
            level, mechanism, mechanism_zh, levers, compute, flow = MECHANISMS[iid]
        else:
            level, mechanism, mechanism_zh, levers, compute, flow = "text", "", "", (), None, False
        out.append(Indicator(
            id=iid, name_zh=row["name_zh"], name_en=row["name_en"], unit_zh=row["unit_zh"], unit_en=row["unit"],
            attribute="text target", level=level, mechanism=mechanism, mechanism_zh=mechanism_zh, levers=levers,
            target=_float(row["target_2025"]), target_op=row["target_op"], compute=compute, flow=flow,
            not_modelled_reason="" if compute else TEXT_TARGET_REASON,
            not_modelled_reason_zh="" if compute else TEXT_TARGET_REASON_ZH))
    for iid, zh, en, unit_zh, unit_en, levers, compute, flow in OUTPUTS:
        out.append(Indicator(id=iid, name_zh=zh, name_en=en, unit_zh=unit_zh, unit_en=unit_en,
                             attribute="output", level="output", mechanism=OUTPUT_MECHANISM,
                             mechanism_zh=OUTPUT_MECHANISM_ZH, levers=levers,
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


# ---------------------------------------------------------------- display (the app, the console and the brief)

TENK = "10k "  # English units counted in ten thousands ("10k entities", "10k marks"): shown in millions


def display_unit(ind: Indicator, lang: str) -> tuple[float, str]:
    """(factor, unit) to show an indicator's values: 万户 in Chinese; millions in English."""
    if lang == "zh":
        return 1.0, ind.unit_zh.replace("％", "%").replace("／", "/")
    if ind.unit_en.startswith(TENK):
        return 0.01, "million " + ind.unit_en[len(TENK):]
    return 1.0, ind.unit_en


def display_decimals(shown: float, factor: float) -> int:
    """Decimals for a value shown with ``factor``: none for whole numbers, two for small or rescaled values."""
    if factor == 1.0 and abs(shown - round(shown)) < 1e-9:
        return 0
    if factor != 1.0 or abs(shown) < 10:
        return 2
    return 1 if abs(shown) < 10000 else 0
