"""Which classes survive, and how far the samples drift, seen by a classifier of the real
images (the service ``classifier``, trained once per run; images with labels only).

- ``class_coverage``: the share of the real classes still drawn: a class counts while its
  share of the samples (as the classifier labels them) is at least a quarter of its share
  of the real test images. 1: every digit is drawn; 0.1: one digit of ten is left.
- ``class_entropy``: the entropy (nats) of the samples' class shares; log 10 = 2.30 for
  ten even classes, 0 when one is left.
- ``fid``: the Frechet distance between Gaussians fitted to the real test images' features
  and to the samples' (the classifier's last hidden layer; Heusel et al. 2017).
- ``precision``, ``recall``: Kynkaanniemi et al. (2019), k = 5: the share of samples inside
  the real images' manifold (balls reaching each real feature's 5th nearest real
  neighbour), and the share of real images inside the samples' manifold. Collapse keeps
  precision and loses recall. Both use as many samples as there are real test images.

fid, precision and recall are computed every ``metrics.feature_every``-th generation (and
at the last); other generations hold NaN, which the figures step over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from model_collapse.config.params import param
from model_collapse.config.schedules import fewest
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.metrics.distances import (
    gpu_of,
    inside,
    kth_neighbour_distance,
)
from model_collapse.metrics.image_classifier import ImageClassifier

NEIGHBOURS = 5  # the issue's k, as in Naeem et al.'s prdc (Kynkaanniemi et al. chose 3)
COVERED = 0.25  # a class counts while drawn at a quarter of its real share or more


def _classifier(step: Step) -> ImageClassifier:
    return step.services["classifier"]  # type: ignore[no-any-return]


def finite_seeds(step: Step) -> np.ndarray:
    """(S,): whether each seed's samples are all finite. A diverged model's NaN samples
    have no class and no features: its metrics are NaN, which the run log explains."""
    assert step.synthetic is not None
    return np.asarray(np.isfinite(step.synthetic).all(axis=(1, 2)))


def per_seed(step: Step, value: Callable[[np.ndarray], float]) -> np.ndarray:
    """``value(features)`` for each seed with finite samples, NaN for the others."""
    finite = finite_seeds(step)
    features = _sample_features(step)
    return np.array([value(f) if ok else np.nan for f, ok in zip(features, finite, strict=True)])


def _sample_features(step: Step) -> np.ndarray:
    """Each seed's sample features, (S, n, 64), computed once per generation."""
    if "features" not in step.found:
        assert step.synthetic is not None
        classifier = _classifier(step)
        step.found["features"] = np.stack([classifier.features(s) for s in step.synthetic])
    return step.found["features"]  # type: ignore[no-any-return]


def _real(step: Step) -> dict[str, Any]:
    """The real test images' features, class shares and moments: computed once. The
    shares are of the classes the classifier gives them, as the samples' are, so its
    errors do not count against a generator that draws like the real data."""
    cache = step.reference.cache
    if "classes" not in cache:
        classifier = _classifier(step)
        features = classifier.features(step.real.test)
        predicted = classifier.predict_features(features)
        cache["classes"] = {
            "shares": np.array([np.mean(predicted == c) for c in classifier.classes_]),
            "features": features,
            "mean": features.mean(axis=0),
            "cov": np.cov(features, rowvar=False),
        }
    return cache["classes"]  # type: ignore[no-any-return]


def _shares(step: Step, features: np.ndarray) -> np.ndarray:
    classifier = _classifier(step)
    predicted = classifier.predict_features(features)
    return np.array([np.mean(predicted == c) for c in classifier.classes_])


def class_coverage(step: Step) -> np.ndarray:
    real = _real(step)["shares"]
    present = real > 0
    return per_seed(
        step, lambda f: float(np.mean(_shares(step, f)[present] >= COVERED * real[present]))
    )


def entropy(shares: np.ndarray) -> float:
    """In nats; a class not drawn adds 0 (and one class left gives 0.0, not -0.0)."""
    drawn = shares > 0
    return float(np.where(drawn, -shares * np.log(np.where(drawn, shares, 1.0)), 0.0).sum())


