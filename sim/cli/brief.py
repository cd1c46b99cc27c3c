"""The ``python -m sim brief`` command: a scenario against another (the 2020-policy baseline by default)
as ``brief.html`` and ``brief.pdf`` for a reader who will not open the app.

The command gathers what :func:`sim.outputs.brief.build_context` needs: both ensembles on the same
seeds (vector engine), the history points of the charts (the shipped history and a ``--history``
file, loaded and checked as ``run --history`` does), the attribution of the difference to lever
groups (:func:`sim.analysis.attribution.attribute`, if it is there and not skipped) and the
committed backtest's skill. Bad input gives one ``error:`` line and exit code 2 before anything
is run or written.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

import sim
from sim.core.calendar import DEFAULT_HORIZON, DEFAULT_SCALE
from sim.inputs.scenario import Scenario, baseline, load_scenario
from sim.outputs import brief

DEFAULT_SCENARIO = "scenarios/plan.toml"
ATTRIBUTION_STAGE = "attribution"  # produce()'s stages: each scenario's name (seeds), then this (runs)
ROOT = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``brief`` subcommand to the CLI's subparsers."""
    from sim import cli

    parser = sub.add_parser("brief", help="write a bilingual HTML and PDF brief of a scenario against another")
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, help=f"scenario TOML file (default {DEFAULT_SCENARIO})")
    parser.add_argument("--against", default=None,
                        help="scenario set against it (default: the 2020-policy baseline)")
    parser.add_argument("--out", default="brief", help="output folder for brief.html and brief.pdf (default brief/)")
    parser.add_argument("--lang", choices=brief.LANGS, default="zh", help="language of the brief (default zh)")
    parser.add_argument("--history", default=None,
                        help="history CSV with actual figures (the format of calibration/data/history_zhejiang.csv): "
                             "drawn on the charts and set against target and projection")
    cli._add_ensemble_options(parser, horizon_and_engine=False)  # the brief runs the vector engine to 2025
    parser.add_argument("--posterior", default=None, metavar="FILE",
                        help="posterior file every seed draws from instead of calibration/posterior.parquet, e.g. "
                             "one written by calibrate --through YEAR on actual figures (the ex-post counterfactual)")
    parser.add_argument("--no-attribution", action="store_true",
                        help="skip the attribution to lever groups (it costs about 64 runs per seed)")
    parser.set_defaults(handler=cmd_brief)


def model_version() -> str:
    """The package version and the git commit of the source tree (``unknown`` outside a checkout)."""
    commit = "unknown"
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True,
                              timeout=10)
        if done.returncode == 0 and done.stdout.strip():
            commit = done.stdout.strip()
            changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], check=False, cwd=ROOT, capture_output=True,
                                     timeout=10)
            if changed.returncode == 1:
                commit += " (with local changes)"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"{sim.__version__}, git {commit}"


def reproduce_command(args: argparse.Namespace, placeholder: str | None = None) -> str:
    """The command that writes the same brief, every setting that changes a number spelled out
    (``placeholder``, a part for the reader to replace, is left unquoted)."""
    parts = ["python", "-m", "sim", "brief", "--scenario", args.scenario]
    if args.against:
        parts += ["--against", args.against]
    parts += ["--out", args.out, "--lang", args.lang, "--seeds", str(args.seeds), "--first-seed", str(args.first_seed),
              "--scale", f"{args.scale:g}", "--parameters", args.parameters]
    if args.history:
        parts += ["--history", args.history]
    if args.posterior:
        parts += ["--posterior", args.posterior]
    if args.no_attribution:
        parts.append("--no-attribution")
    return " ".join(p if p == placeholder else shlex.quote(p) for p in parts)


