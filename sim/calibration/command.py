"""``python -m sim calibrate``: the posterior, the point fit and their reports, written together.

ABC-SMC (:mod:`sim.calibration.abc`) samples the posterior; its best-fitting particle is the
point fit (``calibration/fitted.toml``, what ``--parameters point`` runs use); the report of the
point fit (:mod:`sim.calibration.report`) and of the posterior (:mod:`sim.calibration.posterior_report`)
are written beside them. Nothing is written until the sampling has finished, and each file is
replaced whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.calibration import adoption, fit as cal_fit, posterior_report, report as cal_report
from sim.calibration.abc import AbcSettings, abc_fit, write_posterior
from sim.inputs.files import atomic_write_text
from sim.inputs.posterior import submodels_beside
from sim.inputs.scenario import Scenario

CHECK_DRAWS = 40  # posterior draws in the predictive checks
MIN_EFFECTIVE = 50  # fewer effective particles than this: the command warns


def calibrate(history: pd.DataFrame, history_name: str, through: int, fitted_out: Path, posterior_out: Path,
              settings: AbcSettings, progress: Callable[[str], None],
              after_2020: Scenario | None = None) -> tuple[cal_fit.FitResult, list[Path]]:
    """Sample the posterior and write it, the submodels' fitted diffusions, the point fit and the
    reports; the files written. Runs through years after 2020 follow ``after_2020``'s policies
    (:func:`sim.calibration.fit.history_policies`)."""
    adoptions, effective = adoption.fit_adoptions(history, through)
    progress("submodel diffusions: " + ", ".join(f"{k} effective sample {v:.0f}" for k, v in effective.items()))
    result = abc_fit(history, through, settings, progress, after_2020=after_2020)
    progress(f"posterior: {len(result.particles)} particles (effective sample size "
             f"{result.effective_sample_size:.0f}) after {result.simulations} simulations ({result.minutes:.1f} min); "
             f"predictive checks on {CHECK_DRAWS} draws ...")
    if result.effective_sample_size < MIN_EFFECTIVE:
        progress(f"warning: the posterior rests on about {result.effective_sample_size:.0f} effective particles "
                 f"(fewer than {MIN_EFFECTIVE}); runs would draw the same few parameter sets - sample again with a "
                 "larger --population")
    checks = posterior_report.predictive_checks(history, result.posterior(), through, CHECK_DRAWS, settings.scale,
                                                after_2020)
    point = cal_fit.fit_result(history, result.point(), through, range(4), settings.scale, result.simulations,
                               after_2020=after_2020)
    settings_text = ", ".join(f"{k} {v:g}" for k, v in dataclasses.asdict(settings).items())
    write_posterior(posterior_out, result)
    submodels_out = submodels_beside(posterior_out)
    adoption.write_particles(submodels_out, adoptions)
    how = (f"the best-fitting particle of the ABC-SMC posterior ({posterior_out.name}), "
           f"objective {point.objective:.4g} over 4 seeds")
    atomic_write_text(fitted_out, cal_fit.write_fitted(fitted_out, point, history_name, range(4), settings.scale, how))
    fit_md = fitted_out.with_suffix(".md")
    atomic_write_text(fit_md, cal_report.fit_report(point, history_name))
    cal_report.plot_fit(point.table, fit_md.with_suffix(".png"), point.hazards)
    post_md = posterior_out.with_suffix(".md")
    atomic_write_text(post_md, posterior_report.report(result, checks, history_name, settings_text, CHECK_DRAWS))
    pngs = posterior_report.plot(result, checks, posterior_out.parent)
    return point, [posterior_out, submodels_out, post_md, *pngs, fitted_out, fit_md, fit_md.with_suffix(".png")]
