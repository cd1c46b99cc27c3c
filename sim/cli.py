"""The ``python -m sim`` commands.

Bad input gives one line on stderr naming what is wrong and what is allowed, and
exit code 2; nothing is written before the input is known to be good, and output
files are replaced atomically.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

import sim
from sim import ensemble
from sim.indicators import by_id, registry
from sim.engine import DEFAULT_HORIZON, DEFAULT_SCALE, START_YEAR
from sim.parameters import parameter_table
from sim.params import LEVERS, UNCERTAINTIES, ScenarioError, apply_overrides, load_scenario

EXIT_USAGE = 2


class UsageError(Exception):
    """Command-line input is wrong; the message says what is allowed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, no usage dump
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
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


def _add_ensemble_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=_positive_int, default=10, help="number of seeds (default 10)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--scale", type=_scale, default=DEFAULT_SCALE,
                        help=f"real entities per simulated entity (default {DEFAULT_SCALE:g})")
    parser.add_argument("--horizon", type=_horizon, default=DEFAULT_HORIZON, help="last year (2021-2035)")
    parser.add_argument("--engine", choices=sorted(ensemble.ENGINES), default="mesa",
                        help="mesa: the per-agent reference engine; vector: the fast engine (same numbers)")
    parser.add_argument("--workers", type=_positive_int, default=None, help="processes (default: CPU count)")
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
    bench.add_argument("--compare-scale", type=_scale, default=4000.0, help="scale of the engine comparison")
    bench.add_argument("--full-scale", type=_scale, default=1.0, help="scale of the full run (1 = every entity)")
    bench.add_argument("--ensemble-seeds", type=_positive_int, default=20, help="seeds of the ensemble")

    sub.add_parser("levers", help="list the levers and uncertainties with ranges and 2020 values")
    sub.add_parser("params", help="list the model parameters with their sources")
    return parser


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def status_mark(prob: float, lang: str) -> str:
    """met / at risk / missed from the probability of meeting a target."""
    if prob != prob:  # NaN
        return ""
    if prob >= 0.8:
        return "达成" if lang == "zh" else "met"
    if prob >= 0.2:
        return "有风险" if lang == "zh" else "at risk"
    return "未达成" if lang == "zh" else "missed"


def format_table(summary: pd.DataFrame, lang: str = "zh") -> str:
    """A readable table of indicators against targets, then what is not modelled."""
    reg = by_id()
    zh = lang == "zh"
    head = ("指标", "单位", "2020基数", "2025目标", "2025预测中位数 [5%-95%]", "达标概率", "判断") if zh else \
        ("Indicator", "Unit", "2020", "2025 target", "2025 median [5%-95%]", "P(met)", "Status")
    lines = []
    for row in summary.itertuples(index=False):
        ind = reg[row.indicator]
        if ind.target is None:
            continue
        name = ind.name_zh if zh else ind.name_en
        star = "★" if ind.attribute == "binding" else " "
        base = "" if row.baseline_2020 is None or row.baseline_2020 != row.baseline_2020 else f"{row.baseline_2020:g}"
        lines.append((f"{star}{ind.no or '':>2} {name}", ind.unit_zh if zh else ind.unit_en, base,
                      f"{ind.target_op}{ind.target:g}",
                      f"{row.median_2025:.1f} [{row.p05_2025:.1f}-{row.p95_2025:.1f}]",
                      f"{row.prob_target_met:.2f}", status_mark(row.prob_target_met, lang)))
    widths = [max(_width(x) for x in col) for col in zip(head, *lines)]
    out = ["  ".join(_pad(x, w) for x, w in zip(head, widths))]
    out += ["  ".join(_pad(x, w) for x, w in zip(line, widths)) for line in lines]
    out.append("★ 约束性指标" if zh else "★ binding indicator")
    missing = [ind for ind in registry() if not ind.modelled and ind.target is not None]
    if missing:
        out.append("")
        out.append("未建模的指标：" if zh else "Not modelled yet:")
        for ind in missing:
            out.append(f"  {ind.no or '-':>2} {ind.name_zh if zh else ind.name_en}: {ind.not_modelled_reason}")
    return "\n".join(out)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))


def _seeds(args: argparse.Namespace) -> list[int]:
    return list(range(args.first_seed, args.first_seed + args.seeds))


def _run(scenario, args: argparse.Namespace) -> pd.DataFrame:
    """Run a scenario's ensemble with the command's options, showing progress on stderr."""
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            elapsed = time.perf_counter() - started
            left = elapsed / done * (total - done)
            print(f"\r{scenario.name}: {done}/{total} seeds, {elapsed:.0f}s elapsed, ~{left:.0f}s left",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)

    return ensemble.run_ensemble(scenario, _seeds(args), scale=args.scale, horizon=args.horizon,
                                 engine=args.engine, workers=args.workers, progress=progress)


