"""Drayson et al. (2025), "Machine-generated text detection prevents language model
collapse": each generation's training data come from a pool of real and generated items,
unlabelled; resampling the pool with importance weights from a detector's belief that
each item is human keeps the model near the real data, where training on the pool as it
is drifts. The paper shows it on GPT-2 and OPT text. Ours is the numeric twin of the
``defences`` preset (a 2-D GMM whose pool is half fresh real points, half its own samples
drawn at sampling bias 0.7), against no defence and the oracle that keeps only the real
half: the paper prints no number for it, and the verdict's test says which differ."""

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

SOURCE = "Drayson et al. (2025): detector-weighted resampling on text; no number for this model"
ORDER = {"pool": 0, "weight": 1, "oracle": 2}  # no defence, the defence, the bound
NAMES = {"pool": "no defence", "weight": "weighted resampling", "oracle": "oracle"}
READ = ("wasserstein", "variance_ratio")


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in sorted(runs, key=lambda r: ORDER[r.config.regime.name]):
        arm = NAMES[run.config.regime.name]
        for metric in READ:
            for g in checkpoints(run, 2):
                ours = mean_interval(seeds_at(run, metric, g))
                rows.append(Row(f"{metric}, {arm}", g, *ours, source=SOURCE))
    return rows


def _sweep(generations: int, seeds: int) -> dict[str, object]:
    return {
        "base": "gmm-2d",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "source.n_test": 1000,
            "regime.real_fraction": 0.5,
            "regime.real_from": "fresh",
            "regime.detector": "classifier",
            "sampling.bias": 0.7,
        },
        "grid": {"regime.name": list(ORDER)},
    }


RECIPES.register("drayson-defence")(
    Recipe(
        "detector-weighted resampling of a half-generated pool against no defence",
        "Drayson et al. (2025)",
        {
            "small": Scale(_sweep(10, 10), "22 s on 2 CPU cores"),
            "paper": Scale(_sweep(50, 50), "not yet measured"),
        },
        _reproduce,
        notes=[
            "The paper's models are language models with a trained text detector; ours is "
            "a GMM with a logistic classifier of real against generated points, where the "
            "defence's effect is measured in seconds.",
        ],
    )
)
