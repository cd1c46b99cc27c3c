"""From the sidebar to a Scenario: presets, uploaded files, slider values and city overrides.

A slider sets a lever's value in the plan's target year (2025). The 2020 value stays as
it was (it is history, and it sets the model's starting state), and the years between
follow the preset's own timing: a preset path such as ``{2020 = 1, 2021 = 2.9}`` keeps
reaching its full value in 2021, scaled to the new value; a flat preset becomes a
linear path from 2020 to 2025; switches and whole-number levers change from 2021.
Uncertainties (the economy) are set from 2021 on.

Every scenario the app runs goes through its TOML text (:func:`run_key`), so the file
the user downloads is exactly what was run.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path as FilePath

from sim.inputs.files import toml_from_bytes
from sim.inputs.levers import CITIES, LEVERS, LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever, Path, ScenarioError
from sim.inputs.scenario import Scenario, load_scenario, not_empty, parse_scenario

BASE_YEAR = 2020
POLICY_START = 2021
TARGET_YEAR = 2025
FIRST_PRESETS = ("baseline", "plan")
UPLOAD_PREFIX = "upload:"
ROOT = FilePath(__file__).resolve().parents[2]


def scenario_dir() -> FilePath:
    """The preset folder: ``SIM_SCENARIO_DIR``, default the repository's ``scenarios/``."""
    return FilePath(os.environ.get("SIM_SCENARIO_DIR") or ROOT / "scenarios")


def default_seeds() -> int:
    """A new session's seeds: ``SIM_APP_SEEDS``, default 10 (0.6-0.8 s on two warm workers at scale 8000)."""
    return int(os.environ.get("SIM_APP_SEEDS") or 10)


def default_scale() -> int:
    """A new session's scale: ``SIM_APP_SCALE``, default 8000."""
    return int(os.environ.get("SIM_APP_SCALE") or 8000)


def load_presets(directory: FilePath) -> tuple[dict[str, Scenario], list[str]]:
    """Every scenario file in ``directory`` by file stem, baseline and plan first, and the load errors."""
    files = sorted(directory.glob("*.toml"))
    files.sort(key=lambda f: FIRST_PRESETS.index(f.stem) if f.stem in FIRST_PRESETS else len(FIRST_PRESETS))
    presets: dict[str, Scenario] = {}
    errors: list[str] = []
    for file in files:
        try:
            presets[file.stem] = load_scenario(file)
        except ScenarioError as err:
            errors.append(str(err))
    return presets, errors


def scenario_from_bytes(data: bytes, source: str) -> Scenario:
    """Validate an uploaded scenario file, with the messages of :func:`sim.inputs.scenario.load_scenario`.

    Raises:
        ScenarioError: not UTF-8, malformed TOML, unknown keys, levers or cities, values out of range.
    """
    return parse_scenario(not_empty(toml_from_bytes(data, source, "scenario", ScenarioError), source), source)


def _clamp(value: float, spec: Lever) -> float:
    value = min(spec.high, max(spec.low, value))
    return float(round(value)) if spec.integer else value


def adjusted_path(path: Path, value: float, spec: Lever, year: int = TARGET_YEAR, ramp: bool = True) -> Path:
    """``path`` changed so that it reaches ``value`` in ``year``, keeping its 2020 value and its timing.

    Args:
        path: The preset's path.
        value: The new value in ``year``.
        spec: The lever or uncertainty (range, whole numbers).
        year: The year the value is set for.
        ramp: For a path flat after 2020: True for a linear path from 2020 to ``year``,
            False for a step in 2021. Whole-number levers always step.
    """
    old, start = path.at(year), path.at(BASE_YEAR)
    if math.isclose(value, old, rel_tol=0, abs_tol=1e-12):
        return path
    head = [(y, v) for y, v in path.points if y < BASE_YEAR] + [(BASE_YEAR, start)]
    later = [(y, v) for y, v in path.points if y > BASE_YEAR]
    if later and not math.isclose(old, start, rel_tol=0, abs_tol=1e-12):
        k = (value - start) / (old - start)
        return Path(tuple(head + [(y, _clamp(start + (v - start) * k, spec)) for y, v in later]))
    if ramp and not spec.integer and year > POLICY_START:
        return Path(tuple(head + [(year, value)]))
    return Path(tuple(head + [(POLICY_START, value)]))


