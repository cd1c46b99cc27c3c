"""The submodel interface: what a process beside the entity model declares and does.

After Starsim's modules, a submodel declares

- ``name``: also the name of its parameter set in :data:`sim.inputs.parameters.PARAMETER_SETS`
  (so a scenario's ``[parameters]``, ``sim params``, the generated docs and ``sim calibrate``
  all reach its parameters);
- ``streams``: its random streams (ids that collide with no other stream);
- ``indicators`` and ``aggregation``: the plan indicators it produces and how each of its
  record fields adds up over a year (``stock``, ``flow`` or ``mean``; the engines build
  their record from the entity model's fields and every submodel's);

and has a state, built by :meth:`Submodel.for_run`, that the engine advances after the
entity processes each month (:meth:`Submodel.step`), then reads (:meth:`Submodel.values`).
The engines loop over :data:`sim.submodels.SUBMODELS` and name none of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Protocol

import numpy as np

from sim.inputs.levers import CITIES
from sim.inputs.resolved import ResolvedLevers
from sim.inputs.scenario import Scenario


class Month(Protocol):
    """What a submodel reads of the engine's month: the calendar."""

    year: int
    month: int
    step: int


class Submodel(ABC):
    """Base of the submodels: declarations as class attributes, the run's state as instance attributes.

    Attributes:
        initial_values: Every record field at the end of 2020 (the plan's baselines).
    """

    name: ClassVar[str]
    streams: ClassVar[Mapping[str, int]]
    indicators: ClassVar[tuple[str, ...]]
    aggregation: ClassVar[Mapping[str, str]]
    initial_values: dict[str, float]

    @classmethod
    @abstractmethod
    def for_run(cls, policy: Scenario, levers: ResolvedLevers, seed: int, scale: float) -> Submodel:
        """The submodel's state at the end of 2020 for one run.

        Args:
            policy: The scenario; the submodel's parameters are ``policy.submodel_parameters[cls.name]``.
            levers: The run's resolved levers (every lever by year and city).
            seed: Run seed.
            scale: Real entities per simulated entity of the run.
        """

    @abstractmethod
    def step(self, month: Month, record: dict[str, float]) -> None:
        """Advance one month; ``record`` is the month's entity-model record so far (read only)."""

    @abstractmethod
    def values(self) -> dict[str, float]:
        """The current value of every field of :attr:`aggregation`."""

    def regulator_effectiveness(self) -> np.ndarray:
        """Per-city multiplier the submodel puts on regulators' effectiveness - their inspection capacity
        and their pace of reform (1: none)."""
        return np.ones(len(CITIES))
