"""Calibration as a posterior: ABC-SMC (pyabc) over the uncertain parameters' priors.

Every entity parameter declared with a ``prior`` that the history can inform
(:data:`sim.calibration.fit.FIT_BOUNDS`) is sampled from its uniform prior; each particle runs the history from the end of 2016 under
``calibration/history_policies.toml`` on the same seeds (common random numbers), and its
distance is the fit's objective (:func:`sim.calibration.fit.objective_value`): the weighted sum
of squared relative errors on every history series and literature pattern, each scaled by its
tolerance. ABC-SMC (Toni et al. 2009; pyabc, Schaelte et al. 2022) shrinks the tolerance from
generation to generation (median of the last distances) and returns weighted particles - the
posterior that runs draw from (:mod:`sim.inputs.posterior`). Uncertain parameters the history
cannot inform (``fit.PROJECTION_ONLY``) stay out: runs draw them from their priors. pyabc was chosen because it is maintained, runs ABC-SMC with adaptive
tolerances on local cores, and takes any simulator and distance; the model has no likelihood.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.fit import FIT_BOUNDS, apply_by_set, history_patterns, history_policies, simulate
from sim.calibration.patterns import fit_table
from sim.inputs.parameters import Parameters
from sim.inputs.posterior import WEIGHT, Posterior
from sim.inputs.scenario import Scenario


UNMEASURED = 100.0  # tolerances off, for a pattern a run cannot measure


@dataclass(frozen=True)
class AbcSettings:
    """How hard ABC-SMC works.

    Attributes:
        population: Particles per generation.
        generations: Most generations.
        seeds: Seeds per simulation (the same for every particle).
        scale: Real entities per simulated one in the history runs.
        workers: Processes sampling in parallel (1 = in this process).
        max_minutes: Stop after this wall time (the last complete generation is the posterior).
        min_acceptance: Stop when fewer than this share of proposals are accepted.
    """

    population: int = 500
    generations: int = 8
    seeds: int = 2
    scale: float = 2000.0
    workers: int = 2
    max_minutes: float = 25.0
    min_acceptance: float = 0.03


@dataclass
class AbcResult:
    """The posterior and how it was reached."""

    particles: pd.DataFrame  # one column per parameter and WEIGHT
    distances: np.ndarray  # each particle's distance in the last generation
    epsilons: list[float]  # tolerance per generation
    simulations: int
    minutes: float
    through: int
    skipped: list[str]
    priors: dict[str, tuple[float, float]]

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective number of particles, 1 / sum(w^2) of the normalised weights: how many
        equally weighted particles the posterior is worth."""
        w = self.particles[WEIGHT].to_numpy()
        return float(w.sum() ** 2 / (w ** 2).sum())

    def posterior(self) -> Posterior:
        """The particles as the posterior runs draw from."""
        return Posterior.from_particles(self.particles, "<abc>")

    def point(self) -> dict[str, float]:
        """The best-fitting particle of the last generation (smallest distance), as the point fit."""
        row = self.particles.iloc[int(np.argmin(self.distances))]
        return {name: float(f"{row[name]:.6g}") for name in self.priors}


class _Progress(logging.Handler):
    """Turns pyabc's log lines ("t: 2, eps: ...", "Accepted: ...") into one progress line each."""

    def __init__(self, report: Callable[[str], None], generations: int) -> None:
        super().__init__(logging.INFO)
        self.report, self.generations, self.started = report, generations, time.perf_counter()
        self.eps = float("nan")

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        found = re.match(r"t: (\d+), eps: (\S+?)\.?$", text)
        if found:
            self.t, self.eps = int(found.group(1)), float(found.group(2))
            return
        found = re.match(r"Accepted: (\d+) / (\d+).*ESS: (\S+?)\.?$", text)
        if found:
            minutes = (time.perf_counter() - self.started) / 60.0
            self.report(f"generation {self.t + 1}/{self.generations}: tolerance {self.eps:.3g}, accepted "
                        f"{found.group(1)} of {found.group(2)} proposals, effective sample size "
                        f"{float(found.group(3)):.0f} ({minutes:.1f} min)")


def abc_fit(history: pd.DataFrame, through: int = 2020, settings: AbcSettings = AbcSettings(),
            progress: Callable[[str], None] | None = None, seed: int = 0,
            after_2020: Scenario | None = None) -> AbcResult:
    """Sample the posterior of the uncertain parameters given the history through ``through``; after
    2020 the runs follow ``after_2020``'s policies (:func:`sim.calibration.fit.history_policies`).

    Raises:
        HistoryError: if the history has no usable patterns in the period.
    """
    import pyabc

    start, used, skipped = history_patterns(history, through)
    bounds = dict(FIT_BOUNDS)
    policies = history_policies(after_2020)
    seeds = list(range(settings.seeds))
    scale = np.sqrt([p.weight for p in used])

    def model(particle: dict) -> dict[str, np.ndarray]:
        entity, submodels = apply_by_set(Parameters(), {n: float(particle[n]) for n in bounds})
        table = fit_table(simulate(entity, start, through, seeds, settings.scale, policies, submodels), used)
        z = scale * table["error_pct"].to_numpy() / table["tolerance_pct"].to_numpy()
        # a pattern a run cannot measure (no exits at a tiny scale: 0/0) counts as far off, not as NaN
        return {"z": np.nan_to_num(z, nan=UNMEASURED, posinf=UNMEASURED, neginf=-UNMEASURED)}

    def distance(x: dict, x0: dict) -> float:
        return float(np.sum((x["z"] - x0["z"]) ** 2))

    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", lo, hi - lo) for n, (lo, hi) in bounds.items()})
    np.random.seed(seed)  # pyabc draws proposals from numpy's global generator
    # pyabc logs every generation through its own handlers: show them as progress lines instead.
    logger = logging.getLogger("ABC")
    own_handlers, old_level = list(logger.handlers), logger.level
    for own in own_handlers:
        logger.removeHandler(own)
    handler = _Progress(progress or (lambda _: None), settings.generations)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    sampler = (pyabc.sampler.SingleCoreSampler() if settings.workers <= 1
               else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=settings.workers))
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="sim-abc-") as folder:
            abc = pyabc.ABCSMC(model, prior, distance, population_size=settings.population, sampler=sampler)
            abc.new("sqlite:///" + str(Path(folder) / "abc.db"), {"z": np.zeros(len(used))})
            run = abc.run(max_nr_populations=settings.generations,
                          max_walltime=timedelta(minutes=settings.max_minutes),
                          min_acceptance_rate=settings.min_acceptance)
            last = run.get_population(t=run.max_t).particles
            frame = pd.DataFrame([dict(p.parameter) for p in last])
            weights = np.array([p.weight for p in last])
            distances = np.array([p.distance for p in last])
            epsilons = [float(e) for e in run.get_all_populations().query("t >= 0")["epsilon"]]
            simulations = int(run.total_nr_simulations)
    finally:
        logger.removeHandler(handler)
        for own in own_handlers:
            logger.addHandler(own)
        logger.setLevel(old_level)
    particles = frame[list(bounds)].reset_index(drop=True).astype(float)
    particles[WEIGHT] = np.asarray(weights, dtype=float)
    return AbcResult(particles, distances, epsilons, simulations, (time.perf_counter() - started) / 60.0,
                     through, skipped, bounds)


def write_posterior(path: Path, result: AbcResult) -> None:
    """Write the particles atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".parquet", delete=False) as handle:
        temp = Path(handle.name)
    try:
        result.particles.to_parquet(temp, index=False)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
