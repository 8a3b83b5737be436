"""Metrics for categorical models (support, entropy, KL, heterozygosity) and regression."""

from __future__ import annotations

import numpy as np

from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, always


def _probs(step: Step) -> np.ndarray:
    return np.asarray(step.model.probs_)


def _entropy(p: np.ndarray) -> np.ndarray:
    safe = np.where(p > 0, p, 1.0)
    return np.asarray(0.0 - (p * np.log(safe)).sum(axis=-1))  # 0.0 - 0.0 is 0.0, not -0.0


def support_fraction(step: Step) -> np.ndarray:
    """Share of the real support that the model still gives positive probability."""
    ref = step.reference
    assert ref.probs is not None
    real = ref.probs > 0
    return np.asarray((_probs(step)[:, real] > 0).sum(axis=1) / real.sum())


def entropy_ratio(step: Step) -> np.ndarray:
    ref = step.reference
    assert ref.probs is not None
    return _entropy(_probs(step)) / _entropy(ref.probs)


def kl(step: Step) -> np.ndarray:
    """KL(model || real) in nats: finite while the model stays inside the real support.

    The other direction is infinite from the first lost category on, which says nothing
    about how far collapse has gone.
    """
    ref = step.reference
    assert ref.probs is not None
    q = _probs(step)
    p = np.broadcast_to(ref.probs, q.shape)
    with np.errstate(divide="ignore"):
        terms = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log(p)), 0.0)
    return np.asarray(terms.sum(axis=1))


def heterozygosity_ratio(step: Step) -> np.ndarray:
    """(1 - sum q^2) / (1 - sum p^2): Wright-Fisher drift shrinks it by (1 - 1/n) a generation."""
    ref = step.reference
    assert ref.probs is not None
    return np.asarray((1 - (_probs(step) ** 2).sum(axis=1)) / (1 - (ref.probs**2).sum()))


def test_error(step: Step) -> np.ndarray:
    """Mean squared error of the model's predictions on the real test rows."""
    ref = step.reference
    test = ref.real.test
    residual = test[:, -1] - step.model.predict(test[:, :-1])  # (S, m)
    return np.asarray((residual**2).mean(axis=1))


# name, value, description, log scale, better, level
for _name, _fn, _text, _log, _better, _level in [
    (
        "support_fraction",
        support_fraction,
        "share of real categories the model still generates",
        False,
        "higher",
        1.0,
    ),
    ("entropy_ratio", entropy_ratio, "model entropy over the real entropy", False, "closer", 1.0),
    ("kl", kl, "KL(model || real distribution), nats", True, "lower", 0.0),
    (
        "heterozygosity_ratio",
        heterozygosity_ratio,
        "(1 - sum q^2) / (1 - sum p^2), Wright-Fisher",
        False,
        "closer",
        1.0,
    ),
]:
    METRICS.register(_name)(
        Metric(("categorical",), _fn, always, _text, log_scale=_log, better=_better, level=_level)
    )
METRICS.register("test_error")(
    Metric(
        ("regression",),
        test_error,
        always,
        "mean squared error on the real test rows",
        log_scale=True,
        better="lower",
    )
)
