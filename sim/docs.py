"""The generated tables of docs/ODD.md, rendered from the declarations (``python -m sim docs``).

docs/ODD.md is hand-written prose around tables that hold what the code declares: the levers
and uncertainties (:mod:`sim.inputs.levers`), the indicators (:func:`sim.outputs.indicators.registry`
and the plan's data files) and the three parameter sets (entity model, programmes, innovation).
Each such table sits between two markers::

    <!-- generated: levers (python -m sim docs) -->
    ...
    <!-- end generated: levers -->

:func:`render` builds every block from the code; :func:`update` rewrites the blocks of a text
and leaves everything outside the markers alone; :func:`write` and :func:`stale` do it for a
file (``python -m sim docs`` and ``python -m sim docs --check``).

Two columns hold ODD text that no declaration carries: what each lever changes and through
which mechanism (:data:`LEVER_MECHANISMS`; a lever's ``help_en`` is the app's shorter help),
and how each policy-reader output is read off the yearly record (:data:`OUTPUT_READINGS`).
They are kept here, keyed by id, and every lever and output must have one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path

from sim.inputs.files import atomic_write_text
from sim.inputs.levers import LEVERS, UNCERTAINTIES, Lever
from sim.inputs.parameters import parameter_table
from sim.outputs.indicators import Indicator, registry
from sim.submodels.innovation import innovation_parameter_table
from sim.submodels.programmes import programme_parameter_table

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
COMMAND = "python -m sim docs"

_BEGIN = re.compile(r"^<!-- generated: ([a-z0-9-]+) \(python -m sim docs\) -->$", re.M)


def begin_marker(name: str) -> str:
    """The line that opens the generated block ``name``."""
    return f"<!-- generated: {name} ({COMMAND}) -->"


def end_marker(name: str) -> str:
    """The line that closes the generated block ``name``."""
    return f"<!-- end generated: {name} -->"


class DocsError(ValueError):
    """docs/ODD.md's markers are missing, repeated or unknown, or a docs-only text is missing."""


