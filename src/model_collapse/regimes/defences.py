"""Defences: regimes that must sort an unlabeled pool of real and generated items.

Each generation's pool holds regime.real_fraction real items (from the training set, or
never used before with ``regime.real_from = "fresh"``) and the previous generation's
samples; the regime sees it without provenance (:func:`defended`) and chooses weights:

- ``filter``: drops what the detector flags at the calibrated false-positive rate;
- ``weight``: importance resampling with weights (1 - P(machine))^beta, each item at most
  regime.max_repeats times (Drayson et al. 2025), as many items as the detector believes
  human (or as the pool holds: ``regime.size = "pool"``);
- ``verify``: keeps the top regime.keep_share of the pool under a verifier (Feng et al.
  2024): the calibrated detector, or generation 0's log-likelihood, which prefers typical
  text and so the model's own samples (``regime.verifier = "gen0"``);
- ``watermark-filter``: drops what the watermark test flags (z above the normal quantile
  of 1 - regime.fpr); the generated items carry the run's watermark.

Per generation they record the detector's AUROC on the pool and its TPR at the threshold,
the share of the pool kept, of its real items kept, and of its generated items that
slipped through (``pool`` and ``oracle`` record the same when given a regime.detector).
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.data import REAL, Items, Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import systematic_counts
from model_collapse.detectors.base import DETECTORS, auroc
from model_collapse.detectors.pool import Verdict, chosen_detector, judge
from model_collapse.engine.capabilities import ScoresItems, ScoresTokens, can
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES, Diagnostic, Regime, defended
from model_collapse.regimes.builtin import REAL_SHARE, _rest
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
    from model_collapse.regimes.builtin import _fresh, _mix

    pool = _fresh(step) if step.config.regime.real_from == "fresh" else _mix(step)
    step.found["pool"] = pool
    return pool  # type: ignore[no-any-return]


def _defend(step: Step, choose: Callable[[Unlabeled, Step], np.ndarray]) -> Items:
    pool = pool_of(step)
    train = defended(pool, lambda unlabeled: choose(unlabeled, step))
    assert train.weight is not None
    step.found["kept"] = train.weight > 0
    return train


def _filter(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    verdict = judge(step, unlabeled.data)
    step.found["verdict"] = verdict
    return (~verdict.flagged).astype(float)


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


def _verify(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    """Keeps the keep_share of the pool the verifier ranks most human."""
    machine_like = _verifier_ranks(step, unlabeled.data)
    keep = max(1, round(step.config.regime.keep_share * unlabeled.count))
    ranked = np.nan_to_num(machine_like, nan=np.inf)
    cutoff = np.sort(ranked, axis=1)[:, keep - 1]
    step.found["verdict"] = Verdict(machine_like, cutoff)
    # ties broken at random: the pool's order (real items first) must not decide
    tie = step.rng("defence").random(ranked.shape)
    order = np.stack([np.lexsort((t, m))[:keep] for m, t in zip(ranked, tie, strict=True)])
    weight = np.zeros(ranked.shape)
    np.put_along_axis(weight, order, 1.0, axis=1)
    return weight


def _verifier_ranks(step: Step, items: np.ndarray) -> np.ndarray:
    """How machine-like each item is to the verifier: the detector's calibrated score, or
    minus its likelihood under generation 0's model (``regime.verifier = "gen0"``)."""
    if step.config.regime.verifier == "detector":
        return judge(step, items).scores
    return -verifier_scores(step, items)


def verifier_scores(step: Step, items: np.ndarray) -> np.ndarray:
    """Per item: mean log-likelihood per token (text) or log-density (numbers) under
    generation 0's model, trained on real data only."""
    model = step.first_model
    if can(model, ScoresTokens):
        return np.stack([model.seed_log_prob(s, items[s]).mean(axis=1) for s in range(len(items))])
    return np.asarray(model.item_log_density(items))


def _check_verify(config: Config, family: Family, real: RealData) -> None:
    if config.regime.verifier == "detector":
        check_detector(config, family, real)
        return
    _check_pool(config, family, real)
    probe = family.make(config, real)  # unfitted: what it can do
    if not (can(probe, ScoresTokens) or can(probe, ScoresItems)):
        raise UserInputError(
            f"regime 'verify' with regime.verifier = \"gen0\" ranks items by generation "
            f"0's likelihood, which family '{config.family.name}' does not give; set "
            'regime.verifier = "detector"'
        )


def _watermark_filter(unlabeled: Unlabeled, step: Step) -> np.ndarray:
    from model_collapse.core.watermark import detect_many

    s = step.config.sampling
    vocab, gamma, key = step.real.categories, s.watermark_gamma, s.watermark_key
    z = np.array(
        [[score.z for score in detect_many(list(x), vocab, gamma, key)] for x in unlabeled.data]
    )
    threshold = NormalDist().inv_cdf(1 - step.config.regime.fpr)  # z is N(0, 1) without it
    verdict = Verdict(z, np.full(len(z), threshold))
    step.found["verdict"] = verdict
    return (~verdict.flagged).astype(float)


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
    from model_collapse.regimes.builtin import _kept_real

    pool = pool_of(step)
    if not isinstance(pool, Items):  # statistics: the real part is known as a whole
        return _kept_real(step) if step.config.family.exact else pool
    if step.config.regime.params.get("detector") != "none":
        step.found["verdict"] = judge(step, pool.data)
        step.found["kept"] = pool.origin == REAL
    real_first = (pool.origin != REAL).argsort(axis=1, kind="stable")[:, : real_share(step.config)]
    return pool.take(real_first)


