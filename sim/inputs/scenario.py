"""Scenarios: levers (policy), uncertainties (the world) and model parameters, loaded and validated.

A scenario sets each lever and uncertainty declared in :mod:`sim.inputs.levers` to a
constant or a path by year (linear between the given years, flat beyond them), may
override a lever per city, and may change model parameters.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath

from sim.inputs.files import read_toml
from sim.inputs.levers import (CITIES, FIRST_YEAR, LAST_YEAR, LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever, Path, ScenarioError)
from sim.inputs.parameters import Parameters, default_parameter_sets, default_parameters, split_by_set


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: every lever and uncertainty has a path."""

    name: str
    label_zh: str
    label_en: str
    levers: Mapping[str, Path]
    city_levers: Mapping[str, Mapping[str, Path]]
    uncertainties: Mapping[str, Path]
    parameters: Parameters = field(default_factory=default_parameters)
    source: str = "<defaults>"
    # each submodel's parameter set by its name (sim.inputs.parameters.PARAMETER_SETS)
    submodel_parameters: Mapping[str, object] = field(default_factory=lambda: _default_submodel_parameters())
    # values already looked up (a run asks for the same lever-year thousands of times)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def lever(self, lever_id: str, year: int, city: str | None = None) -> float:
        """Value of a lever in a year, for a city if it has an override."""
        key = (lever_id, year, city)
        value = self._memo.get(key)
        if value is None:
            if city is not None and lever_id in self.city_levers.get(city, {}):
                value = self.city_levers[city][lever_id].at(year)
            else:
                value = self.levers[lever_id].at(year)
            self._memo[key] = value
        return value

    def uncertainty(self, uid: str, year: int) -> float:
        """Value of an uncertainty in a year."""
        key = (uid, year, "uncertainty")
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = self.uncertainties[uid].at(year)
        return value

    def to_dict(self) -> dict:
        """The scenario as resolved, for run.json."""
        return {
            "name": self.name,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "source": self.source,
            "levers": {k: [list(p) for p in v.points] for k, v in self.levers.items()},
            "city_levers": {c: {k: [list(p) for p in v.points] for k, v in d.items()}
                            for c, d in self.city_levers.items()},
            "uncertainties": {k: [list(p) for p in v.points] for k, v in self.uncertainties.items()},
            "parameters": dataclasses.asdict(self.parameters),
            "submodel_parameters": {name: dataclasses.asdict(values)
                                    for name, values in self.submodel_parameters.items()},
        }

    def parameter_set(self, name: str):
        """A parameter set by name: ``entity`` or a submodel's (``programmes``, ``innovation``)."""
        return self.parameters if name == "entity" else self.submodel_parameters[name]

    def with_parameters(self, changes: Mapping[str, float]) -> Scenario:
        """A copy with some parameters changed, whichever set declares them; unknown names raise ValueError."""
        by_set = split_by_set(changes)
        submodels = {name: values.replace(**by_set[name]) if by_set[name] else values
                     for name, values in self.submodel_parameters.items()}
        return dataclasses.replace(self, parameters=self.parameters.replace(**by_set["entity"]),
                                   submodel_parameters=submodels)

    def changed_parameters(self) -> dict[str, float]:
        """Parameters of every set that differ from the defaults (the committed fit where there is one)."""
        defaults = default_parameter_sets()
        out = dict(self.parameters.changed())
        for name, values in self.submodel_parameters.items():
            out.update({f.name: getattr(values, f.name) for f in dataclasses.fields(values)
                        if getattr(values, f.name) != getattr(defaults[name], f.name)})
        return out

    def to_toml(self) -> str:
        """A scenario file that load_scenario reads back to the same scenario."""
        lines = [f"name = {_toml_str(self.name)}", f"label_zh = {_toml_str(self.label_zh)}",
                 f"label_en = {_toml_str(self.label_en)}", "", "[levers]"]
        lines += [f"{k} = {self.levers[k].to_toml()}" for k in LEVERS_BY_ID]
        for city, over in self.city_levers.items():
            if over:
                lines += ["", f"[levers.city.{city}]"]
                lines += [f"{k} = {p.to_toml()}" for k, p in over.items()]
        lines += ["", "[uncertainties]"]
        lines += [f"{k} = {self.uncertainties[k].to_toml()}" for k in UNCERTAINTIES_BY_ID]
        changed = self.changed_parameters()
        if changed:
            lines += ["", "[parameters]"]
            lines += [f"{k} = {v!r}" for k, v in changed.items()]
        return "\n".join(lines) + "\n"


def _default_submodel_parameters() -> dict[str, object]:
    return {name: values for name, values in default_parameter_sets().items() if name != "entity"}


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fail(source: str, key: str, message: str) -> ScenarioError:
    return ScenarioError(f"{source}: {key}: {message}")


