"""Every documented parameter set of the model, and the committed fit applied on top of them.

Each set is a frozen dataclass whose fields carry unit, status and source
(:func:`declare.documented`): the entity model's (:class:`Parameters`) and one per
submodel (:data:`PARAMETER_SETS`). Parameter names are unique across the sets, so a
scenario's ``[parameters]`` table, a fitted file and ``sim calibrate`` name a parameter
without saying which set holds it; ``python -m sim params`` lists them all and
docs/ODD.md's tables are generated from them (``python -m sim docs``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from sim.inputs.parameters.declare import documented, parameter_rows, replaced
from sim.inputs.parameters.entity import Parameters
from sim.inputs.parameters.innovation import InnovationParameters
from sim.inputs.parameters.programmes import ProgrammeParameters

# The committed fit (python -m sim calibrate): every scenario starts from these values.
FITTED_FILE = Path(__file__).resolve().parents[3] / "calibration" / "fitted.toml"

# The parameter sets by name: the entity model, then each submodel (a submodel names its set).
PARAMETER_SETS: dict[str, type] = {
    "entity": Parameters,
    "programmes": ProgrammeParameters,
    "innovation": InnovationParameters,
}
SET_OF: dict[str, str] = {f.name: name for name, cls in PARAMETER_SETS.items() for f in dataclasses.fields(cls)}
assert len(SET_OF) == sum(len(dataclasses.fields(c)) for c in PARAMETER_SETS.values()), \
    "a parameter name is declared in two parameter sets"


def split_by_set(changes: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Changes by parameter set; unknown names raise ValueError naming them."""
    out: dict[str, dict[str, float]] = {name: {} for name in PARAMETER_SETS}
    for key, value in changes.items():
        if key not in SET_OF:
            raise ValueError(f"unknown parameter '{key}'; see `python -m sim params` for the list")
        out[SET_OF[key]][key] = value
    return out


def read_fitted(path: str | Path) -> dict[str, float]:
    """Values of a fitted-parameter file's [parameters] table (empty if there is no file).

    Raises:
        ValueError: if the file is not valid TOML or names unknown parameters.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        values = {k: float(v) for k, v in data.get("parameters", {}).items()}
        for name, changes in split_by_set(values).items():
            PARAMETER_SETS[name]().replace(**changes)
    except (tomllib.TOMLDecodeError, ValueError, TypeError) as err:
        raise ValueError(f"{path}: not a valid fitted-parameter file ({err})") from None
    return values


@cache
def default_parameter_sets() -> dict[str, object]:
    """Every parameter set: its declared values with the committed fit applied on top."""
    fitted = split_by_set(read_fitted(FITTED_FILE))
    return {name: cls().replace(**fitted[name]) for name, cls in PARAMETER_SETS.items()}


def default_parameters() -> Parameters:
    """The entity model's parameters with the committed fit applied on top."""
    return default_parameter_sets()["entity"]


def parameter_table() -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source, for docs and the CLI."""
    return parameter_rows(Parameters)


__all__ = ["FITTED_FILE", "PARAMETER_SETS", "SET_OF", "InnovationParameters", "Parameters", "ProgrammeParameters",
           "default_parameter_sets", "default_parameters", "documented", "parameter_rows", "parameter_table",
           "read_fitted", "replaced", "split_by_set"]
