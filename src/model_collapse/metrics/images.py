"""Metrics for images that need nothing but pixels. (The class and feature-space metrics,
which read a classifier trained once on the real images, are in
:mod:`model_collapse.metrics.classes`.)"""

from __future__ import annotations

import numpy as np

from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, always
from model_collapse.metrics.classes import finite_seeds
from model_collapse.metrics.distances import gpu_of, nearest_distance


def pixel_variance_ratio(step: Step) -> np.ndarray:
    """Per seed: the generated images' total pixel variance over the real test images'.
    Blurred, merged digits lose variance; a collapsed decoder draws one image (0)."""
    samples = step.synthetic
    assert samples is not None
    real = step.real.test.var(axis=0).sum()
    return np.asarray(samples.var(axis=1).sum(axis=1) / real)


# a sample counts as close to its training set when it is nearer to it than all but this
# share of the real test images are: a model that draws like the real data scores it
MEMORISED = 0.05
# samples (and real test images) measured against the whole training set: 1,000 keep
# the cost to seconds with MNIST's 60,000 training images and the share's standard error
# under 0.01
MEMORY_SAMPLES = 1000


def nearest_training_distance(
    points: np.ndarray, train: np.ndarray, device: str = ""
) -> np.ndarray:
    """Each point's pixel distance to its nearest training image."""
    return nearest_distance(points, train, device)


def _distances(step: Step) -> np.ndarray:
    """(S, n): each sample's distance to its seed's nearest real training image (the first
    MEMORY_SAMPLES samples)."""
    if "nearest_real" not in step.found:
        assert step.synthetic is not None
        step.found["nearest_real"] = np.stack(
            [
                nearest_training_distance(samples[:MEMORY_SAMPLES], train, gpu_of(step.config))
                for samples, train in zip(step.synthetic, step.real.train, strict=True)
            ]
        )
    return step.found["nearest_real"]  # type: ignore[no-any-return]


def nearest_real_distance(step: Step) -> np.ndarray:
    """Per seed: the share of samples nearer to a real training image than 95% of the real
    test images are (memorisation). 0.05 for a model that draws like the real data; near
    1 for one that copies its training images; near 0 for blurred, averaged images. NaN
    for a seed whose samples are not all finite (a diverged model)."""
    cache = step.reference.cache
    if "memorised below" not in cache:  # the real images' distances never change
        cache["memorised below"] = [
            np.quantile(
                nearest_training_distance(step.real.test[:MEMORY_SAMPLES], train), MEMORISED
            )
            for train in step.real.train
        ]
    shares = [
        np.mean(distances < below) if finite else np.nan
        for distances, below, finite in zip(
            _distances(step), cache["memorised below"], finite_seeds(step), strict=True
        )
    ]
    return np.array(shares)


METRICS.register("nearest_real_distance")(
    Metric(
        ("image",),
        nearest_real_distance,
        always,
        "share of samples nearer a training image than 95% of real test images (memorised)",
        per_item=_distances,
        # fresh real images are nearer a training image than 95% of the others 5% of the time
        better="closer",
        level=0.05,
        note=(
            "0.05 for a model that draws like the real data, towards 1 for one that copies "
            "its training images, 0 for one whose samples are farther from every training "
            "image than real images are: vae-digits' decoder means are smooth (generation 0: "
            "median distance 1.45 against the real test images' 0.99), so 0 from generation "
            "0 says blur, not a fault."
        ),
    )
)
METRICS.register("pixel_variance_ratio")(
    Metric(
        ("image",),
        pixel_variance_ratio,
        always,
        "generated images' total pixel variance over the real test images'",
        better="closer",
        level=1.0,
        statistic="median",
        note=(
            "Below 1 from generation 0 for a VAE (vae-digits: 0.57): it draws each image as "
            "its decoder's mean, without the pixel-level variation real images have, as in "
            "Shumailov et al. Read the fall from generation 0, not the gap to 1."
        ),
    )
)
