"""Gerstgrasser et al.'s linear regression (after Dohmatob et al. 2024): a fixed design of
T rows and d columns, each generation's labels drawn from the previous fit with the true
noise sigma (``family.noise = known``). With c = sigma^2 d / (T - d - 1) and n = g + 1
fits, the excess test error is c n under replace and c sum_{i<=n} 1/i^2 under accumulate,
which never exceeds c pi^2 / 6."""

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

SOURCE = {
    "replace": (
        "Gerstgrasser et al. (2024), replace: E = sigma^2 d/(T-d-1) n (Dohmatob et al. 2024)"
    ),
    "accumulate": (
        "Gerstgrasser et al. (2024), accumulate: E = sigma^2 d/(T-d-1) sum_{i<=n} 1/i^2 "
        "<= sigma^2 d/(T-d-1) pi^2/6"
    ),
}


def expected_excess(regime: str, fits: int, sigma: float, d: int, rows: int) -> float:
    """The excess test error after ``fits`` fits (the first on real data)."""
    c = sigma**2 * d / (rows - d - 1)
    if regime == "replace":
        return c * fits
    return c * float(np.sum(1.0 / np.arange(1, fits + 1) ** 2))


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in sorted(runs, key=lambda r: r.config.regime.name, reverse=True):
        config = run.config
        regime, d, sigma = config.regime.name, config.source.dim, config.source.noise
        generations = last_generation(run) + 1
        for g in sorted({0, 4, generations // 5, generations // 2, generations - 1}):
            ours = mean_interval(seeds_at(run, "excess_error", g))
            theirs = expected_excess(regime, g + 1, sigma, d, config.source.n_train)
            rows.append(Row(f"excess test error, {regime}", g, *ours, theirs, SOURCE[regime]))
    return rows


def _sweep(generations: int, seeds: int) -> dict[str, object]:
    return {
        "base": "linear",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "family.noise": "known",
            "metrics.excess_error": True,
        },
        "grid": {"regime.name": ["replace", "accumulate"]},
    }


RECIPES.register("gerstgrasser-linear")(
    Recipe(
        "linear regression, known noise: replace grows as c n, accumulate stays under c pi^2/6",
        "Gerstgrasser et al. (2024)",
        {
            "small": Scale(_sweep(50, 500), "24 s on 2 CPU cores"),
            "paper": Scale(_sweep(100, 2000), "not yet measured"),
        },
        _reproduce,
    )
)