# What each lever changes in the model and through which mechanism (ODD section numbers), for the
# ODD's lever table. Docs only: the app shows each lever's shorter help_en / help_zh.
LEVER_MECHANISMS: dict[str, str] = {
    "entry_cost_index": (
        "Entry (7.1): entries of every kind scale as `entry_cost_index^(-entry_cost_elasticity)`; a cut also "
        "raises the policy multiplier, so a share `1 - 1/M_policy` of entrants are marginal, with exit hazard "
        "x `marginal_entrant_hazard` for 24 months (7.8)."),
    "licence_reform_coverage": (
        "Entry (7.1): entries x `(1 + licence_entry_effect * (coverage - 0.3))`; also part of the policy "
        "multiplier that makes entrants marginal."),
    "simplified_deregistration": (
        "Exit (7.8): share `q` of normal-credit ceasing entities that use the simplified route (completion "
        "`dereg_simplified_completion` vs the ordinary completion); a normal-credit dormant entity "
        "deregisters voluntarily at `dormant_dereg_rate * (1 + dormant_dereg_simplified_boost * q)` a month, "
        "by the simplified route with probability `q`. Listed entities cannot use it (listed dormant ones: "
        "`dormant_dereg_rate * dormant_listed_dereg_factor`, ordinary route)."),
    "compulsory_deregistration": (
        "Exit (7.8): when 1, dormant listed entities dormant for `compulsory_deregistration_months` or more "
        "are removed at `compulsory_processing_rate` a month (强制注销)."),
    "compulsory_deregistration_months": (
        "Exit (7.8): months dormant before a listed dormant entity is eligible for compulsory "
        "deregistration."),
    "individual_to_company_rate": (
        "Conversion (7.2): mean yearly probability that an active, normal-credit individual business "
        "becomes a company (个转企), larger ones first (`conversion_size_exponent`); counted in "
        "`conversions`."),
    "dual_random_share": (
        "Inspection (7.6): the target each city regulator's double-random share moves towards at pace "
        "`dual_random_pace` x capacity ratio x capability; that share of the budget is drawn at random "
        "(unannounced: detection `detection_random` rather than the routine "
        "`detection_random * (1 - routine_predictability)`), raising perceived detection and lowering "
        "violation (7.5); random checks of unlisted dormant entities list them as abnormal (listed dormant "
        "ones are outside the random pool)."),
    "inspection_capacity": (
        "Inspection (7.6): monthly budget `capacity * digital_effectiveness[city] / 100 * registered / 12` "
        "(digital integration, 7.10, lets the same staff inspect more); the lever's ratio to 12, its "
        "declared 2020 value (capped at 2), scales the pace towards the double-random target. More "
        "inspections raise perceived detection and memory (7.5)."),
    "credit_application_rate": (
        "Inspection (7.6): the target for the share of the double-random budget sampled with risk-class "
        "weights `risk_weight_a..d` (1:2:10:30), moved towards at `credit_application_pace`; shifts random "
        "checks from class A to C and D entities in the random pool (listed dormant entities are outside "
        "it) and so changes their perceived detection."),
    "credit_penalty_severity": (
        "Compliance (7.5): expected cost term `severity * credit_cost_to_gain`; sanctions (7.7): serious "
        "listing with probability `serious_violation_share * severity`; growth (7.3): listed drift "
        "`- listed_growth_penalty * severity`; exit (7.8): listed hazard x "
        "`(1 + hazard_listed_effect * severity)`."),
    "fine_level": (
        "Compliance (7.5): expected cost term `fine_level * fine_to_gain`; sanctions (7.7): a fine costs "
        "`fine_size_hit * fine_level` of log size."),
    "quality_programme": (
        "China Quality Award rounds (7.9): pool strength x `quality_programme^quality_programme_elasticity`, "
        "so Zhejiang's share of the `award_quota` (10) award and `nomination_quota` (90) nomination places "
        "of each round rises. Province-wide."),
    "ip_protection_center_support": (
        "IP protection centres (7.9): approvals arrive at `ip_center_rate * support` a year (Poisson). "
        "Province-wide."),
    "standards_programme": (
        "New standards (7.9): the rates `intl_standards_rate` and `national_standards_rate` x "
        "`programme^led_standards_elasticity`. Province-wide."),
    "quality_infrastructure_investment": (
        "National centres and measurement standards (7.9): multiplies the approval rates "
        "`inspection_center_rate` and `metrology_center_rate` and the build rate of public measurement "
        "standards (not their retirement). Province-wide."),
    "food_sampling_effort": (
        "Food sampling (7.10): a city's funded batches are effort x its 2020 batches, approached by at most "
        "`food_sampling_pace` x capability (up) or `food_sampling_cut_pace` (down) of its 2020 batches a "
        "year; through the city's sampling record it also decides who may apply as a demonstration city. "
        "Per city."),
    "food_safety_city_support": (
        "Demonstration cities (7.10): multiplies the odds "
        "`demo_accept_probability / (1 - demo_accept_probability)` that a qualifying city is named in a "
        "national round. Per city."),
    "product_spot_check_effort": (
        "Spot checks (7.10): a city's funded batches are effort x its 2020 batches, approached by at most "
        "`spot_check_pace` x capability of its current level a year (cuts: `spot_check_cut_pace` of its "
        "2020 batches). Per city."),
    "digital_investment": (
        "Digital integration (7.10): multiplies the Bass hazard of each supervision business line not yet "
        "integrated; integration raises the city's `digital_effectiveness`, which multiplies its "
        "regulator's inspection budget (7.6). Per city."),
    "commodity_market_upgrading": (
        "Commodity markets (7.11): adds `market_upgrading_effect * (lever - 1)` a year to the drift of "
        "every market's log turnover. Province-wide."),
    "wholesale_market_standardisation": (
        "AA wholesale markets (7.11): multiplies every wholesale market's hazard of upgrading to AA grade. "
        "Province-wide."),
    "ip_programme": (
        "Innovation (7.4): hazard of a first invention patent for industrial firms x `L^ip_first_elasticity` "
        "(1); holders' grants, the aggregate non-firm stock's grants and overseas filings x `L^0.5` "
        "(`ip_grant_elasticity`, `ip_overseas_elasticity`); new non-industrial holders x "
        "`L^ip_first_elasticity`. Moves indicators 5, 6 and (after about 30 months) 7. Province-wide."),
    "brand_programme": (
        "Innovation (7.4): certification (Pinzi brand) hazard of eligible firms x `L^brand_elasticity` (1) "
        "and the hazard of a new international certificate x `L`. Moves indicators 13 and 12. "
        "Province-wide."),
    "trademark_support": (
        "Innovation (7.4): trademark filings of every kind x `L^trademark_support_elasticity` (0.5), "
        "registered after `trademark_exam_months` (6). Moves indicator 4. Province-wide."),
    "gdp_growth": (
        "Entry (7.1): x `max(economy_factor_floor, 1 + gdp_entry_elasticity * (g - gdp_reference))`; exit "
        "(7.8): x `max(economy_factor_floor, 1 - gdp_exit_elasticity * (g - gdp_reference))`; commodity "
        "markets (7.11): drift of log turnover + `market_gdp_elasticity * (g - market_gdp_reference) / 100`. "
        "Province-wide."),
    "exit_shock": (
        "Exit (7.8): multiplier on every active entity's hazard of ceasing operation (the hazard stays "
        "below `MAX_ANNUAL_HAZARD`). Province-wide."),
    "population_growth": (
        "Population (7.10): every city's resident population grows by `(1 + g / 100)^(1/12)` a month; food "
        "sampling per 1000 residents (indicator 17) divides by it. Province-wide."),
}

