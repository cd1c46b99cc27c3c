"""The calendar and the scale of a run: when the projection starts, its default horizon and scale."""

from __future__ import annotations

START_YEAR = 2021
BASE_YEAR = 2020
DEFAULT_SCALE = 8000.0
DEFAULT_HORIZON = 2025
# The innovation strata (about 8.8万 firms at the end of 2020) are simulated one to one at scale 1 and
# as a sample of one firm in ``firm_scale(scale)`` at coarser scales: the sample's means agree with
# one to one within standard errors (tests/test_innovation.py) at a tenth of the cost, and its rarest
# stock (200 international certificates) still has 20 simulated holders.
MAX_FIRM_SCALE = 10.0


def firm_scale(scale: float) -> float:
    """Real firms per simulated firm of the innovation strata at a run's scale (1 to MAX_FIRM_SCALE)."""
    return min(max(1.0, float(scale)), MAX_FIRM_SCALE)
