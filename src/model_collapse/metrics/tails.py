"""A tail measure about the model's own centre and scale.

``tail_mass_ratio`` counts samples beyond the real data's 1% and 99% quantiles: it falls
when the tails are lost, but also when the variance shrinks, and it rises when the mean
drifts, so its mean over seeds can rise while its median falls to 0. This one asks only
about shape: the share of samples whose Mahalanobis distance from the samples' own mean,
in their own covariance, exceeds the distance that 2% of the real test points reach
from theirs, over 0.02. A Gaussian scores 1 whatever its mean and variance; a model whose
shape has lost its tails (mixture components merged into one, a kernel density that
narrowed to a few points) falls below 1. Opt in with ``metrics.standardised_tail = true``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference

TAIL = 0.02  # the real share beyond the threshold: the two 1% tails of tail_mass_ratio


def own_distances(points: np.ndarray) -> np.ndarray:
    """Each point's squared Mahalanobis distance from the points' own mean, in their own
    covariance (its pseudo-inverse: a collapsed set's points all lie at 0)."""
    centred = points - points.mean(axis=0)
    cov = np.atleast_2d(np.cov(centred, rowvar=False, bias=True))
    return np.asarray(np.einsum("nd,de,ne->n", centred, np.linalg.pinv(cov), centred))


def standardised_tail_ratio(step: Step) -> np.ndarray:
    """Per seed: the samples' share beyond the real threshold about their own centre and
    scale, over 0.02 (1: tails of the real data's shape). NaN for non-finite samples."""
    ref = step.reference
    if "own_tail" not in ref.cache:
        ref.cache["own_tail"] = np.quantile(own_distances(ref.real.test), 1 - TAIL)
    threshold = ref.cache["own_tail"]
    samples = step.synthetic
    assert samples is not None
    out = np.full(len(samples), np.nan)
    for s, points in enumerate(samples):
        if np.isfinite(points).all():
            out[s] = (own_distances(points) > threshold).mean() / TAIL
    return out


def _applies(reference: Reference, model: Any, exact: bool) -> bool:
    return bool(reference.config.metrics.params.get("standardised_tail")) and not exact


METRICS.register("standardised_tail_ratio")(
    Metric(
        ("continuous",),
        standardised_tail_ratio,
        _applies,
        "share of samples beyond the real 2% distance about their own centre and scale / 0.02",
        params={
            "standardised_tail": param(
                False, "add standardised_tail_ratio: tails about the model's own centre"
            )
        },
        needs="metrics.standardised_tail = true and a sampled model (family.exact = false)",
        better="closer",
        level=1.0,
        statistic="median",
        note=(
            "Measured about the samples' own centre and scale, so a shrinking variance or a "
            "drifting mean leaves it at 1: it falls only when the shape loses its tails. "
            "tail_mass_ratio, about the real data's quantiles, mixes all three."
        ),
    )
)
