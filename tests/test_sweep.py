"""Sweeps: the sweep file's validation, designs, lever paths, backends giving the same rows, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.inputs.scenario import load_scenario
from sim.analysis.sweep import RESULT_COLUMNS, completed_batches, load_meta, load_results, run_sweep
from sim.analysis.sweep_spec import SweepError, design_table, load_sweep, parse_sweep, point_scenario

SMALL = """
name = "t-small"
base = "{root}/scenarios/plan.toml"
design = "grid"
seeds = 2
horizon = 2022
scale = 100000
batch_runs = 1
[levers.dual_random_share]
values = [30, 90]
[levers.credit_application_rate]
range = [60, 100]
points = 2
[outputs]
indicators = ["dual_random_share", "credit_application_rate", "compliance_rate"]
years = [2021, 2022]
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("{root}", str(Path.cwd())), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("spec"), SMALL)


@pytest.fixture(scope="module")
def reference(small_file, tmp_path_factory) -> pd.DataFrame:
    """The small sweep run serially, in this process."""
    out = tmp_path_factory.mktemp("serial")
    report = run_sweep(load_sweep(small_file), out, workers=1, progress=False)
    assert report.complete and report.runs_computed == 8
    return load_results(out)


def test_small_sweep_rows_and_metadata(reference, small_file, tmp_path):
    assert list(reference.columns) == RESULT_COLUMNS
    assert sorted(reference["run_id"].unique()) == list(range(8))
    assert set(reference["seed"]) == {0, 1}
    assert set(reference["year"]) == {2021, 2022}
    assert set(reference["indicator"]) == {"dual_random_share", "credit_application_rate", "compliance_rate"}
    assert not reference.duplicated(["run_id", "year", "indicator"]).any()
    # run id = point x seeds + seed index
    assert (reference["point"] == reference["run_id"] // 2).all()
    assert (reference["seed"] == reference["run_id"] % 2).all()


def test_same_numbers_on_local_pool_and_local_dask_cluster(reference, small_file, tmp_path):
    spec = load_sweep(small_file)
    run_sweep(spec, tmp_path / "pool", workers=2, progress=False)
    pd.testing.assert_frame_equal(load_results(tmp_path / "pool"), reference)
    run_sweep(spec, tmp_path / "dask", dask_local=2, progress=False)
    pd.testing.assert_frame_equal(load_results(tmp_path / "dask"), reference)


def test_a_sweep_on_a_local_dask_cluster_leaves_no_process_behind(small_file, tmp_path):
    """The command a user runs, then every process that carries its marker (scripts/leftovers.py,
    which make test also runs on the whole suite) must be gone: the cluster's nannies, workers and
    multiprocessing's resource tracker end with it."""
    marker = f"sweep-test-{os.getpid()}-{time.time_ns()}"
    env = dict(os.environ, SIM_TEST_RUN=marker)
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(small_file), "--out", str(tmp_path / "out"),
                           "--dask-local", "2", "--quiet"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert load_results(tmp_path / "out")["run_id"].nunique() == 8
    check = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "scripts" / "leftovers.py"), marker],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_a_damaged_part_is_computed_again(reference, small_file, tmp_path):
    spec = load_sweep(small_file)
    run_sweep(spec, tmp_path, workers=1, progress=False)
    part = tmp_path / "results" / "part-0000002.parquet"
    part.write_bytes(part.read_bytes()[:40])  # cut short outside this program
    assert 2 not in completed_batches(tmp_path)
    again = run_sweep(spec, tmp_path, workers=1, progress=False)
    assert again.runs_computed == 1 and again.complete
    pd.testing.assert_frame_equal(load_results(tmp_path), reference)


def test_partial_sweep_resumes_to_the_complete_set(reference, small_file, tmp_path):
    spec = load_sweep(small_file)
    first = run_sweep(spec, tmp_path, workers=1, progress=False, max_batches=3)
    assert first.runs_computed == 3 and not first.complete
    assert len(completed_batches(tmp_path)) == 3
    (tmp_path / "results" / ".tmp-part-0000005.parquet.x").write_bytes(b"half a file")  # a write cut short
    second = run_sweep(spec, tmp_path, workers=2, progress=False)
    assert second.runs_before == 3 and second.runs_computed == 5 and second.complete
    assert not [n for n in os.listdir(tmp_path / "results") if n.startswith(".tmp-")]
    pd.testing.assert_frame_equal(load_results(tmp_path), reference)
    third = run_sweep(spec, tmp_path, workers=2, progress=False)
    assert third.runs_computed == 0