def _number(source: str, key: str, raw: object, spec: Lever) -> float:
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):  # numpy scalars are numbers too
        raise _fail(source, key, f"expected {spec.allowed()}, got {type(raw).__name__} {raw!r}")
    value = float(raw)
    if not math.isfinite(value) or value < spec.low or value > spec.high:
        raise _fail(source, key, f"{raw!r} is out of range; allowed: {spec.allowed()}")
    if spec.integer and value != int(value):
        raise _fail(source, key, f"{raw!r} is not allowed; allowed: {spec.allowed()}")
    return value


def parse_path(source: str, key: str, raw: object, spec: Lever) -> Path:
    """Validate a constant or a {year = value} table into a Path.

    Raises:
        ScenarioError: naming the source, the key and what is allowed.
    """
    if isinstance(raw, Mapping):
        if not raw:
            raise _fail(source, key, "an empty table; give a number or { 2020 = ..., 2025 = ... }")
        points: dict[int, float] = {}
        for year_text, value in raw.items():
            text = str(year_text)
            if not (len(text) == 4 and text.isascii() and text.isdigit()):  # not "02025", "2_025", "+2025"
                raise _fail(source, f"{key}.{year_text}",
                            f"path keys must be four-digit years from {FIRST_YEAR} to {LAST_YEAR}")
            year = int(text)
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise _fail(source, f"{key}.{year_text}",
                            f"year {year} is out of range; allowed years {FIRST_YEAR} to {LAST_YEAR}")
            points[year] = _number(source, f"{key}.{year_text}", value, spec)
        return Path(tuple(sorted(points.items())))
    return Path.constant(_number(source, key, raw, spec))


def _unknown(source: str, key: str, what: str, known: Iterable[str]) -> ScenarioError:
    return _fail(source, key, f"unknown {what}; allowed: {', '.join(known)}")


