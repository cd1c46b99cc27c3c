"""Met / at risk / missed: how a target's probability of being met is read, in one place.

The CLI's table, the app's scorecard and its headline counts all read a target's status
from here, so the thresholds cannot drift apart.
"""

from __future__ import annotations

MET_AT_LEAST = 0.8  # P(target met) from which a target reads as met
AT_RISK_AT_LEAST = 0.2  # ... from which it reads as at risk; below it, missed

STATUSES = ("met", "at risk", "missed")
STATUS_ZH = {"met": "达成", "at risk": "有风险", "missed": "未达成"}


def status(prob: float) -> str:
    """``met``, ``at risk`` or ``missed`` from the probability of meeting a target; ``""`` for NaN."""
    if prob != prob:  # NaN: not modelled or no target
        return ""
    if prob >= MET_AT_LEAST:
        return "met"
    if prob >= AT_RISK_AT_LEAST:
        return "at risk"
    return "missed"


def status_mark(prob: float, lang: str) -> str:
    """The status in ``lang`` (``zh`` or ``en``)."""
    key = status(prob)
    return STATUS_ZH.get(key, "") if lang == "zh" else key
