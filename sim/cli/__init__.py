"""The ``python -m sim`` commands.

Bad input gives one line on stderr naming what is wrong and what is allowed, and
exit code 2; nothing is written before the input is known to be good, and output
files are replaced atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

import sim
from sim.inputs.files import atomic_write_text
from sim.runs import ensemble
from sim.ui.console import format_comparison, format_table
from sim.engines.base import SEED_LIMIT  # the random streams take seeds modulo 2**64
from sim.core.calendar import DEFAULT_HORIZON, DEFAULT_SCALE, START_YEAR, firm_scale
from sim.inputs.levers import LEVERS, UNCERTAINTIES, ScenarioError
from sim.inputs.posterior import MODES, PosteriorError, describe as describe_parameters
from sim.inputs.scenario import apply_overrides, load_scenario

EXIT_USAGE = 2


class UsageError(Exception):
    """Command-line input is wrong; the message says what is allowed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, no usage dump
        raise UsageError(f"{self.prog}: {message}")


def _whole_number(text: str, least: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} must be at least {least}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: 0 to 2**64 - 1 (the random streams repeat beyond)")
    return value


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be a number of at least 1 (1 = every real entity)")
    return value


def _horizon(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a year") from None
    if not START_YEAR <= value <= 2035:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed years {START_YEAR} to 2035")
    return value


def _add_ensemble_options(parser: argparse.ArgumentParser, horizon_and_engine: bool = True) -> None:
    """Seeds, scale, workers, parameters and --quiet; the horizon and engine unless a command fixes them."""
    parser.add_argument("--seeds", type=_positive_int, default=10, help="number of seeds (default 10)")
    parser.add_argument("--first-seed", type=_seed, default=0, help="first seed (default 0; up to 2**64 - 1)")
    parser.add_argument("--scale", type=_scale, default=DEFAULT_SCALE,
                        help=f"real entities per simulated entity (default {DEFAULT_SCALE:g})")
    if horizon_and_engine:
        parser.add_argument("--horizon", type=_horizon, default=DEFAULT_HORIZON, help="last year (2021-2035)")
        parser.add_argument("--engine", choices=sorted(ensemble.ENGINES), default="vector",
                            help="vector (default): entities in arrays, fast enough for the whole province; "
                                 "mesa: the per-agent reference engine (same numbers, much slower)")
    parser.add_argument("--workers", type=_positive_int, default=None, help="processes (default: CPU count)")
    parser.add_argument("--parameters", choices=MODES, default="posterior",
                        help="posterior (default): each seed draws the uncertain parameters from "
                             "calibration/posterior.parquet, so bands carry parameter uncertainty; "
                             "point: the point fit (calibration/fitted.toml) for every seed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = _Parser(prog="python -m sim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"zj-market-sim {sim.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="project a scenario over seeds and write indicators, summary, run.json")
    run.add_argument("--scenario", default="scenarios/baseline.toml", help="scenario TOML file")
    _add_ensemble_options(run)
    run.add_argument("--set", action="append", default=[], metavar="LEVER=VALUE",
                     help="override a lever: dual_random_share=60, 2020:10,2025:65, or Wenzhou.fine_level=2")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--format", choices=("csv", "table"), default="csv",
                     help="also print a readable table of targets (table)")
    run.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the table")
    run.add_argument("--history", default=None,
                     help="history CSV with actual figures (rows for 2021 on are laid beside the projection "
                          "in actuals.csv)")

    cmp = sub.add_parser("compare", help="two scenarios with common random numbers: the 2025 difference per indicator")
    cmp.add_argument("scenario_a", help="reference scenario TOML file (e.g. scenarios/baseline.toml)")
    cmp.add_argument("scenario_b", help="scenario to compare (e.g. scenarios/plan.toml)")
    _add_ensemble_options(cmp)
    cmp.add_argument("--year", type=_horizon, default=2025, help="year compared (default 2025)")
    cmp.add_argument("--out", help="folder for compare.csv (optional)")
    cmp.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the table")

    bench = sub.add_parser("bench", help="engine speed, full-scale time and memory, ensemble time")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--scenario", default="scenarios/plan.toml", help="scenario TOML file")
    bench.add_argument("--compare-scale", type=_scale, default=100.0,
                       help="scale of the engine comparison (default 100: 80k entities, where per-entity work dominates)")
    bench.add_argument("--full-scale", type=_scale, default=1.0, help="scale of the full run (1 = every entity)")
    bench.add_argument("--ensemble-seeds", type=_positive_int, default=20, help="seeds of the ensemble")
    bench.add_argument("--calibration-scale", type=_scale, default=2000.0, help="scale of the calibration's runs")

    cal = sub.add_parser("calibrate", help="sample the posterior of the uncertain parameters given Zhejiang's "
                                           "history (ABC-SMC), or --check the committed fit")
    cal.add_argument("--history", default=None, help="history CSV (default calibration/data/history_zhejiang.csv)")
    cal.add_argument("--through", type=int, default=2020, help="last year of history used (default 2020)")
    cal.add_argument("--out", default="calibration/fitted.toml",
                     help="point-fit file written, its report beside it (default calibration/fitted.toml)")
    cal.add_argument("--posterior", default="calibration/posterior.parquet",
                     help="posterior particles written, its report beside it (default calibration/posterior.parquet)")
    cal.add_argument("--policies", default=None, metavar="FILE",
                     help="scenario file of the measures actually taken after 2020 (levers and uncertainties), "
                          "followed by the runs of a fit --through a year after 2020 (default: 2020 policies held)")
    cal.add_argument("--check", action="store_true",
                     help="print the committed point fit's table against the history; fit nothing")
    cal.add_argument("--seeds", type=_positive_int, default=2, help="seeds per simulation (default 2)")
    cal.add_argument("--scale", type=_scale, default=2000.0, help="scale of calibration runs (default 2000)")
    cal.add_argument("--population", type=_positive_int, default=500, help="particles per generation (default 500)")
    cal.add_argument("--generations", type=_positive_int, default=8, help="most generations (default 8)")
    cal.add_argument("--max-minutes", type=float, default=25.0, help="stop sampling after this long (default 25)")
    cal.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1,
                     help="processes sampling in parallel (default: every core)")

    bt = sub.add_parser("backtest", help="rolling-origin backtest: the model fitted up to each year against naive forecasts")
    bt.add_argument("--series", default="market_entities_total", help="comma-separated stock series of the history")
    bt.add_argument("--history", default=None, help="history CSV (default calibration/data/history_zhejiang.csv)")
    bt.add_argument("--out", default="calibration/backtest.md", help="report written (plot and CSV beside it)")
    bt.add_argument("--seeds", type=_positive_int, default=20, help="seeds of each projection (default 20)")
    bt.add_argument("--fit-seeds", type=_positive_int, default=2, help="seeds per fit simulation (default 2)")
    bt.add_argument("--scale", type=_scale, default=2000.0, help="scale of the runs (default 2000)")
    bt.add_argument("--method", choices=("abc", "point"), default="abc",
                    help="abc (default): a posterior at each origin, one draw per seed; point: a Nelder-Mead fit")
    bt.add_argument("--population", type=_positive_int, default=150, help="ABC particles per generation (default 150)")
    bt.add_argument("--generations", type=_positive_int, default=5, help="ABC generations per origin (default 5)")
    bt.add_argument("--max-evaluations", type=_positive_int, default=160, help="point fit's optimiser budget per origin")

    sub.add_parser("levers", help="list the levers and uncertainties with ranges and 2020 values")
    sub.add_parser("params", help="list the model parameters with their sources")
    docs = sub.add_parser("docs", help="rewrite the generated tables of docs/ODD.md from the declarations")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 naming the stale tables if the file differs from the code")
    docs.add_argument("--file", default=None, help="the ODD file (default docs/ODD.md)")
    from sim.cli import attribute, brief, sweeps  # commands kept in their own modules (each sets `handler`)

    for module in (sweeps, attribute, brief):
        module.register(sub)
    return parser