# How each policy-reader output is read off the yearly record: its kind (flow, stock, or how the
# months are combined) and the reading, for the ODD's outputs table. Docs only: the registry holds
# the reading as a function.
OUTPUT_READINGS: dict[str, tuple[str, str]] = {
    "new_registrations": ("flow", "`entries` / 1e4"),
    "deregistrations": ("flow", "`deregistrations` / 1e4 (all three routes)"),
    "dormant_entities": ("stock", "`dormant` / 1e4 (December)"),
    "compliance_rate": ("mean of months", "`compliance_rate`: 100 x (1 - violating / active), mean of the months"),
    "inspections": ("flow", "`inspections` / 1e4"),
    "inspections_on_compliant": (
        "flow", "`inspections_on_compliant` / 1e4: inspections of active entities not violating"),
    "enterprises": ("stock", "(`registered_company` + `registered_other`) / 1e4"),
    "individual_businesses": ("stock", "`registered_individual` / 1e4"),
    "conversions": ("flow", (
        "`conversions` / 1e4: individual businesses becoming companies only (corporatisations of other "
        "enterprises are recorded apart, in `corporatisations`)")),
    "abnormal_list": ("stock", "`abnormal_listed` / 1e4 (December)"),
    "serious_dishonesty_list": ("stock", "`serious_listed` / 1e4 (December)"),
    "annual_report_rate": ("flow", "100 x `annual_reports_filed` / `annual_reports_due` (June)"),
    "random_check_abnormal_rate": ("flow", "100 x `random_found_abnormal` / `random_checked`"),
    "random_check_violation_rate": ("flow", "100 x `random_found_violating` / `random_checked`"),
    "compliant_share_of_inspections": ("flow", "100 x `inspections_on_compliant` / `inspections`"),
}

STATUSES = ("source", "derived", "assumption", "calibrate")


