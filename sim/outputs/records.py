"""What each engine records every month, and how months add up to a year.

Counts are real entities (weights applied). ``stock`` fields take the December value,
``flow`` fields sum over the year, ``mean`` fields average the months.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

STOCK, FLOW, MEAN = "stock", "flow", "mean"

MONTHLY_FIELDS: dict[str, str] = {
    "registered": STOCK,
    "registered_company": STOCK,
    "registered_other": STOCK,
    "registered_individual": STOCK,
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
    # Programme, city-regulator and market indicators (sim/submodels/programmes.py; ids as in the plan data).
    # Counts, shares and cumulative counters are stocks at year end; the two batch rates are
    # annual rates recorded each month, so the year's value is their mean.
    "ip_protection_centers": STOCK,
    "china_quality_awards": STOCK,
    "china_quality_award_nominations": STOCK,
    "large_commodity_markets": STOCK,
    "food_safety_demo_cities": STOCK,
    "aa_wholesale_markets": STOCK,
    "food_sampling_per_1000": MEAN,
    "product_quality_spot_checks": MEAN,
    "digital_integration_rate": STOCK,
    "public_measurement_standards": STOCK,
    "new_international_standards": STOCK,
    "new_national_standards": STOCK,
    "national_inspection_centers": STOCK,
    "industrial_metrology_centers": STOCK,
    "resident_population": STOCK,
    # Firm-level innovation and brand indicators (sim/submodels/innovation.py). Stocks and shares at year end;
    # overseas grants, trademark registrations and certifications lost to listing are the month's
    # counts, so the year's value is their sum (grants in the year, as indicator 7 counts them).
    "valid_trademarks": STOCK,
    "high_value_patents_per_10k": STOCK,
    "patent_coverage_above_scale": STOCK,
    "overseas_patent_grants": FLOW,
    "zhejiang_made_standards": STOCK,
    "zhejiang_made_intl_certs": STOCK,
    "pinzi_brand_firms": STOCK,
    "above_scale_firms": STOCK,
    "high_value_patents": STOCK,
    "trademark_registrations": FLOW,
    "certifications_lost_to_listing": FLOW,
}


def empty_record() -> dict[str, float]:
    """A monthly record with every field at zero."""
    return dict.fromkeys(MONTHLY_FIELDS, 0.0)


def annual(months: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Aggregate one year's monthly records (in calendar order) to a yearly record."""
    months = list(months)
    out: dict[str, float] = {}
    for name, how in MONTHLY_FIELDS.items():
        values = [m[name] for m in months]
        if how == STOCK:
            out[name] = values[-1]
        elif how == FLOW:
            out[name] = float(sum(values))
        else:
            out[name] = float(sum(values) / len(values))
    return out
