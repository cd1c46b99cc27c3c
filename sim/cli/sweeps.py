"""The sweep commands: ``sweep``, ``sensitivity``, ``discover`` and ``target``.

Each runs (or resumes) a sweep file's design on a local pool or a Dask cluster; bad input gives one
``error:`` line and exit code 2 (:func:`sim.cli.main`) before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli import UsageError, _horizon, _output_folder, _positive_int
from sim.inputs.files import atomic_write_text


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is out of range; allowed: a probability above 0 and up to 1")
    return value


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=None,
                        help="local processes (default: CPU count; 1 = this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="run on a running Dask distributed scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--dask-local", type=_positive_int, metavar="N", default=None,
                        help="start a local Dask cluster of N worker processes and run on it")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sweep commands to the CLI's subparsers."""
    sweep = sub.add_parser("sweep", help="run a sweep file's design x seeds into a resumable Parquet dataset")
    sweep.add_argument("file", help="sweep TOML file (see scenarios/sweeps/)")
    sweep.add_argument("--out", required=True, help="sweep folder; run the same command again to resume")
    _add_backend_options(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    sens = sub.add_parser("sensitivity", help="Sobol or Morris indices of an indicator from a sweep (runs it first)")
    sens.add_argument("file", help="sweep TOML file with design = \"sobol\" or \"morris\"")
    sens.add_argument("--out", required=True, help="the sweep's folder (missing runs are computed first)")
    sens.add_argument("--indicator", required=True,
                      help="indicator id, or all_binding_met (share of seeds meeting every binding target)")
    sens.add_argument("--year", type=_horizon, default=2025, help="year analysed (default 2025)")
    sens.add_argument("--statistic", choices=("mean", "median", "prob_met"), default="mean",
                      help="per design point, over seeds: mean (default), median, or P(target met)")
    _add_backend_options(sens)
    sens.set_defaults(handler=cmd_sensitivity)

    disc = sub.add_parser("discover", help="PRIM box of lever ranges where every binding target is met")
    disc.add_argument("file", help="sweep TOML file")
    disc.add_argument("--out", required=True, help="the sweep's folder (missing runs are computed first)")
    disc.add_argument("--prob", type=_probability, default=0.8,
                      help="a design point counts when all binding targets are met together in at least this "
                           "share of its seeds (default 0.8)")
    disc.add_argument("--density", type=_probability, default=0.8,
                      help="least density of the box reported (default 0.8)")
    _add_backend_options(disc)
    disc.set_defaults(handler=cmd_discover)

    tgt = sub.add_parser("target", help="least costly lever settings meeting every binding target with P >= prob")
    tgt.add_argument("--prob", type=_probability, required=True, help="required probability for each target")
    tgt.add_argument("--sweep", default="scenarios/sweeps/target.toml", help="sweep file: levers and ranges searched")
    tgt.add_argument("--costs", default="scenarios/sweeps/costs.toml", help="cost per lever unit (TOML)")
    tgt.add_argument("--out", default=None,
                     help="scenario file written (default out/least_cost_p<prob>.toml)")
    tgt.add_argument("--work", default=None, help="folder for the sweep's runs (default out/sweeps/<sweep name>)")
    tgt.add_argument("--targets", default=None, metavar="ID[,ID]",
                     help="only these binding indicators (default: every binding indicator the model computes)")
    tgt.add_argument("--refine-steps", type=_positive_int, default=6, help="bisection steps per lever (default 6)")
    tgt.add_argument("--passes", type=_positive_int, default=2,
                     help="most refinement passes over the levers (default 2)")
    _add_backend_options(tgt)
    tgt.set_defaults(handler=cmd_target)


def _backend(args: argparse.Namespace):
    from sim.runs.pools import backend_for

    if args.scheduler and args.dask_local:
        raise UsageError("--scheduler and --dask-local: give one of them (a running cluster, or a local one to start)")
    if (args.scheduler or args.dask_local) and args.workers:
        raise UsageError("--workers is for the local process pool; with Dask the cluster's workers run the sweep")
    return backend_for(args.workers, args.scheduler, args.dask_local)


def _sweep_folder(args: argparse.Namespace, spec, backend=None) -> Path:
    """Load (or compute the missing runs of) the sweep in --out; returns the folder."""
    from sim.analysis.sweep import run_sweep

    out = _output_folder(args.out)
    run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
              progress=not args.quiet, command="python -m sim " + " ".join(sys.argv[1:]), backend=backend)
    return out


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sweep into --out."""
    from sim.analysis.sweep import load_sweep, run_sweep

    spec = load_sweep(args.file)
    _backend(args)  # check the backend options before anything is written
    out = _output_folder(args.out)
    report = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
                       progress=not args.quiet, command="python -m sim " + " ".join(sys.argv[1:]))
    if not args.quiet:
        print(f"{report.n_runs} runs ({report.n_points} points x {len(spec.seeds)} seeds) in {out}: "
              f"results/*.parquet, design.parquet, design.csv, sweep.json", file=sys.stderr)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Sobol or Morris indices of one indicator over a sweep; table, CSV and PNG."""
    from sim.analysis import sensitivity
    from sim.inputs.files import atomic_write_bytes
    from sim.analysis.sweep import load_design, load_results, load_sweep

    spec = load_sweep(args.file)
    if spec.design not in ("sobol", "morris"):
        raise UsageError(f"{args.file}: design: sensitivity needs design = \"sobol\" or \"morris\"; "
                         f"this sweep has {spec.design!r}")
    if args.indicator != sensitivity.ALL_BINDING and args.indicator not in spec.indicators:
        raise UsageError(f"--indicator {args.indicator}: not kept by the sweep; allowed: "
                         f"{', '.join(list(spec.indicators) + [sensitivity.ALL_BINDING])}")
    if args.indicator == sensitivity.ALL_BINDING:
        sensitivity.check_keeps_binding(spec)
    if args.indicator != sensitivity.ALL_BINDING and args.year not in spec.years:
        raise UsageError(f"--year {args.year}: not kept by the sweep; allowed: {', '.join(map(str, spec.years))}")
    _backend(args)
    out = _sweep_folder(args, spec)
    kind, table = sensitivity.analyse(spec, load_design(out), load_results(out), args.indicator, args.year,
                                      args.statistic)
    stem = f"sensitivity_{args.indicator}_{args.year}" + ("" if args.statistic == "mean" else f"_{args.statistic}")
    if args.indicator == sensitivity.ALL_BINDING:
        stem = f"sensitivity_{args.indicator}"
    atomic_write_text(out / f"{stem}.csv", table.to_csv(index=False, float_format="%.6g"))
    what = (f"{args.indicator} ({args.statistic} over {len(spec.seeds)} seeds, {args.year})"
            if args.indicator != sensitivity.ALL_BINDING else "all binding targets met (share of seeds)")
    title = f"{'Sobol' if kind == 'sobol' else 'Morris'} sensitivity of {what}\nsweep {spec.name}, {len(table)} factors"
    atomic_write_bytes(out / f"{stem}.png", lambda tmp: sensitivity.plot_indices(kind, table, title, tmp))
    print(f"{'Sobol indices' if kind == 'sobol' else 'Morris elementary effects'} of {what}:")
    print(sensitivity.format_indices(kind, table))
    if not args.quiet:
        print(f"wrote {out / (stem + '.csv')}, {out / (stem + '.png')}", file=sys.stderr)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """PRIM box of the lever ranges where every binding target is met with P >= --prob."""
    from sim.analysis.discovery import discover, format_discovery
    from sim.analysis.sweep import load_design, load_results, load_sweep

    from sim.analysis.sensitivity import check_keeps_binding

    spec = load_sweep(args.file)
    check_keeps_binding(spec)
    _backend(args)
    out = _sweep_folder(args, spec)
    result = discover(spec, load_design(out), load_results(out), prob=args.prob, min_density=args.density)
    stem = f"discovery_p{args.prob:g}"
    atomic_write_text(out / f"{stem}.csv", result.box.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(out / f"{stem}.json", json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    print(format_discovery(result))
    if not args.quiet:
        print(f"wrote {out / (stem + '.csv')}, {out / (stem + '.json')}", file=sys.stderr)
    return 0


def cmd_target(args: argparse.Namespace) -> int:
    """Least-cost lever settings meeting every binding target with P >= --prob; writes a scenario file."""
    from sim.analysis import target
    from sim.analysis.sweep import load_sweep

    spec = load_sweep(args.sweep)
    costs = target.load_costs(args.costs)
    only = [t.strip() for t in args.targets.split(",") if t.strip()] if args.targets else None
    target._targets(only)  # bad ids fail before anything runs
    out_file = Path(args.out or f"out/least_cost_p{args.prob:g}.toml")
    if out_file.exists() and out_file.is_dir():
        raise UsageError(f"--out {out_file}: is a folder; give a scenario file name ending in .toml")
    _output_folder(str(out_file.parent))
    work = _output_folder(args.work or f"out/sweeps/{spec.name}")
    with _backend(args) as backend:
        result = target.search(spec, costs, args.prob, work, backend, targets=only,
                               refine_steps=args.refine_steps, passes=args.passes, progress=not args.quiet)
    atomic_write_text(out_file, target.scenario_file_text(result, spec, costs))
    print(target.format_result(result, spec, costs))
    print(f"wrote {out_file}: python -m sim run --scenario {out_file} --seeds {len(result.seeds)} "
          f"--first-seed {result.seeds[0]} --scale {spec.scale:g} --engine {spec.engine} --out DIR")
    return 0 if result.feasible else 1
