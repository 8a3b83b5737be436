"""Pools: regimes whose training set comes from an unlabeled pool of real and generated
items, and what every defence shares.

Each generation's pool holds regime.real_fraction real items (from the training set, or
never used before with ``regime.real_from = "fresh"``) and the previous generation's
samples, or with ``regime.real_from = "web"`` a sample of the web (:mod:`.web_pool`: the
real data, new human items and what every earlier generation published, its real share a
consequence); a defence sees it without provenance (:func:`defended`) and chooses weights.
``pool`` takes the pool as it comes and ``oracle`` keeps only its items known to be real
(the bound for defences). The defences are each in a file of their own: ``filter``
(:mod:`.filtering`), ``weight`` (:mod:`.weight`), ``verify`` (:mod:`.verify`) and
``watermark-filter`` (:mod:`.watermark_filter`); they build on :func:`defence` here.

Per generation they record the detector's AUROC on the pool and its TPR at the threshold,
the share of the pool kept, of its real items kept, and of its generated items that
slipped through (``pool`` and ``oracle`` record the same when given a regime.detector).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.data import REAL, Items, Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.detectors.base import DETECTORS, auroc, auto_detector
from model_collapse.detectors.pool import Verdict, chosen_detector, judge
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES, Diagnostic, Regime, defended
from model_collapse.regimes.builtin import REAL_SHARE, rest
from model_collapse.regimes.web_pool import WEB_KEYS, check_human_rows, synthetic_share, web_sample
from model_collapse.sources.base import RealData


def verdict_of(step: Step) -> Verdict:
    return step.found["verdict"]  # type: ignore[no-any-return]


def _per_seed(values: Callable[[int], float], step: Step) -> np.ndarray:
    return np.array([values(s) for s in range(step.config.experiment.seeds)])


def _of_pool(column: Diagnostic) -> Diagnostic:
    """A column about the pool: NaN in generation 0, which trains on real data, not a pool."""

    def measured(step: Step, train: Any) -> np.ndarray | float:
        if "kept" not in step.found:
            return np.full(step.config.experiment.seeds, np.nan)
        return column(step, train)

    return measured


def _auroc(step: Step, train: Any) -> np.ndarray:
    pool, scores = step.found["pool"], verdict_of(step).scores
    real = pool.origin == REAL
    return _per_seed(lambda s: auroc(scores[s][real[s]], scores[s][~real[s]]), step)


def _tpr(step: Step, train: Any) -> np.ndarray:
    real, flagged = step.found["pool"].origin == REAL, verdict_of(step).flagged
    return _per_seed(lambda s: float(flagged[s][~real[s]].mean()), step)


def _kept_share(step: Step, which: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The share of the pool's items (those ``which`` selects by origin) the regime kept."""
    origin, kept = step.found["pool"].origin, step.found["kept"]
    chosen = which(origin)
    return _per_seed(
        lambda s: float(kept[s][chosen[s]].mean()) if chosen[s].any() else np.nan, step
    )


DEFENCE_COLUMNS: dict[str, Diagnostic] = {
    name: _of_pool(column)
    for name, column in {
        "auroc": _auroc,
        "tpr": _tpr,
        "kept": lambda step, train: _kept_share(step, lambda o: np.ones(o.shape, bool)),
        "real_kept": lambda step, train: _kept_share(step, lambda o: o == REAL),
        "slipped": lambda step, train: _kept_share(step, lambda o: o != REAL),
    }.items()
}


def pool_of(step: Step) -> Items:
    """This generation's pool, as ``regime.real_from`` draws its real part."""
    from model_collapse.regimes.builtin import fresh_set, mix_set

    real_from = step.config.regime.real_from
    build = {"fresh": fresh_set, "web": web_sample}.get(real_from, mix_set)
    pool = build(step)
    step.found["pool"] = pool
    return pool  # type: ignore[no-any-return]


def defend(step: Step, choose: Callable[[Unlabeled, Step], np.ndarray]) -> Items:
    pool = pool_of(step)
    train = defended(pool, lambda unlabeled: choose(unlabeled, step))
    assert train.weight is not None
    step.found["kept"] = train.weight > 0
    return train


def _measured_pool(step: Step) -> Any:
    """``pool``: the pool as it comes; with a detector, what it would have flagged."""
    pool = pool_of(step)
    if step.config.regime.params.get("detector") != "none":
        step.found["verdict"] = judge(step, pool.data)
        step.found["kept"] = np.ones(pool.origin.shape, dtype=bool)
    return pool


def _measured_oracle(step: Step) -> Any:
    """``oracle``: only the pool's items known to be real."""
    from model_collapse.regimes.base import real_share
    from model_collapse.regimes.builtin import kept_real

    pool = pool_of(step)
    if not isinstance(pool, Items):  # statistics: the real part is known as a whole
        return kept_real(step) if step.config.family.exact else pool
    if step.config.regime.params.get("detector") != "none":
        step.found["verdict"] = judge(step, pool.data)
        step.found["kept"] = pool.origin == REAL
    if step.config.regime.real_from == "web":  # the web's real share is its own: all of it
        return pool.weighted((pool.origin == REAL).astype(float))
    real_first = (pool.origin != REAL).argsort(axis=1, kind="stable")[:, : real_share(step.config)]
    return pool.take(real_first)


