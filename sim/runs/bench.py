"""``python -m sim bench``: engine speed, full-scale time and memory, ensemble time.

Three measurements in one process run (the full-scale run in a child process, so its
peak memory is its own):

1. both engines on the same scenario and scale: simulated entity-months per second and
   their ratio (``speedup``), each after a warm-up month (the vector engine the median of three
   runs, as one of its runs lasts a fraction of a second);
2. the vectorised engine at scale 1 - every real entity simulated, about 8 million
   growing to over 10 million - January 2021 to December 2025: wall time, nanoseconds per
   simulated entity-month and peak resident memory;
3. a 20-seed ensemble of the vectorised engine at the app's default scale, on a pool of warm
   worker processes (one per CPU), as the app runs its seeds once its pool has started.

Every result carries the CPU model: these machines come in two classes about 1.75x apart.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from sim.core.calendar import DEFAULT_HORIZON, START_YEAR
from sim.inputs.scenario import Scenario, load_scenario
from sim.runs.ensemble import run_ensemble
from sim.runs.pools import WarmPool
from sim.runs.runner import ENGINES

APP_SCALE = 8000.0
APP_SEEDS = 20


@dataclass
class BenchResult:
    """What ``bench`` measures; ``--json`` prints it."""

    scenario: str
    compare_scale: float
    compare_months: int
    mesa_entity_steps_per_second: float
    vector_entity_steps_per_second: float
    speedup: float
    full_scale: float
    full_scale_entities_start: int
    full_scale_entities_end: int
    full_scale_seconds: float
    full_scale_ns_per_entity_month: float
    full_scale_peak_memory_gb: float
    full_scale_huge_pages: bool  # whether numpy put the run's large arrays in huge pages (sim/__init__.py)
    ensemble_scale: float
    ensemble_seeds: int
    ensemble_seconds: float
    machine: str
    cpu_model: str
    cpu_count: int
    python: str
    # filled in by the command line, which may use the calibration layer (sim.calibration.fit.throughput)
    calibration_scale: float = float("nan")
    calibration_runs_per_second: float = float("nan")


def entity_steps_per_second(engine: str, scenario: Scenario, scale: float, months: int, seed: int = 0,
                            repeats: int = 1) -> float:
    """Simulated entity-months per second of an engine: model construction excluded, after a
    warm-up month of a small model (so compiled kernels are loaded before the clock starts), the
    median of ``repeats`` runs."""
    ENGINES[engine](scenario, scale=max(scale, 1e5), seed=seed, horizon=START_YEAR).step()
    rates = []
    for _ in range(repeats):
        model = ENGINES[engine](scenario, scale=scale, seed=seed, horizon=START_YEAR + (months - 1) // 12)
        entity_steps = 0
        started = time.perf_counter()
        for _ in range(months):
            model.step()
            entity_steps += model.simulated_entities
        rates.append(entity_steps / (time.perf_counter() - started))
    return float(sorted(rates)[len(rates) // 2])


def cpu_model() -> str:
    """The processor's model name (record it with every result: these machines come in two classes)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def full_scale_run(scenario_path: str, scale: float, horizon: int) -> dict:
    """Run the vectorised engine once in a child process; wall time, peak memory, sizes."""
    code = (
        "import json, resource, sys, time\n"
        "import numpy\n"
        "from sim.inputs.scenario import load_scenario\n"
        "from sim.engines.vector import VectorMarketModel\n"
        f"t = time.perf_counter()\n"
        f"m = VectorMarketModel(load_scenario({scenario_path!r}), scale={scale!r}, seed=0, horizon={horizon!r})\n"
        "start = m.n\n"
        "entity_months = 0\n"
        "while m.running:\n"
        "    m.step()\n"
        "    entity_months += m.simulated_entities\n"
        "out = {'seconds': time.perf_counter() - t, 'start': start, 'end': int(m.n), 'entity_months': entity_months,\n"
        "       'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
        "       'huge_pages': bool(getattr(numpy._core.multiarray, '_get_madvise_hugepage', bool)())}\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_bench(scenario_path: str = "scenarios/plan.toml", compare_scale: float = 100.0, compare_months: int = 12,
              full_scale: float = 1.0, ensemble_scale: float = APP_SCALE, ensemble_seeds: int = APP_SEEDS,
              progress=print) -> BenchResult:
    """Run the three measurements; ``progress`` receives one line per stage."""
    scenario = load_scenario(scenario_path)
    progress(f"1/4 engines at scale {compare_scale:g}, {compare_months} months ...")
    mesa_rate = entity_steps_per_second("mesa", scenario, compare_scale, compare_months)
    vector_rate = entity_steps_per_second("vector", scenario, compare_scale, compare_months, repeats=3)
    progress(f"    mesa {mesa_rate:,.0f}, vector {vector_rate:,.0f} entity-months/s: x{vector_rate / mesa_rate:.0f}")
    progress(f"2/4 vector engine at scale {full_scale:g}, {START_YEAR}-{DEFAULT_HORIZON} ...")
    full = full_scale_run(scenario_path, full_scale, DEFAULT_HORIZON)
    progress(f"    {full['seconds']:.1f}s ({1e9 * full['seconds'] / max(1, full['entity_months']):.0f} ns per "
             f"entity-month, model set-up included), peak {full['peak_kb'] / 1024 ** 2:.2f} GB"
             f"{' (huge pages)' if full['huge_pages'] else ''}, "
             f"{full['start']:,} -> {full['end']:,} entities on {cpu_model()}")
    workers = os.cpu_count() or 1
    progress(f"3/4 {ensemble_seeds}-seed ensemble at scale {ensemble_scale:g} on {workers} warm worker processes "
             f"(as the app's pool) ...")
    with WarmPool(workers) as pool:
        started = time.perf_counter()
        run_ensemble(scenario, range(ensemble_seeds), scale=ensemble_scale, engine="vector", backend=pool)
        ensemble_seconds = time.perf_counter() - started
    progress(f"    {ensemble_seconds:.2f}s")
    return BenchResult(
        scenario=scenario_path, compare_scale=compare_scale, compare_months=compare_months,
        mesa_entity_steps_per_second=mesa_rate, vector_entity_steps_per_second=vector_rate,
        speedup=vector_rate / mesa_rate, full_scale=full_scale, full_scale_entities_start=full["start"],
        full_scale_entities_end=full["end"], full_scale_seconds=full["seconds"],
        full_scale_ns_per_entity_month=1e9 * full["seconds"] / max(1, full["entity_months"]),
        full_scale_peak_memory_gb=full["peak_kb"] / 1024 ** 2, full_scale_huge_pages=full["huge_pages"],
        ensemble_scale=ensemble_scale,
        ensemble_seeds=ensemble_seeds, ensemble_seconds=ensemble_seconds,
        machine=f"{platform.machine()} {platform.processor() or ''}".strip(), cpu_model=cpu_model(),
        cpu_count=os.cpu_count() or 1,
        python=platform.python_version())


def result_json(result: BenchResult) -> str:
    """The result as one JSON object."""
    return json.dumps(asdict(result), indent=2)
