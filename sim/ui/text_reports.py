"""The words of the app's two reports - the attribution waterfall of the comparison and the brief of the
downloads view - in Chinese (first) and English. :mod:`sim.ui.text` adds them to its ``TEXT``, so
``texts(lang)`` gives them with every other label of the page."""

from __future__ import annotations

REPORT_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        # comparison: attribution waterfall
        "attribution_header": "差值归因：哪些杠杆组带来了差值",
        "attribution_caption": "把“{current}”与参照情景“{ref}”在{year}年的平均差值，用沙普利值分解到各组杠杆"
                               "（在相同随机种子上逐组切换杠杆）。有 k 组杠杆不同时，每个随机种子需运行 2^k 个组合情景"
                               "（6 组为64个），默认设置下约需一分钟，因此只在按下按钮时计算。",
        "attribution_indicator": "归因指标",
        "attribution_run": "计算归因",
        "attribution_same": "当前设置与参照情景相同，没有可归因的差值。",
        "attribution_progress": "正在计算归因：已完成 {done}/{total} 次运行",
        "attribution_chart": "{name}：{year}年差值的分解（{current} − {ref}）",
        "attribution_chart_caption": "每根柱为一组杠杆的贡献（误差线为 ±1 个标准误），各组贡献之和等于最右侧的"
                                     "总差值（{total}）。贡献恰为零的组不显示。{method}",
        "attribution_exact": "精确沙普利值（所有组合）。",
        "attribution_permutations": "沙普利值由随机排列估计（差异组较多）。",
        "attribution_total": "总差值",
        "attribution_contribution": "贡献",
        "attribution_se": "标准误",
        "attribution_axis": "对差值的贡献",
        "attribution_error": "归因无法计算：{err}",
        # downloads: the brief
        "brief_header": "政策简报（PDF）",
        "brief_caption": "按当前设置（{seeds} 个随机种子，比例尺 {scale}，{parameters}，页面语言）把当前情景与2020年政策"
                         "基准情景对比，生成与 `python -m sim brief` 相同的简报：记分卡、约束性指标图、归因、杠杆差异、"
                         "回测技能{history}。",
        "brief_history": "，以及上传的实际数据",
        "brief_attribution": "包含归因瀑布图（约需一分钟）",
        "brief_attribution_help": "归因需为每个随机种子运行约64个组合情景；不勾选时简报几秒内即可生成，归因一节注明已跳过。",
        "brief_prepare": "生成简报（PDF）",
        "brief_progress": "正在生成简报：第 {stage} 步，已完成 {done}/{total} 次运行",
        "brief_ready": "简报已生成（{when}），可下载：",
        "brief_pdf": "下载简报（PDF）",
        "brief_html": "下载简报（HTML）",
        "brief_command": "用命令行生成同一份简报（先保存上面的情景文件）：",
        "brief_command_file": "用命令行生成同一份简报：",
        "brief_error": "简报无法生成：{err}",
    },
    "en": {
        "attribution_header": "Attribution: which lever groups make the difference",
        "attribution_caption": "The mean difference between '{current}' and the reference '{ref}' in {year}, split "
                               "among the lever groups by Shapley values (groups switched one by one on the same "
                               "seeds). k differing groups take 2^k hybrid scenarios per seed (64 for six groups), "
                               "about a minute at the default settings, so it runs only when asked.",
        "attribution_indicator": "Indicator to attribute",
        "attribution_run": "Compute the attribution",
        "attribution_same": "The current settings are the reference's: there is no difference to attribute.",
        "attribution_progress": "Computing the attribution: {done}/{total} runs done",
        "attribution_chart": "{name}: the difference in {year} split ({current} - {ref})",
        "attribution_chart_caption": "Each bar is a lever group's contribution (whiskers: ±1 standard error); the "
                                     "contributions add up to the total difference on the right ({total}). Groups "
                                     "contributing exactly zero are left out. {method}",
        "attribution_exact": "Exact Shapley values (every combination).",
        "attribution_permutations": "Shapley values estimated from random orders (many differing groups).",
        "attribution_total": "Total difference",
        "attribution_contribution": "Contribution",
        "attribution_se": "Standard error",
        "attribution_axis": "Contribution to the difference",
        "attribution_error": "The attribution cannot be computed: {err}",
        "brief_header": "Policy brief (PDF)",
        "brief_caption": "The current scenario against the 2020-policy baseline at the current settings ({seeds} seeds, "
                         "scale {scale}, {parameters}, the page's language), the brief `python -m sim brief` writes: "
                         "scorecard, charts of the binding indicators, attribution, levers that differ, backtest "
                         "skill{history}.",
        "brief_history": " and the uploaded actual figures",
        "brief_attribution": "Include the attribution waterfalls (about a minute)",
        "brief_attribution_help": "The attribution runs about 64 hybrid scenarios per seed; without it the brief is "
                                  "ready in seconds and its attribution section says it was skipped.",
        "brief_prepare": "Prepare the brief (PDF)",
        "brief_progress": "Preparing the brief: step {stage}, {done}/{total} runs done",
        "brief_ready": "The brief is ready ({when}):",
        "brief_pdf": "Download the brief (PDF)",
        "brief_html": "Download the brief (HTML)",
        "brief_command": "The same brief from the command line (save the scenario file above first):",
        "brief_command_file": "The same brief from the command line:",
        "brief_error": "The brief cannot be prepared: {err}",
    },
}
