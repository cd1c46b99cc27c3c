"""Submodels: processes beside the entity model behind one interface (:mod:`sim.submodels.base`).

The engines advance every submodel of :data:`SUBMODELS`, in this order, after the entity
processes of each month.
"""

from sim.submodels.base import Submodel
from sim.submodels.innovation import Innovation
from sim.submodels.programmes import Programmes

# Programmes first: the innovating firms read the resident population the programmes record.
SUBMODELS: tuple[type[Submodel], ...] = (Programmes, Innovation)

__all__ = ["SUBMODELS", "Innovation", "Programmes", "Submodel"]
