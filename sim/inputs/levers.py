"""Levers and uncertainties, each declared once; the cities; a value's path by year.

Every lever id, label, unit, range and 2020 value lives here; scenario files
(:mod:`sim.inputs.scenario`), the app, sweeps and docs read these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass


FIRST_YEAR = 2015
LAST_YEAR = 2035

CITIES: tuple[str, ...] = (
    "Hangzhou", "Ningbo", "Wenzhou", "Jiaxing", "Huzhou", "Shaoxing",
    "Jinhua", "Quzhou", "Zhoushan", "Taizhou", "Lishui",
)
CITY_NAMES_ZH: dict[str, str] = dict(zip(CITIES, (
    "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水")))


class ScenarioError(ValueError):
    """A scenario file or override is malformed; the message says what and what is allowed."""


@dataclass(frozen=True)
class Lever:
    """A policy lever or an uncertainty, declared once.

    Attributes:
        id: Stable identifier used in scenario files and outputs.
        label_zh: Chinese label.
        label_en: English label.
        unit: Unit of the value (English; also in scenario-file messages and docs/ODD.md).
        unit_zh: The unit in Chinese, as the app shows it.
        low: Smallest allowed value.
        high: Largest allowed value.
        value_2020: 2020 practice; the baseline scenario holds it.
        group: Plan group the app shows it under.
        help_en: What the lever changes in the model.
        help_zh: The same in Chinese.
        integer: Whether only whole numbers are allowed (switches and months).
    """

    id: str
    label_zh: str
    label_en: str
    unit: str
    unit_zh: str
    low: float
    high: float
    value_2020: float
    group: str
    help_en: str
    help_zh: str
    integer: bool = False

    def allowed(self) -> str:
        """Human-readable allowed range."""
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {self.low:g} to {self.high:g} ({self.unit})"


LEVERS: tuple[Lever, ...] = (
    Lever("entry_cost_index", "开办企业时间与成本指数", "Time and cost to register and open",
          "index, 2020 = 1", "指数，2020年=1", 0.2, 3.0, 1.0, "registration",
          "Scales entries by kind with elasticity entry_cost_elasticity; extra entrants are marginal "
          "and exit more often in their first two years.",
          "按弹性影响各类主体新设登记；新增的边际进入者前两年退出率更高。"),
    Lever("licence_reform_coverage", "告知承诺制覆盖率（证照分离）", "Licence reform coverage (notification-commitment)",
          "share 0-1", "比例，0–1", 0.0, 1.0, 0.3, "registration",
          "Share of licensed activities under notification-commitment; raises entries "
          "(fewer 'registered but cannot operate' barriers).",
          "实行告知承诺的涉企经营许可事项占比；减少“准入不准营”，提高新设登记。"),
    Lever("simplified_deregistration", "简易注销使用率", "Simplified deregistration uptake",
          "share 0-1", "比例，0–1", 0.0, 1.0, 0.5, "registration",
          "Share of eligible exits that use simplified deregistration; more exiting entities "
          "deregister at once instead of staying dormant on the register.",
          "符合条件的退出主体中使用简易注销的比例；更多退出主体及时注销而非长期吊而不销。"),
    Lever("compulsory_deregistration", "强制注销（开=1）", "Compulsory deregistration (on = 1)",
          "switch 0/1", "开关，0/1", 0, 1, 0, "registration",
          "When on, dormant entities on the abnormal-operation list longer than "
          "compulsory_deregistration_months are removed from the register.",
          "开启后，列入经营异常名录且歇业超过规定月数的主体被强制注销。", integer=True),
    Lever("compulsory_deregistration_months", "强制注销前的歇业月数", "Months dormant before compulsory deregistration",
          "months", "个月", 6, 120, 36, "registration",
          "How long a dormant, listed entity stays on the register before compulsory deregistration.",
          "列入异常名录的歇业主体在强制注销前保留的月数。", integer=True),
    Lever("individual_to_company_rate", "个转企年转化率", "Individual-to-company conversion rate",
          "% per year", "%/年", 0.0, 5.0, 0.6, "registration",
          "Yearly probability that an active individual business with a clean credit record converts "
          "to a company (larger ones first); dormant and listed ones do not convert, so the share of "
          "all registered individual businesses converting is lower. Raises the company count "
          "without changing the entity total.",
          "在营且信用记录良好的个体工商户每年转为公司制企业的概率（规模较大者优先）；歇业和被列入名录的"
          "个体工商户不转，因此占全部在册个体工商户的比例更低。增加公司数量，不改变主体总量。"),
    Lever("dual_random_share", "“双随机”监管事项占比目标", "Double-random share target",
          "%", "%", 0.0, 100.0, 10.0, "dual_random",
          "Provincial target for the share of inspections chosen by double-random draw. City "
          "regulators move towards it at the pace their capacity allows; random inspections "
          "are unannounced, so they deter more than routine ones.",
          "全省“双随机”抽查占比目标。各市监管部门按能力逐步靠近；随机抽查不可预期，威慑强于常规检查。"),
    Lever("inspection_capacity", "检查能力（次/百户/年）", "Inspection capacity",
          "inspections per 100 entities per year", "次/百户/年", 0.5, 60.0, 12.0, "dual_random",
          "Inspections per year per 100 registered entities that a city regulator can make; "
          "also sets how fast it can convert items to double-random inspection.",
          "每百户在册主体每年可开展的检查次数；也决定转向“双随机”的速度。"),
    Lever("credit_application_rate", "“双随机、一公开”信用应用率目标", "Credit application rate target",
          "%", "%", 0.0, 100.0, 60.0, "credit",
          "Target share of double-random inspections whose sampling is weighted by credit-risk "
          "class (A-D); regulators move towards it gradually.",
          "按信用风险分类确定抽查比例的“双随机”抽查占比目标；监管部门逐步达到。"),
    Lever("credit_penalty_severity", "信用惩戒力度", "Credit penalty severity",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 3.0, 1.0, "credit",
          "Weight of listing and joint punishment: raises the expected cost of violating, slows "
          "listed entities' growth and raises their exit hazard.",
          "列入名录和联合惩戒的力度：提高违法预期成本，抑制被列入主体成长并提高其退出风险。"),
    Lever("fine_level", "罚款水平", "Fine level",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "credit",
          "Fines relative to 2020 practice: raises the expected cost of violating.",
          "罚款相对2020年的水平：提高违法预期成本。"),
    # Programme levers (sim/submodels/programmes.py): institution-, city- and market-level plan indicators.
    Lever("quality_programme", "质量提升行动力度", "Quality improvement programme",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "quality",
          "Scales Zhejiang's pool of quality leaders ready to compete in the national China Quality "
          "Award rounds (every two years, fixed quotas): more nominations and winners.",
          "放大可参评中国质量奖的质量标杆企业数量（每两年一届、名额固定）：提名奖和获奖更多。"),
    Lever("ip_protection_center_support", "国家级知识产权保护中心建设支持", "Support for national IP protection centres",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "ip",
          "Scales the yearly rate at which new national IP protection and rapid rights-protection "
          "centres are approved (about one a year at 2020 support).",
          "按比例提高国家级知识产权保护中心和快速维权中心的获批速度（2020年水平约每年1个）。"),
    Lever("standards_programme", "标准化创新支持力度", "Standards innovation programme",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "standards",
          "Scales the rates at which Zhejiang leads or co-drafts new international standards and leads "
          "new national standards.",
          "按比例提高主导和参与制修订国际标准、主导制修订国家标准的速度。"),
    Lever("quality_infrastructure_investment", "质量基础设施建设投入", "Quality infrastructure investment",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "standards",
          "Scales the rates of new national quality-inspection centres, national industrial metrology "
          "test centres and public measurement standards.",
          "按比例提高国家质检中心、国家产业计量测试中心和社会公用计量标准的新建速度。"),
    Lever("food_sampling_effort", "食品安全抽检投入", "Food-safety sampling effort",
          "index, 2020 batches = 1", "指数，2020年批次=1", 0.0, 5.0, 1.0, "food_safety",
          "Funded food-safety sampling batches relative to a city's 2020 batches; cities reach it at "
          "the pace their labs allow. Sampling per 1000 residents falls as population grows unless "
          "effort rises; cities with a good record qualify for demonstration-city rounds.",
          "食品安全抽检批次（相对各市2020年批次）；各市按检测能力逐步达到。人口增长时，投入不增则千人"
          "抽检量下降；抽检达标的城市可申报国家食品安全示范城市。"),
    Lever("food_safety_city_support", "食品安全示范城市创建支持", "Support for food-safety demonstration cities",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "food_safety",
          "Scales the odds that a qualifying city passes a national demonstration-city evaluation round.",
          "提高达标城市通过国家食品安全示范城市评审的几率（按比值比放大）。"),
    Lever("product_spot_check_effort", "产品质量监督抽查投入", "Product-quality spot-check effort",
          "index, 2020 batches = 1", "指数，2020年批次=1", 0.0, 6.0, 1.0, "quality",
          "Funded product-quality spot-check batches in circulation relative to 2020 (7000 batches); "
          "cities expand towards it at a limited yearly pace.",
          "流通领域产品质量监督抽查批次（相对2020年7000批次）；各市每年按有限速度扩大。"),
    Lever("digital_investment", "数字化监管投入", "Digital supervision investment",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 6.0, 1.0, "digital",
          "Scales the hazard that a supervision business line is integrated with the digital platform "
          "(diffusion: integrated lines make the next easier); integration raises each city's "
          "digital_effectiveness.",
          "按比例提高各条监管业务与数字平台融合的速度（扩散过程：已融合的业务带动后续融合）；"
          "融合提高各市的数字化效能系数。"),
    Lever("commodity_market_upgrading", "商品市场改造提升力度", "Commodity market upgrading",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "markets",
          "Adds to commodity markets' turnover growth (upgrading, 五化改造, tiered cultivation), so more "
          "markets pass 100M yuan a year.",
          "提高商品交易市场成交额增速（“五化”改造、梯次培育），更多市场年交易额超过亿元。"),
    Lever("wholesale_market_standardisation", "农产品批发市场规范化建设力度", "Wholesale market standardisation",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 10.0, 1.0, "food_safety",
          "Scales the hazard that a farm-produce wholesale market upgrades to AA grade (larger markets "
          "first; about 1.3 a year at 2020 effort).",
          "按比例提高农产品批发市场达到AA级的速度（规模大的先达标；2020年水平约每年1.3家）。"),
    # Innovation and brand levers (sim/submodels/innovation.py): firm-level plan indicators 4-7 and 11-13.
    Lever("ip_programme", "知识产权强企计划力度", "IP programme for firms",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "ip",
          "Raises the hazard that an industrial firm without invention patents gets its first (elasticity "
          "1), holders' invention grants and overseas filings (elasticity 0.5): patent coverage of "
          "above-scale firms, high-value patents per 10k residents and, after a 30-month lag, overseas grants.",
          "提高尚无发明专利的工业企业获得首件发明专利的速度（弹性1），以及持有企业的发明专利授权和海外申请"
          "（弹性0.5）：影响规上工业企业发明专利覆盖率、每万人高价值发明专利拥有量，并在约30个月后影响海外授权量。"),
    Lever("brand_programme", "“品字标”品牌建设力度", "Pinzi brand programme",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "quality",
          "Scales the hazard that a firm with a Zhejiang Made standard for its product, the size and a clean "
          "credit record is certified (Pinzi brand), and that a certified firm obtains an international "
          "certificate (一次认证、多国证书).",
          "按比例提高具备“浙江制造”标准、规模和良好信用记录的企业获得“浙江制造”认证（“品字标”）的速度，"
          "以及获证企业取得国际认证证书的速度（一次认证、多国证书）。"),
    Lever("trademark_support", "商标注册与品牌服务支持", "Trademark filing support",
          "index, 2020 = 1", "指数，2020年=1", 0.0, 5.0, 1.0, "ip",
          "Scales trademark filings per entity (elasticity 0.5; brand-service stations, filing support); "
          "registrations follow after the examination lag and stay valid ten years unless renewed.",
          "提高各类主体的商标申请量（弹性0.5；品牌服务指导站、注册便利化）；审查期后注册，有效期十年，续展或失效。"),
)

UNCERTAINTIES: tuple[Lever, ...] = (
    Lever("gdp_growth", "地区生产总值增速", "GDP growth", "% per year", "%/年", -10.0, 15.0, 6.0, "economy",
          "Real GDP growth of Zhejiang; entries rise and exits fall with it.",
          "全省GDP实际增速；增速越高，新设越多、退出越少。"),
    Lever("exit_shock", "退出冲击", "Exit shock", "multiplier", "倍数", 0.2, 5.0, 1.0, "economy",
          "Multiplier on every entity's hazard of ceasing operation (1 = normal years).",
          "所有主体停止经营风险的乘数（1为常态）。"),
    Lever("population_growth", "常住人口增速", "Resident population growth", "% per year", "%/年", -3.0, 5.0, 1.7, "economy",
          "Growth of every city's resident population (2010-2020 census average 1.7%); per-resident "
          "indicators such as food sampling per 1000 residents divide by it.",
          "各市常住人口增速（2010-2020年两次普查间年均1.7%）；千人抽检量等人均指标以其为分母。"),
)

LEVERS_BY_ID: dict[str, Lever] = {lever.id: lever for lever in LEVERS}
UNCERTAINTIES_BY_ID: dict[str, Lever] = {u.id: u for u in UNCERTAINTIES}


@dataclass(frozen=True)
class Path:
    """A value by year: linear between the given years, flat beyond them."""

    points: tuple[tuple[int, float], ...]

    @classmethod
    def constant(cls, value: float) -> Path:
        """A path that has one value in every year."""
        return cls(((2020, float(value)),))

    def at(self, year: int) -> float:
        """The value in a calendar year."""
        pts = self.points
        if year <= pts[0][0]:
            return pts[0][1]
        for (y0, v0), (y1, v1) in zip(pts, pts[1:]):
            if year <= y1:
                return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
        return pts[-1][1]

    def to_toml(self) -> str:
        """TOML for this path: a number, or an inline table of years."""
        if len(self.points) == 1:
            return f"{self.points[0][1]:g}"
        return "{ " + ", ".join(f"{y} = {v:g}" for y, v in self.points) + " }"
