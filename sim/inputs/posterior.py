"""The posterior of the uncertain parameters, and one draw of it per seed.

``python -m sim calibrate`` writes weighted particles (ABC-SMC, :mod:`sim.calibration.abc`) to
``calibration/posterior.parquet``: one column per uncertain parameter, one row per particle,
and a ``weight`` column. A run draws one particle per seed (:meth:`Posterior.draw_index`), so a
seed gives the same parameters in every scenario (common random numbers) and an ensemble's
median, bands and P(target met) carry parameter uncertainty. Uncertain parameters that the
history cannot inform (declared with a ``prior`` but not in the posterior file: the submodels'
assumptions) are drawn per seed from their priors alike. A scenario that sets a parameter
itself (``[parameters]``, different from the committed fit) keeps its value.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs.parameters import PARAMETER_SETS, SET_OF
from sim.inputs.parameters.declare import priors
from sim.inputs.scenario import Scenario

POSTERIOR_FILE = Path(__file__).resolve().parents[2] / "calibration" / "posterior.parquet"


def submodels_beside(path: str | Path) -> Path:
    """Where ``calibrate`` writes the submodels' posterior beside a posterior file (``<stem>_submodels.parquet``)."""
    return Path(path).with_name(Path(path).stem + "_submodels.parquet")


# the submodels' fitted diffusions (sim.calibration.adoption): fitted on their own series, drawn on their own stream
SUBMODEL_POSTERIOR_FILE = submodels_beside(POSTERIOR_FILE)
WEIGHT = "weight"
MODES = ("posterior", "point")  # a run's parameters: one posterior draw per seed, or the committed fit
DRAW_STREAM = 0x504F5354  # "POST": the draws' own random stream, apart from the model's
PRIOR_STREAM = 0x50524952  # "PRIR": draws from the priors of parameters the posterior does not hold
SUBMODEL_STREAM = 0x5355424D  # "SUBM": the submodel posterior's draws


class PosteriorError(ValueError):
    """A posterior file that cannot be read or names unknown parameters."""


@dataclass(frozen=True)
class Posterior:
    """Weighted particles of the uncertain parameters.

    Attributes:
        values: One row per particle, one column per parameter.
        weights: Normalised particle weights.
        source: The file read.
    """

    values: pd.DataFrame
    weights: np.ndarray
    source: str
    stream: int = DRAW_STREAM

    @classmethod
    def from_particles(cls, particles: pd.DataFrame, source: str, stream: int = DRAW_STREAM) -> Posterior:
        """Particles (one column per parameter and :data:`WEIGHT`) as a posterior, weights normalised."""
        weights = particles[WEIGHT].to_numpy(dtype=float)
        values = particles.drop(columns=[WEIGHT]).astype(float).reset_index(drop=True)
        return cls(values, weights / weights.sum(), source, stream)

    @property
    def names(self) -> list[str]:
        """The parameters the posterior holds."""
        return list(self.values.columns)

    def draw_index(self, seed: int) -> int:
        """The particle a seed draws, in proportion to the weights; the same for a seed everywhere."""
        rng = np.random.default_rng([int(seed) % 2 ** 64, self.stream])
        return int(rng.choice(len(self.weights), p=self.weights))

    def draw(self, seed: int) -> dict[str, float]:
        """The parameter values a seed draws."""
        row = self.values.iloc[self.draw_index(seed)]
        return {name: float(row[name]) for name in self.names}

    def apply(self, scenario: Scenario, seed: int) -> Scenario:
        """The scenario with a seed's draw (:func:`draws`), except for parameters the scenario sets itself."""
        return apply_draws(scenario, seed, self)


@cache
def uncertain_priors() -> dict[str, tuple[float, float]]:
    """Every parameter declared with a prior, in every parameter set, with its uniform range."""
    return {name: bounds for cls in PARAMETER_SETS.values() for name, bounds in priors(cls).items()}


def draws(seed: int, posterior: Posterior | None, submodels: Posterior | None = None) -> dict[str, float]:
    """A seed's uncertain parameters: the posterior's particle for those it holds, the submodel
    posterior's particle (drawn on its own stream) for those it holds, and a uniform draw from its
    prior for every other uncertain parameter (each from its own stream, keyed by the seed and the
    parameter's name, so adding a parameter leaves the others' draws alone)."""
    values = submodels.draw(seed) if submodels is not None else {}
    values.update(posterior.draw(seed) if posterior is not None else {})
    for name, (low, high) in uncertain_priors().items():
        if name not in values:
            u = np.random.default_rng([int(seed) % 2 ** 64, PRIOR_STREAM, zlib.crc32(name.encode())]).random()
            values[name] = low + float(u) * (high - low)
    return values


