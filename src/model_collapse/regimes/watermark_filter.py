"""``watermark-filter``: drops the pool's items the watermark test flags (z above the
normal quantile of 1 - regime.fpr); the generated items carry the run's watermark."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from model_collapse.config import Config
from model_collapse.core.data import Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.core.watermark import Watermark
from model_collapse.detectors.pool import Verdict
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES
from model_collapse.regimes.pools import FPR, check_pool, defence, pool_keys
from model_collapse.sources.base import RealData


def _watermark_filter(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    from model_collapse.core.watermark import detect_many

    mark = Watermark.of(step.config.sampling)
    assert mark is not None  # _check_watermark refuses a run without one
    vocab = step.real.categories
    z = np.array(
        [
            [score.z for score in detect_many(list(x), vocab, mark.gamma, mark.key)]
            for x in unlabeled.data
        ]
    )
    threshold = NormalDist().inv_cdf(1 - step.config.regime.fpr)  # z is N(0, 1) without it
    verdict = Verdict(z, np.full(len(z), threshold))
    step.found["verdict"] = verdict
    return (~verdict.flagged).astype(float)


def _check_watermark(config: Config, family: Family, real: RealData) -> None:
    if family.kind != "text" or Watermark.of(config.sampling) is None:
        raise UserInputError(
            "regime 'watermark-filter' drops watermarked text: it needs a family that "
            'samples tokens and sampling.watermark = "kgw"'
        )
    check_pool(config, family, real)


REGIMES.register("watermark-filter")(
    defence(
        _watermark_filter,
        "drops the pool's items that carry the run's watermark (z test at regime.fpr)",
        pool_keys(**FPR),
        check=_check_watermark,
    )
)