# ---------------------------------------------------------------------------------------- cells
def _cell(value: object) -> str:
    """A table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _code(name: str) -> str:
    return f"`{name}`"


def _names(names: Iterable[str]) -> str:
    """Backticked names joined by commas, or a dash for none."""
    return ", ".join(_code(n) for n in names) or "—"


def _number(value: float) -> str:
    """A declared number as the tables print it: up to ten significant digits, no trailing zeros."""
    return f"{value:.10g}"


def _data_rows(name: str) -> dict[str, dict[str, str]]:
    """Rows of a plan data file (sim/data) keyed by id; columns the registry does not carry."""
    with resources.files("sim.data").joinpath(name).open(encoding="utf-8") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def _docs_text(table: dict, ids: Sequence[str], what: str) -> None:
    missing, stale = sorted(set(ids) - set(table)), sorted(set(table) - set(ids))
    if missing or stale:
        raise DocsError(f"sim/docs.py: {what} out of date: missing {missing}, stale {stale}")


# ---------------------------------------------------------------------------------------- blocks
def lever_table() -> str:
    """The levers and uncertainties: id, meaning, unit, range, 2020 value and mechanism."""
    items: tuple[Lever, ...] = (*LEVERS, *UNCERTAINTIES)
    _docs_text(LEVER_MECHANISMS, [lv.id for lv in items], "LEVER_MECHANISMS")
    rows = []
    for lv in items:
        meaning = f"{lv.label_en} ({lv.label_zh})" + (" — uncertainty" if lv in UNCERTAINTIES else "")
        span = f"{lv.low:g} to {lv.high:g}" + (" (whole numbers)" if lv.integer else "")
        rows.append((_code(lv.id), meaning, lv.unit, span, f"{lv.value_2020:g}", LEVER_MECHANISMS[lv.id]))
    return "\n".join(_table(("id", "meaning", "unit", "range", "2020 value",
                             "what it changes, through which mechanism"), rows))


def _target(ind: Indicator, unit: str = "") -> str:
    if ind.target is None:
        return "—"
    return f"{ind.target_op} {ind.target:g}" + (f" {unit}" if unit else "")


def _modelled(ind: Indicator) -> str:
    return "yes" if ind.modelled else "no"


def plan_indicator_table() -> str:
    """The plan's 24 indicators with their 2020 value, target, attribute and mechanism."""
    data = _data_rows("plan_indicators.csv")
    rows = []
    for ind in registry():
        if ind.no is None:
            continue
        baseline = "—" if ind.baseline_2020 is None else f"{ind.baseline_2020:g}"
        rows.append((ind.no, _code(ind.id), f"{ind.name_en} ({ind.name_zh})", ind.unit_en, baseline, _target(ind),
                     f"{ind.attribute} {data[ind.id]['attribute_zh']}", _modelled(ind), ind.level,
                     ind.mechanism or "—", _names(ind.levers)))
    return "\n".join(_table(("no", "id", "indicator", "unit", "2020", "target 2025", "attribute", "modelled",
                             "level", "mechanism", "levers"), rows))


def provenance_table() -> str:
    """Where each plan indicator's numbers come from (sim.outputs.provenance)."""
    from sim.outputs.provenance import PROVENANCE

    rows = [(ind.no, f"{ind.name_en} (`{ind.id}`)", PROVENANCE[ind.id].fitted_on, PROVENANCE[ind.id].parameters,
             PROVENANCE[ind.id].plan_lever) for ind in registry() if ind.no is not None]
    return "\n".join(_table(("no", "indicator", "fitted on (data up to 2020)", "parameters: source",
                             "plan scenario's lever"), rows))


def text_target_table() -> str:
    """The targets stated in the plan's text, with section, target and mechanism where modelled."""
    data = _data_rows("plan_text_targets.csv")
    rows = [(_code(ind.id), f"{ind.name_en} ({ind.name_zh})", data[ind.id]["section"], _target(ind, ind.unit_en),
             _modelled(ind), ind.mechanism or "—", _names(ind.levers))
            for ind in registry() if ind.attribute == "text target"]
    return "\n".join(_table(("id", "target in the plan's text", "section", "target 2025", "modelled", "mechanism",
                             "levers"), rows))


def output_table() -> str:
    """The policy-reader outputs: unit, kind, how each is read off the yearly record, levers."""
    outputs = [ind for ind in registry() if ind.attribute == "output"]
    _docs_text(OUTPUT_READINGS, [ind.id for ind in outputs], "OUTPUT_READINGS")
    rows = []
    for ind in outputs:
        kind, reading = OUTPUT_READINGS[ind.id]
        if (kind == "flow") != ind.flow:
            raise DocsError(f"sim/docs.py: OUTPUT_READINGS says {ind.id} is a {kind}, the registry says "
                            f"flow={ind.flow}")
        rows.append((_code(ind.id), f"{ind.name_en} ({ind.name_zh})", ind.unit_en, kind, reading,
                     _names(ind.levers)))
    return "\n".join(_table(("id", "output", "unit", "kind", "computed from the yearly record", "levers"), rows))


