"""How a parameter is declared: a dataclass field carrying its unit, status and source."""

from __future__ import annotations

import dataclasses
from dataclasses import field


def documented(value: float, unit: str, status: str, source: str) -> float:
    """A dataclass field carrying its unit, status and source (every parameter set uses it)."""
    return field(default=value, metadata={"unit": unit, "status": status, "source": source})


def replaced(params, kind: str, changes: dict[str, float]):
    """A copy of a frozen parameter set with some values changed; unknown names raise.

    Raises:
        ValueError: naming the unknown ``kind`` parameter.
    """
    names = {f.name for f in dataclasses.fields(params)}
    for key, value in changes.items():
        if key not in names:
            raise ValueError(f"unknown {kind} '{key}'; see `python -m sim params` for the list")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"parameter '{key}' must be a number, got {value!r}")
    return dataclasses.replace(params, **{k: float(v) for k, v in changes.items()})


def parameter_rows(cls) -> list[dict[str, object]]:
    """Rows of name, value, unit, status and source of a parameter dataclass, for docs and the CLI."""
    return [{"name": f.name, "value": f.default, **f.metadata} for f in dataclasses.fields(cls)]
