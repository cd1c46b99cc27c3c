"""The ``python -m sim attribute`` command: B - A per indicator split among lever groups (Shapley).

It takes ``compare``'s options (the ensemble options, ``--year``, ``--lang``), so the two validate
their input alike; bad input gives one ``error:`` line and exit code 2 before anything is run.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata

import pandas as pd

from sim.analysis.attribution import GROUPS_BY_ID, attribute, totals
from sim.inputs.files import atomic_write_text
from sim.inputs.posterior import describe as describe_parameters
from sim.inputs.scenario import load_scenario


def _count(text: str) -> int:
    from sim import cli

    return cli._whole_number(text, 0)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``attribute`` subcommand to the CLI's subparsers."""
    from sim import cli

    parser = sub.add_parser("attribute", help="split each indicator's difference B - A among lever groups (Shapley)")
    parser.add_argument("scenario_a", help="reference scenario TOML file (e.g. scenarios/baseline.toml)")
    parser.add_argument("scenario_b", help="scenario compared with it (e.g. scenarios/plan.toml)")
    cli._add_ensemble_options(parser)
    parser.add_argument("--year", type=cli._horizon, default=2025, help="year attributed (default 2025)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the table")
    parser.add_argument("--out", help="folder for attribution.csv (optional)")
    parser.add_argument("--max-exact-groups", type=_count, default=6,
                        help="exact Shapley values (every subset of the differing groups) up to this many "
                             "groups; sampled orders beyond (default 6)")
    parser.add_argument("--permutations", type=cli._positive_int, default=20,
                        help="random orders of the groups when sampling (default 20)")
    parser.set_defaults(handler=cmd_attribute)


def cmd_attribute(args: argparse.Namespace) -> int:
    """Run every hybrid of the two scenarios on the same seeds, print the table, write attribution.csv."""
    from sim import cli

    scenario_a, scenario_b = load_scenario(args.scenario_a), load_scenario(args.scenario_b)
    if args.year > args.horizon:
        raise cli.UsageError(f"--year {args.year} is after --horizon {args.horizon}; give a year up to the horizon")
    seeds = cli._seeds(args)
    out = cli._output_folder(args.out) if args.out else None
    describe_parameters(args.parameters, [])  # a damaged posterior file stops here, before any run
    started = time.perf_counter()
    frame = attribute(scenario_a, scenario_b, seeds, year=args.year, scale=args.scale, engine=args.engine,
                      workers=args.workers, parameters=args.parameters, max_exact_groups=args.max_exact_groups,
                      permutations=args.permutations, progress=cli._progress("attribution", "runs", args.quiet),
                      horizon=args.horizon)
    if out is not None:
        atomic_write_text(out / "attribution.csv", frame.to_csv(index=False, float_format="%.10g"))
    print(format_attribution(frame, scenario_a.name, scenario_b.name, args.lang))
    if not args.quiet:
        wrote = f"; wrote {out / 'attribution.csv'}" if out is not None else ""
        print(f"{frame.attrs['runs']} runs in {time.perf_counter() - started:.1f}s{wrote}", file=sys.stderr)
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _cell(value: float, se: float) -> str:
    if se != se:  # one seed: no standard error
        return f"{value:+.2f}"
    return f"{value:+.2f} ±{se:.2f}"


def format_attribution(frame: pd.DataFrame, name_a: str, name_b: str, lang: str = "zh") -> str:
    """A readable table: one line per indicator, a column per group that differs (contribution
    ± standard error) and the total B - A they add up to; identical groups are named below it."""
    zh = lang == "zh"
    attrs = frame.attrs
    played = list(attrs.get("groups_run", []))
    label = (lambda g: GROUPS_BY_ID[g].label_zh) if zh else (lambda g: GROUPS_BY_ID[g].label_en)
    head = ["指标" if zh else "Indicator", *(label(g) for g in played), "合计 B - A" if zh else "total B - A"]
    lines = []
    by_indicator = frame.set_index(["indicator", "group"])
    for row in totals(frame).itertuples(index=False):
        first = by_indicator.loc[(row.indicator, frame["group"].iloc[0])]
        cells = [_cell(*by_indicator.loc[(row.indicator, g), ["contribution", "se"]]) for g in played]
        lines.append([first["name_zh"] if zh else first["name_en"], *cells, _cell(row.total, row.total_se)])
    widths = [max(_width(x) for x in col) for col in zip(head, *lines)]
    n_seeds, year = len(attrs.get("seeds", [])), attrs.get("year")
    method = attrs.get("method")
    if zh:
        how = {"exact": f"{len(played)}组全部子集精确计算", "identical": "两情景政策组相同",
               "permutations": f"{attrs.get('permutations')}个随机顺序抽样"}[method]
        title = (f"{year}年：{name_b} 相对 {name_a} 的差值按政策组分解（Shapley值，{how}，"
                 f"{n_seeds}个种子，同一随机数）")
        note = "每格：贡献 ±标准误；各组贡献之和等于合计。"
    else:
        how = {"exact": f"exact over the {len(played)} groups' subsets", "identical": "no group differs",
               "permutations": f"{attrs.get('permutations')} sampled orders"}[method]
        title = (f"{year}: {name_b} against {name_a}, split by lever group (Shapley values, {how}, "
                 f"{n_seeds} seeds, common random numbers)")
        note = "Each cell: contribution ±standard error; the groups' contributions add up to the total."
    out = [title, "  ".join(_pad(x, w) for x, w in zip(head, widths))]
    out += ["  ".join(_pad(x, w, right=i > 0) for i, (x, w) in enumerate(zip(line, widths))) for line in lines]
    same = [label(g) for g in dict.fromkeys(frame["group"]) if g not in played]
    out.append(note)
    if same:
        out.append(("两情景相同、贡献为0（未模拟）：" if zh else "Identical in both, contribution 0 (not run): ")
                   + ("、" if zh else ", ").join(same))
    return "\n".join(out)
