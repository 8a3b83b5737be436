"""Shumailov et al.'s GMM experiment: one 2-D Gaussian blob of N = 1000 points, fitted by
a 2-component full-covariance Gaussian mixture started from k-means (scikit-learn's
default, and their notebook's: tol 1e-5, up to 2,000 EM iterations), each generation
refitted on 1,000 samples of the last, for 2,050 generations. The paper shows the fitted
mixture at generations 0, 50, 100, 150, 200, 350 and 2,000 in a figure and gives no
number: ours are the numbers at those generations, for the figure's story (the spread
shrinks, the fit drifts from the blob)."""

from __future__ import annotations

import numpy as np

from model_collapse.recipes.base import (
    RECIPES,
    Finished,
    Recipe,
    Row,
    Scale,
    last_generation,
    mean_interval,
    seeds_at,
)

SNAPSHOTS = (0, 50, 100, 150, 200, 350, 2000)  # the generations the paper's figure shows
SOURCE = "Shumailov et al. (2024): shown in a figure at this generation, no number"


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in runs:
        last = last_generation(run)
        shown = [g for g in SNAPSHOTS if g <= last] + ([last] if last not in SNAPSHOTS else [])
        for g in shown:
            ratio = np.log(seeds_at(run, "variance_ratio", g))
            rows.append(Row("mean log variance_ratio", g, *mean_interval(ratio), source=SOURCE))
            distance = seeds_at(run, "wasserstein", g)
            rows.append(Row("wasserstein to the blob", g, *mean_interval(distance), source=SOURCE))
    return rows


def _sweep(generations: int, seeds: int) -> dict[str, object]:
    return {
        "base": "gmm-2d",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "family.init_params": "kmeans",
            "family.tol": 1e-5,
            "family.max_iter": 2000,
        },
        # the paper's chain replaces its data; one grid value makes the sweep one run
        "grid": {"regime.name": ["replace"]},
    }


RECIPES.register("shumailov-gmm")(
    Recipe(
        "a 2-D blob refitted by a 2-component GMM from k-means, at the paper's snapshots",
        "Shumailov et al. (2024)",
        {
            "small": Scale(_sweep(201, 10), "25 s on 2 CPU cores"),
            "paper": Scale(_sweep(2050, 10), "not yet measured"),
        },
        _reproduce,
    )
)
