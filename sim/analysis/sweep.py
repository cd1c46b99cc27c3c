"""Batch sweeps: a sweep's design points over many seeds, resumable, on any backend.

``run_sweep`` computes every (design point, seed) run of a sweep (the sweep file, its
design and the scenario of each point are in :mod:`sim.analysis.sweep_spec`), in batches
of consecutive run ids; each finished batch is one Parquet file written under a
temporary name and renamed into place, so the set of files present *is* the
manifest of completed runs. Re-running the same sweep into the same folder
computes only the batches that are missing.

Runs go to a backend of :mod:`sim.runs.pools` (this process, a local process pool, a
local Dask cluster or a Dask scheduler), each through the one seed runner,
:func:`sim.runs.runner.run_seed`. The numbers depend only on the design, the seeds and
the settings, never on the backend: one process, a local process pool or a Dask cluster
give the same rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath

import numpy as np
import pandas as pd

import sim
from sim.analysis.sweep_spec import (DESIGNS, MODES, PATH_END_YEAR, Factor, SweepError,  # noqa: F401  (re-exported)
                                     Design, SweepSpec, design_of, design_table, load_sweep, parse_sweep,
                                     point_scenario, sample)
from sim.inputs.files import atomic_write_bytes, atomic_write_text
from sim.inputs.levers import LEVERS_BY_ID, UNCERTAINTIES_BY_ID, Lever, Path
from sim.inputs.scenario import Scenario
from sim.runs.pools import Backend, backend_for

RESULT_COLUMNS = ["run_id", "point", "seed", "year", "indicator", "value"]
RESULTS_DIR = "results"
_PART = re.compile(r"^part-(\d{7})\.parquet$")


# --------------------------------------------------------------------------------------------
# Runs and batches


def run_rows(scenario: Scenario, seed: int, scale: float, horizon: int, engine: str,
             indicators: Iterable[str] | None = None, years: Iterable[int] | None = None,
             parameters: str = "posterior") -> pd.DataFrame:
    """One run as tidy rows (seed, year, indicator, value), kept to the given indicators and years;
    ``parameters`` as :func:`sim.runs.runner.run_seed` takes it."""
    from sim.runs.runner import run_seed

    tidy = run_seed(scenario, seed, scale=scale, horizon=horizon, engine=engine, parameters=parameters)
    if indicators is not None:
        tidy = tidy[tidy["indicator"].isin(list(indicators))]
    if years is not None:
        tidy = tidy[tidy["year"].isin(list(years))]
    return tidy.drop(columns="scenario")


@dataclass(frozen=True)
class Batch:
    """Consecutive runs of a sweep; what a worker computes in one task."""

    index: int
    runs: tuple[tuple[int, int, int], ...]  # (run_id, point, seed)
    values: Mapping[int, Mapping[str, float]]  # point -> factor values
    base: Scenario
    factors: tuple[Factor, ...]
    scale: float
    horizon: int
    engine: str
    indicators: tuple[str, ...]
    years: tuple[int, ...]
    parameters: str = "posterior"


def run_batch(batch: Batch) -> pd.DataFrame:
    """Compute every run of a batch: tidy rows run_id, point, seed, year, indicator, value."""
    frames = []
    scenarios: dict[int, Scenario] = {}
    for run_id, point, seed in batch.runs:
        if point not in scenarios:
            scenarios[point] = point_scenario(batch.base, batch.factors, batch.values[point], f"p{point}")
        try:
            rows = run_rows(scenarios[point], seed, batch.scale, batch.horizon, batch.engine,
                            batch.indicators, batch.years, batch.parameters)
        except Exception as err:  # say which run failed; the sweep stops, finished batches stay
            raise RuntimeError(f"run {run_id} (design point {point}, seed {seed}) failed: "
                               f"{type(err).__name__}: {err}") from err
        rows.insert(0, "point", point)
        rows.insert(0, "run_id", run_id)
        frames.append(rows)
    out = pd.concat(frames, ignore_index=True)
    out = out.astype({"run_id": "int64", "point": "int64", "seed": "int64", "year": "int64", "value": "float64"})
    return out[RESULT_COLUMNS]


def default_batch_runs(n_runs: int) -> int:
    """Runs per batch (and per file) when the sweep file does not say: about 64 files, 1 to 64 runs each."""
    return max(1, min(64, math.ceil(n_runs / 64)))


@dataclass(frozen=True)
class Layout:
    """How a sweep's runs are numbered and batched (fixed by the sweep file, not by the backend)."""

    n_points: int
    seeds: tuple[int, ...]
    batch_runs: int

    @property
    def n_runs(self) -> int:
        return self.n_points * len(self.seeds)

    @property
    def n_batches(self) -> int:
        return math.ceil(self.n_runs / self.batch_runs)

    def runs(self, batch: int) -> tuple[tuple[int, int, int], ...]:
        """(run_id, point, seed) of a batch; run_id = point x seeds + seed index."""
        first = batch * self.batch_runs
        last = min(self.n_runs, first + self.batch_runs)
        s = len(self.seeds)
        return tuple((r, r // s, self.seeds[r % s]) for r in range(first, last))


def layout(spec: SweepSpec, n_points: int) -> Layout:
    n_runs = n_points * len(spec.seeds)
    return Layout(n_points, spec.seeds, spec.batch_runs or default_batch_runs(n_runs))


def make_batch(spec: SweepSpec, design: Design, lay: Layout, index: int) -> Batch:
    """A batch with the design values of its points (only those rows of the design are produced)."""
    runs = lay.runs(index)
    rows = design.rows(runs[0][1], runs[-1][1] + 1).set_index("point")
    values = {p: {f.id: float(rows.at[p, f.id]) for f in spec.factors} for p in sorted({p for _, p, _ in runs})}
    return Batch(index, runs, values, spec.base, spec.factors, spec.scale, spec.horizon, spec.engine,
                 spec.indicators, spec.years, spec.parameters)


# --------------------------------------------------------------------------------------------
# The sweep folder: design, metadata, one Parquet file per finished batch




def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj).__name__)


