"""Radioactivity (Sander et al. 2024): does a model trained on watermarked text write the
watermark by itself?

Each generation's model draws ``metrics.radioactivity_n`` blocks per seed *without* the
watermark's bias. Every distinct (previous token, token) pair of those blocks is scored
once (repeats would count the same evidence twice) against the run's key: z is the green
count's standard score under the null of a model that never saw the key, N(0, 1).
Generation 0, trained on real text only, is that null's control; a later model that
learnt the green lists from its watermarked training text shows z well above it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.core.watermark import Watermark, is_green, z_score
from model_collapse.engine.capabilities import SamplesUnmarked, can
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference


def radioactivity(step: Step) -> np.ndarray:
    mark = Watermark.of(step.config.sampling)
    assert mark is not None  # the metric applies only to watermarked runs
    n, vocab = step.config.metrics.radioactivity_n, step.real.categories
    blocks = step.model.sample_unmarked(n, step.rng("radioactivity"))
    out = []
    for seed_blocks in blocks:
        pairs = np.stack([seed_blocks[:, :-1].ravel(), seed_blocks[:, 1:].ravel()], axis=1)
        pairs = np.unique(pairs, axis=0)
        green = is_green(pairs[:, 0], pairs[:, 1], vocab, mark.gamma, mark.key)
        out.append(z_score(int(green.sum()), len(pairs), mark.gamma))
    return np.array(out)


def _applies(reference: Reference, model: Any, exact: bool) -> bool:
    marked = Watermark.of(reference.config.sampling) is not None
    return marked and can(model, SamplesUnmarked)


METRICS.register("radioactivity")(
    Metric(
        ("text",),
        radioactivity,
        _applies,
        "z of the watermark in the model's own unwatermarked samples (Sander et al. 2024)",
        params={
            "radioactivity_n": param(
                200,
                "blocks each model draws without the watermark (radioactivity)",
                low=1,
                high=10**7,
            )
        },
    )
)
