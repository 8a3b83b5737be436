"""Precision and recall for continuous data, in the data's own coordinates (Kynkaanniemi
et al. 2019): precision is the share of samples inside the real test points' k-nearest-
neighbour balls, recall the share of real test points inside the samples' balls. They
tell apart the two ways a model leaves the data: drawing outside it (precision falls) and
covering less of it (recall falls). Alemohammad et al. (2024) read a sampling bias this
way: precision holds while recall falls. Opt in with ``metrics.manifold = true``, so runs
that do not ask keep their columns. (The image metrics ``precision`` and ``recall`` do the
same in a classifier's features.)"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.config.schedules import fewest
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.metrics.classes import NEIGHBOURS
from model_collapse.metrics.distances import inside, kth_neighbour_distance

# samples and real test points compared: the k-NN balls cost (points)^2 distances, and
# 2,000 keep a generation's cost to a fraction of a second with the share's standard
# error under 0.012
MANIFOLD_POINTS = 2000


def _precision_recall(step: Step) -> np.ndarray:
    """(S, 2): each seed's precision and recall, from as many samples as real test points
    (the smaller count of each, Kynkaanniemi et al.'s equal sizes). NaN for a seed whose
    samples are not all finite."""
    if "knn_manifold" not in step.found:
        samples = step.synthetic
        assert samples is not None
        size = min(len(step.real.test), samples.shape[1], MANIFOLD_POINTS)
        real = np.asarray(step.real.test[:size], dtype=float)  # the test split is shuffled
        key = f"knn radii {size}"
        if key not in step.reference.cache:
            step.reference.cache[key] = kth_neighbour_distance(real, NEIGHBOURS)
        radii = step.reference.cache[key]
        out = np.full((len(samples), 2), np.nan)
        for s, seed_samples in enumerate(samples):
            fake = np.asarray(seed_samples[:size], dtype=float)
            if np.isfinite(fake).all():
                out[s, 0] = inside(fake, real, radii).mean()
                out[s, 1] = inside(real, fake, kth_neighbour_distance(fake, NEIGHBOURS)).mean()
        step.found["knn_manifold"] = out
    return step.found["knn_manifold"]  # type: ignore[no-any-return]


def _applies(reference: Reference, model: Any, exact: bool) -> bool:
    # an exact model has no samples to place
    return bool(reference.config.metrics.params.get("manifold")) and not exact


def _too_small(reference: Reference) -> str:
    test = len(reference.real.test)
    samples = fewest(reference.config.sampling.n, reference.config.experiment.generations)
    if min(test, samples) <= NEIGHBOURS:
        return f"it needs more than {NEIGHBOURS} real test points and samples ({test}, {samples})"
    return ""


OPT_IN = {
    "manifold": param(
        False, "add knn_precision and knn_recall (k-NN manifolds in the data's coordinates)"
    )
}


def _metric(column: int, description: str) -> Metric:
    return Metric(
        ("continuous",),
        lambda step: _precision_recall(step)[:, column],
        _applies,
        description,
        too_small=_too_small,
        params=OPT_IN,
        needs="metrics.manifold = true and a sampled model (family.exact = false)",
        # no level: fresh real points score below 1 against the test points (how far
        # below depends on k, the dimension and the size)
        better="higher",
    )


METRICS.register("knn_precision")(
    _metric(0, f"share of samples inside the real points' k-NN balls (k = {NEIGHBOURS})")
)
METRICS.register("knn_recall")(
    _metric(1, f"share of real points inside the samples' k-NN balls (k = {NEIGHBOURS})")
)
