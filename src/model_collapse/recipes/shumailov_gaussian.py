"""Shumailov et al.'s single Gaussian: refitted by maximum likelihood on its own samples,
its variance is a product of chi-square(n - 1) / n factors and falls to 0 almost surely,
while its mean stays near the truth's. Its log falls on average by digamma((n - 1) / 2)
+ ln(2 / n) a generation: the mean of log variance_ratio is the number to compare, the
plain mean of the ratio being heavy-tailed. Accumulate has no closed form: ours only."""

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

SOURCE = (
    "Shumailov et al. (Nature 631, 2024), the single-Gaussian chain of their theory: the "
    "variance a product of chi-square(n-1)/n factors, E log = (g+1)(psi((n-1)/2) + ln(2/n))"
)


def _reproduce(runs: list[Finished]) -> list[Row]:
    from model_collapse.theory import gaussian_variance_theory

    rows = []
    for run in sorted(runs, key=lambda r: (r.config.regime.name, r.config.sampling.n)):
        config = run.config
        n, regime = config.sampling.n, config.regime.name
        generations = last_generation(run) + 1
        theory = gaussian_variance_theory(generations, n, config.source.n_train, "mle")
        for g in _checkpoints(generations):
            ours, low, high = mean_interval(np.log(seeds_at(run, "variance_ratio", g)))
            expected = float(theory.mean_log[g]) if regime == "replace" else float("nan")
            quantity = f"mean log variance_ratio, n = {n}, {regime}"
            source = SOURCE if regime == "replace" else "no closed form: ours only"
            rows.append(Row(quantity, g, ours, low, high, expected, source))
    return rows


def _checkpoints(generations: int) -> list[int]:
    return sorted({0, generations // 10, generations // 2, generations - 1})


def _sweep(generations: int, seeds: int, sizes: list[int]) -> dict[str, object]:
    return {
        "base": "gaussian-1d",
        # the sufficient statistics (a chi-square draw) have the very distribution of the
        # sample variance, so n = 10,000 costs what n = 100 does
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "family.exact": True,
        },
        "grid": {"sampling.n": sizes, "regime.name": ["replace", "accumulate"]},
    }


RECIPES.register("shumailov-gaussian")(
    Recipe(
        "1-D Gaussian refitted by MLE: the mean of log variance_ratio against its closed form",
        "Shumailov et al. (2024)",
        {
            "small": Scale(_sweep(100, 500, [100, 1000]), "23 s on 2 CPU cores"),
            "paper": Scale(
                _sweep(1000, 1000, [100, 500, 1000, 10000]), "over 10 min on 2 CPU cores: a cluster"
            ),
        },
        _reproduce,
    )
)
