"""``verify``: keeps the top regime.keep_share of the pool under a verifier (Feng et al.
2024): the calibrated detector, or generation 0's log-likelihood, which prefers typical
text and so the model's own samples (``regime.verifier = "gen0"``)."""

from __future__ import annotations

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.data import Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.detectors.pool import Verdict, judge
from model_collapse.engine.capabilities import ScoresItems, ScoresTokens, can
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES
from model_collapse.regimes.pools import (
    check_detector,
    check_pool,
    defence,
    detector_keys,
    pool_keys,
)
from model_collapse.sources.base import RealData


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
    check_pool(config, family, real)
    probe = family.make(config, real)  # unfitted: what it can do
    if not (can(probe, ScoresTokens) or can(probe, ScoresItems)):
        raise UserInputError(
            f"regime 'verify' with regime.verifier = \"gen0\" ranks items by generation "
            f"0's likelihood, which family '{config.family.name}' does not give; set "
            'regime.verifier = "detector"'
        )


REGIMES.register("verify")(
    defence(
        _verify,
        "keeps the regime.keep_share of the pool the verifier ranks most human",
        pool_keys(
            **detector_keys("auto"),
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
