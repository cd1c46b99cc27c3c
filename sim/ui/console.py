"""Tables for the terminal: the plan indicators against their targets, and two scenarios compared.

Chinese first (``lang="zh"``), English available; columns are padded by display width (a CJK
character takes two cells).
"""

from __future__ import annotations

import pandas as pd

from sim.outputs.indicators import by_id, registry
from sim.outputs.status import status_mark


def format_table(summary: pd.DataFrame, lang: str = "zh") -> str:
    """A readable table of indicators against targets, the backtest of indicator 1, then what is not modelled."""
    from sim.calibration.backtest import notes as backtest_notes
    reg = by_id()
    zh = lang == "zh"
    head = ("指标", "单位", "2020基数", "2025目标", "2025预测中位数 [5%-95%]", "达标概率", "判断") if zh else \
        ("Indicator", "Unit", "2020", "2025 target", "2025 median [5%-95%]", "P(met)", "Status")
    lines = []
    for row in summary.itertuples(index=False):
        ind = reg[row.indicator]
        if ind.target is None:
            continue
        name = ind.name_zh if zh else ind.name_en
        star = "★" if ind.attribute == "binding" else " "
        base = "" if row.baseline_2020 is None or row.baseline_2020 != row.baseline_2020 else f"{row.baseline_2020:g}"
        reached = row.median_2025 == row.median_2025  # NaN when the run ends before 2025
        lines.append((f"{star}{ind.no or '':>2} {name}", ind.unit_zh if zh else ind.unit_en, base,
                      f"{ind.target_op}{ind.target:g}",
                      f"{row.median_2025:.1f} [{row.p05_2025:.1f}-{row.p95_2025:.1f}]" if reached else
                      ("未模拟到2025年" if zh else "run ends before 2025"),
                      f"{row.prob_target_met:.2f}" if reached else "—",
                      status_mark(row.prob_target_met, lang) if reached else "—"))
    widths = [max(_width(x) for x in col) for col in zip(head, *lines)]
    out = ["  ".join(_pad(x, w) for x, w in zip(head, widths))]
    out += ["  ".join(_pad(x, w) for x, w in zip(line, widths)) for line in lines]
    out += ["★ 约束性指标" if zh else "★ binding indicator", *backtest_notes(lang)]
    missing = [ind for ind in registry() if not ind.modelled and ind.target is not None]
    if missing:
        out.append("")
        out.append("未建模的指标：" if zh else "Not modelled yet:")
        for ind in missing:
            why = ind.not_modelled_reason_zh if zh else ind.not_modelled_reason
            out.append(f"  {ind.no or '-':>2} {ind.name_zh if zh else ind.name_en}: {why}")
    return "\n".join(out)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))


def format_comparison(table: pd.DataFrame, name_a: str, name_b: str, year: int, lang: str = "zh") -> str:
    """A readable table of B - A per indicator with the band of the paired difference."""
    zh = lang == "zh"
    head = ("指标", f"{name_a}", f"{name_b}", "差值中位数 [5%-95%]", "达标概率 A→B") if zh else \
        ("Indicator", name_a, name_b, "difference median [5%-95%]", "P(met) A->B")
    lines = []
    for row in table.itertuples(index=False):
        prob = "" if row.prob_met_a != row.prob_met_a else f"{row.prob_met_a:.2f} -> {row.prob_met_b:.2f}"
        lines.append((row.name_zh if zh else row.name_en, f"{row.median_a:.1f}", f"{row.median_b:.1f}",
                      f"{row.difference_median:+.2f} [{row.difference_p05:+.2f}, {row.difference_p95:+.2f}]", prob))
    widths = [max(_width(x) for x in col) for col in zip(head, *lines)]
    title = f"{year}年：{name_b} 相对 {name_a}（同一随机数）" if zh else \
        f"{year}: {name_b} against {name_a} (common random numbers)"
    out = [title, "  ".join(_pad(x, w) for x, w in zip(head, widths))]
    out += ["  ".join(_pad(x, w) for x, w in zip(line, widths)) for line in lines]
    return "\n".join(out)
