"""Sweep throughput: runs per second of `python -m sim sweep` at the app's default scale.

    .venv/bin/python benchmarks/sweep_bench.py                 # 1 and 2 local workers, Dask 1 and 2
    .venv/bin/python benchmarks/sweep_bench.py --runs 400 --backends pool:1 pool:2 dask:2

Each measurement runs the same Latin-hypercube sweep (plan.toml as base, four levers, two
seeds, vector engine, scale 8000, horizon 2025, every modelled indicator kept for 2020-2025)
into a fresh folder and times ``run_sweep`` end to end: starting the workers, computing,
writing the Parquet files. ``runs/s`` is runs / that wall time; ``runs/s after start-up``
subtracts the backend's start-up time, measured separately by starting and stopping the
same backend with no work; ``CPU s per run`` (one worker: the runs are in this process) is
the CPU time per run - what a run costs whatever else the machine is doing.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis.sweep import parse_sweep, run_sweep  # noqa: E402
from sim.runs.pools import backend_for  # noqa: E402


def spec(points: int, seeds: int):
    return parse_sweep({
        "name": "bench", "base": str(ROOT / "scenarios" / "plan.toml"), "design": "lhs", "samples": points,
        "design_seed": 1, "seeds": seeds, "scale": 8000, "engine": "vector", "horizon": 2025,
        "levers": {"dual_random_share": {"range": [30, 100]}, "credit_application_rate": {"range": [60, 100]},
                   "fine_level": {"range": [0.5, 2]}, "inspection_capacity": {"range": [6, 24], "as": "constant"}},
    }, "benchmarks/sweep_bench.py")


def measure(kind: str, n: int, points: int, seeds: int) -> dict:
    kwargs = {"workers": n} if kind == "pool" else {"dask_local": n}
    t = time.perf_counter()
    with backend_for(**kwargs) as backend:
        backend.slots()
    startup = time.perf_counter() - t
    out = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        cpu0 = _cpu()
        t = time.perf_counter()
        report = run_sweep(spec(points, seeds), out, progress=False, **kwargs)
        wall = time.perf_counter() - t
        cpu = _cpu() - cpu0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    runs = report.runs_computed
    return {"backend": f"{'local pool' if kind == 'pool' else 'local Dask cluster'}, {n} worker{'s' * (n > 1)}",
            "runs": runs, "wall": wall, "startup": startup, "rps": runs / wall,
            "compute_rps": runs / max(1e-9, wall - startup),
            "cpu_per_run": cpu / runs if kind == "pool" and n == 1 else None}  # workers' CPU is not all counted


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (pool and Dask workers once joined)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="runs per measurement (points x 2 seeds)")
    parser.add_argument("--backends", nargs="+", default=["pool:1", "pool:2", "dask:1", "dask:2"])
    args = parser.parse_args()
    points = max(1, args.runs // 2)
    rows = [measure(b.split(":")[0], int(b.split(":")[1]), points, 2) for b in args.backends]
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"machine: {model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"commit {commit}, {time.strftime('%Y-%m-%d %H:%M')}, load average after: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print()
    print("| backend | runs | wall time (s) | backend start-up (s) | runs/s | runs/s after start-up "
          "| CPU s per run |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['backend']} | {r['runs']} | {r['wall']:.1f} | {r['startup']:.1f} | {r['rps']:.2f} | "
              f"{r['compute_rps']:.2f} | {'-' if r['cpu_per_run'] is None else format(r['cpu_per_run'], '.2f')} |")


if __name__ == "__main__":
    main()
