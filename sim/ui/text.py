"""Every label of the app in Chinese (first) and English, lever groups, units and number formats.

Levers and indicators bring their own texts in both languages (``Lever.label_zh/label_en``,
``Lever.unit_zh/unit``, ``Indicator.name_zh/name_en``, ``Indicator.mechanism_zh/mechanism``);
this module adds the page's own words and the names of the plan's lever groups, picks each
text in the reader's language, and formats values the way readers of each language expect:
万户 and 万件 in Chinese, millions in English.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sim.outputs.indicators import TENK, Indicator, display_decimals as _decimals, display_unit  # noqa: F401 (re-exported)
from sim.inputs.levers import Lever
from sim.ui.text_reports import REPORT_TEXT

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "page_title": "浙江市场主体政策模拟",
        "title": "浙江省市场主体政策模拟器",
        "intro": "“十四五”市场监管规划（2021–2025年）：调整政策杠杆，查看全省市场主体、监管负担和24项规划指标"
                 "的走势及达到目标的概率。每个结果来自多次随机运行的中位数和5%–95%区间；每次运行从校准后验中抽取一组"
                 "不确定参数，区间和达标概率因而包含参数不确定性。",
        # sidebar: scenario
        "scenario_header": "情景",
        "preset": "预设情景",
        "preset_help": "选择一个情景作为起点：基准情景保持2020年政策，规划情景按规划文本设定。"
                       "scenarios/ 目录中的文件和上传的文件也会列出。",
        "uploaded_suffix": "（上传）",
        "adjusted_suffix": "（已调整，重新选择预设即恢复）",
        "upload": "上传情景文件（TOML）",
        "upload_help": "与 `python -m sim run --scenario` 使用的格式相同；载入后自动选中。",
        "upload_error": "上传的情景文件无法载入：{err}",
        "link_error": "链接中的设置未采用：{err}",
        "parameters": "参数",
        "parameters_posterior": "后验抽样",
        "parameters_point": "点估计",
        "parameters_help": "后验抽样（默认）：每个随机种子从校准后验中抽取一组不确定参数，区间和达标概率包含参数不确定性；"
                           "点估计：所有种子都用最佳拟合参数，区间只反映模拟的随机性。",
        "run_cost": "本次计算量：{cost} 百万个模拟主体·年（上限 {cap}）。各会话轮流使用服务器的计算进程。",
        "run_too_costly": "“{name}”的计算量为 {cost} 百万个模拟主体·年，超过上限 {cap}：请减少随机种子数、缩短年限或增大比例尺。",
        "pin_settings": "该情景与2020年政策不同的杠杆（{year}年取值）：",
        "pin_settings_none": "（与2020年政策相同）",
        "share_link": "页面地址即保存当前设置（预设、调整的杠杆、城市设置、运行设置、语言和视图），复制地址即可分享给同事。",
        "upload_ok": "已载入上传的情景：{name}",
        "history_upload": "上传实际数据（历史CSV）",
        "history_upload_help": "与 calibration/data/history_zhejiang.csv 格式相同（列：series, period, value, unit, "
                               "kind, source）；可追加2021年及以后的行，图中以方块画在预测旁。",
        "history_upload_error": "上传的历史数据无法载入：{err}",
        "history_upload_ok": "已载入实际数据 {n} 行（最晚 {year} 年），画在指标图上。",
        "actual": "实际数据（上传）",
        "file_error": "情景文件无法载入：{err}",
        "no_presets": "没有可用的情景文件，使用2020年政策基准情景。",
        "download_toml": "下载当前情景（TOML）",
        "download_toml_help": "可直接用于 `python -m sim run --scenario 文件名`。",
        "changed_none": "与预设情景相同。",
        "changed_some": "已调整 {n} 项：{items}",
        "reset": "恢复预设取值",
        # sidebar: levers
        "levers_header": "政策杠杆",
        "levers_caption": "滑块设定{year}年的取值；2020年取值不变，其间按预设情景的节奏变化（预设不变时线性过渡，"
                          "开关和月数自2021年起生效）。",
        "lever_marks": "2020年：{v2020}　预设{year}年：{preset}",
        "lever_help_tail": "2020年取值：{v2020}；取值范围：{low}–{high}。",
        "group_other": "其他杠杆",
        "city_header": "分城市设置",
        "city_caption": "为某个城市单独设定杠杆（覆盖全省取值），同样为{year}年取值。",
        "city_pick": "城市",
        "city_lever": "杠杆",
        "city_value": "{year}年取值",
        "city_add": "添加城市设置",
        "city_remove": "移除：{item}",
        "city_none": "尚无城市设置。",
        "city_from_preset": "预设情景中的城市设置：{items}",
        "uncertainty_header": "经济环境（不确定性，不是政策）",
        "uncertainty_caption": "这些是外部环境的假设，不是政策选择；滑块设定2021年起的取值。",
        # sidebar: run
        "run_header": "运行设置",
        "seeds": "随机种子数",
        "seeds_help": "同一情景用不同随机种子运行的次数（每个种子对应一组后验参数）；中位数、5%–95%区间和达标概率由此得出。"
                      "种子越多越精确，但越慢（每个约0.2秒）。",
        "horizon": "模拟至（年）",
        "horizon_help": "默认到规划期末2025年，最长到2035年。",
        "scale": "缩放比例（每个模拟主体代表的真实主体数）",
        "scale_help": "数值越大运行越快，但随机波动越大；结果按比例还原为全省数量。",
        "run_caption": "每次调整后自动重新计算；已算过的情景直接取用缓存。",
        # progress and errors
        "progress": "正在模拟：{done}/{total} 次运行，约剩 {left:.0f} 秒……",
        "run_error": "无法运行情景：{err}",
        # headline
        "metric_median": "{year}年在册市场主体（中位数）",
        "metric_delta": "较2020年",
        "metric_band": "5%–95%区间",
        "metric_prob": "达到目标（{target}）的概率",
        "metric_binding": "约束性指标：达成/有风险/未达成",
        "metric_binding_value": "{met} / {risk} / {missed}",
        "metric_binding_help": "已建模的约束性指标中，{year}年达标概率≥80%、20%–80%、<20%的个数。",
        "caption": "{scenario}｜{seeds} 次随机运行，每个模拟主体代表 {scale} 个真实主体，模拟至{horizon}年；参数：{parameters}。",
        # views
        "view": "视图",
        "view_scorecard": "指标记分卡",
        "view_charts": "市场与监管图表",
        "view_compare": "情景比较",
        "view_downloads": "下载",
        # scorecard
        "scorecard_header": "规划指标记分卡（{year}年）",
        "scorecard_caption": "达成：达标概率≥80%；有风险：20%–80%；未达成：<20%。★ 约束性指标。"
                             "计数类指标的中位数（偶数次运行时为中间两值的平均）取整显示。"
                             "模拟误差：中位数的蒙特卡洛标准误（模拟主体与随机运行次数有限造成的误差，"
                             "更细的比例或更多次运行可减小），区间另计。"
                             "点击列名排序；点击一行（或在下方选择）查看该指标的图表。",
        "col_no": "序号",
        "col_indicator": "指标",
        "col_attribute": "属性",
        "col_baseline": "2020年基数",
        "col_target": "{year}年目标",
        "col_median": "{year}年预测中位数",
        "col_band": "5%–95%区间",
        "col_mc": "模拟误差（±）",
        "col_prob": "达标概率",
        "col_status": "判断",
        "col_note": "说明",
        "note_levers": "主要杠杆：{levers}",
        "note_no_lever": "无直接杠杆（随其他指标变化）",
        "col_final": "{year}年中位数",
        "binding": "★ 约束性",
        "expected": "预期性",
        "text target": "规划文本目标",
        "output": "模型输出",
        "not_modelled": "未建模",
        "not_modelled_reason": "尚未建模：{reason}",
        "other_text_targets": "规划文本中的其他目标（尚未建模，{n}项）",
        "pick_indicator": "查看指标图表",
        "indicator_header": "{name}",
        "indicator_caption": "实线：中位数；阴影：5%–95%区间；红色虚线与红点：{year}年目标；"
                             "灰色菱形：2020年基数；黑色圆点：历史统计数据。",
        "indicator_not_modelled": "该指标尚未建模：{reason}",
        "lever_path": "杠杆设定的目标路径",
        "regulators_random_share": "各市监管部门年末设定的“双随机”比例",
        "regulator_pace_caption": "灰色虚线：杠杆设定的全省目标路径；灰色点线（仅指标2）：各市监管部门年末设定的“双随机”比例；"
                                  "实线：全年实际以“双随机”方式完成的检查占比（指标2）或年末按信用风险分类抽查的比例（指标3）。"
                                  "各市监管部门以有限的速度向目标靠近（每个随机种子从先验抽取：双随机每年3–20个百分点，"
                                  "信用应用每年2–10个百分点，并随检查能力、各市能力和数字化水平缩放），全年实际比例落后于年末比例；"
                                  "重点领域监管（每个随机种子从先验抽取检查力量的5%–35%）和必须处理的投诉举报所需的检查不能用于随机抽查。"
                                  "因此即使杠杆设在目标值，指标仍可能未达标。",
        "mechanism": "模型机制",
        "levers_moving": "影响该指标的杠杆：{levers}",
        "no_levers": "没有直接影响该指标的杠杆。",
        "history_source": "历史数据来源",
        # charts
        "charts_header": "市场主体与监管",
        "chart_kinds": "在册市场主体（按类型，中位数）",
        "chart_kinds_caption": "公司、其他企业（非公司制企业等）和个体工商户的年末在册数量（含歇业），堆叠显示；"
                               "黑色圆点为历史统计的主体总量。",
        "kind_company": "公司",
        "kind_other": "其他企业",
        "kind_individual": "个体工商户",
        "chart_cities": "在册市场主体（按城市）",
        "chart_cities_caption": "浅色：2020年；深色：{year}年中位数。",
        "cities_unavailable": "当前引擎不提供分城市数据。",
        "chart_flows": "新设登记、注销与歇业主体",
        "chart_flows_caption": "新设和注销为全年数量（2021年起），歇业主体为年末仍在册但已停止经营的数量。",
        "chart_compliance": "守法经营率",
        "chart_compliance_caption": "在营主体中当年未违法经营的比例（全年平均）。",
        "chart_inspections": "检查次数与落在守法主体上的检查",
        "chart_inspections_caption": "“双随机”改革旨在减少对守法主体的打扰：{year}年约 {share} 的检查落在守法主体上"
                                     "（中位数 {on} / {all}）。",
        "year": "年份",
        "series": "序列",
        "median": "中位数",
        "low": "5%分位",
        "high": "95%分位",
        "value": "取值",
        "target": "目标",
        "baseline": "2020年基数",
        "history": "历史数据",
        "city": "城市",
        # compare
        "compare_header": "情景比较（同一随机数）",
        "compare_caption": "所有情景使用相同的随机种子（共同随机数），差值体现杠杆的作用而非随机波动。"
                           "最多固定 {n} 个情景。",
        "pin_name": "情景名称",
        "pin": "固定当前设置",
        "pin_full": "最多固定 {n} 个情景；请先移除一个。",
        "pin_duplicate": "名称“{name}”已被使用。",
        "pinned": "已固定的情景",
        "unpin": "移除 {name}",
        "reference": "参照情景",
        "reference_help": "差值 = 各情景 − 参照情景，按种子配对计算。",
        "current": "当前设置",
        "compare_side": "各情景{year}年中位数（达标概率）",
        "compare_diff": "与参照情景“{ref}”的差值（{year}年，差值中位数 [5%, 95%]）",
        "compare_chart": "比较图表",
        "compare_indicator": "比较指标",
        # downloads
        "downloads_header": "下载",
        "download_csv": "下载各年指标（CSV）",
        "download_csv_help": "与 `python -m sim run` 的 indicators.csv 格式相同："
                             "scenario, seed, year, indicator, value。",
        "download_summary": "下载记分卡（CSV）",
        "download_summary_help": "与 summary.csv 格式相同：每个指标一行。",
        "reproduce": "用命令行复现（先保存上面的情景文件）：",
        "toml_preview": "当前情景文件",
        # statuses
        "met": "达成",
        "at risk": "有风险",
        "missed": "未达成",
    },
    "en": {
        "page_title": "Zhejiang market-entity policy simulator",
        "title": "Zhejiang market-entity policy simulator",
        "intro": "14th Five-Year Plan for market supervision (2021-2025): set policy levers and see the province's "
                 "market entities, the inspection burden and the 24 plan indicators, with the chance of meeting "
                 "each target. Every result is the median and 5-95% band of many random runs; each run draws its "
                 "uncertain parameters from the calibration's posterior, so bands and probabilities carry "
                 "parameter uncertainty.",
        "scenario_header": "Scenario",
        "preset": "Preset scenario",
        "preset_help": "Pick a starting point: the baseline holds 2020 policies, the plan follows the plan's text. "
                       "Files in scenarios/ and uploaded files are listed too.",
        "uploaded_suffix": " (uploaded)",
        "adjusted_suffix": " (adjusted; choose a preset to load it as it is)",
        "upload": "Upload a scenario file (TOML)",
        "upload_help": "The format `python -m sim run --scenario` reads; selected once loaded.",
        "upload_error": "The uploaded scenario cannot be loaded: {err}",
        "link_error": "A setting in the link was not applied: {err}",
        "parameters": "Parameters",
        "parameters_posterior": "posterior draws",
        "parameters_point": "point fit",
        "parameters_help": "Posterior draws (default): each seed draws the uncertain parameters from the "
                           "calibration's posterior, so bands and probabilities carry parameter uncertainty. Point "
                           "fit: every seed runs the best-fitting parameters, so the band shows only the "
                           "simulation's randomness.",
        "run_cost": "This request: {cost} million simulated entity-years (cap {cap}). Sessions take turns on "
                    "the server's worker processes.",
        "run_too_costly": "'{name}' asks for {cost} million simulated entity-years, above the cap of {cap}: "
                          "fewer seeds, a shorter horizon or a larger scale.",
        "pin_settings": "Levers this scenario sets away from 2020 policies (values in {year}):",
        "pin_settings_none": "(the same as 2020 policies)",
        "share_link": "The page's address holds these settings (preset, moved levers, city settings, run settings, "
                      "language and view): copy it to share them with a colleague.",
        "upload_ok": "Loaded the uploaded scenario: {name}",
        "history_upload": "Upload actual figures (history CSV)",
        "history_upload_help": "The format of calibration/data/history_zhejiang.csv (columns series, period, value, "
                               "unit, kind, source); rows for 2021 on are drawn as squares beside the projection.",
        "history_upload_error": "The uploaded history cannot be loaded: {err}",
        "history_upload_ok": "Loaded {n} rows of actual figures (latest {year}); drawn on the indicator charts.",
        "actual": "Actual (uploaded)",
        "file_error": "A scenario file could not be loaded: {err}",
        "no_presets": "No scenario file could be loaded; using the 2020-policy baseline.",
        "download_toml": "Download this scenario (TOML)",
        "download_toml_help": "Runs as is with `python -m sim run --scenario FILE`.",
        "changed_none": "Same as the preset.",
        "changed_some": "{n} changed: {items}",
        "reset": "Reset to the preset",
        "levers_header": "Policy levers",
        "levers_caption": "Each slider sets the lever's {year} value; 2020 keeps its value, and the years "
                          "between follow the preset's timing (linear where the preset is flat; switches and months "
                          "from 2021).",
        "lever_marks": "2020: {v2020}   preset {year}: {preset}",
        "lever_help_tail": "2020 value: {v2020}; allowed: {low} to {high}.",
        "group_other": "Other levers",
        "city_header": "City overrides",
        "city_caption": "Set a lever for one city (overriding the provincial value), also as the {year} value.",
        "city_pick": "City",
        "city_lever": "Lever",
        "city_value": "{year} value",
        "city_add": "Add city override",
        "city_remove": "Remove: {item}",
        "city_none": "No city overrides yet.",
        "city_from_preset": "City overrides in the preset: {items}",
        "uncertainty_header": "Economy (uncertainties, not policy)",
        "uncertainty_caption": "Assumptions about the world, not policy choices; each slider sets the value from 2021.",
        "run_header": "Run settings",
        "seeds": "Seeds",
        "seeds_help": "Runs of the scenario with different random seeds (each with its own posterior draw of the "
                      "parameters); the median, the 5-95% band and the "
                      "probability of meeting a target come from them. More is more precise but slower "
                      "(about 0.2 s each).",
        "horizon": "Simulate to (year)",
        "horizon_help": "The plan period ends in 2025 (default); up to 2035.",
        "scale": "Scale (real entities per simulated one)",
        "scale_help": "Larger is faster but noisier; counts are scaled back to the whole province.",
        "run_caption": "Results update after every change; scenarios already run come from the cache.",
        "progress": "Simulating: {done}/{total} runs, about {left:.0f} s left...",
        "run_error": "Cannot run the scenario: {err}",
        "metric_median": "Registered entities, {year} (median)",
        "metric_delta": "vs 2020",
        "metric_band": "5-95% band",
        "metric_prob": "P(meeting the target {target})",
        "metric_binding": "Binding: met / at risk / missed",
        "metric_binding_value": "{met} / {risk} / {missed}",
        "metric_binding_help": "Modelled binding indicators whose probability of meeting the {year} target is at "
                               "least 80%, 20-80%, below 20%.",
        "caption": "{scenario} | {seeds} random runs; each simulated entity stands for {scale} real ones; "
                   "simulated to {horizon}; parameters: {parameters}.",
        "view": "View",
        "view_scorecard": "Scorecard",
        "view_charts": "Market and supervision charts",
        "view_compare": "Compare scenarios",
        "view_downloads": "Downloads",
        "scorecard_header": "Plan indicator scorecard ({year})",
        "scorecard_caption": "met: probability of meeting the target at least 80%; at risk: 20-80%; missed: below 20%. "
                             "Medians of counts (with an even number of runs, the mean of the middle two) are shown "
                             "as whole numbers. "
                             "Simulation error: the median's Monte Carlo standard error (from the finite simulated "
                             "entities and runs; a finer scale or more runs shrink it), apart from the band. "
                             "★ binding indicator. Click a column name to sort; click a row (or choose below) to "
                             "see the indicator's chart.",
        "col_no": "No.",
        "col_indicator": "Indicator",
        "col_attribute": "Attribute",
        "col_baseline": "2020 baseline",
        "col_target": "{year} target",
        "col_median": "{year} median",
        "col_band": "5-95% band",
        "col_mc": "Simulation error (±)",
        "col_prob": "P(target met)",
        "col_status": "Status",
        "col_note": "Note",
        "note_levers": "Main levers: {levers}",
        "note_no_lever": "No lever of its own (follows the others)",
        "col_final": "{year} median",
        "binding": "★ binding",
        "expected": "expected",
        "text target": "plan text target",
        "output": "model output",
        "not_modelled": "not modelled",
        "not_modelled_reason": "{reason}",
        "other_text_targets": "Other targets in the plan's text (not modelled yet, {n})",
        "pick_indicator": "Indicator chart",
        "indicator_header": "{name}",
        "indicator_caption": "Line: median; shading: 5-95% band; red dashed line and dot: {year} target; "
                             "grey diamond: 2020 baseline; black dots: published history.",
        "indicator_not_modelled": "This indicator is not modelled yet: {reason}",
        "lever_path": "Lever: the province's target path",
        "regulators_random_share": "Regulators' own double-random share at year end",
        "regulator_pace_caption": "Grey dashed line: the province's target path set by the lever; grey dotted line "
                                  "(indicator 2): the regulators' own double-random share at year end; solid line: "
                                  "the share of the year's inspections actually drawn at random (indicator 2) or "
                                  "the year-end share of random checks sampled by credit-risk class (indicator 3). "
                                  "City regulators move towards the target at a limited pace (each seed draws it "
                                  "from a prior: 3-20 points a year for the double-random share, 2-10 for credit "
                                  "use, scaled by inspection capacity, the city's capability and digital "
                                  "integration), so the year's realised share lags the year-end share; and the "
                                  "key-area work (5-35% of capacity, drawn per seed) and the complaints they must "
                                  "follow cannot be drawn at random. A lever set at the target can still miss it.",
        "mechanism": "How the model produces it",
        "levers_moving": "Levers that move it: {levers}",
        "no_levers": "No lever moves this indicator directly.",
        "history_source": "History sources",
        "charts_header": "Market entities and supervision",
        "chart_kinds": "Registered market entities by kind (median)",
        "chart_kinds_caption": "Companies, other enterprises (non-company enterprises) and individual businesses "
                               "on the register at year end (dormant included), stacked; black dots: published totals.",
        "kind_company": "Companies",
        "kind_other": "Other enterprises",
        "kind_individual": "Individual businesses",
        "chart_cities": "Registered market entities by city",
        "chart_cities_caption": "Light: 2020; dark: {year} median.",
        "cities_unavailable": "The engine gives no city breakdown.",
        "chart_flows": "New registrations, deregistrations and dormant entities",
        "chart_flows_caption": "New registrations and deregistrations per year (from 2021); dormant entities: on the "
                               "register at year end but no longer operating.",
        "chart_compliance": "Compliance rate",
        "chart_compliance_caption": "Share of operating entities not violating (mean over the year).",
        "chart_inspections": "Inspections, and inspections of compliant entities",
        "chart_inspections_caption": "The double-random reform aims to disturb compliant firms less: in {year} about "
                                     "{share} of inspections fall on compliant entities (median {on} of {all}).",
        "year": "Year",
        "series": "Series",
        "median": "Median",
        "low": "5th percentile",
        "high": "95th percentile",
        "value": "Value",
        "target": "Target",
        "baseline": "2020 baseline",
        "history": "History",
        "city": "City",
        "compare_header": "Compare scenarios (common random numbers)",
        "compare_caption": "Every scenario runs on the same seeds (common random numbers), so differences show the "
                           "levers, not noise. Pin up to {n} scenarios.",
        "pin_name": "Scenario name",
        "pin": "Pin the current settings",
        "pin_full": "At most {n} pinned scenarios; remove one first.",
        "pin_duplicate": "The name '{name}' is already used.",
        "pinned": "Pinned scenarios",
        "unpin": "Remove {name}",
        "reference": "Reference scenario",
        "reference_help": "Difference = scenario minus reference, paired by seed.",
        "current": "Current settings",
        "compare_side": "Medians in {year} (probability of meeting the target)",
        "compare_diff": "Difference from the reference '{ref}' ({year}, median difference [5%, 95%])",
        "compare_chart": "Comparison chart",
        "compare_indicator": "Indicator to compare",
        "downloads_header": "Downloads",
        "download_csv": "Download yearly indicators (CSV)",
        "download_csv_help": "The format of `python -m sim run`'s indicators.csv: "
                             "scenario, seed, year, indicator, value.",
        "download_summary": "Download the scorecard (CSV)",
        "download_summary_help": "The format of summary.csv: one row per indicator.",
        "reproduce": "Reproduce from the command line (save the scenario file above first):",
        "toml_preview": "The scenario file",
        "met": "met",
        "at risk": "at risk",
        "missed": "missed",
    },
}

for _lang, _words in REPORT_TEXT.items():  # the attribution waterfall's and the brief's words
    TEXT[_lang].update(_words)

# The plan's groups of levers (Lever.group), in the plan's order; unknown groups follow by id.
GROUPS: dict[str, tuple[str, str]] = {
    "registration": ("登记注册改革", "Registration reform"),
    "dual_random": ("“双随机”监管", "Double-random supervision"),
    "credit": ("信用监管", "Credit supervision"),
    "quality": ("质量提升与产品抽查", "Quality programmes and product checks"),
    "ip": ("知识产权", "Intellectual property"),
    "standards": ("标准与质量基础设施", "Standards and quality infrastructure"),
    "food_safety": ("食品安全", "Food safety"),
    "digital": ("数字化监管", "Digital supervision"),
    "markets": ("商品市场", "Commodity markets"),
    "economy": ("经济环境", "Economy"),
}
OPEN_GROUPS = ("registration", "dual_random", "credit")  # expanded in the sidebar at first

OP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def texts(lang: str) -> dict[str, str]:
    """The page's words in ``lang`` (Chinese when unknown)."""
    return TEXT.get(lang, TEXT["zh"])