def _scenario_changes(scenario: Scenario) -> dict:
    """What a scenario's policy sets away from the declared 2020 values (levers added to the code
    later, at their 2020 values, do not change it)."""
    def changed(paths: Mapping[str, Path], specs: Mapping[str, Lever]) -> dict:
        return {k: [list(p) for p in v.points] for k, v in paths.items()
                if k not in specs or v != Path.constant(specs[k].value_2020)}

    return {"levers": changed(scenario.levers, LEVERS_BY_ID),
            "city_levers": {c: {k: [list(p) for p in v.points] for k, v in d.items()}
                            for c, d in scenario.city_levers.items() if d},
            "uncertainties": changed(scenario.uncertainties, UNCERTAINTIES_BY_ID)}


def _git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=FilePath(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _posterior_digest() -> str:
    """SHA-256 of the committed posterior files (what posterior runs draw from), or a note if none."""
    from sim.inputs.posterior import POSTERIOR_FILE, SUBMODEL_POSTERIOR_FILE

    return " ".join(hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else f"no {f.name}"
                    for f in (POSTERIOR_FILE, SUBMODEL_POSTERIOR_FILE))


def fingerprint_parts(spec: SweepSpec, design: Design, lay: Layout) -> dict[str, str]:
    """What makes two sweeps the same, each part hashed (so a mismatch can say what differs)."""
    base = _scenario_changes(spec.base)
    parts = {
        "design": design.digest(),
        "factor modes": [[f.id, f.kind, f.mode] for f in spec.factors],
        "seeds": list(spec.seeds),
        "horizon": spec.horizon,
        "scale": spec.scale,
        "engine": spec.engine,
        "parameters": spec.parameters,
        # the posterior the seeds draw from (a recalibration changes the numbers)
        "posterior": _posterior_digest() if spec.parameters == "posterior" else "not used",
        "indicators": "every modelled indicator" if spec.all_indicators else list(spec.indicators),
        "years": list(spec.years),
        "batch_runs": lay.batch_runs,
        "base scenario": base,
        # every parameter value the model runs with (a recalibration changes the numbers)
        "model parameters": dataclasses.asdict(spec.base.parameters),
    }
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True, default=_json_default).encode()).hexdigest()[:16]
            for k, v in parts.items()}