def apply_draws(scenario: Scenario, seed: int, posterior: Posterior | None,
                submodels: Posterior | None = None) -> Scenario:
    """The scenario with a seed's draws, except for parameters the scenario sets itself."""
    own = scenario.changed_parameters()
    return scenario.with_parameters({k: v for k, v in draws(seed, posterior, submodels).items() if k not in own})


def read_posterior(path: str | Path, stream: int = DRAW_STREAM) -> Posterior:
    """Read a posterior file.

    Raises:
        PosteriorError: if it is not a readable posterior (naming the problem).
    """
    path = Path(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a damaged or foreign file
        raise PosteriorError(f"{path}: not a readable posterior file ({type(err).__name__}: {err})") from None
    if WEIGHT not in frame.columns or len(frame) == 0:
        raise PosteriorError(f"{path}: a posterior file needs particles and a '{WEIGHT}' column")
    unknown = [c for c in frame.columns if c != WEIGHT and c not in SET_OF]
    if unknown:
        raise PosteriorError(f"{path}: unknown parameters {unknown}; see `python -m sim params`")
    weights = frame[WEIGHT].to_numpy(dtype=float)
    if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0) \
            or not np.isfinite(frame.drop(columns=[WEIGHT]).to_numpy(dtype=float)).all():
        raise PosteriorError(f"{path}: weights must be non-negative with a positive sum, and values finite")
    return Posterior.from_particles(frame, str(path), stream)


@cache
def default_posterior() -> Posterior | None:
    """The committed posterior (None if there is none: runs then use the point fit)."""
    return read_posterior(POSTERIOR_FILE) if POSTERIOR_FILE.exists() else None


@cache
def default_submodel_posterior() -> Posterior | None:
    """The committed posterior of the submodels' fitted diffusions (None if there is none)."""
    return read_posterior(SUBMODEL_POSTERIOR_FILE, SUBMODEL_STREAM) if SUBMODEL_POSTERIOR_FILE.exists() else None


def is_mode(mode: str) -> bool:
    """A run's ``parameters``: ``posterior``, ``point``, or the path of a posterior file (``.parquet``,
    e.g. one refitted on actual figures by ``calibrate --through``) drawn from as ``posterior`` draws."""
    return mode in MODES or str(mode).endswith(".parquet")


@cache
def posterior_file(path: str) -> Posterior:
    """A posterior file named as a run's ``parameters``, read once per process."""
    return read_posterior(path)


@cache
def submodel_file(path: str) -> Posterior | None:
    """The submodels' posterior written beside a posterior file by ``calibrate`` (``<stem>_submodels.parquet``),
    or the committed one if there is none beside it."""
    beside = submodels_beside(path)
    return read_posterior(beside, SUBMODEL_STREAM) if beside.is_file() else default_submodel_posterior()


def _posterior_of(mode: str) -> Posterior | None:
    return default_posterior() if mode == "posterior" else posterior_file(mode)


def _submodels_of(mode: str) -> Posterior | None:
    return default_submodel_posterior() if mode == "posterior" else submodel_file(mode)


def for_seed(scenario: Scenario, seed: int, mode: str = "posterior") -> Scenario:
    """The scenario a seed runs: with its draws (``posterior``: the posterior's particle, and the
    priors of the uncertain parameters it does not hold; a posterior file's path: its particle
    instead) or as it is (``point``: the committed fit, the declared values and the scenario's own)."""
    if not is_mode(mode):
        raise ValueError(f"parameters '{mode}' is not allowed; allowed: {', '.join(MODES)} or a posterior .parquet file")
    return scenario if mode == "point" else \
        apply_draws(scenario, seed, _posterior_of(mode), _submodels_of(mode))


def describe(mode: str, seeds) -> dict[str, object]:
    """What run.json records about a run's parameters: the mode, the file and each seed's particle.

    Raises:
        PosteriorError: if ``mode`` is neither a mode nor a readable posterior file.
    """
    if not is_mode(mode):
        raise PosteriorError(f"{mode}: not a posterior file; give a .parquet file written by `python -m sim calibrate`")
    if mode == "point":
        return {"mode": "point", "source": "calibration/fitted.toml and the scenario's own values"}
    posterior, submodels = _posterior_of(mode), _submodels_of(mode)
    held = [n for p in (posterior, submodels) if p is not None for n in p.names]
    out = {"mode": "posterior", "from_priors": [n for n in uncertain_priors() if n not in held]}
    if submodels is not None:
        out["submodels"] = {"source": str(Path(submodels.source).name), "particles": len(submodels.weights),
                            "parameters": submodels.names,
                            "draws": {str(int(s)): submodels.draw_index(int(s)) for s in seeds}}
    if posterior is None:
        return {**out, "note": "no posterior file: the entity model's uncertain parameters are drawn from their priors"}
    return {**out, "source": str(Path(posterior.source).name), "particles": len(posterior.weights),
            "parameters": posterior.names, "draws": {str(int(s)): posterior.draw_index(int(s)) for s in seeds}}