def _parameter_block(table: list[dict[str, object]], what: str, key: str, calibrate_label: str) -> str:
    """A parameter table with a count by status and the non-assumption names above it."""
    by_status = {s: [str(r["name"]) for r in table if r["status"] == s] for s in STATUSES}
    unknown = sorted({str(r["status"]) for r in table} - set(STATUSES))
    if unknown:
        raise DocsError(f"{what}: unknown status {unknown}; allowed: {', '.join(STATUSES)}")
    counts = ", ".join(f"{len(by_status[s])} {s}" for s in STATUSES)
    lines = [f"{len(table)} {what}: {counts}.", "",
             f"- From a source: {_listed(by_status['source'])}.",
             f"- Derived from published figures: {_listed(by_status['derived'])}.",
             f"- {calibrate_label}: {_listed(by_status['calibrate'])}.",
             "- All others are assumptions.", ""]
    lines += _table((key, "value", "unit", "status", "prior", "source"),
                    ((_code(str(r["name"])), _number(float(r["value"])), r["unit"], r["status"],
                      "" if not r.get("prior") else f"{_number(r['prior'][0])} - {_number(r['prior'][1])}", r["source"])
                     for r in table))
    return "\n".join(lines)


def _listed(names: list[str]) -> str:
    return ", ".join(_code(n) for n in names) or "none"


def entity_parameter_table() -> str:
    """The entity model's parameters (``sim.inputs.parameters.Parameters``)."""
    return _parameter_block(parameter_table(), "parameters", "name",
                            "Status calibrate (those with a prior are in the posterior of `sim calibrate`; the "
                            "others are hand-set)")


def programme_table() -> str:
    """The programmes' parameters (``sim.submodels.programmes.ProgrammeParameters``)."""
    return _parameter_block(programme_parameter_table(), "programme parameters", "parameter",
                            "To be calibrated (hand-set priors now)")


def innovation_table() -> str:
    """The innovation submodel's parameters (``InnovationParameters``)."""
    return _parameter_block(innovation_parameter_table(), "innovation parameters", "parameter",
                            "Calibrated on the main model (hand-set now)")


# Every generated block of docs/ODD.md, in the order it appears there.
BLOCKS: dict[str, Callable[[], str]] = {
    "levers": lever_table,
    "plan-indicators": plan_indicator_table,
    "indicator-provenance": provenance_table,
    "text-targets": text_target_table,
    "outputs": output_table,
    "entity-parameters": entity_parameter_table,
    "programme-parameters": programme_table,
    "innovation-parameters": innovation_table,
}


def render() -> dict[str, str]:
    """Every generated block's text (without its markers), by block name."""
    return {name: build() for name, build in BLOCKS.items()}


# ---------------------------------------------------------------------------------------- files
def _spans(text: str) -> dict[str, tuple[int, int]]:
    """Where each block's body starts and ends in ``text``; every block once, and no other."""
    spans: dict[str, tuple[int, int]] = {}
    for match in _BEGIN.finditer(text):
        name = match.group(1)
        if name not in BLOCKS:
            raise DocsError(f"unknown generated block '{name}'; known: {', '.join(BLOCKS)}")
        if name in spans:
            raise DocsError(f"generated block '{name}' appears twice")
        end = text.find("\n" + end_marker(name), match.end())
        if end < 0:
            raise DocsError(f"generated block '{name}' has no closing line '{end_marker(name)}'")
        spans[name] = (match.end() + 1, end + 1)
    missing = [name for name in BLOCKS if name not in spans]
    if missing:
        raise DocsError(f"no generated block for {', '.join(missing)}: add a line '{begin_marker(missing[0])}' "
                        f"and a line '{end_marker(missing[0])}' where the table goes")
    return spans


def update(text: str, blocks: dict[str, str] | None = None) -> str:
    """``text`` with the body of every generated block replaced by its rendering."""
    blocks = render() if blocks is None else blocks
    spans = sorted(_spans(text).items(), key=lambda item: item[1])
    out, last = [], 0
    for name, (start, end) in spans:
        out += [text[last:start], blocks[name].rstrip("\n") + "\n"]
        last = end
    out.append(text[last:])
    return "".join(out)


def stale(path: Path = ODD) -> list[str]:
    """Names of the generated blocks of ``path`` that differ from the rendering (empty when current)."""
    text = Path(path).read_text(encoding="utf-8")
    blocks = render()
    spans = _spans(text)
    return [name for name in BLOCKS
            if text[spans[name][0]:spans[name][1]] != blocks[name].rstrip("\n") + "\n"]


def write(path: Path = ODD) -> list[str]:
    """Rewrite the generated blocks of ``path`` in place (atomically); returns the blocks that changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    changed = stale(path)
    new = update(text)
    if new != text:
        atomic_write_text(path, new)
    return changed
