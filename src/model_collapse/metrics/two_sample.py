"""The classifier two-sample test as a metric: can a discriminator tell each generation's
samples from the real test data? (``metrics.two_sample = true``; vectors)

Per seed, up to ``sampling.n`` real test items against as many of the generation's
samples: the held-out accuracy of a discriminator trained on the other half
(:func:`~model_collapse.detectors.classifier.two_sample_test`) and its p-value under
Binomial(n, 1/2). An accuracy near 1/2 with a large p-value: the generation passes for
real data; collapse drives the accuracy up and the p-value to 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference


def _tests(step: Step) -> list[Any]:
    from model_collapse.detectors.classifier import two_sample_test

    if "two_sample" not in step.found:
        assert step.synthetic is not None
        real = step.real.test
        rng = step.rng("two_sample")
        size = min(len(real), step.synthetic.shape[1])
        step.found["two_sample"] = [
            two_sample_test(real[rng.permutation(len(real))[:size]], samples[:size], rng)
            for samples in step.synthetic
        ]
    return step.found["two_sample"]  # type: ignore[no-any-return]


def _applies(reference: Reference, model: Any, exact: bool) -> bool:
    return bool(reference.config.metrics.params.get("two_sample")) and not exact


OPT_IN = {
    "two_sample": param(
        False, "add c2st_accuracy and c2st_p: a classifier two-sample test per generation"
    )
}
METRICS.register("c2st_accuracy")(
    Metric(
        ("continuous",),
        lambda step: np.array([t.accuracy for t in _tests(step)]),
        _applies,
        "held-out accuracy of a discriminator of generated vs real test items (1/2: alike)",
        params=OPT_IN,
        better="closer",
        level=0.5,
        needs="metrics.two_sample = true, and samples (family.exact = false)",
    )
)
METRICS.register("c2st_p")(
    Metric(
        ("continuous",),
        lambda step: np.array([t.p_value for t in _tests(step)]),
        _applies,
        "p-value of the classifier two-sample test (small: told apart)",
        params=OPT_IN,
        better="higher",
        needs="metrics.two_sample = true, and samples (family.exact = false)",
    )
)
