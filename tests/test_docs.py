"""docs/ODD.md stays true to the code: every parameter, lever and indicator is described,
and the parameter tables (entity model, programmes and innovation) and the lever table carry
the code's values."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

from sim.submodels import innovation
from sim.submodels import programmes
from sim.outputs.indicators import registry
from sim.submodels.innovation import innovation_parameter_table
from sim.inputs.parameters import Parameters, parameter_table
from sim.inputs.levers import LEVERS, UNCERTAINTIES
from sim.submodels.programmes import programme_parameter_table

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"

ODD_SECTIONS = (
    "Purpose and patterns",
    "Entities, state variables and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialisation",
    "Input data",
    "Submodels",
)


@pytest.fixture(scope="module")
def text() -> str:
    return ODD.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    """The body of the level-2 section whose heading is ``title`` (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/ODD.md has no '## {title}' section"
    return match.group(1)


def _subsection(text: str, title: str) -> str:
    """The body of the level-3 section whose heading is ``title`` (up to the next level-2 or -3 heading)."""
    match = re.search(rf"^### {re.escape(title)}\s*$(.*?)(?=^##?#? |\Z)", text, re.M | re.S)
    assert match, f"docs/ODD.md has no '### {title}' section"
    return match.group(1)


def _cells(line: str) -> list[str]:
    """Cells of a markdown table row, honouring escaped pipes."""
    inner = line.strip().strip("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _table_rows(body: str, first_header: str) -> list[dict[str, str]]:
    """Rows of every markdown table in ``body`` whose first header cell is ``first_header``."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in body.splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells if cells[0] == first_header else []
            continue
        if not header or set("".join(cells)) <= set("-: "):
            continue
        rows.append(dict(zip(header, cells)))
    return rows


def _ident(cell: str) -> str:
    return cell.strip().strip("`")


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def test_the_seven_odd_sections_exist_in_order(text):
    positions = []
    for number, title in enumerate(ODD_SECTIONS, start=1):
        match = re.search(rf"^## {number}\.? {re.escape(title)}\s*$", text, re.M)
        assert match, f"docs/ODD.md lacks the ODD section heading '## {number}. {title}'"
        positions.append(match.start())
    assert positions == sorted(positions), "the ODD sections are out of order"


@pytest.mark.parametrize("title", ["Levers", "Indicators", "Parameters",
                                   "Known limitations and what is not modelled yet"])
def test_reference_sections_exist(text, title):
    _section(text, title)


def test_every_parameter_is_named(text):
    missing = [f.name for f in dataclasses.fields(Parameters) if not _mentions(text, f.name)]
    assert not missing, f"parameters not in docs/ODD.md: {missing}"


def test_every_lever_and_uncertainty_is_named(text):
    missing = [lv.id for lv in (*LEVERS, *UNCERTAINTIES) if not _mentions(text, lv.id)]
    assert not missing, f"levers not in docs/ODD.md: {missing}"


def test_parameter_table_matches_the_code(text):
    rows = _table_rows(_section(text, "Parameters"), "name")
    _check_parameter_table(rows, parameter_table(), "entity-model", key="name")


def _check_parameter_table(rows: list[dict[str, str]], table: list[dict[str, object]], what: str,
                           key: str = "parameter") -> None:
    """The ODD rows (named in column ``key``) are the code's parameters, with its values, status and units."""
    documented = [_ident(r[key]) for r in rows]
    assert len(documented) == len(set(documented)), f"a {what} parameter is listed twice in the ODD table"
    code = {r["name"]: r for r in table}
    assert set(documented) == set(code), (
        f"ODD {what} parameter table out of date: missing {sorted(set(code) - set(documented))}, "
        f"stale {sorted(set(documented) - set(code))}")
    for row in rows:
        name = _ident(row[key])
        want = code[name]
        value = float(row["value"])
        assert math.isclose(value, want["value"], rel_tol=1e-9, abs_tol=1e-12), (
            f"{name}: ODD says {row['value']}, the code's default is {want['value']!r}")
        assert row["status"] == want["status"], f"{name}: ODD status {row['status']}, code {want['status']}"
        assert row["unit"] == want["unit"], f"{name}: ODD unit {row['unit']!r}, code {want['unit']!r}"


def test_programme_parameter_table_matches_the_code(text):
    # Headed `parameter`, not `name`, so the entity-model table test above does not read it; read
    # from its own subsection, since the innovation table is headed `parameter` too.
    rows = _table_rows(_subsection(text, "Programme parameters"), "parameter")
    _check_parameter_table(rows, programme_parameter_table(), "programme")


def test_innovation_parameter_table_matches_the_code(text):
    rows = _table_rows(_subsection(text, "Innovation parameters"), "parameter")
    _check_parameter_table(rows, innovation_parameter_table(), "innovation")


def test_parameter_tables_headed_parameter_are_the_programme_and_innovation_tables(text):
    rows = _table_rows(_section(text, "Parameters"), "parameter")
    want = len(programme_parameter_table()) + len(innovation_parameter_table())
    assert len(rows) == want, f"{len(rows)} rows in `parameter` tables of the Parameters section, expected {want}"


def test_innovation_submodel_describes_its_indicators_streams_and_record_fields(text):
    body = _section(text, "7. Submodels")
    match = re.search(r"^### 7\.4 Innovation and brands(.*?)(?=^### 7\.5 )", body, re.M | re.S)
    assert match, "no submodel 7.4 Innovation and brands in the ODD"
    assert "not modelled" not in match.group(0).splitlines()[0], "7.4 still says it is not modelled"
    missing = [iid for iid in innovation.INDICATORS if not _mentions(match.group(1), iid)]
    assert not missing, f"innovation indicators not described in 7.4: {missing}"
    missing = [c for c in innovation.CLOCKS if not _mentions(match.group(1), c)]
    assert not missing, f"innovation clocks not described in 7.4: {missing}"
    streams = [name for name in innovation.STREAMS if not _mentions(text, name)]
    assert not streams, f"innovation random streams not named in docs/ODD.md: {streams}"
    fields = [name for name in innovation.EXTRA_FIELDS if not _mentions(text, name)]
    assert not fields, f"innovation record fields not named in docs/ODD.md: {fields}"


def test_no_plan_indicator_is_described_as_not_modelled(text):
    assert all(ind.modelled for ind in registry() if ind.no is not None)
    for phrase in ("not modelled yet)", "are not modelled yet", "17 of the plan's 24"):
        assert phrase not in text, f"docs/ODD.md still says {phrase!r}"


def test_programme_submodels_describe_every_programme_indicator_and_stream(text):
    body = _section(text, "7. Submodels")
    for number in ("7.9", "7.10", "7.11"):
        assert re.search(rf"^### {re.escape(number)} ", body, re.M), f"no submodel {number} in the ODD"
    missing = [iid for iid in programmes.INDICATORS if not _mentions(body, iid)]
    assert not missing, f"programme indicators not described in the submodels: {missing}"
    streams = [name for name in programmes.STREAMS if not _mentions(text, name)]
    assert not streams, f"programme random streams not named in docs/ODD.md: {streams}"


def test_lever_table_has_a_row_for_every_lever_and_no_other(text):
    documented = [_ident(r["id"]) for r in _table_rows(_section(text, "Levers"), "id")]
    code = [lv.id for lv in (*LEVERS, *UNCERTAINTIES)]
    assert len(documented) == len(set(documented)), "a lever is listed twice in the ODD lever table"
    assert set(documented) == set(code), (
        f"ODD lever table out of date: missing {sorted(set(code) - set(documented))}, "
        f"stale {sorted(set(documented) - set(code))}")


def test_lever_table_matches_the_code(text):
    rows = {_ident(r["id"]): r for r in _table_rows(_section(text, "Levers"), "id")}
    for lv in (*LEVERS, *UNCERTAINTIES):
        assert lv.id in rows, f"lever {lv.id} has no row in the ODD lever table"
        row = rows[lv.id]
        low, high = (float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", row["range"])[:2])
        assert (low, high) == (lv.low, lv.high), f"{lv.id}: ODD range {row['range']}, code {lv.low}..{lv.high}"
        assert float(row["2020 value"]) == lv.value_2020, (
            f"{lv.id}: ODD 2020 value {row['2020 value']}, code {lv.value_2020}")
        assert row["unit"] == lv.unit, f"{lv.id}: ODD unit {row['unit']!r}, code {lv.unit!r}"


def test_every_indicator_is_described_with_its_modelled_status(text):
    body = _section(text, "Indicators")
    rows = {}
    for first in ("no", "id"):
        for row in _table_rows(body, first):
            if "modelled" in row:
                rows[_ident(row["id"])] = row
    for ind in registry():
        assert _mentions(body, ind.id), f"indicator {ind.id} is not in the ODD Indicators section"
        if ind.attribute == "output":
            continue
        assert ind.id in rows, f"indicator {ind.id} has no row in the ODD indicator tables"
        assert rows[ind.id]["modelled"] == ("yes" if ind.modelled else "no"), (
            f"{ind.id}: ODD says modelled={rows[ind.id]['modelled']}, the registry says {ind.modelled}")


def test_calibration_section_names_every_fitted_parameter():
    from sim.calibration.fit import FIT_BOUNDS
    from sim.inputs.parameters import FITTED_FILE, read_fitted

    text = ODD.read_text(encoding="utf-8")
    section = text.split("## Calibration", 1)[1].split("\n## ", 1)[0]
    for name in FIT_BOUNDS:
        assert f"`{name}`" in section, name
    assert set(read_fitted(FITTED_FILE)) == set(FIT_BOUNDS)