def chart_points(history: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """History points per plan indicator for the charts and the ex-post table: the shipped history
    and, if given, a user's figures (marked ``actual``), as the app's charts take them."""
    from sim.ui.history import chart_points as points_of

    return {ind.id: points_of(ind, history, until=float(DEFAULT_HORIZON + 10))
            for ind in brief.scorecard_indicators() if ind.modelled}


def backtest_skill(folder: Path | None = None) -> dict[str, object] | None:
    """The committed backtest's skill: per series and horizon, the model's mean absolute % error against
    each naive forecaster's and the best one's (compared on the same origins); the band's coverage;
    the Zhejiang Made diffusions against their naive forecasters. None without ``backtest.csv``."""
    from sim.calibration import backtest as bt
    from sim.calibration.history import CALIBRATION_DIR, INDICATOR_SERIES

    folder = folder or CALIBRATION_DIR
    path = folder / "backtest.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    mapes = bt.summary(table)
    horizons = []
    for (series, horizon), part in table.groupby(["series", "horizon"]):
        found = bt.against_best_naive(part)
        if found is None:
            continue
        scores = mapes[(mapes.series == series) & (mapes.horizon == horizon)].set_index("method")["mape_pct"]
        horizons.append({"series": series, "indicator": INDICATOR_SERIES.get(series, series), "horizon": int(horizon),
                         "mapes": {m: float(v) for m, v in scores.items()}, "model": found[0], "best": found[1],
                         "best_mape": found[2], "points": found[3]})
    model = table[table.method == bt.MODEL]
    out = {"source": "calibration/backtest.md", "horizons": horizons,
           "covered": int(model["covered"].astype(str).str.lower().eq("true").sum()), "total": len(model),
           "submodels": []}
    sub_path = folder / "backtest_submodels.csv"
    if sub_path.is_file():
        out.update(_submodel_skill(pd.read_csv(sub_path)))
    return out


def _submodel_skill(table: pd.DataFrame) -> dict[str, object]:
    """Per diffusion series, its error and the best naive forecaster's on the same held-out counts
    (as :func:`sim.calibration.adoption.backtest_lines` reads them)."""
    from sim.calibration.adoption import best_naive

    rows = []
    scored = table.dropna(subset=["ape_pct"])
    for series, part in scored.groupby("series", sort=False):
        best = best_naive(part)
        if best is not None:
            rows.append({"series": series, "indicator": series, "model": best[2], "best": best[0],
                         "best_mape": best[1], "points": best[3]})
    model = table[table.method == "model"]
    return {"submodels": rows, "submodel_covered": int(model["covered"].astype(str).str.lower().eq("true").sum()),
            "submodel_total": len(model)}


def _attribution(against: Scenario, scenario: Scenario, lang: str, run: dict, skip: bool,
                 progress) -> tuple[pd.DataFrame | None, str]:
    """The attribution table, or None and why not (skipped)."""
    from sim.analysis.attribution import attribute

    if skip:
        return None, brief.strings(lang)["attribution_skipped"]
    return attribute(against, scenario, year=DEFAULT_HORIZON, engine="vector", progress=progress, **run), ""


def produce(scenario: Scenario, against: Scenario, out: str | Path, *, lang: str = "zh", seeds: Sequence[int] = range(10),
            scale: float = DEFAULT_SCALE, parameters: str = "posterior", history: pd.DataFrame | None = None,
            history_file: str | None = None, attribution: bool = True, command: str = "", backend=None,
            workers: int | None = None, progress: Callable[[str], Callable[[int, int], None] | None] | None = None
            ) -> tuple[Path, Path]:
    """Run both scenarios on the same seeds (and the attribution), and write brief.html and brief.pdf.

    Args:
        scenario: The scenario the brief is about.
        against: The scenario it is set against (the 2020-policy baseline for the counterfactual).
        out: Folder written (made if missing).
        lang: ``zh`` or ``en``.
        seeds: Seeds of both ensembles (common random numbers).
        scale: Real entities per simulated entity.
        parameters: ``posterior``, ``point`` or the path of a posterior file (e.g. one refitted on
            actual figures by ``calibrate --through``).
        history: Loaded history with any actual figures (:func:`sim.calibration.history.load_history`).
        history_file: Its name, shown in the ex-post section.
        attribution: Compute the attribution waterfalls (64 runs per seed for six differing groups).
        command: The command that reproduces the brief, printed in it.
        backend: A backend of :mod:`sim.runs.pools` to run on (else a local pool of ``workers``).
        workers: Processes when no backend is given.
        progress: ``progress(what)`` gives a ``(done, total)`` callback for each stage (each scenario's
            name, its seeds; then :data:`ATTRIBUTION_STAGE`, its runs), or None.

    Returns:
        The paths of brief.html and brief.pdf.
    """
    from sim.runs.ensemble import run_ensemble
    from sim.runs.pools import backend_for

    seeds = list(seeds)
    stage = progress or (lambda what: None)
    with (backend_for(workers) if backend is None else nullcontext(backend)) as pool:
        run = {"seeds": seeds, "scale": scale, "backend": pool, "parameters": parameters}
        common = {**run, "horizon": DEFAULT_HORIZON, "engine": "vector"}
        tidy = run_ensemble(scenario, progress=stage(scenario.name), **common)
        tidy_against = run_ensemble(against, progress=stage(against.name), **common)
        table, note = _attribution(against, scenario, lang, run, not attribution, stage(ATTRIBUTION_STAGE))
    context = brief.build_context(
        scenario, against, tidy, tidy_against, lang=lang, command=command, version=model_version(),
        run={"seeds": seeds, "scale": scale, "parameters": parameters}, points=chart_points(history),
        history_file=history_file, attribution=table, attribution_note=note, backtest=backtest_skill())
    return brief.write_brief(out, brief.render_html(context))


def cmd_brief(args: argparse.Namespace) -> int:
    """Run both scenarios on the same seeds and write brief.html and brief.pdf to --out."""
    from sim import cli
    from sim.inputs.posterior import describe as describe_parameters

    started = time.perf_counter()
    scenario = load_scenario(args.scenario)
    against = load_scenario(args.against) if args.against else baseline()
    history = cli._history(args.history) if args.history else None  # a malformed file: one line, exit 2
    seeds = cli._seeds(args)
    if args.posterior and args.parameters == "point":
        raise cli.UsageError("--posterior with --parameters point: give one (a posterior file is drawn from per seed)")
    parameters = args.posterior or args.parameters
    describe_parameters(parameters, [])  # a damaged posterior file stops here, before any run
    out = Path(args.out)  # checked now, made only once the brief is ready
    if out.exists() and not out.is_dir():
        raise cli.UsageError(f"--out {out}: exists and is not a folder; give a folder path")
    if not os.access(out if out.exists() else cli._existing_parent(out), os.W_OK | os.X_OK):
        raise cli.UsageError(f"--out {out}: the folder is not writable; give a folder you can write to")
    html_path, pdf_path = produce(
        scenario, against, out, lang=args.lang, seeds=seeds, scale=args.scale, parameters=parameters,
        history=history, history_file=args.history, attribution=not args.no_attribution,
        command=reproduce_command(args), workers=args.workers,
        progress=lambda what: cli._progress(what, "runs" if what == ATTRIBUTION_STAGE else "seeds", args.quiet))
    if not args.quiet:
        print(f"wrote {html_path}, {pdf_path} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return 0
