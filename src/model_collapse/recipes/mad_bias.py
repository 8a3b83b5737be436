"""Alemohammad et al.'s sampling bias: a generative model sampled with less spread than it
learned (a truncation, a low temperature, guidance; here the covariance scaled by lambda)
keeps its samples looking real (precision holds) while they cover less and less of the data
(recall falls), generation after generation in a fully synthetic loop; a loop that adds
fresh real data every generation stays near the data. The paper shows it on images (its
figures), with no table; ours is its Gaussian setting in 2-D, where the covariance of a
fully synthetic MLE refit has a closed form: E[variance_ratio] = ((n-1)/n)^(g+1) lambda^g.
Precision and recall are k-NN manifolds in the data's coordinates (``metrics.manifold``)."""

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

PAPER = "Alemohammad et al. (ICLR 2024)"
CLOSED_FORM = (
    "the MLE refit of a Gaussian sampled with covariance lambda Sigma: E[Sigma_g] = "
    "((n-1)/n)^(g+1) lambda^g Sigma, the fully synthetic loop of Alemohammad et al. (2024)"
)
CLAIM = (
    "Alemohammad et al. (2024), figures of the sampling-biased fully synthetic loop: "
    "precision holds while recall falls; no number for this setting"
)
LOOPS = {"replace": "fully synthetic", "fresh": "fresh data"}


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    order = sorted(runs, key=lambda r: (r.config.regime.name, -r.config.sampling.bias))
    for run in order:
        bias, n = run.config.sampling.bias, run.config.sampling.n
        loop = LOOPS.get(run.config.regime.name, run.config.regime.name)
        for g in checkpoints(run, 2):
            ratio = mean_interval(seeds_at(run, "variance_ratio", g))
            if loop == "fully synthetic":
                expected = ((n - 1) / n) ** (g + 1) * bias**g
                rows.append(
                    Row(_name("variance_ratio", bias, loop), g, *ratio, expected, CLOSED_FORM)
                )
            else:
                rows.append(Row(_name("variance_ratio", bias, loop), g, *ratio, source="ours only"))
            for metric in ("knn_precision", "knn_recall"):
                ours = mean_interval(seeds_at(run, metric, g))
                rows.append(Row(_name(metric, bias, loop), g, *ours, source=CLAIM))
    return rows


def _name(metric: str, bias: float, loop: str) -> str:
    return f"{metric}, lambda = {bias:g}, {loop}"


def _sweep(generations: int, seeds: int, n: int) -> dict[str, object]:
    return {
        "base": "gaussian-1d",
        "set": {
            "source.dim": 2,
            "source.n_train": n,
            "sampling.n": n,
            "experiment.generations": generations,
            "experiment.seeds": seeds,
            "metrics.manifold": True,
            # the fresh data loop: half of every training set is real data never used before
            "regime.real_fraction": 0.5,
        },
        "grid": {"sampling.bias": [1.0, 0.9, 0.7, 0.5], "regime.name": ["replace", "fresh"]},
    }


RECIPES.register("mad-bias")(
    Recipe(
        "sampling bias lambda: fully synthetic loops keep precision and lose recall",
        PAPER,
        {
            "small": Scale(_sweep(10, 20, 500), "22 s on 2 CPU cores"),
            "paper": Scale(_sweep(20, 100, 2000), "not yet measured"),
        },
        _reproduce,
        notes=[
            "The paper's loops are StyleGAN and DDPM on images, with the bias a truncation or "
            "guidance; ours is its Gaussian model, where the covariance has a closed form.",
            "Precision and recall are Kynkaanniemi et al.'s k-NN manifolds (k = 5) in the "
            "data's own two coordinates, not in an image network's features.",
        ],
    )
)