def test_killed_sweep_command_resumes_without_duplicates(tmp_path):
    """Kill the CLI mid-sweep (SIGKILL: no clean-up at all), rerun the same command, compare with serial."""
    spec_file = _write(tmp_path, SMALL.replace("values = [30, 90]", "values = [30, 50, 70, 90]"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(spec_file), "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(completed_batches(out)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = completed_batches(out)
    assert done_at_kill, "the sweep wrote nothing before it was killed"
    assert len(done_at_kill) < 16, "the sweep finished before it was killed: nothing left to resume"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    meta = load_meta(out)
    results = load_results(out)
    assert completed_batches(out) == set(range(meta["n_batches"]))
    assert sorted(results["run_id"].unique()) == list(range(meta["n_runs"]))
    assert not results.duplicated(["run_id", "year", "indicator"]).any()
    fresh = tmp_path / "fresh"
    run_sweep(load_sweep(spec_file), fresh, workers=1, progress=False)
    pd.testing.assert_frame_equal(results, load_results(fresh))


def test_a_folder_of_another_sweep_is_refused(small_file, tmp_path, monkeypatch):
    spec = load_sweep(small_file)
    run_sweep(spec, tmp_path, workers=1, progress=False, max_batches=1)
    other = load_sweep(_write(tmp_path, SMALL.replace("seeds = 2", "seeds = 3"), "other.toml"))
    with pytest.raises(SweepError, match="different sweep.*seeds"):
        run_sweep(other, tmp_path, workers=1, progress=False)
    # a recalibrated model (other parameter values) would mix two models' numbers: refused too
    import dataclasses

    field = next(f for f in dataclasses.fields(spec.base.parameters) if isinstance(
        getattr(spec.base.parameters, f.name), float))
    params = spec.base.parameters.replace(**{field.name: getattr(spec.base.parameters, field.name) * 1.01 + 1e-6})
    recalibrated = dataclasses.replace(spec, base=dataclasses.replace(spec.base, parameters=params))
    with pytest.raises(SweepError, match="differs in: model parameters"):
        run_sweep(recalibrated, tmp_path, workers=1, progress=False)
    # point runs instead of posterior draws, or a resampled posterior, are other numbers too
    with pytest.raises(SweepError, match="differs in: parameters"):
        run_sweep(dataclasses.replace(spec, parameters="point"), tmp_path, workers=1, progress=False)
    from sim.analysis import sweep as sweep_module

    monkeypatch.setattr(sweep_module, "_posterior_digest", lambda: "another posterior")
    with pytest.raises(SweepError, match="differs in: posterior"):
        run_sweep(spec, tmp_path, workers=1, progress=False)


# --- designs and lever paths --------------------------------------------------------------------

def _spec(body: str, **top):
    data = {"design": "grid", "seeds": 1, "scale": 100000}
    data.update(top)
    import tomllib
    data.update(tomllib.loads(body))
    return parse_sweep(data, "test.toml")


def test_design_sizes():
    two = "[levers.dual_random_share]\nrange = [10, 90]\n[levers.fine_level]\nrange = [0.5, 2]\n"
    assert len(design_table(_spec(two.replace("]\n[", "]\npoints = 3\n[") + "points = 4\n"))) == 12
    assert len(design_table(_spec(two, design="lhs", samples=10))) == 10
    assert len(design_table(_spec(two, design="sobol", samples=8))) == 8 * (2 + 2)
    assert len(design_table(_spec(two, design="sobol", samples=8, second_order=True))) == 8 * (2 * 2 + 2)
    assert len(design_table(_spec(two, design="morris", samples=5))) == 5 * (2 + 1)
    lhs = design_table(_spec(two, design="lhs", samples=50, design_seed=3))
    assert lhs["dual_random_share"].between(10, 90).all() and lhs["fine_level"].between(0.5, 2).all()
    pd.testing.assert_frame_equal(lhs, design_table(_spec(two, design="lhs", samples=50, design_seed=3)))


def test_a_grid_design_is_produced_in_slices_in_product_order():
    import itertools

    from sim.analysis.sweep import layout, make_batch
    from sim.analysis.sweep_spec import design_of

    body = ("[levers.dual_random_share]\nrange = [10, 90]\npoints = 200\n[levers.fine_level]\nrange = [0.5, 2]\n"
            "points = 200\n[levers.credit_application_rate]\nrange = [60, 100]\npoints = 200\n")
    spec = _spec(body)
    design = design_of(spec)
    assert design.n_points == 8_000_000 and design.matrix is None  # nothing the size of the grid is held
    grid = [f.grid_values() for f in spec.factors]
    expect = list(itertools.islice(itertools.product(*grid), 7_999_990, 8_000_000))
    got = design.rows(7_999_990, 8_000_010)  # clipped at the end
    assert got["point"].tolist() == list(range(7_999_990, 8_000_000))
    assert got[spec.factor_ids].to_numpy().tolist() == [list(r) for r in expect]
    lay = layout(spec, design.n_points)
    batch = make_batch(spec, design, lay, lay.n_batches - 1)
    last = batch.runs[-1][1]
    assert last == 7_999_999 and batch.values[last] == dict(zip(spec.factor_ids, expect[-1]))
    small = _spec(body.replace("200", "3"))
    pd.testing.assert_frame_equal(design_table(small), pd.DataFrame(
        [[i, *r] for i, r in enumerate(itertools.product(*[f.grid_values() for f in small.factors]))],
        columns=["point", *small.factor_ids]), check_dtype=False)


def test_a_large_design_is_written_with_memory_per_slice(tmp_path, monkeypatch):
    import tracemalloc

    import sim.analysis.sweep_spec as sweep_spec
    from sim.analysis.sweep import load_design, prepare_folder

    monkeypatch.setattr(sweep_spec, "DESIGN_CHUNK", 5_000)  # slices of 5,000 rows
    body = ("[levers.dual_random_share]\nrange = [10, 90]\npoints = 250\n[levers.fine_level]\nrange = [0.5, 2]\n"
            "points = {n}\n")
    prepare_folder(_spec(body.format(n=4)), tmp_path / "warm-up")  # imports are not the design's memory
    peaks = {}
    for n in (80, 400):  # 20,000 and 100,000 points
        tracemalloc.start()
        design, _ = prepare_folder(_spec(body.format(n=n)), tmp_path / str(n))
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    grown = 80_000 * 3 * 8  # what holding the design as one float table would add: 1.9 MB
    assert peaks[400] - peaks[80] < grown / 5, f"peaks {peaks} for designs 1.9 MB apart"
    written = load_design(tmp_path / "400")
    assert len(written) == 100_000 and written["point"].is_monotonic_increasing
    pd.testing.assert_frame_equal(written.iloc[-5:].reset_index(drop=True), design.rows(99_995, 100_000))


def test_a_sampled_design_too_large_to_hold_is_refused():
    from sim.inputs.levers import LEVERS

    body = "".join(f"[levers.{lv.id}]\nrange = [{lv.low}, {lv.high}]\n" for lv in [v for v in LEVERS if not v.integer][:6])
    with pytest.raises(SweepError, match=r"samples: 9000000 design points x \d factors = \d+ values; allowed"):
        _spec(body, design="lhs", samples=9_000_000, seeds=1)


def test_integer_levers_are_whole_numbers_and_constant():
    spec = _spec("[levers.compulsory_deregistration_months]\nrange = [12, 60]\n", design="sobol", samples=8)
    table = design_table(spec)
    assert (table["compulsory_deregistration_months"] == table["compulsory_deregistration_months"].round()).all()
    assert spec.factors[0].mode == "constant"


def test_lever_value_is_the_2025_end_of_a_path_from_the_base_2020_value():
    plan = load_scenario("scenarios/plan.toml")
    spec = parse_sweep({"base": str(Path("scenarios/plan.toml").resolve()), "design": "grid",
                        "levers": {"dual_random_share": {"values": [40, 80]},
                                   "fine_level": {"values": [2], "as": "constant"}},
                        "uncertainties": {"gdp_growth": {"values": [3]}}}, "t.toml")
    s = point_scenario(spec.base, spec.factors, {"dual_random_share": 80, "fine_level": 2, "gdp_growth": 3})
    assert s.lever("dual_random_share", 2020) == plan.lever("dual_random_share", 2020) == 10
    assert s.lever("dual_random_share", 2025) == 80
    assert s.lever("dual_random_share", 2030) == 80
    assert s.lever("dual_random_share", 2023) == pytest.approx(10 + 70 * 3 / 5)
    assert s.lever("fine_level", 2020) == s.lever("fine_level", 2024) == 2
    assert s.uncertainty("gdp_growth", 2020) == s.uncertainty("gdp_growth", 2025) == 3  # uncertainties: constant
    assert s.lever("credit_application_rate", 2025) == plan.lever("credit_application_rate", 2025)  # rest from base


# --- one clear line for every bad sweep file ------------------------------------------------------

BAD = [
    ("nonsense = 1\n[levers.fine_level]\nvalues=[1]", "nonsense", "unknown top-level key"),
    ("[levers.no_such_lever]\nvalues = [1]", "levers.no_such_lever", "unknown lever"),
    ("[levers.dual_random_share]\nvalues = [10, 140]", "levers.dual_random_share.values", "out of range"),
    ("[levers.dual_random_share]\nrange = [10, 90]", "levers.dual_random_share.points", "points"),
    ("design = 'lhs'\nsamples = 4\n[levers.dual_random_share]\nvalues = [10, 90]", "values", "grid"),
    ("design = 'sobol'\nsamples = 10\n[levers.fine_level]\nrange = [1, 2]", "samples", "power of two"),
    ("design = 'sobol'\n[levers.fine_level]\nrange = [1, 2]", "samples", "needs samples"),
    ("design = 'bogus'\n[levers.fine_level]\nrange = [1, 2]", "design", "allowed: grid, lhs, sobol, morris"),
    ("engine = 'warp'\n[levers.fine_level]\nvalues = [1]", "engine", "allowed: mesa, vector"),
    ("seeds = 100000\n[levers.dual_random_share]\nrange = [10, 90]\npoints = 990\n[levers.fine_level]\n"
     "range = [0.5, 2]\npoints = 1000", "seeds", "990000 design points x 100000 seeds"),
    ("design = 'sobol'\nsamples = 1048576\nseeds = 10\n[levers.fine_level]\nrange = [1, 2]", "seeds",
     "3145728 design points x 10 seeds"),
    ("parameters = 'map'\n[levers.fine_level]\nvalues = [1]", "parameters", "allowed: posterior, point"),
    ("horizon = 2022\n[levers.fine_level]\nvalues = [1]\n[outputs]\nyears = [2025]", "outputs.years", "2022"),
    ("[levers.fine_level]\nvalues = [1]\n[outputs]\nindicators = ['nope']", "outputs.indicators",
     "not an indicator"),
    ("base = 'missing.toml'\n[levers.fine_level]\nvalues = [1]", "base", "not found"),
    ("[levers.fine_level]\nvalues = [1]\nas = 'sometimes'", "levers.fine_level.as", "allowed: path, constant"),
    ("seeds = 0\n[levers.fine_level]\nvalues = [1]", "seeds", "from 1 to"),
    ("design = 'grid'", "levers", "no factor"),
    ("[levers.fine_level\nvalues = [1]", "malformed TOML", ""),
]


@pytest.mark.parametrize("body,key,what", BAD)
def test_bad_sweep_file_names_file_key_and_what_is_allowed(tmp_path, body, key, what):
    path = _write(tmp_path, body)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and key in message and what in message and "\n" not in message


def test_cli_bad_sweep_file_exits_2_and_writes_nothing(tmp_path, capsys):
    path = _write(tmp_path, "[levers.dual_random_share]\nvalues = [10, 140]")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "levers.dual_random_share.values" in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", "tcp://x:1", "--dask-local", "2"]) == 2
    assert main(["sweep", "no/such/file.toml", "--out", str(out)]) == 2
    assert not out.exists()


def test_cli_sweep_runs_and_reruns(small_file, reference, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["sweep", str(small_file), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    pd.testing.assert_frame_equal(load_results(out), reference)
    for name in ("design.parquet", "design.csv", "sweep.json", "sweep.toml"):
        assert (out / name).is_file()
    design = pd.read_csv(out / "design.csv")
    assert list(design.columns) == ["point", "dual_random_share", "credit_application_rate"]
    assert len(design) == 4
    meta = load_meta(out)
    assert meta["n_runs"] == 8 and meta["seeds"] == [0, 1] and meta["engine"] == "vector"
    # the dataset reads as one Parquet dataset too
    assert len(pd.read_parquet(out / "results")) == len(reference)
    assert main(["sweep", str(small_file), "--out", str(out), "--quiet"]) == 0
    assert np.array_equal(load_results(out)["value"], reference["value"])


def test_a_local_dask_cluster_leaves_no_process_behind():
    """Every process the local cluster started has ended once the backend is closed (even the spawned
    workers that a busy machine's cluster shutdown leaves orphaned)."""
    import psutil

    from sim.runs.pools import Dask, _descendants

    before = _descendants()
    with Dask(local=2) as backend:
        started = _descendants() - before
        assert started and backend.slots() == 2
    left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, [" ".join(p.cmdline())[:120] for p in left]


def test_a_sweep_runs_posterior_draws_by_default_or_the_point_fit():
    body = "[levers.fine_level]\nvalues = [1]"
    assert _spec(body).parameters == "posterior"
    point = _spec(body, parameters="point")
    assert point.parameters == "point"
    from sim.analysis.sweep import run_rows
    from sim.inputs.scenario import load_scenario

    plan = load_scenario("scenarios/plan.toml")
    a = run_rows(plan, 4, 100000, 2021, "vector", parameters="point")
    b = run_rows(plan, 4, 100000, 2021, "vector")
    assert not a.equals(b)  # the seed's posterior draw moves the numbers