def _seeds(args: argparse.Namespace) -> list[int]:
    if args.first_seed + args.seeds > SEED_LIMIT:
        raise UsageError(f"--first-seed {args.first_seed} with --seeds {args.seeds} passes 2**64 - 1, where the random "
                         f"streams repeat; the first seed may be at most {SEED_LIMIT - args.seeds}")
    return list(range(args.first_seed, args.first_seed + args.seeds))


def _run(scenario, args: argparse.Namespace) -> pd.DataFrame:
    """Run a scenario's ensemble with the command's options, showing progress on stderr."""
    describe_parameters(args.parameters, [])  # a damaged posterior file stops here, before any run
    return ensemble.run_ensemble(scenario, _seeds(args), scale=args.scale, horizon=args.horizon,
                                 engine=args.engine, workers=args.workers,
                                 progress=_progress(scenario.name, "seeds", args.quiet), parameters=args.parameters)


def _progress(name: str, unit: str, quiet: bool) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` that prints one updating line on stderr (nothing if ``quiet``)."""
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not quiet:
            elapsed = time.perf_counter() - started
            left = elapsed / max(done, 1) * (total - done)
            print(f"\r{name}: {done}/{total} {unit}, {elapsed:.0f}s elapsed, ~{left:.0f}s left",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)
    return progress


def _output_folder(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot create the folder ({err.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the folder is not writable; give a folder you can write to")
    return out


def _existing_parent(path: Path) -> Path:
    """The nearest folder above ``path`` that exists (where its missing folders would be made)."""
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    return parent


def _history(path: str):
    from sim.calibration.history import HistoryError, load_history

    try:
        return load_history(path)
    except HistoryError as err:
        raise UsageError(str(err)) from None


def _actuals_beside(history, tidy: pd.DataFrame) -> pd.DataFrame:
    """Actual figures from the history next to the projected median and band of the same year."""
    from sim.calibration.report import actuals

    actual = actuals(history)
    projected = ensemble.bands(tidy).rename(columns={"median": "projected_median", "low": "projected_p05",
                                                     "high": "projected_p95"})
    return actual.merge(projected.drop(columns="scenario"), on=["indicator", "year"], how="left")


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario over seeds and write indicators.csv, summary.csv and run.json."""
    scenario = apply_overrides(load_scenario(args.scenario), args.set)
    history = _history(args.history) if args.history else None
    seeds = _seeds(args)
    out = _output_folder(args.out)
    started = time.perf_counter()
    tidy = _run(scenario, args)
    summary = ensemble.summarise(tidy, year=2025)
    meta = {
        "scenario": scenario.to_dict(),
        "seeds": seeds,
        "scale": args.scale,
        "horizon": args.horizon,
        "engine": args.engine,
        "parameters": describe_parameters(args.parameters, seeds),
        "firm_scale": firm_scale(args.scale),
        "package_version": sim.__version__,
        "python": platform.python_version(),
        "command": "python -m sim " + " ".join(sys.argv[1:]),
    }
    atomic_write_text(out / "indicators.csv", tidy.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(out / "run.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    if history is not None:
        atomic_write_text(out / "actuals.csv", _actuals_beside(history, tidy).to_csv(index=False, float_format="%.10g"))
    else:  # an earlier run's actual figures would sit beside results they do not belong to
        (out / "actuals.csv").unlink(missing_ok=True)
    if args.horizon < 2025:
        print(f"note: the horizon {args.horizon} is before the target year 2025: summary.csv's 2025 columns are "
              "empty; give --horizon 2025 or later to judge the targets", file=sys.stderr)
    if args.format == "table":
        print(format_table(summary, args.lang))
    if not args.quiet:
        print(f"wrote {out / 'indicators.csv'}, {out / 'summary.csv'}, {out / 'run.json'} "
              f"({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios on the same seeds and report B - A per indicator."""
    scenario_a, scenario_b = load_scenario(args.scenario_a), load_scenario(args.scenario_b)
    if args.horizon < args.year:
        raise UsageError(f"--year {args.year} is after --horizon {args.horizon}; give a year up to the horizon")
    out = _output_folder(args.out) if args.out else None
    table = ensemble.compare(_run(scenario_a, args), _run(scenario_b, args), year=args.year)
    if out is not None:
        atomic_write_text(out / "compare.csv", table.to_csv(index=False, float_format="%.10g"))
    print(format_comparison(table, scenario_a.name, scenario_b.name, args.year, args.lang))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Sample the posterior given the history (writing it, the point fit and their reports), or
    check the committed fit."""
    from sim.calibration import history as cal_history
    from sim.calibration.abc import AbcSettings
    from sim.calibration.command import calibrate

    try:
        history = cal_history.load_history(args.history or cal_history.HISTORY_FILE)
        if args.check:
            from sim.calibration import report as cal_report
            print(cal_report.check_text(history, range(4), args.scale))
            return 0
        outs = [Path(args.out), Path(args.posterior)]
        for out in outs:
            if out.is_dir() or not os.access(_existing_parent(out), os.W_OK):
                raise UsageError(f"calibrate: {out} must name a file in a folder you can write to")
        if not args.max_minutes > 0:
            raise UsageError(f"calibrate: --max-minutes {args.max_minutes} must be above 0")
        if args.policies and args.through <= 2020:
            raise UsageError(f"--policies {args.policies}: the policies after 2020 matter only to a fit "
                             f"--through a year after 2020 (given {args.through})")
        after_2020 = load_scenario(args.policies) if args.policies else None
        if args.through > 2020:
            print("note: fitting on figures after 2020; the committed default fit uses data up to 2020 only; "
                  + (f"runs follow {args.policies} after 2020" if args.policies else
                     "runs hold the 2020 policies after 2020 (--policies FILE gives the measures actually taken)"),
                  file=sys.stderr)
        for out in outs:
            out.parent.mkdir(parents=True, exist_ok=True)
        settings = AbcSettings(population=args.population, generations=args.generations, seeds=args.seeds,
                               scale=args.scale, workers=args.workers, max_minutes=args.max_minutes)
        history_name = args.history or str(cal_history.HISTORY_FILE.relative_to(cal_history.ROOT))
        from tqdm import tqdm
        with tqdm(total=args.generations, desc="ABC-SMC generations", file=sys.stderr) as bar:
            def progress(text: str) -> None:
                if text.startswith("generation"):
                    bar.update(1)
                bar.write(text, file=sys.stderr)
            point, paths = calibrate(history, history_name, args.through, outs[0], outs[1], settings, progress,
                                     after_2020)
        from sim.calibration import report as cal_report
        print(cal_report.format_fit_table(point.table, f"Point fit through {args.through} (objective "
                                                       f"{point.objective:.3g})"))
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
        return 0
    except cal_history.HistoryError as err:
        raise UsageError(str(err)) from None


def cmd_levers(_: argparse.Namespace) -> int:
    """Print the lever and uncertainty declarations."""
    for title, items in (("levers", LEVERS), ("uncertainties", UNCERTAINTIES)):
        print(f"# {title}")
        for lv in items:
            print(f"{lv.id:34} {lv.low:g}..{lv.high:g} {lv.unit:40} 2020={lv.value_2020:g}  {lv.label_en} / {lv.label_zh}")
    return 0


def cmd_params(_: argparse.Namespace) -> int:
    """Print every parameter set (entity model, then each submodel's) with unit, status, source and the
    allowed range where one is declared (any finite number otherwise)."""
    from sim.inputs.parameters import PARAMETER_SETS, parameter_rows

    for set_name, cls in PARAMETER_SETS.items():
        title, table = f"{set_name} parameters (sim/inputs/parameters/{set_name}.py)", parameter_rows(cls)
        print(f"# {title}")
        for row in table:
            name = row.get("name", row.get("parameter"))
            allowed = "" if row.get("low") is None and row.get("high") is None else \
                f" [allowed {row.get('low', '')}..{row.get('high', '')}]".replace("None", "")
            print(f"{name:36} {row['value']:<10g} {row['unit']:36} {row['status']:10} {row['source']}{allowed}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Rewrite the generated tables of docs/ODD.md, or with --check exit 1 if any is stale."""
    from sim import docs

    path = Path(args.file) if args.file else docs.ODD
    try:
        if args.check:
            stale = docs.stale(path)
            if stale:
                print(f"{path}: generated tables out of date: {', '.join(stale)}; run `python -m sim docs`",
                      file=sys.stderr)
                return 1
            return 0
        changed = docs.write(path)
    except OSError as err:
        raise UsageError(f"{path}: cannot read or write the ODD file ({err.strerror or err})") from None
    except docs.DocsError as err:
        raise UsageError(f"{path}: {err}") from None
    print(f"{path}: rewrote {', '.join(changed)}" if changed else f"{path}: generated tables already current",
          file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure engine speed, the full-scale run and the app's ensemble."""
    from sim.runs.bench import result_json, run_bench

    load_scenario(args.scenario)  # fail early, with the usual message
    progress = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = run_bench(args.scenario, compare_scale=args.compare_scale, full_scale=args.full_scale,
                       ensemble_seeds=args.ensemble_seeds, progress=progress)
    from sim.calibration.fit import with_throughput
    result = with_throughput(result, args.calibration_scale, progress)
    if args.json:
        print(result_json(result))
    else:
        print(f"speedup (vector / mesa entity-months per second): {result.speedup:.0f}x")
        print(f"full scale ({result.full_scale:g}): {result.full_scale_seconds:.1f}s, "
              f"peak {result.full_scale_peak_memory_gb:.2f} GB")
        print(f"{result.ensemble_seeds}-seed ensemble at scale {result.ensemble_scale:g}: "
              f"{result.ensemble_seconds:.2f}s")
        print(f"calibration at scale {result.calibration_scale:g}: {result.calibration_runs_per_second:.2f} "
              f"history runs per second")
    print(f"on {result.cpu_model}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """Fit at each origin year, project the held-out year ends, score against naive forecasters."""
    from sim.calibration import backtest as bt, history as cal_history

    settings = bt.Settings(args.seeds, args.fit_seeds, args.scale, args.max_evaluations, args.method,
                           args.population, args.generations, os.cpu_count() or 1)
    try:
        out = bt.output_path(args.out)  # checked before the work
        history = cal_history.load_history(args.history or cal_history.HISTORY_FILE)
        table = bt.backtest(history, args.series.split(","), settings, progress=lambda line: print(line, file=sys.stderr))
    except (cal_history.HistoryError, bt.BacktestError) as err:
        raise UsageError(str(err)) from None
    paths = bt.write(table, history, settings, args.history or "calibration/data/history_zhejiang.csv", out)
    print("\n".join(bt.verdicts(table)) + "\nwrote " + ", ".join(str(p) for p in paths))
    return 0


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "bench": cmd_bench, "calibrate": cmd_calibrate, "backtest": cmd_backtest,
            "levers": cmd_levers, "params": cmd_params, "docs": cmd_docs}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn bad input into one line and exit code 2."""
    try:
        args = build_parser().parse_args(argv)
        return (COMMANDS.get(args.command) or args.handler)(args)
    except (UsageError, ScenarioError, PosteriorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; files already written are complete, nothing was half-written", file=sys.stderr)
        return 130