def _columns(config: Config) -> dict[str, Diagnostic]:
    return {
        **(DEFENCE_COLUMNS if config.regime.params.get("detector") != "none" else {}),
        **_web_columns(config),
    }


def _web_columns(config: Config) -> dict[str, Diagnostic]:
    """A pool drawn from the web records the web's synthetic share, as the web regime does
    (what the defence was offered, before it chose): the first movers' exposure."""
    if config.regime.real_from != "web":
        return {}
    return {
        "web_synthetic_share": lambda step, train: synthetic_share(
            step, step.found.get("pool", train)
        )
    }


def check_pool(config: Config, family: Family, real: RealData) -> None:
    """The real share fits the data, and items rather than statistics where they are scored."""
    from model_collapse.regimes.builtin import check_fresh, check_mix

    if config.regime.real_from == "web":
        if config.family.exact:
            raise UserInputError(
                f"regime '{config.regime.name}' with regime.real_from = web draws items from "
                "the web, which sufficient statistics do not hold; set family.exact = false"
            )
        check_human_rows(config, real)
    else:
        (check_fresh if config.regime.real_from == "fresh" else check_mix)(config, family, real)
    if config.family.exact and config.regime.params.get("detector", "auto") != "none":
        raise UserInputError(
            f"regime '{config.regime.name}' scores items, which the exact path does not draw; "
            "set family.exact = false"
        )


def check_detector(config: Config, family: Family, real: RealData) -> None:
    """A pool regime with a detector: one that reads the family's kind of data, and enough
    held-out human data to calibrate it at regime.fpr."""
    from model_collapse.detectors.base import fewest_for

    check_pool(config, family, real)
    name = chosen_detector(config, family.kind)
    if name == "none":
        return
    kind = DETECTORS.get(name).kind
    if (kind == "text") != (family.kind == "text"):
        raise UserInputError(
            f"detector '{name}' reads {kind} items but family '{config.family.name}' makes "
            f"{family.kind} data; set regime.detector = {auto_detector(family.kind)}"
        )
    held = real.validation if real.validation is not None else real.test
    human = min(len(held), config.regime.calibration)
    usable = human // 2 if kind != "text" else human
    if usable < fewest_for(config.regime.fpr):
        raise UserInputError(
            f"calibrating detector '{name}' at regime.fpr = {config.regime.fpr:g} needs at "
            f"least {fewest_for(config.regime.fpr)} held-out human items, but {usable} are "
            "used; raise regime.calibration or regime.fpr"
        )


def _check_oracle(config: Config, family: Family, real: RealData) -> None:
    from model_collapse.regimes.builtin import check_oracle_size as check_size

    check_detector(config, family, real)
    if config.regime.real_from != "web":  # a web sample's real share is not a setting
        check_size(config, family, real)


FPR = {
    "fpr": param(
        0.05,
        "false-positive rate the detector is calibrated to on held-out human data",
        low=0.0,
        high=1.0,
        open_low=True,
        open_high=True,
    )
}


def pool_keys(**extra: Any) -> dict[str, Any]:
    from model_collapse.regimes.builtin import REAL_FRACTION

    real_from = param(
        "train",
        "the pool's real items: drawn from the training set, fresh (never used before), or "
        "a sample of the web (regime.human_per_generation, regime.publish)",
        choices=("train", "fresh", "web"),
    )
    return {**REAL_FRACTION, "real_from": real_from, **WEB_KEYS, **extra}


def from_the_web(config: Config) -> bool:
    """A pool drawn from the web needs every earlier generation's samples."""
    return bool(config.regime.real_from == "web")


def detector_keys(default: str) -> dict[str, Any]:
    what = "a detector (model-collapse list)" + (
        "; none: measure nothing"
        if default == "none"
        else "; auto: fast_detectgpt for text, classifier for numbers"
    )
    return {
        "detector": param(default, what),
        **FPR,
        "detector_model": param(
            "previous",
            "the model a text detector scores with: the previous generation's (which made "
            "the generated items) or generation 0's",
            choices=("previous", "gen0"),
        ),
        "calibration": param(
            512,
            "held-out human items the detector calibrates on each generation",
            low=2,
            high=10**9,
        ),
    }


def defence(
    choose: Callable[[Unlabeled, Step], np.ndarray],
    description: str,
    params: dict[str, Any],
    check: Callable[[Config, Family, RealData], None] = check_detector,
) -> Regime:
    return Regime(
        lambda step: defend(step, choose),
        False,
        rest,
        description,
        diagnostics={**REAL_SHARE, **DEFENCE_COLUMNS},
        check=check,
        params=params,
        measured=_web_columns,
        exposure="web_synthetic_share",
        history_when=from_the_web,
    )


REGIMES.register("pool")(
    Regime(
        _measured_pool,
        False,
        rest,
        "no defence: the pool as it comes, regime.real_fraction of it real (records real_share)",
        diagnostics=REAL_SHARE,
        params=pool_keys(**detector_keys("none")),
        check=check_detector,
        measured=_columns,
        exposure="web_synthetic_share",
        history_when=from_the_web,
    )
)
REGIMES.register("oracle")(
    Regime(
        _measured_oracle,
        False,
        rest,
        "keeps only the pool's items known to be real: the bound for defences (real_share)",
        diagnostics=REAL_SHARE,
        params=pool_keys(**detector_keys("none")),
        check=_check_oracle,
        measured=_columns,
        exposure="web_synthetic_share",
        history_when=from_the_web,
    )
)
