"""The detector contract, its registry, and what every detector shares: a threshold
calibrated on human data at a false-positive rate, AUROC, and the true-positive rate.

Every detector's score grows with how likely an item is machine-generated; an item is
flagged when its score exceeds the threshold. A score of NaN means "unscored" (a text too
short to score), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model_collapse.config.params import Param
from model_collapse.config.registry import Registry
from model_collapse.core.errors import UserInputError


@dataclass(frozen=True)
class Detector:
    """A registered detector.

    Attributes
    ----------
    kind : "text" (scores token sequences with a model that gives next-token
        distributions) or "numeric" (vectors and images: a trained discriminator).
    description : one line for ``model-collapse list``.
    score : for text detectors, from per-text token sums to one score per text.
    performer : it needs a second model sharing the tokenizer (Binoculars).
    auto : the one ``regime.detector = "auto"`` picks for its kind.
    """

    kind: str
    description: str
    score: Callable[[Any], np.ndarray] | None = None
    performer: bool = False
    params: dict[str, Param] = field(default_factory=dict)
    # the sums over the vocabulary its score reads (text): rank, mean, variance, cross
    needs: frozenset[str] = frozenset({"rank", "mean", "variance", "cross"})
    auto: bool = False


def auto_detector(kind: str) -> str:
    """The detector ``auto`` picks for data of this kind: text detectors read text."""
    wanted = "text" if kind == "text" else "numeric"
    chosen = [name for name, d in DETECTORS.items() if d.kind == wanted and d.auto]
    if len(chosen) != 1:
        raise UserInputError(
            f'regime.detector = "auto" needs one {wanted} detector marked auto, found '
            f"{len(chosen)}; name the detector"
        )
    return chosen[0]


DETECTORS: Registry[Detector] = Registry("detector")


def fewest_for(fpr: float) -> int:
    """The fewest human scores that can set a threshold at ``fpr``: one in 1 / fpr above it."""
    if not 0 < fpr < 1:  # also NaN
        raise UserInputError(f"a false-positive rate must lie strictly between 0 and 1, got {fpr}")
    return math.ceil(1 / fpr - 1e-9)


def require_texts(scored: int, what: str, fpr: float) -> None:
    """The one rule for how many texts an estimate reads, shared by detect and audit: each
    set it reads (the human reference, the audited corpus, known machine texts) needs at
    least 1 / fpr scored texts. Fewer cannot place one text beyond a threshold at that
    rate, and a share counted from fewer moves in steps coarser than the rate itself."""
    need = fewest_for(fpr)
    if scored < need:
        raise UserInputError(
            f"an estimate at a false-positive rate of {fpr:g} needs at least {need} scored "
            f"{what}, got {scored}; give more, or raise the false-positive rate"
        )


def threshold_at(human: np.ndarray, fpr: float) -> float:
    """The threshold above which at most ``fpr`` of the human scores lie."""
    scored = np.sort(np.asarray(human, dtype=float)[~np.isnan(human)])[::-1]
    require_texts(len(scored), "human texts", fpr)
    allowed = math.floor(fpr * len(scored) + 1e-9)  # human items that may lie above
    return float(scored[allowed])


def auroc(human: np.ndarray, machine: np.ndarray) -> float:
    """The chance a machine item scores above a human one (ties count half); NaN skipped."""
    from scipy.stats import rankdata

    h = np.asarray(human, float)[~np.isnan(human)]
    m = np.asarray(machine, float)[~np.isnan(machine)]
    if len(h) == 0 or len(m) == 0:
        return math.nan
    ranks = rankdata(np.concatenate([h, m]))
    return float((ranks[len(h) :].sum() - len(m) * (len(m) + 1) / 2) / (len(h) * len(m)))


def flagged(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Items whose score exceeds the threshold (unscored items are not flagged)."""
    return np.nan_to_num(np.asarray(scores, float), nan=-np.inf) > threshold
