"""The brief (python -m sim brief): context, HTML, PDF in both languages, charts as SVG, bad input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from conftest import ROOT
from sim.calibration.history import HISTORY_FILE, load_history
from sim.cli import main
from sim.inputs.scenario import baseline, load_scenario
from sim.cli import brief as brief_cli
from sim.outputs import brief
from sim.outputs.indicators import by_id
from sim.runs.ensemble import run_ensemble, summarise

SMALL = {"seeds": [0, 1], "scale": 200000, "horizon": 2025, "engine": "vector", "workers": 1}
ACTUAL_ROWS = ("market_entities_total,2021-12,868.5,10k entities,published,test row\n"
               "pinzi_brand_firms,2022-12,2100,firms,published,test row\n")
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None and not os.environ.get("CI"), reason="pdftotext (poppler-utils) is not installed: "
                                                                "the PDF's text cannot be checked")


@pytest.fixture(scope="module")
def runs():
    scenario, against = load_scenario("scenarios/plan.toml"), baseline()
    return scenario, against, run_ensemble(scenario, **SMALL), run_ensemble(against, **SMALL)


@pytest.fixture(scope="module")
def history_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "actual.csv"
    path.write_text(HISTORY_FILE.read_text(encoding="utf-8") + ACTUAL_ROWS, encoding="utf-8")
    return path


def _attribution() -> pd.DataFrame:
    """A hand-made attribution: two lever groups per binding indicator."""
    rows = []
    for ind in brief.binding_indicators():
        rows += [{"indicator": ind.id, "group": "dual_random", "label_zh": "“双随机”监管", "label_en": "Double-random",
                  "contribution": 3.0, "se": 0.5},
                 {"indicator": ind.id, "group": "credit", "label_zh": "信用监管", "label_en": "Credit",
                  "contribution": -1.0, "se": 0.25}]
    return pd.DataFrame(rows)


def _context(runs, lang: str, history_file=None, attribution=None):
    scenario, against, tidy, tidy_against = runs
    history = load_history(history_file) if history_file else None
    return brief.build_context(
        scenario, against, tidy, tidy_against, lang=lang, command="python -m sim brief --scenario scenarios/plan.toml",
        version="0.1.0, git test", run={"seeds": [0, 1], "scale": 200000, "parameters": "posterior"},
        points=brief_cli.chart_points(history), history_file=str(history_file) if history_file else None,
        attribution=attribution, attribution_note="" if attribution is not None else "skipped",
        backtest=brief_cli.backtest_skill(), today=date(2026, 1, 2))


@pytest.fixture(scope="module", params=["zh", "en"])
def written(request, runs, history_file, tmp_path_factory):
    lang = request.param
    context = _context(runs, lang, history_file, _attribution())
    html = brief.render_html(context)
    out = tmp_path_factory.mktemp(f"brief_{lang}")
    return lang, context, html, brief.write_brief(out, html)


def test_scorecard_rows_match_the_ensemble_summary(runs):
    tidy = runs[2]
    context = _context(runs, "en")
    rows = {r["id"]: r for r in context["scorecard"]}
    assert len(rows) == 25  # the plan's 24 and the company share of enterprises
    summary = summarise(tidy).set_index("indicator")
    reg = by_id()
    for iid, row in rows.items():
        s = summary.loc[iid]
        assert row["a"]["raw"]["median"] == pytest.approx(s.median_2025)
        assert row["a"]["raw"]["prob"] == pytest.approx(s.prob_target_met)
        assert row["binding"] == (reg[iid].attribute == "binding")
    # the verdict reads the thresholds of sim.outputs.status
    from sim.outputs.status import status
    assert all(row["a"]["status"] == (status(row["a"]["raw"]["prob"]) or "—") for row in rows.values())


def test_brief_renders_in_both_languages_with_the_scorecard(written):
    lang, context, html, (html_path, pdf_path) = written
    assert html_path.read_text(encoding="utf-8") == html
    assert html.count('data-indicator="') >= 25
    for row in context["scorecard"]:
        assert f'data-indicator="{row["id"]}"' in html
    name = by_id()["market_entities"].name_zh if lang == "zh" else by_id()["market_entities"].name_en
    assert name in html
    assert ("规划指标记分卡" in html) == (lang == "zh")
    assert ("Plan indicator scorecard" in html) == (lang == "en")
    assert pdf_path.read_bytes().startswith(b"%PDF")
    assert not list(html_path.parent.glob(".tmp-*"))  # written atomically: no temporary file left


def test_charts_are_inline_svg_with_text_kept_as_text(written):
    lang, context, html, _ = written
    binding = brief.binding_indicators()
    assert len(context["charts"]) == len(binding) >= 7
    assert len(context["attribution"]["charts"]) == len(binding)
    for chart in context["charts"] + context["attribution"]["charts"]:
        assert chart["svg"].startswith("<svg") and "<text" in chart["svg"]
        assert "<image" not in chart["svg"]  # vector, no embedded raster
    assert html.count("<svg") == 2 * len(binding)
    assert "<?xml" not in html
    if lang == "zh":
        assert "合计" in context["attribution"]["charts"][0]["svg"]  # the waterfall's total, as text


def test_expost_sets_actual_figures_against_target_and_projection(written):
    lang, context, _, _ = written
    rows = context["expost"]["rows"]
    found = {(r["name"].split(". ", 1)[0], r["year"]) for r in rows}
    assert ("1", 2021) in found and ("13", 2022) in found
    row = next(r for r in rows if r["year"] == 2021 and r["name"].startswith("1."))
    assert row["actual"] == ("868.5" if lang == "zh" else "8.69")
    assert row["projection"] != "—" and row["vs_band"] and row["vs_path"]


def test_without_history_or_attribution_the_sections_say_why(runs):
    context = _context(runs, "en")
    assert context["expost"]["rows"] == [] and "--history" in context["expost"]["note"]
    assert context["attribution"]["charts"] == [] and context["attribution"]["note"] == "skipped"
    assert brief.render_html(context).count("<svg") == len(brief.binding_indicators())


def test_attribution_with_missing_columns_is_refused(runs):
    with pytest.raises(ValueError, match="missing columns se"):
        _context(runs, "en", attribution=_attribution().drop(columns="se"))


def test_backtest_section_says_where_the_model_loses(runs):
    skill = brief_cli.backtest_skill()
    assert skill is not None and skill["horizons"]
    context = _context(runs, "en")
    rows = context["backtest"]["rows"]
    assert len(rows) == len(skill["horizons"])
    assert any(r["loses"] for r in rows) == any(h["model"] > h["best_mape"] for h in skill["horizons"])
    assert all(("loses to" in line["text"]) == line["loses"] for line in context["backtest"]["lines"])


@needs_pdftotext
def test_pdf_text_holds_the_indicator_names(written):
    lang, _, _, (_, pdf_path) = written
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True).stdout
    ind = by_id()["market_entities"]
    if lang == "zh":
        assert ind.name_zh in text
        assert by_id()["dual_random_share"].name_zh.strip("“”") in text
    else:
        assert ind.name_en in text
        assert "Plan indicator scorecard" in text
    assert re.search(r"2025", text)


@needs_pdftotext
def test_the_pdf_embeds_its_chinese_font(written):
    lang, _, _, (_, pdf_path) = written
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", str(pdf_path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded (the "emb" column)
    if lang == "zh":
        assert any("WenQuanYi" in line for line in fonts)


def test_malformed_history_gives_one_error_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("series,period,value,unit,kind,source\nmarket_entities_total,2021-13,868,10k,published,x\n",
                   encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "sim", "brief", "--history", str(bad), "--out", str(out),
                           "--seeds", "2", "--scale", "200000", "--no-attribution", "--quiet"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad period" in lines[0]
    assert not out.exists()


def test_bad_scenario_gives_exit_2(tmp_path, capsys):
    assert main(["brief", "--scenario", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "o").exists()


def test_reproduce_command_spells_out_every_setting():
    from sim.cli import build_parser

    args = build_parser().parse_args(["brief", "--lang", "en", "--history", "my file.csv", "--no-attribution"])
    command = brief_cli.reproduce_command(args)
    assert command.startswith("python -m sim brief --scenario scenarios/plan.toml")
    for part in ("--lang en", "--seeds 10", "--first-seed 0", "--scale 8000", "--parameters posterior",
                 "--history 'my file.csv'", "--no-attribution"):
        assert part in command


@pytest.mark.slow
def test_cli_writes_html_and_pdf(tmp_path, history_file):
    out = tmp_path / "brief"
    done = subprocess.run([sys.executable, "-m", "sim", "brief", "--scenario", "scenarios/plan.toml", "--out", str(out),
                           "--lang", "en", "--seeds", "2", "--scale", "200000", "--workers", "1",
                           "--history", str(history_file), "--no-attribution", "--quiet"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert (out / "brief.pdf").read_bytes().startswith(b"%PDF")
    assert "--no-attribution" in html and "Attribution not computed" in html
    assert "Registered market entities" in html and "868.5" not in html  # English: millions
    assert "8.69" in html
    assert sorted(p.name for p in out.iterdir()) == ["brief.html", "brief.pdf"]


def test_a_value_that_rounds_to_zero_has_no_sign():
    assert brief._number(-0.04, 1, "en", sign=True) == "+0.0"
    assert brief._number(-0.4, 0, "zh") == "0"
    assert brief._number(-0.06, 1, "en", sign=True) == "-0.1"


def test_expost_counterfactual_is_the_scenario_set_against_and_actual_minus_it_what_the_measures_added(
        runs, history_file):
    context = _context(runs, "zh", history_file)
    tidy_against = runs[3]
    ind = by_id()["market_entities"]
    row = next(r for r in context["expost"]["rows"] if r["year"] == 2021 and r["name"].startswith("1."))
    values = tidy_against.loc[(tidy_against["year"] == 2021) & (tidy_against["indicator"] == ind.id), "value"]
    median = float(values.median())
    assert row["counterfactual"].startswith(brief.fmt_value(median, ind, "zh") + " [")
    assert float(row["added"].split(" ")[0]) == pytest.approx(868.5 - median, abs=0.05)  # shown to 0.1
    assert "2020年及以前" in context["expost"]["intro"]  # the committed posterior: an ex-ante counterfactual


def test_a_refitted_posterior_is_named_as_the_counterfactuals_basis(runs, history_file):
    scenario, against, tidy, tidy_against = runs
    context = brief.build_context(scenario, against, tidy, tidy_against, lang="en",
                                  run={"seeds": [0, 1], "scale": 200000, "parameters": "refit/posterior_2023.parquet"},
                                  points=brief_cli.chart_points(load_history(history_file)),
                                  history_file=str(history_file))
    assert "refit/posterior_2023.parquet" in context["expost"]["intro"]
    assert "refitted on the actual figures" in context["expost"]["intro"]


def test_an_unreadable_posterior_file_gives_one_error_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "posterior.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    for given in (str(bad), str(tmp_path / "posterior.csv")):
        assert main(["brief", "--posterior", given, "--out", str(tmp_path / "o"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_refit_through_2021_on_actual_figures_feeds_the_brief_counterfactual(tmp_path, history_file):
    fitted, posterior = tmp_path / "refit" / "fitted.toml", tmp_path / "refit" / "posterior.parquet"
    assert main(["calibrate", "--history", str(history_file), "--through", "2021", "--policies", "scenarios/plan.toml",
                 "--out", str(fitted), "--posterior", str(posterior), "--population", "20", "--generations", "1",
                 "--seeds", "1", "--scale", "40000", "--workers", "1"]) == 0
    assert posterior.is_file() and posterior.with_name("posterior_submodels.parquet").is_file()
    out = tmp_path / "brief"
    assert main(["brief", "--history", str(history_file), "--posterior", str(posterior), "--out", str(out), "--lang",
                 "en", "--seeds", "2", "--scale", "200000", "--workers", "1", "--no-attribution", "--quiet"]) == 0
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert f"Parameters are drawn from {posterior}" in html and f"--posterior {posterior}" in html


def test_the_attribution_table_covers_every_indicator_attributed_and_adds_up(runs):
    frame = _attribution()
    frame.loc[frame["indicator"] == frame["indicator"].iloc[0], "contribution"] = [12.5, -0.25]
    context = _context(runs, "en", attribution=frame)
    table = context["attribution"]
    assert table["groups"] == ["Double-random", "Credit"]
    assert len(table["rows"]) == frame["indicator"].nunique() == len(brief.binding_indicators())
    first, other = table["rows"][0], table["rows"][1]
    assert first["cells"] == ["+12.5 ±0.5", "-0.2 ±0.2"] and first["total"] == "+12.2"  # one precision per row
    assert other["cells"] == ["+3.00 ±0.50", "-1.00 ±0.25"] and other["total"] == "+2.00"
    html = brief.render_html(context)
    assert html.count('<td class="num total">') == len(table["rows"])


def test_a_group_that_moves_nothing_shows_zero_in_the_table(runs):
    row = {"label_zh": "", "label_en": ""}
    frame = pd.DataFrame([{**row, "indicator": "market_entities", "group": "dual_random", "contribution": 0.0, "se": 0.0},
                          {**row, "indicator": "market_entities", "group": "credit", "contribution": 0.0, "se": 0.0},
                          {**row, "indicator": "dual_random_share", "group": "dual_random", "contribution": 2.0,
                           "se": 0.5},
                          {**row, "indicator": "dual_random_share", "group": "credit", "contribution": 0.0, "se": 0.0}])
    table = _context(runs, "en", attribution=frame)["attribution"]
    assert len(table["groups"]) == 1  # credit moves nothing anywhere: no column
    rows = {r["name"].split(". ")[0]: r for r in table["rows"]}
    assert rows["1"]["cells"] == ["0"] and rows["1"]["total"] == "0"
    assert rows["2"]["cells"] == ["+2.00 ±0.50"]
