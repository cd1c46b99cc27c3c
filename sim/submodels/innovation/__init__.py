"""Innovation and brands: the plan indicators in which firms decide (indicators 4-7 and 11-13).

Process 4 of the design. Two kinds of state, both plain numpy, advanced once a month after
the entity processes and the programmes (:meth:`Innovation.step`, called from
``sim.engines.base.BaseMarketModel._end_month``):

- Trademarks (indicator 4) as cohorts by the year their current ten-year term began: new
  registrations come from filings by companies, other enterprises and individual businesses
  (their counts from the month's record) and by the simulated firms below (by size and
  sector), registered after an examination lag; a cohort reaching ten years is renewed with a
  probability or lapses; a small hazard cancels marks early.
- The rare strata simulated firm by firm (about 8.8万 firms at the end of 2020, arrays of firms,
  not a Python loop over them; one to one at ``firm_scale`` 1, else a stratified sample of one
  firm in ``firm_scale`` whose counts are multiplied by it in the outputs): above-scale
  industrial firms (revenue >= 20M yuan) and the band of industrial firms just below the
  threshold, plus non-industrial holders of invention patents. Each firm has a log size, a
  sector flag, invention and high-value patents held, overseas filings in examination and
  overseas grants, a product category, Zhejiang Made standards led, Zhejiang Made
  (Pinzi-brand) certification, international certificates and a credit status.
  Sizes follow the Gibrat rule with Laplace shocks once a year (the above-scale directory is
  revised yearly); firms enter the above-scale group by growing past the threshold, leave it
  by shrinking or exiting, and new firms come in from below at a rate tied to the main
  model's registered companies and the economy. Patents are granted and lapse, overseas
  filings are granted after a lag, firms lead Zhejiang Made standards, firms with a standard
  for their product, the size and a clean credit record get certified, and certified firms
  that are listed (abnormal-operation or serious-dishonesty list) lose certification - the
  listing hazard follows the main model's detected violations and the credit penalty severity.

Every number is a field of :class:`InnovationParameters` with its unit, status and source.
Every draw is :func:`sim.core.rules.crn_uniform` on the submodel's streams (:data:`STREAMS`, ids
from 200), keyed by firm and month or by a firm's event count: firm events run on clocks
(each firm and process has an exponential threshold, drawn once per event and keyed by the
firm and its event count; the month's expected events are added until the threshold is
crossed), so two scenarios with the same seed share every firm's thresholds and a higher
rate never gives fewer or later events. The rules (``rules``) are pure functions that take
scalars and numpy arrays alike; the loops over firms (``clocks``: the generic clock loops
``fire_clock`` and ``rebase_clocks``, and the passes over every firm) are compiled with numba,
as the vector engine's kernels are. docs/ODD.md 7.4 describes it all.

The package, by concern:

- ``parameters`` - :class:`InnovationParameters` and the declarations (clocks, streams, indicators,
  extra record fields, their yearly aggregation);
- ``rules`` - the pure rules (sizes, hazards, counts at uniforms, allocations, the trademark
  back-cast, the overseas pipeline);
- ``clocks`` - the compiled loops over the firm table (clocks, entrants, credit scan, tally, adoption
  weights, growth, size factors);
- ``table`` - the firm table (:class:`FirmTable`), its column declarations and the clock ids;
- ``initial`` - the 2020 state and the rates calibrated on it; ``month`` - the firms' month in one
  compiled call; ``processes`` - the month's processes around it (entry, trademarks, aggregate stocks);
- ``model`` - :class:`Innovation` (state, clocks, the monthly step, the values) and :func:`run_innovation`.
"""

from __future__ import annotations

from sim.submodels.innovation.clocks import (adoption_weights, credit_scan, draw_cities, enter_firms, ever_listed,
                                             fire_clock, group_by_category, grow_firms, rebase_clocks, size_factors,
                                             start_thresholds, tally)
from sim.submodels.innovation.model import Innovation, MonthContext, MonthLike, run_innovation, simulate_innovation
from sim.submodels.innovation.parameters import (ABNORMAL, AGGREGATION, BASE_YEAR, CLOCKS, EXTRA_FIELDS, INDICATORS,
                                                 NORMAL, SERIOUS, STREAMS, YEARLY, InnovationParameters,
                                                 innovation_parameter_table)
from sim.submodels.innovation.rules import (annual_growth, backcast_registrations, band_log_excess,
                                            drop_probability, exit_size_factor, exponential_threshold,
                                            firm_exit_hazard, listing_hazard, overseas_pipeline,
                                            systematic_allocation, tail_log_excess, trademark_backcast,
                                            trademark_cohorts_2020, trademark_stock, weighted_choice)
from sim.submodels.innovation.table import CLOCK_ID, FIRM_GROUPS, FirmTable, clock_ids

__all__ = [
    # declarations and parameters
    "ABNORMAL", "AGGREGATION", "BASE_YEAR", "CLOCKS", "EXTRA_FIELDS", "INDICATORS", "NORMAL", "SERIOUS", "STREAMS",
    "YEARLY", "InnovationParameters", "innovation_parameter_table",
    # the submodel
    "Innovation", "MonthContext", "MonthLike", "run_innovation", "simulate_innovation",
    # pure rules
    "annual_growth", "backcast_registrations", "band_log_excess", "drop_probability",
    "exit_size_factor", "exponential_threshold", "firm_exit_hazard", "listing_hazard", "overseas_pipeline",
    "systematic_allocation", "tail_log_excess", "trademark_backcast", "trademark_cohorts_2020",
    "trademark_stock", "weighted_choice",
    # compiled loops and the firm table
    "adoption_weights", "credit_scan", "draw_cities", "enter_firms", "ever_listed", "fire_clock", "group_by_category",
    "grow_firms", "rebase_clocks", "size_factors", "start_thresholds", "tally", "CLOCK_ID", "FIRM_GROUPS", "FirmTable",
    "clock_ids",
]
