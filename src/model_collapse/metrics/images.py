"""Metrics for images that need nothing but pixels. (The class and feature-space metrics,
which read a classifier trained once on the real images, come with that classifier.)"""

from __future__ import annotations

import numpy as np

from model_collapse.metrics.base import METRICS, Metric, always
from model_collapse.step import Step


def pixel_variance_ratio(step: Step) -> np.ndarray:
    """Per seed: the generated images' total pixel variance over the real test images'.
    Blurred, merged digits lose variance; a collapsed decoder draws one image (0)."""
    samples = step.synthetic
    assert samples is not None
    real = step.real.test.var(axis=0).sum()
    return np.asarray(samples.var(axis=1).sum(axis=1) / real)


METRICS.register("pixel_variance_ratio")(
    Metric(
        ("image",),
        pixel_variance_ratio,
        always,
        "generated images' total pixel variance over the real test images'",
    )
)
