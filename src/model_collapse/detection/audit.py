"""How much of a corpus is generated: an estimate with a 95% interval from detector scores.

With known generated examples (``machine``), the flagged share q of the corpus is
corrected for the detector's calibrated false- and true-positive rates (Rogan and Gladen
1978): share = (q - fpr) / (tpr - fpr). Without them, the share comes from the score
distributions alone (Storey's lambda estimator): machine documents are assumed to score
above the human median, so the corpus has 1 - share of its documents below that median
in proportion to human ones, share = 1 - F_corpus(median) / 0.5.

The interval is a percentile bootstrap that resamples every set the estimate reads (the
corpus, the human reference, the machine examples), the threshold recalibrated each time,
widened to at least the Clopper-Pearson interval of the share counted in the corpus: a
corpus of n documents cannot tell a share more finely than n draws can, even through a
perfect detector, and a bootstrap of a clipped estimate can shrink to a point (0 to 0)
where every document lies on one side. Each set needs at least 1 / fpr scored texts
(:func:`model_collapse.detectors.base.require_texts`, the rule ``detect`` keeps too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_collapse.core.errors import UserInputError
from model_collapse.detectors.base import flagged, require_texts, threshold_at

REPLICATES = 2000


@dataclass(frozen=True)
class Estimate:
    share: float
    low: float
    high: float
    method: str
    fpr: float = np.nan  # measured on the reference, at the threshold
    tpr: float = np.nan  # measured on the machine examples


def _clean(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    return scores[~np.isnan(scores)]


def corrected_share(
    corpus: np.ndarray, human: np.ndarray, machine: np.ndarray, fpr: float
) -> tuple[float, float, float]:
    """(share, measured fpr, measured tpr) at the threshold calibrated on ``human``."""
    threshold = threshold_at(human, fpr)
    alpha = float(flagged(human, threshold).mean())
    beta = float(flagged(machine, threshold).mean())
    q = float(flagged(corpus, threshold).mean())
    if beta - alpha <= 0:
        return np.nan, alpha, beta
    return float(np.clip((q - alpha) / (beta - alpha), 0.0, 1.0)), alpha, beta


def storey_share(corpus: np.ndarray, human: np.ndarray, lam: float = 0.5) -> float:
    cut = np.quantile(human, lam)
    return float(np.clip(1 - np.mean(corpus <= cut) / lam, 0.0, 1.0))


def estimate_share(
    corpus: np.ndarray,
    human: np.ndarray,
    machine: np.ndarray | None,
    fpr: float,
    rng: np.random.Generator,
    replicates: int = REPLICATES,
) -> Estimate:
    """The generated share of ``corpus`` with a 95% bootstrap interval (scores oriented:
    higher is more machine-like; NaN scores are left out)."""
    corpus, human = _clean(corpus), _clean(human)
    require_texts(len(corpus), "documents in the audited corpus", fpr)
    require_texts(len(human), "human reference texts (--reference)", fpr)
    if machine is None:
        point = storey_share(corpus, human)
        boots = [
            storey_share(_resample(corpus, rng), _resample(human, rng)) for _ in range(replicates)
        ]
        low, high = np.quantile(boots, [0.025, 0.975])
        low, high = widened(point, float(low), float(high), len(corpus))
        return Estimate(point, low, high, "score distributions (Storey)")
    machine = _clean(machine)
    require_texts(len(machine), "known machine texts (--machine)", fpr)
    point, alpha, beta = corrected_share(corpus, human, machine, fpr)
    if np.isnan(point):
        raise UserInputError(
            f"the detector flags no more machine examples ({beta:.3f}) than human texts "
            f"({alpha:.3f}) at the false-positive rate {fpr:g}: it cannot tell them apart"
        )
    shares = np.array(
        [
            corrected_share(
                _resample(corpus, rng), _resample(human, rng), _resample(machine, rng), fpr
            )[0]
            for _ in range(replicates)
        ]
    )
    # a replicate where the detector told nothing apart says the share could be anything
    undecided = np.isnan(shares)
    low = float(np.quantile(np.where(undecided, 0.0, shares), 0.025))
    high = float(np.quantile(np.where(undecided, 1.0, shares), 0.975))
    low, high = widened(point, low, high, len(corpus))
    method = "flagged share corrected for the true and false positive rates"
    return Estimate(point, low, high, method, alpha, beta)


def widened(share: float, low: float, high: float, documents: int) -> tuple[float, float]:
    """The bootstrap interval, widened to hold the 95% Clopper-Pearson interval of
    ``share`` counted in ``documents`` documents (never a point, even at 0 or 1)."""
    from scipy.stats import beta

    k = round(share * documents)
    exact_low = float(beta.ppf(0.025, k, documents - k + 1)) if k > 0 else 0.0
    exact_high = float(beta.ppf(0.975, k + 1, documents - k)) if k < documents else 1.0
    return min(low, exact_low), max(high, exact_high)


def _resample(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return values[rng.integers(0, len(values), len(values))]


def check_disjoint(corpus: list[str], reference: list[str]) -> None:
    """A reference that shares documents with the audited corpus would bias the estimate."""
    shared = {t.strip() for t in corpus} & {t.strip() for t in reference}
    if shared:
        raise UserInputError(
            f"{len(shared)} documents of --reference are also in the audited corpus; the "
            "human reference must be separate from what is audited"
        )
