"""``filter``: drops the pool's items the detector flags at the calibrated false-positive
rate (regime.fpr)."""

from __future__ import annotations

import numpy as np

from model_collapse.core.data import Unlabeled
from model_collapse.detectors.pool import judge
from model_collapse.engine.step import Step
from model_collapse.regimes.base import REGIMES
from model_collapse.regimes.pools import defence, detector_keys, pool_keys


def _filter(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    verdict = judge(step, unlabeled.data)
    step.found["verdict"] = verdict
    return (~verdict.flagged).astype(float)


REGIMES.register("filter")(
    defence(
        _filter,
        "drops the pool's items the detector flags at regime.fpr",
        pool_keys(**detector_keys("auto")),
    )
)
