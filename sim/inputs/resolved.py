"""Levers resolved once: every lever and uncertainty of a scenario by year and city, read as fields.

A run resolves its scenario once (:class:`ResolvedLevers`); each year's values are then plain
attributes named after the declarations of :mod:`sim.inputs.levers`, so model code reads
``year.city.credit_penalty_severity[c]`` (the value in city ``c``, the provincial value
unless the city overrides it), ``year.province.ip_programme`` or ``year.world.gdp_growth``
instead of looking levers up by string. A city override therefore reaches every process
that reads the city value.
"""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass

from sim.inputs.levers import CITIES, LEVERS, UNCERTAINTIES
from sim.inputs.scenario import Scenario

# One field per lever (a tuple over CITIES, or the provincial value) and one per uncertainty;
# generated from the declarations, so a new lever needs no change here.
CityLevers = make_dataclass("CityLevers", [(lever.id, tuple) for lever in LEVERS], frozen=True)
CityLevers.__doc__ = "Each lever's value in each city (a tuple in the order of sim.inputs.levers.CITIES)."
ProvinceLevers = make_dataclass("ProvinceLevers", [(lever.id, float) for lever in LEVERS], frozen=True)
ProvinceLevers.__doc__ = "Each lever's provincial value (before city overrides)."
World = make_dataclass("World", [(u.id, float) for u in UNCERTAINTIES], frozen=True)
World.__doc__ = "Each uncertainty's value."


@dataclass(frozen=True)
class YearValues:
    """Every lever and uncertainty in one calendar year."""

    year: int
    city: CityLevers
    province: ProvinceLevers
    world: World


# Years already resolved in this process, by the paths they were resolved from: the seeds of an
# ensemble run the same levers with different parameters, so each year is resolved once per process.
_RESOLVED: dict[tuple, YearValues] = {}
_RESOLVED_LIMIT = 4096


class ResolvedLevers:
    """A scenario's levers and uncertainties resolved by year (each year computed once, on first use).

    Args:
        scenario: The scenario whose paths are read.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._years: dict[int, YearValues] = {}
        # what the values depend on (paths are frozen, so this is a key by content)
        self._paths = (tuple(scenario.levers.items()),
                       tuple((city, tuple(over.items())) for city, over in scenario.city_levers.items()),
                       tuple(scenario.uncertainties.items()))

    def year(self, year: int) -> YearValues:
        """The values in a calendar year."""
        values = self._years.get(year)
        if values is None:
            key = (self._paths, year)
            values = _RESOLVED.get(key)
            if values is None:
                if len(_RESOLVED) >= _RESOLVED_LIMIT:
                    _RESOLVED.clear()
                values = _RESOLVED[key] = _resolve(self.scenario, year)
            self._years[year] = values
        return values


def _resolve(s: Scenario, year: int) -> YearValues:
    province = {lv.id: s.levers[lv.id].at(year) for lv in LEVERS}
    overrides = [s.city_levers.get(c, {}) for c in CITIES]
    return YearValues(
        year=year,
        city=CityLevers(**{lid: tuple(over[lid].at(year) if lid in over else value for over in overrides)
                           for lid, value in province.items()}),
        province=ProvinceLevers(**province),
        world=World(**{u.id: s.uncertainties[u.id].at(year) for u in UNCERTAINTIES}))
