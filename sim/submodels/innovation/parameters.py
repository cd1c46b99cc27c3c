"""Declarations of the innovation submodel: its parameters (:class:`InnovationParameters`, each with
unit, status and source), clocks, random streams, indicators, extra record fields and how they add
up over a year. Nothing here computes; see the package docstring (``sim/submodels/innovation``)."""

from __future__ import annotations

from sim.core import rules
from sim.inputs.parameters.innovation import InnovationParameters, innovation_parameter_table  # noqa: F401

BASE_YEAR = 2020
NORMAL, ABNORMAL, SERIOUS = rules.NORMAL, rules.ABNORMAL, rules.SERIOUS

# The firm processes that run on clocks (see the package docstring). Each clock has a per-firm factor
# F (from the firm's state and the year's levers) and a common monthly scalar s: the firm's expected
# events in the month are F x s. Processes acting on disjoint sets of firms share a clock: "patent"
# is a first invention patent for firms without one and further grants for holders; "cert" is
# certification for eligible firms and non-renewal for certified ones; "intl" is a new international
# certificate or the lapse of one.
CLOCKS: tuple[str, ...] = ("exit", "listing", "patent", "lapse", "ofile", "stage1", "stage2", "standard", "cert",
                           "intl")
# Clocks whose factors depend on size or on the year's levers: rebased for every firm each January.
YEARLY: tuple[str, ...] = ("exit", "patent", "standard", "cert", "intl")

# Random streams of this submodel; they must not collide with sim.core.rules.STREAMS or
# sim.submodels.programmes.STREAMS.
STREAMS: dict[str, int] = {name: 200 + i for i, name in enumerate((
    "init_size", "init_holder", "init_patents", "init_hv", "init_pending", "init_category", "init_leader",
    "init_standards", "init_cert", "init_intl", "init_credit",
    "clock",
    "type_listing", "type_patent", "type_lapse", "type_stage2", "type_intl", "repair",
    "growth", "entry_count", "entry_size", "entry_holder", "entry_category", "holder_entry_count",
    "holder_entry_size", "standards_abolish", "trademark_year", "trademark_month", "trademark_renewal",
    "nonfirm_grants", "nonfirm_lapse", "firm_city",
))}
assert not set(STREAMS.values()) & set(rules.STREAMS.values()), "innovation streams collide with rules.STREAMS"
assert min(STREAMS.values()) >= 200, "innovation streams start at 200 (programmes use 101-122)"

# The indicators this submodel produces (ids of sim/data/plan_indicators.csv), and extra record fields.
INDICATORS: tuple[str, ...] = (
    "valid_trademarks", "high_value_patents_per_10k", "patent_coverage_above_scale", "overseas_patent_grants",
    "zhejiang_made_standards", "zhejiang_made_intl_certs", "pinzi_brand_firms",
)
EXTRA_FIELDS: tuple[str, ...] = ("above_scale_firms", "high_value_patents", "trademark_registrations",
                                 "certifications_lost_to_listing")
# How each field adds up over a year in the engines' records (sim/outputs/records.py holds the same):
# stocks and shares at year end; overseas grants, registrations and certifications lost are the
# month's flows, summed over the year.
AGGREGATION: dict[str, str] = {name: "stock" for name in INDICATORS + EXTRA_FIELDS}
AGGREGATION.update(overseas_patent_grants="flow", trademark_registrations="flow",
                   certifications_lost_to_listing="flow")
