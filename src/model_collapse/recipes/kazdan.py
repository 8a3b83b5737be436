"""Kazdan et al. (2024), "Collapse or Thrive?": three ways of keeping data, on three
models, at one compute budget per generation. Replace trains on the last generation's
samples only; accumulate on every sample so far with the real data; accumulate-subsample
on a random subset of that pool of the same size as replace's (the fixed-compute loop).
Their finding, in figures: replace degrades without bound, accumulate stays near the
real-data fit, accumulate-subsample lies between and levels off. The paper gives no
closed form or table for these settings: ours are the numbers behind the story."""

from __future__ import annotations

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

SOURCE = "Kazdan et al. (2024): shown in figures, no number for these settings"
# the model each run fits, with the metric that reads its error
MODELS = {"gaussian": "wasserstein", "kde": "wasserstein", "linear": "test_error"}


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    order = {"replace": 0, "accumulate-subsample": 1, "accumulate": 2}
    for run in sorted(runs, key=lambda r: (r.config.family.name, order[r.config.regime.name])):
        family, regime = run.config.family.name, run.config.regime.name
        metric = MODELS[family]
        for g in checkpoints(run, 4, 2):
            ours = mean_interval(seeds_at(run, metric, g))
            rows.append(Row(f"{family}: {metric}, {regime}", g, *ours, source=SOURCE))
    return rows


def _sweep(generations: int, seeds: int) -> dict[str, object]:
    return {
        "base": "gaussian-1d",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "source.dim": 10,
            "sampling.n": 100,
        },
        "zip": {
            "family.name": ["gaussian", "kde", "linear"],
            "source.name": ["gaussian", "gaussian", "linear"],
        },
        "grid": {"regime.name": ["replace", "accumulate", "accumulate-subsample"]},
    }


RECIPES.register("kazdan")(
    Recipe(
        "replace, accumulate and accumulate-subsample for a 10-D Gaussian, a KDE and a linear fit",
        "Kazdan et al. (2024)",
        {
            "small": Scale(_sweep(50, 50), "73 s on 2 CPU cores"),
            "paper": Scale(_sweep(100, 100), "not yet measured"),
        },
        _reproduce,
    )
)