def group_label(group: str, lang: str) -> str:
    """The name of a lever group in ``lang``; an unknown group shows its id."""
    zh, en = GROUPS.get(group, (group, group.replace("_", " ").capitalize()))
    return zh if lang == "zh" else en


def group_order(groups: Iterable[str]) -> list[str]:
    """Groups in the plan's order, unknown ones after in order of appearance."""
    seen = list(dict.fromkeys(groups))
    known = [g for g in GROUPS if g in seen]
    return known + [g for g in seen if g not in GROUPS]


def lever_name(lever: Lever, lang: str) -> str:
    """A lever's name without its unit."""
    return lever.label_zh if lang == "zh" else lever.label_en


def lever_unit(lever: Lever, lang: str) -> str:
    """A lever's unit in ``lang``."""
    return lever.unit_zh if lang == "zh" else lever.unit


def lever_label(lever: Lever, lang: str) -> str:
    """A lever's label with its unit, e.g. “双随机”监管事项占比目标（%）."""
    name, unit = lever_name(lever, lang), lever_unit(lever, lang)
    if lang == "zh":
        return name if f"（{unit}）" in name else f"{name}（{unit}）"
    return f"{name} ({unit})"


def lever_help(lever: Lever, lang: str) -> str:
    """What a lever changes in the model."""
    return lever.help_zh if lang == "zh" else lever.help_en