def resolve(preset: Scenario, levers: Mapping[str, float], uncertainties: Mapping[str, float] | None = None,
            city: Mapping[tuple[str, str], float] | None = None) -> Scenario:
    """The preset with slider values (levers in 2025, uncertainties from 2021) and city overrides.

    Raises:
        ScenarioError: an unknown lever, uncertainty or city.
    """
    new_levers = dict(preset.levers)
    for lid, value in levers.items():
        if lid not in LEVERS_BY_ID:
            raise ScenarioError(f"app: unknown lever '{lid}'; allowed: {', '.join(LEVERS_BY_ID)}")
        new_levers[lid] = adjusted_path(preset.levers[lid], value, LEVERS_BY_ID[lid])
    new_unc = dict(preset.uncertainties)
    for uid, value in (uncertainties or {}).items():
        if uid not in UNCERTAINTIES_BY_ID:
            raise ScenarioError(f"app: unknown uncertainty '{uid}'; allowed: {', '.join(UNCERTAINTIES_BY_ID)}")
        spec = UNCERTAINTIES_BY_ID[uid]
        new_unc[uid] = adjusted_path(preset.uncertainties[uid], value, spec, year=POLICY_START, ramp=False)
    city_levers = {c: dict(d) for c, d in preset.city_levers.items()}
    for (name, lid), value in (city or {}).items():
        if name not in CITIES:
            raise ScenarioError(f"app: unknown city '{name}'; allowed: {', '.join(CITIES)}")
        if lid not in LEVERS_BY_ID:
            raise ScenarioError(f"app: unknown lever '{lid}'; allowed: {', '.join(LEVERS_BY_ID)}")
        base = preset.city_levers.get(name, {}).get(lid, preset.levers[lid])
        city_levers.setdefault(name, {})[lid] = adjusted_path(base, value, LEVERS_BY_ID[lid])
    return dataclasses.replace(preset, levers=new_levers, uncertainties=new_unc, city_levers=city_levers)


def changed_levers(preset: Scenario, scenario: Scenario) -> list[str]:
    """Ids of levers and uncertainties whose path differs from the preset, and City.lever overrides added."""
    out = [lid for lid in LEVERS_BY_ID if scenario.levers[lid] != preset.levers[lid]]
    out += [uid for uid in UNCERTAINTIES_BY_ID if scenario.uncertainties[uid] != preset.uncertainties[uid]]
    for city, over in scenario.city_levers.items():
        out += [f"{city}.{lid}" for lid, p in over.items() if preset.city_levers.get(city, {}).get(lid) != p]
    return out


def renamed(scenario: Scenario, name: str, label_zh: str | None = None, label_en: str | None = None) -> Scenario:
    """The scenario under another name (and labels)."""
    return dataclasses.replace(scenario, name=name, label_zh=label_zh or name, label_en=label_en or name)


def run_key(scenario: Scenario) -> str:
    """The scenario's TOML without its name and labels: what decides its numbers (the cache key)."""
    return renamed(scenario, "scenario").to_toml()


def from_key(key: str, source: str = "<app>") -> Scenario:
    """The scenario back from :func:`run_key` text (validated as any scenario file)."""
    return parse_scenario(tomllib.loads(key), source)


def lever_groups(levers: tuple[Lever, ...] = LEVERS) -> dict[str, list[Lever]]:
    """Levers by their plan group, in declaration order within a group."""
    out: dict[str, list[Lever]] = {}
    for lever in levers:
        out.setdefault(lever.group, []).append(lever)
    return out


def slider_step(spec: Lever) -> float | int:
    """About a hundredth of the range, rounded down to a power of ten; 1 for whole numbers."""
    if spec.integer:
        return 1
    return 10.0 ** math.floor(math.log10((spec.high - spec.low) / 100))


def slider_value(spec: Lever, value: float) -> float | int:
    """A value in the slider's type, on its grid and in its range."""
    value = min(spec.high, max(spec.low, value))
    if spec.integer:
        return int(round(value))
    step = slider_step(spec)
    decimals = max(0, -int(math.floor(math.log10(step))))
    return round(float(value), decimals + 2)
