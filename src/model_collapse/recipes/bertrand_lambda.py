"""Bertrand et al. (ICLR 2024), "On the Stability of Iterative Retraining of Generative
Models on their own Data": retraining on the real data plus lambda times as much of the
model's own samples is stable (the fit stays near the real-data one) when lambda is
small enough; their bound is lambda (1 + L eps / alpha) < 1, with constants of the model
that no run here measures. Ours: the mix regime, real share r, so lambda = (1 - r) / r,
and how far the 1-D Gaussian's variance drifts by the last generation for each lambda.
The paper states the condition, not numbers for this model: ours only."""

from __future__ import annotations

import numpy as np

from model_collapse.recipes.base import (
    RECIPES,
    Finished,
    Recipe,
    Row,
    Scale,
    checkpoints,
    mean_interval,
    seeds_at,
)

SOURCE = "Bertrand et al. (2024): a stability condition, no number for this model"
SHARES = [0.1, 0.25, 0.5, 0.75, 0.9]  # real shares: lambda = 9, 3, 1, 1/3, 1/9


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in sorted(runs, key=lambda r: r.config.regime.real_fraction):
        share = run.config.regime.real_fraction
        ratio = (1 - share) / share
        for g in checkpoints(run, 2):
            drift = np.abs(np.log(seeds_at(run, "variance_ratio", g)))
            quantity = f"|log variance_ratio|, lambda = {ratio:.3g} (real share {share:g})"
            rows.append(Row(quantity, g, *mean_interval(drift), source=SOURCE))
    return rows


def _sweep(generations: int, seeds: int) -> dict[str, object]:
    return {
        "base": "gaussian-1d",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "regime.name": "mix",
        },
        "grid": {"regime.real_fraction": SHARES},
    }


RECIPES.register("bertrand-lambda")(
    Recipe(
        "real data plus lambda times as much synthetic: the variance's drift for each lambda",
        "Bertrand et al. (2024)",
        {
            "small": Scale(_sweep(200, 200), "44 s on 2 CPU cores"),
            "paper": Scale(_sweep(1000, 1000), "16 min on 2 CPU cores"),
        },
        _reproduce,
    )
)