def class_entropy(step: Step) -> np.ndarray:
    return per_seed(step, lambda f: entropy(_shares(step, f)))


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, features: np.ndarray) -> float:
    """Between N(mean_a, cov_a) and a Gaussian fitted to ``features``. The trace of the
    square root of cov_a cov_b is the sum of the square roots of the eigenvalues of
    sqrt(cov_a) cov_b sqrt(cov_a), a symmetric matrix: stable even when collapse leaves
    cov_b singular."""
    mean_b, cov_b = features.mean(axis=0), np.cov(features, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    cross = np.sqrt(np.clip(middle, 0.0, None)).sum()
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    return float(max(distance, 0.0))


def fid(step: Step) -> np.ndarray:
    real = _real(step)
    return per_seed(step, lambda f: frechet_distance(real["mean"], real["cov"], f))


def _manifold(step: Step) -> list[tuple[float, float]]:
    """(precision, recall) per seed, from as many samples as real test images (the
    smaller count of each, Kynkaanniemi et al.'s equal sizes)."""
    if "manifold" not in step.found:
        assert step.synthetic is not None
        size = min(len(step.real.test), step.synthetic.shape[1])
        real = _real(step)["features"][:size]  # the test split is in random order
        key = f"manifold radii {size}"
        if key not in step.reference.cache:
            step.reference.cache[key] = kth_neighbour_distance(
                real, NEIGHBOURS, gpu_of(step.config)
            )
        radii = step.reference.cache[key]
        device = gpu_of(step.config)
        out = []
        for features, finite in zip(_sample_features(step), finite_seeds(step), strict=True):
            if not finite:
                out.append((np.nan, np.nan))
                continue
            fake = features[:size]
            precision = inside(fake, real, radii, device).mean()
            fake_radii = kth_neighbour_distance(fake, NEIGHBOURS, device)
            recall = inside(real, fake, fake_radii, device).mean()
            out.append((float(precision), float(recall)))
        step.found["manifold"] = out
    return step.found["manifold"]  # type: ignore[no-any-return]


def _labelled(reference: Reference, model: Any, exact: bool) -> bool:
    return reference.real.labels is not None and reference.real.test_labels is not None


def scheduled(step: Step) -> bool:
    """Whether the feature metrics run in this generation: every k-th, and the last."""
    every, last = step.config.metrics.feature_every, step.config.experiment.generations - 1
    return step.generation % every == 0 or step.generation == last


EVERY = {
    "feature_every": param(
        1, "compute fid, precision and recall every k-th generation (and the last)", low=1
    )
}
NEEDS = "images with labels (a classifier of the real images labels the samples)"


def needs_items(least: int) -> Callable[[Reference], str]:
    """Why the data are too small: fewer than 2 classes to tell apart, or fewer than
    ``least`` real test images or samples per generation."""

    def too_small(reference: Reference) -> str:
        labels = reference.real.labels
        assert labels is not None  # applies only with labels
        if len(np.unique(labels)) < 2:
            return "the real training images hold a single class"
        test = len(reference.real.test)
        samples = fewest(reference.config.sampling.n, reference.config.experiment.generations)
        if min(test, samples) < least:
            return f"it needs {least} real test images and samples at least ({test}, {samples})"
        return ""

    return too_small


def _metric(
    compute: Any,
    description: str,
    least: int = 1,
    expensive: bool = False,
    **reading: Any,
) -> Metric:
    return Metric(
        ("image",),
        compute,
        _labelled,
        description,
        services=("classifier",),
        params=EVERY if expensive else {},
        needs=NEEDS,
        runs_at=scheduled if expensive else None,
        too_small=needs_items(least),
        **reading,
    )


METRICS.register("class_coverage")(
    _metric(
        class_coverage,
        "share of the real classes the samples still draw",
        better="higher",
        level=1.0,
    )
)
METRICS.register("class_entropy")(
    _metric(
        class_entropy,
        "entropy (nats) of the samples' class shares, by the classifier",
        better="higher",  # its real level is the real classes' entropy: the data's own
    )
)
METRICS.register("fid")(
    _metric(
        fid,
        "Frechet distance to the real test images in the classifier's features",
        2,
        True,
        better="lower",
        level=0.0,
    )
)
METRICS.register("precision")(
    _metric(
        lambda step: np.array([p for p, _ in _manifold(step)]),
        "share of samples inside the real images' manifold (k = 5)",
        NEIGHBOURS + 1,
        True,
        better="higher",
        note=(
            "Precision can rise while recall falls: collapsing samples crowd into the densest "
            "part of the real images' manifold, each looking real while they cover less of it "
            "(Alemohammad et al. 2024 report the same). Read it with recall."
        ),
    )
)
METRICS.register("recall")(
    _metric(
        lambda step: np.array([r for _, r in _manifold(step)]),
        "share of real test images inside the samples' manifold (k = 5)",
        NEIGHBOURS + 1,
        True,
        better="higher",
    )
)
