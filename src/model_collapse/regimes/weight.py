"""``weight``: importance resampling of the pool with weights (1 - P(machine))^beta, each
item at most regime.max_repeats times (Drayson et al. 2025), as many items as the
detector believes human (or as the pool holds: ``regime.size = "pool"``)."""

from __future__ import annotations

import numpy as np

from model_collapse.config.params import param
from model_collapse.core.data import Unlabeled
from model_collapse.core.rng import systematic_counts
from model_collapse.detectors.pool import judge
from model_collapse.engine.step import Step
from model_collapse.regimes.base import REGIMES
from model_collapse.regimes.pools import defence, detector_keys, pool_keys


def _weight(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    """Importance resampling: counts in proportion to (1 - P(machine))^beta, capped at
    max_repeats. Drawn systematically (each count the floor or the ceiling of its
    expectation, Kitagawa 1996), so no likely-human item is lost to the luck of a
    multinomial draw."""
    cfg = step.config.regime
    verdict = judge(step, unlabeled.data, probability=True)
    step.found["verdict"] = verdict
    assert verdict.p_machine is not None
    human = 1.0 - np.clip(verdict.p_machine, 0.0, 1.0 - 1e-12)
    # in logs, scaled by each seed's largest: never all 0, however sure the detector is
    log_share = cfg.beta * np.log(human)
    share = np.exp(log_share - log_share.max(axis=1, keepdims=True))
    rng, n = step.rng("defence"), unlabeled.count
    # at least one item, even from a pool the detector finds wholly generated
    sizes = np.maximum(human.sum(axis=1), 1.0) if cfg.size == "human" else np.full(len(share), n)
    counts = np.stack([systematic_counts(w, k, rng) for w, k in zip(share, sizes, strict=True)])
    return np.minimum(counts, cfg.max_repeats).astype(float)


REGIMES.register("weight")(
    defence(
        _weight,
        "resamples the pool with weights (1 - P(machine))^beta, repeats capped",
        pool_keys(
            **detector_keys("auto"),
            beta=param(1.0, "sharpness of the weights (1 - P(machine))^beta", low=0.0, high=100.0),
            max_repeats=param(3, "most copies of one item in a training set", low=1, high=10**6),
            size=param(
                "human",
                "items drawn: the detector's estimate of the pool's human items, sum of "
                "(1 - P(machine)), or as many as the pool holds (Drayson et al.'s)",
                choices=("human", "pool"),
            ),
        ),
    )
)