def _output_folder(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot create the folder ({err.strerror})") from None
    return out


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario over seeds and write indicators.csv, summary.csv and run.json."""
    scenario = apply_overrides(load_scenario(args.scenario), args.set)
    out = _output_folder(args.out)
    seeds = _seeds(args)
    started = time.perf_counter()
    tidy = _run(scenario, args)
    summary = ensemble.summarise(tidy, year=2025)
    meta = {
        "scenario": scenario.to_dict(),
        "seeds": seeds,
        "scale": args.scale,
        "horizon": args.horizon,
        "engine": args.engine,
        "package_version": sim.__version__,
        "python": platform.python_version(),
        "command": "python -m sim " + " ".join(sys.argv[1:]),
    }
    _atomic_write(out / "indicators.csv", tidy.to_csv(index=False, float_format="%.10g"))
    _atomic_write(out / "summary.csv", summary.to_csv(index=False, float_format="%.10g"))
    _atomic_write(out / "run.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    if args.format == "table":
        print(format_table(summary, args.lang))
    if not args.quiet:
        print(f"wrote {out / 'indicators.csv'}, {out / 'summary.csv'}, {out / 'run.json'} "
              f"({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return 0


def format_comparison(table: pd.DataFrame, name_a: str, name_b: str, year: int, lang: str = "zh") -> str:
    """A readable table of B - A per indicator with the band of the paired difference."""
    zh = lang == "zh"
    head = ("指标", f"{name_a}", f"{name_b}", f"差值中位数 [5%-95%]", "达标概率 A→B") if zh else \
        ("Indicator", name_a, name_b, "difference median [5%-95%]", "P(met) A->B")
    lines = []
    for row in table.itertuples(index=False):
        prob = "" if row.prob_met_a != row.prob_met_a else f"{row.prob_met_a:.2f} -> {row.prob_met_b:.2f}"
        lines.append((row.name_zh if zh else row.name_en, f"{row.median_a:.1f}", f"{row.median_b:.1f}",
                      f"{row.difference_median:+.2f} [{row.difference_p05:+.2f}, {row.difference_p95:+.2f}]", prob))
    widths = [max(_width(x) for x in col) for col in zip(head, *lines)]
    title = f"{year}年：{name_b} 相对 {name_a}（同一随机数）" if zh else \
        f"{year}: {name_b} against {name_a} (common random numbers)"
    out = [title, "  ".join(_pad(x, w) for x, w in zip(head, widths))]
    out += ["  ".join(_pad(x, w) for x, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios on the same seeds and report B - A per indicator."""
    scenario_a, scenario_b = load_scenario(args.scenario_a), load_scenario(args.scenario_b)
    if args.horizon < args.year:
        raise UsageError(f"--year {args.year} is after --horizon {args.horizon}; give a year up to the horizon")
    out = _output_folder(args.out) if args.out else None
    table = ensemble.compare(_run(scenario_a, args), _run(scenario_b, args), year=args.year)
    if out is not None:
        _atomic_write(out / "compare.csv", table.to_csv(index=False, float_format="%.10g"))
    print(format_comparison(table, scenario_a.name, scenario_b.name, args.year, args.lang))
    return 0


def cmd_levers(_: argparse.Namespace) -> int:
    """Print the lever and uncertainty declarations."""
    for title, items in (("levers", LEVERS), ("uncertainties", UNCERTAINTIES)):
        print(f"# {title}")
        for lv in items:
            print(f"{lv.id:34} {lv.low:g}..{lv.high:g} {lv.unit:40} 2020={lv.value_2020:g}  {lv.label_en} / {lv.label_zh}")
    return 0


def cmd_params(_: argparse.Namespace) -> int:
    """Print the parameter table with sources."""
    for row in parameter_table():
        print(f"{row['name']:36} {row['value']:<10g} {row['unit']:36} {row['status']:10} {row['source']}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure engine speed, the full-scale run and the app's ensemble."""
    from sim.bench import result_json, run_bench

    load_scenario(args.scenario)  # fail early, with the usual message
    result = run_bench(args.scenario, compare_scale=args.compare_scale, full_scale=args.full_scale,
                       ensemble_seeds=args.ensemble_seeds,
                       progress=(lambda line: print(line, file=sys.stderr)) if args.json else print)
    if args.json:
        print(result_json(result))
    else:
        print(f"speedup (vector / mesa entity-months per second): {result.speedup:.0f}x")
        print(f"full scale ({result.full_scale:g}): {result.full_scale_seconds:.1f}s, "
              f"peak {result.full_scale_peak_memory_gb:.2f} GB")
        print(f"{result.ensemble_seeds}-seed ensemble at scale {result.ensemble_scale:g}: "
              f"{result.ensemble_seconds:.2f}s")
    return 0


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "bench": cmd_bench, "levers": cmd_levers, "params": cmd_params}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn bad input into one line and exit code 2."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ScenarioError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; files already written are complete, nothing was half-written", file=sys.stderr)
        return 130
