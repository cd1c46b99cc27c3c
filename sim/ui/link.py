"""A scenario in the page's URL: short, readable query parameters that open the same page for a colleague.

``?lang=en&view=compare&preset=plan&dual_random_share=70&Wenzhou.credit_penalty_severity=3&seeds=20``:
the language, the view, the preset, each lever or uncertainty moved away from the preset (its
2025 value; an uncertainty's from 2021), each city override (``City.lever``), and the run settings
that differ from the defaults. :func:`encode` writes them from the page's settings, :func:`decode`
reads them back, checking each against what the slider allows; a value that is not allowed is left
out with one line naming the key and what is allowed, and the rest of the link still opens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sim.inputs.levers import CITIES, LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever

RUN_LIMITS = {"seeds": (1, 100), "scale": (1000, 1_000_000), "horizon": (2025, 2035)}
PARAMETER_MODES = ("posterior", "point")
FIXED_KEYS = ("lang", "view", "preset", "parameters", *RUN_LIMITS)


@dataclass
class Link:
    """What a page URL asks for (only what it names)."""

    lang: str | None = None
    view: str | None = None
    preset: str | None = None
    levers: dict[str, float] = field(default_factory=dict)
    uncertainties: dict[str, float] = field(default_factory=dict)
    city: dict[tuple[str, str], float] = field(default_factory=dict)
    run: dict[str, int] = field(default_factory=dict)
    parameters: str | None = None
    errors: list[str] = field(default_factory=list)


def number(value: float) -> str:
    """A value as the URL shows it: as short as it reads (70, 0.8, 1.25)."""
    return f"{value:.10g}"


def encode(lang: str, view: str, preset: str, levers: Mapping[str, float], uncertainties: Mapping[str, float],
           city: Mapping[tuple[str, str], float], run: Mapping[str, int],
           run_defaults: Mapping[str, int], parameters: str = "posterior") -> dict[str, str]:
    """The query parameters of the page's settings: only what differs from the preset and the defaults."""
    out = {"lang": lang, "view": view, "preset": preset}
    if parameters != PARAMETER_MODES[0]:
        out["parameters"] = parameters
    out.update({k: number(v) for k, v in levers.items()})
    out.update({k: number(v) for k, v in uncertainties.items()})
    out.update({f"{c}.{k}": number(v) for (c, k), v in city.items()})
    out.update({k: str(int(v)) for k, v in run.items() if int(v) != int(run_defaults.get(k, -1))})
    return out


def _value(key: str, raw: str, spec: Lever) -> float:
    """A lever or uncertainty value from the URL, or ValueError naming what is allowed."""
    allowed = f"a {'whole ' if spec.integer else ''}number from {number(spec.low)} to {number(spec.high)}"
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not a number; allowed: {allowed}") from None
    if not math.isfinite(value) or not spec.low <= value <= spec.high or (spec.integer and value != round(value)):
        raise ValueError(f"{key}={raw!r} is out of range; allowed: {allowed}")
    return int(value) if spec.integer else value


def decode(params: Mapping[str, str | list[str]], langs: Iterable[str], views: Iterable[str],
           presets: Iterable[str]) -> Link:
    """The settings a URL's query parameters ask for; what is not allowed goes to ``errors``, one line each."""
    link = Link()
    langs, views, presets = list(langs), list(views), list(presets)
    for key, raw in params.items():
        raw = raw[-1] if isinstance(raw, list) else raw  # a repeated key: the last one counts
        try:
            if key == "lang":
                if raw not in langs:
                    raise ValueError(f"lang={raw!r} is not allowed; allowed: {', '.join(langs)}")
                link.lang = raw
            elif key == "view":
                if raw not in views:
                    raise ValueError(f"view={raw!r} is not allowed; allowed: {', '.join(views)}")
                link.view = raw
            elif key == "preset":
                if raw not in presets:
                    raise ValueError(f"preset={raw!r} is not on this server; allowed: {', '.join(presets)} "
                                     "(an uploaded scenario travels as its file)")
                link.preset = raw
            elif key == "parameters":
                if raw not in PARAMETER_MODES:
                    raise ValueError(f"parameters={raw!r} is not allowed; allowed: {', '.join(PARAMETER_MODES)}")
                link.parameters = raw
            elif key in RUN_LIMITS:
                low, high = RUN_LIMITS[key]
                if not raw.isdigit() or not low <= int(raw) <= high:
                    raise ValueError(f"{key}={raw!r} is not allowed; allowed: a whole number from {low} to {high}")
                link.run[key] = int(raw)
            elif key in LEVERS_BY_ID:
                link.levers[key] = _value(key, raw, LEVERS_BY_ID[key])
            elif key in UNCERTAINTIES_BY_ID:
                link.uncertainties[key] = _value(key, raw, UNCERTAINTIES_BY_ID[key])
            elif "." in key and key.split(".", 1)[0] in CITIES and key.split(".", 1)[1] in LEVERS_BY_ID:
                city, lid = key.split(".", 1)
                link.city[(city, lid)] = _value(key, raw, LEVERS_BY_ID[lid])
            else:
                raise ValueError(f"{key!r} is not a setting; allowed: {', '.join(FIXED_KEYS)}, a lever or "
                                 "uncertainty id (python -m sim levers), or City.lever")
        except ValueError as err:
            link.errors.append(str(err))
    return link
