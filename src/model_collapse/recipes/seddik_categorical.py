"""Seddik et al.'s fully synthetic loop for a language model's next-token distribution:
a categorical refitted on n of its own samples each generation, with no real data after
the first. The expected sum of squared probabilities S grows as
S_m = 1 - (1 - 1/n)^m (1 - S_0) until one category holds everything (total collapse,
almost surely). Ours: that sum against the recursion, and the share of chains that have
collapsed to one category by each generation (no closed form: ours only)."""

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
    share_interval,
)

SOURCE = (
    "Seddik et al. (2024), the fully synthetic categorical: S_m = 1 - (1 - 1/n)^m (1 - S_0), "
    "S the sum of squared probabilities"
)


def _true_square_sum(run: Finished) -> float:
    from model_collapse.sources.base import load_real_data, true_probabilities

    probs = true_probabilities(load_real_data(run.config, "categorical").truth)
    assert probs is not None  # a zipf source knows its probabilities
    return float((probs**2).sum())


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in sorted(runs, key=lambda r: r.config.sampling.n):
        n, n0 = run.config.sampling.n, run.config.source.n_train or run.config.sampling.n
        s_true = _true_square_sum(run)
        collapsed = run.collapse["collapsed_at"].to_numpy(dtype=float)
        for g in checkpoints(run, 10, 4, 2):
            square_sums = 1 - seeds_at(run, "heterozygosity_ratio", g) * (1 - s_true)
            # generation g was fitted after g + 1 draws: n0 real samples, then g of n
            expected = 1 - (1 - 1 / n0) * (1 - 1 / n) ** g * (1 - s_true)
            rows.append(
                Row(f"sum of p^2, n = {n}", g, *mean_interval(square_sums), expected, SOURCE)
            )
            hits = int((collapsed <= g).sum())  # NaN (never collapsed) compares False
            share = share_interval(hits, len(collapsed))
            rows.append(
                Row(f"share of chains on one category, n = {n}", g, *share, source="ours only")
            )
    return rows


def _sweep(generations: int, seeds: int, sizes: list[int]) -> dict[str, object]:
    return {
        "base": "zipf",
        "set": {
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "source.categories": 10,
        },
        "grid": {"sampling.n": sizes},
    }


RECIPES.register("seddik-categorical")(
    Recipe(
        "only synthetic data: a 10-token categorical's sum of p^2 and its chains' total collapse",
        "Seddik et al. (2024)",
        {
            "small": Scale(_sweep(200, 1000, [10, 50]), "13 s on 2 CPU cores"),
            "paper": Scale(_sweep(2000, 10000, [10, 50, 100]), "not yet measured"),
        },
        _reproduce,
    )
)