def num(value: float) -> str:
    """A lever value as written in scenario files: 10, 0.85, 1.2."""
    return f"{value:g}"


# ---------------------------------------------------------------- indicator values


def _join(text: str, unit: str, lang: str) -> str:
    if not unit:
        return text
    if unit == "%" or lang == "zh":
        return text + unit
    return f"{text} {unit}"


def _short(unit: str, short: bool) -> str:
    """'million entities' -> 'million' for a headline whose label names the thing counted."""
    return unit.split(" ")[0] if short and unit.startswith("million ") else unit


COUNT_UNITS = ("个", "家", "项")  # indicators that count things (centres, firms, standards): whole numbers


def fmt(value: float | None, ind: Indicator, lang: str, sign: bool = False, short: bool = False,
        digits: int | None = None) -> str:
    """A value with its unit: 1149.4万户, 11.49 million entities (11.49 million if ``short``), 65.0%, 12个."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    factor, unit = display_unit(ind, lang)
    unit = _short(unit, short)
    shown = value * factor
    if digits is None and ind.unit_zh in COUNT_UNITS and factor == 1.0 and abs(2 * shown - round(2 * shown)) < 1e-9:
        shown = math.copysign(math.floor(abs(shown) + 0.5), shown)  # a median of whole counts, 9.5: shown as 10
    d = _decimals(shown, factor) if digits is None else digits
    text = f"{shown:{'+' if sign else ''},.{d}f}"
    if lang == "zh":
        text = text.replace(",", "")
    return _join(text, unit, lang)


def fmt_band(low: float, high: float, ind: Indicator, lang: str, digits: int | None = None,
             short: bool = False) -> str:
    """A 5-95% band: 1049.4–1289.2万户 (``digits`` decimals if given; a count's band in whole numbers,
    its quantiles rounded outwards)."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "—"
    factor, unit = display_unit(ind, lang)
    unit = _short(unit, short)
    if digits is None and ind.unit_zh in COUNT_UNITS and factor == 1.0:
        low, high, digits = math.floor(low + 1e-9), math.ceil(high - 1e-9), 0
    d = max(_decimals(low * factor, factor), _decimals(high * factor, factor)) if digits is None else digits
    text = f"{low * factor:,.{d}f}–{high * factor:,.{d}f}"
    if lang == "zh":
        text = text.replace(",", "")
    return _join(text, unit, lang)


