"""docs/ODD.md stays true to the code: its generated tables (levers, indicators and the three
parameter tables) are what ``python -m sim docs`` renders from the declarations, they sit in
the sections that describe them, and the hand-written sections name what they describe."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sim import docs
from sim.cli import main
from sim.submodels import innovation
from sim.submodels import programmes
from sim.outputs.indicators import registry

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


def test_generated_tables_are_what_sim_docs_renders(text):
    assert docs.update(text) == text, (
        f"docs/ODD.md generated tables out of date: {docs.stale(ODD)}; run `python -m sim docs`")


# The heading each generated table sits under.
HEADINGS = {
    "levers": "## Levers",
    "plan-indicators": "### The plan's 24 indicators",
    "indicator-provenance": "### Where each indicator's numbers come from",
    "text-targets": "### Targets in the plan's text",
    "outputs": "### Policy-reader outputs",
    "entity-parameters": "## Parameters",
    "programme-parameters": "### Programme parameters",
    "innovation-parameters": "### Innovation parameters",
}


@pytest.mark.parametrize("name", list(docs.BLOCKS))
def test_each_generated_table_sits_in_its_section(text, name):
    start = text.index(docs.begin_marker(name))
    heading = re.findall(r"^#{2,3} .*$", text[:start], re.M)[-1]
    assert heading.rstrip() == HEADINGS[name], f"generated table {name} is under '{heading}'"


def _modified_copy(tmp_path: Path) -> Path:
    """A copy of docs/ODD.md with one entity-model value and one lever cell changed by hand."""
    copy = tmp_path / "ODD.md"
    shutil.copyfile(ODD, copy)
    body = copy.read_text(encoding="utf-8")
    for old, new in (("| `entities_2020` | 803 |", "| `entities_2020` | 804 |"),
                     ("| `fine_level` | Fine level", "| `fine_level` | Fines")):
        assert body.count(old) == 1, old
        body = body.replace(old, new)
    copy.write_text(body, encoding="utf-8")
    return copy


def test_docs_check_fails_on_a_modified_copy_and_sim_docs_repairs_it(tmp_path, capsys):
    copy = _modified_copy(tmp_path)
    assert docs.stale(copy) == ["levers", "entity-parameters"]
    assert main(["docs", "--check", "--file", str(copy)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "levers, entity-parameters" in err, err

    assert main(["docs", "--file", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == ODD.read_text(encoding="utf-8")
    assert main(["docs", "--check", "--file", str(copy)]) == 0
    assert not list(tmp_path.glob(".tmp-*")), "a temp file was left beside the ODD"


def test_docs_leaves_prose_alone_and_rejects_broken_markers(tmp_path, capsys):
    copy = tmp_path / "ODD.md"
    body = ODD.read_text(encoding="utf-8")
    copy.write_text(body.replace("## Levers\n", "## Levers\n\nA new hand-written line.\n", 1), encoding="utf-8")
    assert main(["docs", "--check", "--file", str(copy)]) == 0  # prose outside the markers is not checked

    copy.write_text(body.replace(docs.end_marker("outputs") + "\n", ""), encoding="utf-8")
    assert main(["docs", "--check", "--file", str(copy)]) == 2
    assert "outputs" in capsys.readouterr().err
    with pytest.raises(docs.DocsError, match="no generated block for levers"):
        docs.update(body.replace(docs.begin_marker("levers"), ""))


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


def test_calibration_section_names_every_fitted_parameter():
    from sim.inputs.parameters import FITTED_FILE, Parameters, read_fitted
    from sim.inputs.parameters.declare import priors

    text = ODD.read_text(encoding="utf-8")
    section = text.split("## Calibration", 1)[1].split("\n## ", 1)[0]
    for name in priors(Parameters):
        assert f"`{name}`" in section, name
    from sim.calibration.fit import FIT_BOUNDS

    assert set(read_fitted(FITTED_FILE)) == set(FIT_BOUNDS)
