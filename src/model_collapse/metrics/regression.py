"""The excess test error of a linear fit over the truth's weights, exactly: where the
source knows them (source.name = linear: x ~ N(0, I), y = x . w + sigma N(0, 1)), the
expected squared error of the predictions beyond the noise is |w_hat - w|^2. The closed
forms of Gerstgrasser et al. and Dohmatob et al. are stated for it; ``test_error`` on a
finite noisy test set carries that set's own noise besides. Opt in with
``metrics.excess_error = true``, so runs that do not ask keep their columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.sources.base import KnowsWeights


def excess_error(step: Step) -> np.ndarray:
    """Per seed: |w_hat - w|^2, the fit's weights read from its predictions on the unit
    vectors (its only capability a metric needs)."""
    truth = step.reference.real.truth
    assert isinstance(truth, KnowsWeights)
    weights = np.asarray(truth.weights)
    fitted = step.model.predict(np.eye(len(weights)))  # (S, d): row s is seed s's w_hat
    return np.asarray(((fitted - weights) ** 2).sum(axis=1))


def _applies(reference: Reference, model: Any, exact: bool) -> bool:
    asked = bool(reference.config.metrics.params.get("excess_error"))
    return asked and isinstance(reference.real.truth, KnowsWeights)


METRICS.register("excess_error")(
    Metric(
        ("regression",),
        excess_error,
        _applies,
        "test error beyond the noise, |w_hat - w|^2, where the true weights are known",
        params={
            "excess_error": param(
                False, "add excess_error: |w_hat - w|^2 against the linear source's weights"
            )
        },
        needs="metrics.excess_error = true and a source that knows its weights (linear)",
        log_scale=True,
        better="lower",
        level=0.0,
    )
)