def completed_batches(out: str | FilePath) -> set[int]:
    """Batches with a finished results file: the sweep's manifest, read from the files present. A part
    whose Parquet footer does not read (cut short or damaged outside this program) does not count: the
    next run of the sweep computes that batch again and replaces the file."""
    folder = FilePath(out) / RESULTS_DIR
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for name in os.listdir(folder) if (m := _PART.match(name)) and _readable(folder / name)}


def _readable(path: FilePath) -> bool:
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows > 0
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return False


def part_path(out: FilePath, batch: int) -> FilePath:
    return out / RESULTS_DIR / f"part-{batch:07d}.parquet"


def _write_part(out: FilePath, batch: int, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    atomic_write_bytes(part_path(out, batch), lambda tmp: pq.write_table(table, tmp))


@dataclass
class SweepReport:
    """What ``run_sweep`` did."""

    out: str
    n_points: int
    n_runs: int
    runs_before: int
    runs_computed: int
    seconds: float
    backend: str

    @property
    def complete(self) -> bool:
        return self.runs_before + self.runs_computed == self.n_runs

    @property
    def runs_per_second(self) -> float:
        return self.runs_computed / self.seconds if self.seconds > 0 else float("nan")


class _FolderLock:
    def __init__(self, out: FilePath):
        self.path = out / ".lock"
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise SweepError(f"--out {self.path.parent}: another sweep is writing to this folder; "
                             "wait for it or give another folder") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _plan_folder(spec: SweepSpec, out: FilePath) -> tuple[Design, Layout, dict, str, bool, dict | None]:
    """The design and layout, checked against what the folder already holds (reads JSON only).

    Returns:
        (design, layout, fingerprint parts, fingerprint, whether the folder already holds this sweep,
        its sweep.json if so).
    """
    design = design_of(spec)
    lay = layout(spec, design.n_points)
    parts = fingerprint_parts(spec, design, lay)
    fingerprint = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    meta_path = out / "sweep.json"
    if meta_path.exists():
        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SweepError(f"--out {out}: sweep.json is unreadable; give a new folder") from None
        if old.get("fingerprint") != fingerprint:
            differ = [k for k, v in parts.items() if old.get("fingerprint_parts", {}).get(k) != v]
            raise SweepError(f"--out {out}: holds results of a different sweep (differs in: "
                             f"{', '.join(differ) or 'everything'}); give a new folder or delete this one")
        return design, lay, parts, fingerprint, True, old
    if completed_batches(out):
        raise SweepError(f"--out {out}: has results but no sweep.json; give a new folder or delete this one")
    return design, lay, parts, fingerprint, False, None


def _write_folder(spec: SweepSpec, out: FilePath, design: Design, lay: Layout, parts: dict,
                  fingerprint: str, command: str) -> None:
    """Write the design table, a copy of the sweep file and sweep.json (each atomically); the design
    goes out slice by slice."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)

    def write_parquet(tmp: str) -> None:
        writer = None
        for table in design.chunks():
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp, arrow.schema)
            writer.write_table(arrow)
        if writer is not None:
            writer.close()

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            for i, table in enumerate(design.chunks()):
                table.to_csv(fh, index=False, header=i == 0, float_format="%.12g")

    atomic_write_bytes(out / "design.parquet", write_parquet)
    atomic_write_bytes(out / "design.csv", write_csv)
    try:
        atomic_write_text(out / "sweep.toml", FilePath(spec.source).read_text(encoding="utf-8"))
    except OSError:
        pass
    meta = {
        "name": spec.name, "description": spec.description, "source": spec.source, "base": spec.base_file,
        "design": spec.design, "samples": spec.samples, "design_seed": spec.design_seed,
        "second_order": spec.second_order, "levels": spec.levels,
        "factors": [dataclasses.asdict(f) for f in spec.factors],
        "seeds": list(spec.seeds), "horizon": spec.horizon, "scale": spec.scale, "engine": spec.engine,
        "parameters": spec.parameters,
        "indicators": "every modelled indicator" if spec.all_indicators else list(spec.indicators), "years": list(spec.years),
        "n_points": lay.n_points, "n_runs": lay.n_runs, "batch_runs": lay.batch_runs, "n_batches": lay.n_batches,
        "run_id": "point * len(seeds) + index of the seed; seed = seeds[run_id % len(seeds)]",
        "fingerprint": fingerprint, "fingerprint_parts": parts,
        "base_scenario": spec.base.to_dict(),
        "package_version": sim.__version__, "git_commit": _git_commit(), "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command,
    }
    # sweep.json last: a folder with sweep.json has its design
    atomic_write_text(out / "sweep.json", json.dumps(meta, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def prepare_folder(spec: SweepSpec, out: str | FilePath, command: str = "") -> tuple[Design, Layout]:
    """Create or check the sweep folder: design table and metadata; refuse a folder of another sweep."""
    out = FilePath(out)
    out.mkdir(parents=True, exist_ok=True)
    design, lay, parts, fingerprint, exists, _ = _plan_folder(spec, out)
    if not exists:
        _write_folder(spec, out, design, lay, parts, fingerprint, command)
    return design, lay


def run_sweep(spec: SweepSpec, out: str | FilePath, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, progress: bool = True, max_batches: int | None = None,
              command: str = "", log: Callable[[str], None] | None = None,
              backend: Backend | None = None) -> SweepReport:
    """Compute the sweep's missing runs into ``out``; finished batches are never recomputed.

    Args:
        spec: The validated sweep.
        out: Sweep folder (created; re-use it to resume).
        workers: Local pool processes (1: this process). Ignored with a Dask backend.
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``).
        dask_local: Start a local Dask cluster of this many worker processes.
        progress: Show a progress bar with time left on stderr.
        max_batches: Stop after this many batches (a partial sweep, e.g. to spread it over sessions).
        command: The command line, recorded in sweep.json.
        log: Where to say what is happening (stderr by default when progress is on).
        backend: An already started Backend to use (then workers, scheduler and dask_local are ignored).

    Returns:
        Counts and timing of what was done.
    """
    out = FilePath(out)
    out.mkdir(parents=True, exist_ok=True)
    say = log or ((lambda line: print(line, file=sys.stderr, flush=True)) if progress else (lambda line: None))
    own = backend is None
    backend = backend or backend_for(workers, scheduler, dask_local, preload=("sim.analysis.sweep",))
    with _FolderLock(out):
        design, lay, parts, fingerprint, exists, old = _plan_folder(spec, out)
        done = completed_batches(out)
        done_runs = sum(len(lay.runs(b)) for b in done if b < lay.n_batches)
        missing = [b for b in range(lay.n_batches) if b not in done]
        if max_batches is not None:
            missing = missing[:max_batches]
        if old and missing and done and old.get("git_commit") and old.get("git_commit") != _git_commit():
            say(f"note: this sweep was started at commit {old['git_commit'][:10]}, the code is now at "
                f"{(_git_commit() or 'unknown')[:10]}; if the model changed, its runs mix two versions")
        if exists and not missing:
            say(f"{spec.name}: all {lay.n_runs} runs are done in {out}")
            return SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, 0, 0.0, backend.describe())
        with backend if own else contextlib.nullcontext():
            # workers start before this process writes Parquet (Arrow's threads) or shows the progress bar:
            # a local pool then forks a single-threaded process
            if not exists:
                _write_folder(spec, out, design, lay, parts, fingerprint, command)
            for name in os.listdir(out / RESULTS_DIR):  # leftovers of an interrupted write: never results
                if name.startswith(".tmp-"):
                    (out / RESULTS_DIR / name).unlink(missing_ok=True)
            started = time.perf_counter()
            computed = 0
            if not missing:
                return SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, 0, 0.0, backend.describe())
            say(f"{spec.name}: {lay.n_points} design points x {len(spec.seeds)} seeds = {lay.n_runs} runs; "
                f"{done_runs} done before, {sum(len(lay.runs(b)) for b in missing)} to run on "
                f"{backend.describe()}")
            from tqdm import tqdm

            bar = tqdm(total=lay.n_runs, initial=done_runs, unit="run", disable=not progress, file=sys.stderr,
                       desc=spec.name, dynamic_ncols=True)
            try:
                jobs = (make_batch(spec, design, lay, b) for b in missing)
                for i, frame in backend.imap_unordered(run_batch, jobs):
                    _write_part(out, missing[i], frame)
                    n = len(lay.runs(missing[i]))
                    computed += n
                    bar.update(n)
            finally:
                bar.close()
            seconds = time.perf_counter() - started
    report = SweepReport(str(out), lay.n_points, lay.n_runs, done_runs, computed, seconds, backend.describe())
    if report.complete:
        say(f"{spec.name}: complete, {lay.n_runs} runs in {out / RESULTS_DIR} "
            f"({computed} computed now in {seconds:.1f}s, {report.runs_per_second:.1f} runs/s)")
    return report


def load_design(out: str | FilePath) -> pd.DataFrame:
    """The design table of a sweep folder."""
    return pd.read_parquet(FilePath(out) / "design.parquet")


def load_meta(out: str | FilePath) -> dict:
    """sweep.json of a sweep folder."""
    return json.loads((FilePath(out) / "sweep.json").read_text(encoding="utf-8"))


def load_results(out: str | FilePath) -> pd.DataFrame:
    """Every finished run's rows (run_id, point, seed, year, indicator, value), sorted by run_id.

    Only complete files are read: a file is renamed into place after it is fully written,
    and temporary files (dot-named) are never matched.
    """
    out = FilePath(out)
    batches = sorted(completed_batches(out))
    if not batches:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else
                                          ("object" if c == "indicator" else "int64")) for c in RESULT_COLUMNS})
    frames = [pd.read_parquet(part_path(out, b)) for b in batches]
    return pd.concat(frames, ignore_index=True).sort_values(["run_id", "year", "indicator"],
                                                            kind="stable", ignore_index=True)


def ensure_complete(out: str | FilePath) -> None:
    """Raise SweepError unless every run of the sweep in ``out`` is there."""
    meta = load_meta(out)
    done = completed_batches(out)
    missing = meta["n_batches"] - len([b for b in done if b < meta["n_batches"]])
    if missing:
        raise SweepError(f"--out {out}: the sweep is incomplete ({missing} of {meta['n_batches']} batches "
                         "missing); run the sweep command again to finish it")


# --------------------------------------------------------------------------------------------
# In-memory evaluation (target search): a point's runs over seeds, on any backend


def evaluate(backend: Backend, scenarios: Sequence[Scenario], seeds: Sequence[int], scale: float, horizon: int,
             engine: str, indicators: Sequence[str], years: Sequence[int]) -> list[pd.DataFrame]:
    """Tidy rows (seed, year, indicator, value) for each scenario over the seeds, in scenario order."""
    jobs = [(k, s) for k in range(len(scenarios)) for s in seeds]
    frames: dict[int, pd.DataFrame] = {}
    tasks = ((scenarios[k], s, scale, horizon, engine, tuple(indicators), tuple(years)) for k, s in jobs)
    for i, frame in backend.imap_unordered(_run_rows_args, tasks):
        frames[i] = frame
    out = []
    for k in range(len(scenarios)):
        parts = [frames[i] for i, (kk, _) in enumerate(jobs) if kk == k]
        out.append(pd.concat(parts, ignore_index=True).sort_values(["seed", "year", "indicator"],
                                                                   ignore_index=True))
    return out


def _run_rows_args(args: tuple) -> pd.DataFrame:
    return run_rows(*args)
