"""The app under load: how long a session waits for its first seed when others are running.

    .venv/bin/python benchmarks/app_load.py                       # 1, 4 and 8 sessions; writes APP_LOAD.md
    .venv/bin/python benchmarks/app_load.py --sessions 1 4 --seeds 4 --out -   # print only

Each session is a thread doing what a page does when its settings change: ``runner.compute``
of its own scenario (the plan with its own double-random share, so no session shares another's
cached seeds) over ``--seeds`` seeds at scale 8000 to 2025, on one warm pool of two worker
processes shared by every session - the app's server. All sessions start together. Measured per
session: the time to its first finished seed (when its page can first show a number) and to its
whole ensemble. Two ways to share the pool are timed: the app's fair scheduler
(``sim.ui.scheduler``: one run from each session in turn) and first-come-first-served on the
same pool (what the app did before). An untimed round first lets the workers load what later runs
reuse. The machine's CPU model is recorded with the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.runs.bench import cpu_model  # noqa: E402
from sim.runs.pools import warm_pool  # noqa: E402
from sim.inputs.scenario import load_scenario  # noqa: E402
from sim.ui import runner  # noqa: E402
from sim.ui import scenario as sc  # noqa: E402
from sim.ui.scheduler import FairScheduler  # noqa: E402

SCALE, HORIZON, WORKERS = 8000, 2025, 2


def one_round(sessions: int, seeds: int, fair: bool, pool, round_id: int) -> list[tuple[float, float]]:
    """(seconds to first seed, seconds to all seeds) of each session, all started together."""
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    scheduler = FairScheduler(pool, runner.run) if fair else None
    out: list[tuple[float, float]] = [(0.0, 0.0)] * sessions
    start = threading.Barrier(sessions + 1)

    def session(k: int) -> None:
        share = 30 + round_id * 10 + k + (0.5 if fair else 0.0)  # its own scenario: nothing cached
        scenario = sc.resolve(plan, {"dual_random_share": share})
        request = runner.Request(sc.run_key(scenario), f"s{k}")
        cache = runner.SeedCache()
        keys = runner.missing(cache, [request], range(seeds), SCALE, HORIZON)
        first = []
        start.wait()
        t0 = time.perf_counter()
        runner.compute(cache, keys, sc.from_key, lambda done, total, left: first.append(time.perf_counter() - t0),
                       executor=None if fair else pool, scheduler=scheduler)
        out[k] = (first[0], time.perf_counter() - t0)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for th in threads:
        th.start()
    start.wait()
    for th in threads:
        th.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per session (the app's default: 10)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "APP_LOAD.md"), help="file to write, or -")
    args = parser.parse_args()
    pool = warm_pool(WORKERS)
    rows = []
    try:
        for fair in (True, False):  # untimed: the workers' first runs load what later runs reuse
            one_round(2, 2, fair, pool, -2)
        for i, n in enumerate(args.sessions):
            for fair in (True, False):
                times = one_round(n, args.seeds, fair, pool, i)
                firsts, alls = [t[0] for t in times], [t[1] for t in times]
                rows.append(f"| {n} | {'fair scheduler (the app)' if fair else 'first come, first served'} | "
                            f"{statistics.median(firsts):.2f} | {max(firsts):.2f} | {statistics.median(alls):.2f} | "
                            f"{max(alls):.2f} |")
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        pool.shutdown()
    text = "\n".join([
        "# The app under load",
        "",
        f"`python benchmarks/app_load.py` on {cpu_model()}, {WORKERS} worker processes; each session "
        f"{args.seeds} seeds of its own plan variant at scale {SCALE} to {HORIZON}, all sessions started "
        "together (seconds from the request).",
        "",
        "| sessions | pool shared by | first seed, median | first seed, slowest session | all seeds, median | "
        "all seeds, slowest |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows, "",
        "Round robin gives every session its first seeds early - the page of the slowest of eight sessions",
        "shows a first number in about half the time first-come-first-served takes - at the price of a later",
        "finish for the sessions that would have come first: the pool's throughput is the same either way,",
        "so with everyone's runs interleaved most sessions finish near the end of the whole batch. A request",
        "is also capped (15 million simulated entity-years) so no session can hold the pool for long.", ""])
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