def _columns(config: Config) -> dict[str, Diagnostic]:
    return DEFENCE_COLUMNS if config.regime.params.get("detector") != "none" else {}


def _check_pool(config: Config, family: Family, real: RealData) -> None:
    """The real share fits the data, and items rather than statistics where they are scored."""
    from model_collapse.regimes.builtin import _check_fresh, _check_mix

    (_check_fresh if config.regime.real_from == "fresh" else _check_mix)(config, family, real)
    if config.family.exact and config.regime.params.get("detector", "auto") != "none":
        raise UserInputError(
            f"regime '{config.regime.name}' scores items, which the exact path does not draw; "
            "set family.exact = false"
        )


def check_detector(config: Config, family: Family, real: RealData) -> None:
    """A pool regime with a detector: one that reads the family's kind of data, and enough
    held-out human data to calibrate it at regime.fpr."""
    from model_collapse.detectors.base import fewest_for

    _check_pool(config, family, real)
    name = chosen_detector(config, family.kind)
    if name == "none":
        return
    kind = DETECTORS.get(name).kind
    if (kind == "text") != (family.kind == "text"):
        raise UserInputError(
            f"detector '{name}' reads {kind} items but family '{config.family.name}' makes "
            f"{family.kind} data; set regime.detector = "
            f"{'fast_detectgpt' if family.kind == 'text' else 'classifier'}"
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
    from model_collapse.regimes.builtin import _check_oracle as check_size

    check_detector(config, family, real)
    check_size(config, family, real)


def _check_watermark(config: Config, family: Family, real: RealData) -> None:
    if family.kind != "text" or config.sampling.watermark == "none":
        raise UserInputError(
            "regime 'watermark-filter' drops watermarked text: it needs a family that "
            'samples tokens and sampling.watermark = "kgw"'
        )
    _check_pool(config, family, real)


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


def _pool_keys(**extra: Any) -> dict[str, Any]:
    from model_collapse.regimes.builtin import REAL_FRACTION

    real_from = param(
        "train",
        "the pool's real items: drawn from the training set, or fresh (never used before)",
        choices=("train", "fresh"),
    )
    return {**REAL_FRACTION, "real_from": real_from, **extra}


def _detector_keys(default: str) -> dict[str, Any]:
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


def _defence(
    choose: Callable[[Unlabeled, Step], np.ndarray],
    description: str,
    params: dict[str, Any],
    check: Callable[[Config, Family, RealData], None] = check_detector,
) -> Regime:
    return Regime(
        lambda step: _defend(step, choose),
        False,
        _rest,
        description,
        diagnostics={**REAL_SHARE, **DEFENCE_COLUMNS},
        check=check,
        params=params,
    )


REGIMES.register("pool")(
    Regime(
        _measured_pool,
        False,
        _rest,
        "no defence: the pool as it comes, regime.real_fraction of it real (records real_share)",
        diagnostics=REAL_SHARE,
        params=_pool_keys(**_detector_keys("none")),
        check=check_detector,
        measured=_columns,
    )
)
REGIMES.register("oracle")(
    Regime(
        _measured_oracle,
        False,
        _rest,
        "keeps only the pool's items known to be real: the bound for defences (real_share)",
        diagnostics=REAL_SHARE,
        params=_pool_keys(**_detector_keys("none")),
        check=_check_oracle,
        measured=_columns,
    )
)
REGIMES.register("filter")(
    _defence(
        _filter,
        "drops the pool's items the detector flags at regime.fpr",
        _pool_keys(**_detector_keys("auto")),
    )
)
REGIMES.register("weight")(
    _defence(
        _weight,
        "resamples the pool with weights (1 - P(machine))^beta, repeats capped",
        _pool_keys(
            **_detector_keys("auto"),
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
REGIMES.register("verify")(
    _defence(
        _verify,
        "keeps the regime.keep_share of the pool the verifier ranks most human",
        _pool_keys(
            **_detector_keys("auto"),
            keep_share=param(0.5, "share of the pool kept", low=0.0, high=1.0, open_low=True),
            verifier=param(
                "detector",
                "what ranks the items: the calibrated detector, or generation 0's likelihood "
                "(it prefers typical text, which a model's own samples are)",
                choices=("detector", "gen0"),
            ),
        ),
        check=_check_verify,
    )
)
REGIMES.register("watermark-filter")(
    _defence(
        _watermark_filter,
        "drops the pool's items that carry the run's watermark (z test at regime.fpr)",
        _pool_keys(**FPR),
        check=_check_watermark,
    )
)