def parse_scenario(data: Mapping, source: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping (as read from TOML) into a Scenario.

    Raises:
        ScenarioError: for unknown keys, levers, cities or parameters, wrong types and
            values out of range.
    """
    allowed_top = ("name", "label_zh", "label_en", "description", "levers", "uncertainties", "parameters")
    for key in data:
        if key not in allowed_top:
            raise _unknown(source, key, "top-level key", allowed_top)
    for key in ("name", "label_zh", "label_en", "description"):
        if key in data and not isinstance(data[key], str):
            raise _fail(source, key, f"expected text, got {type(data[key]).__name__}")
    levers_raw = data.get("levers", {})
    if not isinstance(levers_raw, Mapping):
        raise _fail(source, "levers", "expected a table of lever = value")
    levers = {lid: Path.constant(spec.value_2020) for lid, spec in LEVERS_BY_ID.items()}
    city_levers: dict[str, dict[str, Path]] = {}
    for key, raw in levers_raw.items():
        if key == "city":
            if not isinstance(raw, Mapping):
                raise _fail(source, "levers.city", "expected tables [levers.city.<City>]")
            for city, over in raw.items():
                if city not in CITIES:
                    raise _unknown(source, f"levers.city.{city}", "city", CITIES)
                if not isinstance(over, Mapping):
                    raise _fail(source, f"levers.city.{city}", "expected a table of lever = value")
                for lid, value in over.items():
                    if lid not in LEVERS_BY_ID:
                        raise _unknown(source, f"levers.city.{city}.{lid}", "lever", LEVERS_BY_ID)
                    city_levers.setdefault(city, {})[lid] = parse_path(
                        source, f"levers.city.{city}.{lid}", value, LEVERS_BY_ID[lid])
            continue
        if key not in LEVERS_BY_ID:
            raise _unknown(source, f"levers.{key}", "lever", LEVERS_BY_ID)
        levers[key] = parse_path(source, f"levers.{key}", raw, LEVERS_BY_ID[key])
    unc_raw = data.get("uncertainties", {})
    if not isinstance(unc_raw, Mapping):
        raise _fail(source, "uncertainties", "expected a table of uncertainty = value")
    uncertainties = {uid: Path.constant(spec.value_2020) for uid, spec in UNCERTAINTIES_BY_ID.items()}
    for key, raw in unc_raw.items():
        if key not in UNCERTAINTIES_BY_ID:
            raise _unknown(source, f"uncertainties.{key}", "uncertainty", UNCERTAINTIES_BY_ID)
        uncertainties[key] = parse_path(source, f"uncertainties.{key}", raw, UNCERTAINTIES_BY_ID[key])
    param_raw = data.get("parameters", {})
    if not isinstance(param_raw, Mapping):
        raise _fail(source, "parameters", "expected a table of parameter = value")
    name = data.get("name", FilePath(source).stem if source.endswith(".toml") else "scenario")
    scenario = Scenario(name=name, label_zh=data.get("label_zh", name), label_en=data.get("label_en", name),
                        levers=levers, city_levers=city_levers, uncertainties=uncertainties, source=source)
    try:
        return scenario.with_parameters(param_raw) if param_raw else scenario
    except (TypeError, ValueError) as err:
        raise _fail(source, "parameters", str(err)) from None


def load_scenario(path: str | FilePath) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises:
        ScenarioError: if the file is missing, unreadable, not TOML, or invalid.
    """
    return parse_scenario(not_empty(read_toml(path, "scenario", ScenarioError), str(path)), str(path))


def not_empty(data: Mapping, source: str) -> Mapping:
    """A scenario file's mapping, refused if it sets nothing (an empty file would run as the baseline)."""
    if not data:
        raise ScenarioError(f"{source}: the scenario file is empty; a scenario sets at least a name or a lever "
                            "(see scenarios/plan.toml; the baseline is scenarios/baseline.toml)")
    return data


def baseline() -> Scenario:
    """The 2020-policy scenario built from the lever declarations alone."""
    return parse_scenario({"name": "baseline", "label_zh": "基准情景（2020年政策）",
                           "label_en": "Baseline (2020 policies)"}, "<baseline>")


def apply_overrides(scenario: Scenario, assignments: Iterable[str], source: str = "--set") -> Scenario:
    """Apply ``lever=value`` or ``City.lever=value`` overrides (also uncertainties).

    A value is a number or a path written ``2020:10,2025:65``.

    Raises:
        ScenarioError: naming the assignment and what is allowed.
    """
    levers = dict(scenario.levers)
    city_levers = {c: dict(d) for c, d in scenario.city_levers.items()}
    uncertainties = dict(scenario.uncertainties)
    for text in assignments:
        key, sep, value_text = text.partition("=")
        key = key.strip()
        label = f"{source} {text}"
        if not sep or not key or not value_text.strip():
            raise ScenarioError(f"{label}: expected lever=value, e.g. dual_random_share=60 "
                                "or dual_random_share=2020:10,2025:65")
        raw = _parse_value_text(label, value_text.strip())
        city, dot, lid = key.rpartition(".")
        if dot and city not in CITIES:
            raise ScenarioError(f"{label}: unknown city '{city}'; allowed: {', '.join(CITIES)}")
        if lid in LEVERS_BY_ID:
            path = parse_path(source, key, raw, LEVERS_BY_ID[lid])
            if dot:
                city_levers.setdefault(city, {})[lid] = path
            else:
                levers[lid] = path
        elif lid in UNCERTAINTIES_BY_ID and not dot:
            uncertainties[lid] = parse_path(source, key, raw, UNCERTAINTIES_BY_ID[lid])
        else:
            known = ", ".join(list(LEVERS_BY_ID) + list(UNCERTAINTIES_BY_ID))
            raise ScenarioError(f"{label}: unknown lever '{lid}'; allowed: {known}")
    return dataclasses.replace(scenario, levers=levers, city_levers=city_levers, uncertainties=uncertainties)


def with_values(scenario: Scenario, values: Mapping[str, object], source: str = "keyword arguments") -> Scenario:
    """The scenario with levers and uncertainties set by id, each a number or a ``{year: value}``
    mapping read as a scenario file's would be (``MarketModel(dual_random_share=60)``).

    Raises:
        ScenarioError: naming the key and what is allowed.
    """
    levers, uncertainties = dict(scenario.levers), dict(scenario.uncertainties)
    for key, raw in values.items():
        if isinstance(raw, Mapping):
            raw = {str(year): value for year, value in raw.items()}
        if key in LEVERS_BY_ID:
            levers[key] = parse_path(source, key, raw, LEVERS_BY_ID[key])
        elif key in UNCERTAINTIES_BY_ID:
            uncertainties[key] = parse_path(source, key, raw, UNCERTAINTIES_BY_ID[key])
        else:
            raise _unknown(source, key, "lever or uncertainty", [*LEVERS_BY_ID, *UNCERTAINTIES_BY_ID])
    return dataclasses.replace(scenario, levers=levers, uncertainties=uncertainties)


def _parse_value_text(label: str, text: str) -> object:
    def num(part: str) -> float:
        try:
            return float(part)
        except ValueError:
            raise ScenarioError(f"{label}: '{part}' is not a number") from None

    if ":" not in text:
        return num(text)
    out: dict[str, float] = {}
    for item in text.split(","):
        year, sep, value = item.partition(":")
        if not sep:
            raise ScenarioError(f"{label}: a path is written year:value,year:value, e.g. 2020:10,2025:65")
        out[year.strip()] = num(value.strip())
    return out
