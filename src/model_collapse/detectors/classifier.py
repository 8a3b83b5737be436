"""The classifier two-sample test (Lopez-Paz and Oquab 2017) for vectors and images.

A discriminator (gradient-boosted trees) learns real against generated items on half of
each; its accuracy on the other half tests whether the two differ: under the null (same
distribution) the held-out correct count is Binomial(n, 1/2), which gives the p-value.
Per-item probabilities of being generated come from cross-fitting: each half is scored by
the discriminator trained on the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model_collapse.detectors.base import DETECTORS, Detector


def discriminator(seed: int) -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    # no early stopping: it would draw a validation split from a hidden stream
    return HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, early_stopping=False, random_state=seed
    )


# A small table fits faster on one thread (1.5x at 1,000 rows of 2 columns, measured in
# docs/benchmarks.md) and to the same trees: a histogram's sums are split by feature, not
# by row, so the thread count changes no result. A wide one (images) gains from threads.
SMALL_TABLE = 50_000


def _threads(x: np.ndarray) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1 if x.size < SMALL_TABLE else None, user_api="openmp")


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    with _threads(x):
        return model.fit(x, y)


def _p_generated(model: Any, x: np.ndarray) -> np.ndarray:
    with _threads(x):
        return np.asarray(model.predict_proba(x)[:, 1])


def _flat(items: np.ndarray) -> np.ndarray:
    return np.asarray(items, dtype=float).reshape(len(items), -1)


@dataclass(frozen=True)
class TwoSampleTest:
    """What the test found: per-item P(generated), held-out accuracy, z and p-value."""

    p_real: np.ndarray  # P(generated) for each real item (cross-fitted)
    p_generated: np.ndarray  # the same for each generated item
    accuracy: float
    statistic: float  # z of the held-out correct count against Binomial(n, 1/2)
    p_value: float


def two_sample_test(
    real: np.ndarray, generated: np.ndarray, rng: np.random.Generator
) -> TwoSampleTest:
    """Cross-fitted discriminator over two halves of each sample."""
    from scipy.stats import binom

    x = np.concatenate([_flat(real), _flat(generated)])
    y = np.concatenate([np.zeros(len(real)), np.ones(len(generated))])
    fold = np.zeros(len(x), dtype=int)
    for label in (0, 1):  # each half holds half of each class
        members = np.flatnonzero(y == label)
        fold[rng.permutation(members)[: len(members) // 2]] = 1
    prob = np.empty(len(x))
    for held in (0, 1):
        model = discriminator(int(rng.integers(2**31)))
        _fit(model, x[fold != held], y[fold != held])
        prob[fold == held] = _p_generated(model, x[fold == held])
    correct = int(((prob > 0.5) == (y == 1)).sum())
    n = len(x)
    z = (correct - n / 2) / np.sqrt(n / 4)
    p_value = float(binom.sf(correct - 1, n, 0.5))
    return TwoSampleTest(prob[y == 0], prob[y == 1], correct / n, float(z), p_value)


class ClassifierDetector:
    """A discriminator trained on labelled human and generated items, scoring new ones."""

    def fit(self, human: np.ndarray, machine: np.ndarray, seed: int) -> ClassifierDetector:
        x = np.concatenate([_flat(human), _flat(machine)])
        y = np.concatenate([np.zeros(len(human)), np.ones(len(machine))])
        self.model_ = _fit(discriminator(seed), x, y)
        return self

    def score(self, items: np.ndarray) -> np.ndarray:
        """P(generated) per item."""
        return _p_generated(self.model_, _flat(items))


DETECTORS.register("classifier")(
    Detector(
        "numeric",
        "a discriminator of real vs generated items: per-item P(generated), a two-sample "
        "test with a p-value (Lopez-Paz and Oquab 2017)",
        auto=True,
    )
)