def fmt_diff(median: float, low: float, high: float, ind: Indicator, lang: str) -> str:
    """A paired difference with its band and the unit once: +12.3 [+5.1, +20.2]万户."""
    if any(v is None or math.isnan(v) for v in (median, low, high)):
        return "—"
    factor, unit = display_unit(ind, lang)
    d = max(_decimals(v * factor, factor) for v in (median, low, high))
    sep = "" if lang == "zh" else ","
    text = f"{median * factor:+{sep}.{d}f} [{low * factor:+{sep}.{d}f}, {high * factor:+{sep}.{d}f}]"
    return _join(text, unit, lang)


def fmt_target(ind: Indicator, lang: str, short: bool = False) -> str:
    """The target with its comparison: ≥1100万户 (≥11 million if ``short``)."""
    if ind.target is None:
        return "—"
    text = fmt(ind.target, ind, lang, short=short)
    if short:
        head, _, tail = text.partition(" ")
        if "." in head and head.replace(",", "").replace(".", "").isdigit():
            head = head.rstrip("0").rstrip(".")
        text = f"{head} {tail}".strip() if tail else head
    return OP_SYMBOL.get(ind.target_op, ind.target_op) + text


def fmt_prob(prob: float | None) -> str:
    """A probability as a whole percentage."""
    return "—" if prob is None or math.isnan(prob) else f"{prob:.0%}"


def fmt_count(value: float, lang: str) -> str:
    """A whole count for captions: 20 or 20,000."""
    return f"{value:.0f}" if lang == "zh" else f"{value:,.0f}"


def indicator_name(ind: Indicator, lang: str) -> str:
    """An indicator's name in ``lang``."""
    return ind.name_zh if lang == "zh" else ind.name_en


def axis_title(ind: Indicator, lang: str) -> str:
    """Axis title: name and unit."""
    _, unit = display_unit(ind, lang)
    return f"{indicator_name(ind, lang)}（{unit}）" if lang == "zh" else f"{indicator_name(ind, lang)} ({unit})"


def mechanism(ind: Indicator, lang: str) -> str:
    """How the model produces an indicator, in ``lang``."""
    return ind.mechanism_zh if lang == "zh" else ind.mechanism


def reason(ind: Indicator, lang: str) -> str:
    """Why an indicator is not modelled, in ``lang``."""
    if lang == "zh":
        return ind.not_modelled_reason_zh or "尚无说明"
    return ind.not_modelled_reason or "not modelled yet"
