"""A detector at work inside the loop: it scores each generation's unlabeled pool.

What the defender has, and uses: held-out human data (the source's validation split, or
its test split where there is none), and the models it trained itself, generation 0's
and the previous one, which made the pool's generated items. It never sees provenance.
Each generation the detector is calibrated again, per seed:

- text detectors score with a model of the run (``regime.detector_model``: the previous
  generation's, the source of the generated items, or generation 0's; Binoculars reads
  generation 0's as observer and the previous one as performer). The defender samples
  its own labelled machine text from the previous model to learn which way machine text
  lies and, for ``weight``, P(machine | score) by logistic regression;
- ``classifier`` trains its discriminator on half of the human data against those
  samples and calibrates on the other half;
- the threshold flags at most ``regime.fpr`` of the human data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError
from model_collapse.detectors.base import DETECTORS, auto_detector, threshold_at
from model_collapse.engine.capabilities import ScoresDistributions, can
from model_collapse.engine.step import Step


@dataclass(frozen=True)
class Verdict:
    """Per seed and pool item: how machine-like (higher: more), the threshold over which
    an item is flagged, and P(machine) where it was asked for."""

    scores: np.ndarray  # (S, n)
    threshold: np.ndarray  # (S,)
    p_machine: np.ndarray | None = None  # (S, n)

    @property
    def flagged(self) -> np.ndarray:
        return np.nan_to_num(self.scores, nan=-np.inf) > self.threshold[:, None]


def chosen_detector(config: Any, kind: str) -> str:
    """regime.detector, with ``auto`` made concrete for the run's kind of data."""
    name = str(config.regime.params.get("detector", "none"))
    return auto_detector(kind) if name == "auto" else name


def human_data(step: Step) -> np.ndarray:
    """The held-out human items the detector calibrates on (at most regime.calibration)."""
    real = step.real
    held = real.validation if real.validation is not None else real.test
    return held[: step.config.regime.calibration]


def judge(step: Step, pool: np.ndarray, probability: bool = False) -> Verdict:
    """Score the (S, n, ...) pool with the configured detector, calibrated afresh."""
    name = chosen_detector(step.config, step.real.kind)
    human = human_data(step)
    own = step.previous_model.sample(len(human), step.rng("detector"))  # labelled machine
    if DETECTORS.get(name).kind == "text":
        per_seed = [
            _judge_text(step, s, pool[s], human, own[s], probability) for s in range(len(pool))
        ]
    else:
        per_seed = [_judge_items(step, s, pool[s], human, own[s]) for s in range(len(pool))]
    scores, thresholds, p = zip(*per_seed, strict=True)
    return Verdict(np.stack(scores), np.array(thresholds), np.stack(p) if probability else None)


def scorer(model: Any, seed: int, what: str) -> Any:
    if not can(model, ScoresDistributions):
        raise UserInputError(
            f"the {what} model cannot give next-token distributions, which text detectors read"
        )
    from model_collapse.detectors.text import ModelScorer

    return ModelScorer(model, seed)


def _judge_text(
    step: Step, seed: int, pool: np.ndarray, human: np.ndarray, own: np.ndarray, probability: bool
) -> tuple[np.ndarray, float, np.ndarray | None]:
    from model_collapse.detectors.text import TextDetector, calibrated

    cfg, name = step.config.regime, chosen_detector(step.config, "text")
    source = step.previous_model if cfg.detector_model == "previous" else step.first_model
    if DETECTORS.get(name).performer:
        observer = scorer(step.first_model, seed, "generation 0")
        performer = scorer(step.previous_model, seed, "previous")
    else:
        observer, performer = scorer(source, seed, cfg.detector_model), None
    detector = TextDetector(name, observer, step.real.categories, performer=performer, min_tokens=1)
    h, m = (detector.score_blocks(x).score for x in (human, own))
    sign, threshold = calibrated(h, cfg.fpr, m)
    scores = sign * detector.score_blocks(pool).score
    p = machine_probability(sign * h, sign * m, scores) if probability else None
    return scores, threshold, p


def machine_probability(human: np.ndarray, machine: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """P(machine | score) from a logistic fit to human (0) and machine (1) scores, equal
    priors; unscored items get 1/2."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([human, machine])
    y = np.concatenate([np.zeros(len(human)), np.ones(len(machine))])
    keep = ~np.isnan(x)
    centre, scale = np.mean(x[keep]), np.std(x[keep]) or 1.0
    standard = ((x[keep] - centre) / scale)[:, None]
    fit = LogisticRegression(class_weight="balanced").fit(standard, y[keep])
    out = np.full(len(scores), 0.5)
    scored = ~np.isnan(scores)
    out[scored] = fit.predict_proba(((scores[scored] - centre) / scale)[:, None])[:, 1]
    return out


def _judge_items(
    step: Step, seed: int, pool: np.ndarray, human: np.ndarray, own: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    from model_collapse.detectors.classifier import ClassifierDetector

    half = len(human) // 2
    rng = step.rng("detector")
    clf = ClassifierDetector().fit(human[:half], own[:half], int(rng.integers(2**31)) + seed)
    threshold = threshold_at(clf.score(human[half:]), step.config.regime.fpr)
    scores = clf.score(pool)
    return scores, threshold, scores
