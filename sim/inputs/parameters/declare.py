"""How a parameter is declared: a dataclass field carrying its unit, status and source."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import field

# Units whose values are fractions: a parameter in one of them lies in [0, 1] unless it says otherwise.
FRACTION_UNITS = ("share", "probability", "violation share")
# Units whose values may be negative (effect sizes, logits, log offsets, growth rates in %); every
# other unit - rates, counts, durations, multipliers, weights, sizes - is at least 0.
SIGNED_UNITS = ("elasticity", "logit", "log ", "relative per GDP point", "% per year", "exponent")
SIGNED_LIMIT = 20.0  # a signed effect beyond +-20 (in logs or logits) overflows the model's exponentials
# Calendar units: a year of the model's calendar, a month of the year.
CALENDAR = {"year": (2021.0, 2035.0), "month": (1.0, 12.0)}


def documented(value: float, unit: str, status: str, source: str, low: float | None = None,
               high: float | None = None, prior: tuple[float, float] | None = None) -> float:
    """A dataclass field carrying its unit, status, source and allowed range (every parameter set
    uses it). Unless ``low`` or ``high`` is given, the unit sets the range: a fraction unit
    (:data:`FRACTION_UNITS`) lies in [0, 1], a calendar year in 2021-2035 and a month in 1-12, a
    signed unit (:data:`SIGNED_UNITS`) lies within +-:data:`SIGNED_LIMIT`, and every other unit
    (rates, counts, durations, multipliers, spreads) is at least 0. Parameters that size the simulation (counts of
    simulated firms or markets) give a ``high`` that bounds its memory.

    ``prior`` marks an uncertain parameter: the range (uniform prior) from its source that
    ``sim calibrate`` samples and the posterior draws carry into every run."""
    if unit.startswith(FRACTION_UNITS):
        by_unit = (0.0, 1.0)
    elif unit in CALENDAR:
        by_unit = CALENDAR[unit]
    elif " sd" in f" {unit}" or not any(unit.startswith(u) or f" {u}" in unit for u in SIGNED_UNITS):
        by_unit = (0.0, None)  # spreads (log sd) and every unsigned unit
    else:
        by_unit = (-SIGNED_LIMIT, SIGNED_LIMIT)
    if low is None and high is None:
        low, high = by_unit
    elif low is None and by_unit[0] is not None and (high is None or by_unit[0] <= high):
        low = by_unit[0]  # a given upper bound keeps the unit's lower one
    assert (low is None or value >= low) and (high is None or value <= high), f"default {value} outside its range"
    if prior is not None:
        assert prior[0] < prior[1] and prior[0] <= value <= prior[1], f"default {value} outside its prior {prior}"
        assert (low is None or prior[0] >= low) and (high is None or prior[1] <= high), "prior beyond the range"
    return field(default=value, metadata={"unit": unit, "status": status, "source": source,
                                          "low": low, "high": high, "prior": prior})


def priors(cls) -> dict[str, tuple[float, float]]:
    """The uniform prior ranges of a parameter set's uncertain parameters, by name."""
    return {f.name: tuple(f.metadata["prior"]) for f in dataclasses.fields(cls) if f.metadata.get("prior")}


def allowed_range(f: dataclasses.Field) -> str:
    """A field's allowed range as text ("0 to 1", "at least 0", "any finite number")."""
    low, high = f.metadata.get("low"), f.metadata.get("high")
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f"at least {low:g}"
    if high is not None:
        return f"at most {high:g}"
    return "any finite number"


def replaced(params, kind: str, changes: dict[str, float]):
    """A copy of a frozen parameter set with some values changed; unknown names raise.

    Raises:
        ValueError: naming the unknown ``kind`` parameter.
    """
    fields = {f.name: f for f in dataclasses.fields(params)}
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"unknown {kind} '{key}'; see `python -m sim params` for the list")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"parameter '{key}' must be a number, got {value!r}")
        f = fields[key]
        low, high = f.metadata.get("low"), f.metadata.get("high")
        if not math.isfinite(float(value)) or (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"parameter '{key}' = {value!r} is out of range; allowed: {allowed_range(f)} "
                             f"({f.metadata['unit']})")
    return dataclasses.replace(params, **{k: float(v) for k, v in changes.items()})


def parameter_rows(cls) -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source of a parameter dataclass, for docs and the CLI."""
    return [{"name": f.name, "value": f.default, **f.metadata} for f in dataclasses.fields(cls)]
