"""What the entity model records every month, and how months add up to a year.

Counts are real entities (weights applied). ``stock`` fields take the December value,
``flow`` fields sum over the year, ``mean`` fields average the months. A run's record is
these fields, then each submodel's (its ``aggregation``): :func:`record_fields` joins them
(the engines' ``RECORD_FIELDS``, :mod:`sim.engines.base`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sim.inputs.levers import CITIES

STOCK, FLOW, MEAN = "stock", "flow", "mean"

ENTITY_FIELDS: dict[str, str] = {
    "registered": STOCK,
    "registered_company": STOCK,
    "registered_other": STOCK,
    "registered_individual": STOCK,
    **{f"registered_{city}": STOCK for city in CITIES},  # registered entities by city
    "active": STOCK,
    "dormant": STOCK,
    "abnormal_listed": STOCK,
    "serious_listed": STOCK,
    "dual_random_share": STOCK,
    "credit_application_share": STOCK,
    "entries": FLOW,
    "entries_company": FLOW,
    "entries_other": FLOW,
    "entries_individual": FLOW,
    "deregistrations": FLOW,
    "dereg_simplified": FLOW,
    "dereg_ordinary": FLOW,
    "dereg_compulsory": FLOW,
    "deregistrations_individual": FLOW,
    "conversions": FLOW,
    "corporatisations": FLOW,
    "inspections": FLOW,
    "inspections_random": FLOW,
    "inspections_on_compliant": FLOW,
    "violations_detected": FLOW,
    "random_checked": FLOW,
    "random_found_abnormal": FLOW,
    "random_found_violating": FLOW,  # violations a random inspection detected
    "annual_reports_due": FLOW,
    "annual_reports_filed": FLOW,
    "compliance_rate": MEAN,
}


def record_fields(*aggregations: Mapping[str, str]) -> dict[str, str]:
    """The entity model's fields, then each submodel's, with how each adds up over a year."""
    fields = dict(ENTITY_FIELDS)
    for aggregation in aggregations:
        clash = fields.keys() & aggregation.keys()
        if clash:
            raise ValueError(f"record fields declared twice: {sorted(clash)}")
        fields.update(aggregation)
    return fields


def empty_record(fields: Mapping[str, str]) -> dict[str, float]:
    """A monthly record with every field at zero."""
    return dict.fromkeys(fields, 0.0)


def annual(months: Iterable[Mapping[str, float]], fields: Mapping[str, str]) -> dict[str, float]:
    """Aggregate one year's monthly records (in calendar order) to a yearly record."""
    months = list(months)
    out: dict[str, float] = {}
    for name, how in fields.items():
        values = [m[name] for m in months]
        if how == STOCK:
            out[name] = values[-1]
        elif how == FLOW:
            out[name] = float(sum(values))
        else:
            out[name] = float(sum(values) / len(values))
    return out
