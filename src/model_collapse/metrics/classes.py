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

from typing import Any

import numpy as np

from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.metrics.image_classifier import ImageClassifier
from model_collapse.params import param
from model_collapse.step import Step

NEIGHBOURS = 5  # Kynkaanniemi et al.'s k
COVERED = 0.25  # a class counts while drawn at a quarter of its real share or more
CHUNK = 2048  # rows of a distance matrix at a time: 2048 x 10,000 floats is 160 MB


def _classifier(step: Step) -> ImageClassifier:
    return step.services["classifier"]  # type: ignore[no-any-return]


def _sample_features(step: Step) -> np.ndarray:
    """Each seed's sample features, (S, n, 64), computed once per generation."""
    if "features" not in step.found:
        assert step.synthetic is not None
        classifier = _classifier(step)
        step.found["features"] = np.stack([classifier.features(s) for s in step.synthetic])
    return step.found["features"]  # type: ignore[no-any-return]


def _real(step: Step) -> dict[str, Any]:
    """The real test images' features, class shares, moments and manifold radii: once."""
    cache = step.reference.cache
    if "classes" not in cache:
        classifier = _classifier(step)
        labels = step.real.test_labels
        assert labels is not None
        features = classifier.features(step.real.test)
        classes = classifier.classes_
        cache["classes"] = {
            "classes": classes,
            "shares": np.array([np.mean(labels == c) for c in classes]),
            "features": features,
            "mean": features.mean(axis=0),
            "cov": np.cov(features, rowvar=False),
            "radii": kth_neighbour_distance(features, NEIGHBOURS),
        }
    return cache["classes"]  # type: ignore[no-any-return]


def class_shares(step: Step) -> np.ndarray:
    """(S, classes): each seed's share of samples the classifier puts in each class."""
    real = _real(step)
    classifier = _classifier(step)
    predicted = [classifier.predict_features(f) for f in _sample_features(step)]
    return np.array([[np.mean(p == c) for c in real["classes"]] for p in predicted])


def class_coverage(step: Step) -> np.ndarray:
    real = _real(step)
    present = real["shares"] > 0
    covered = class_shares(step)[:, present] >= COVERED * real["shares"][present]
    return np.asarray(covered.mean(axis=1))


def class_entropy(step: Step) -> np.ndarray:
    shares = class_shares(step)
    terms = np.where(shares > 0, -shares * np.log(np.where(shares > 0, shares, 1.0)), 0.0)
    return np.asarray(terms.sum(axis=1))


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
    return np.array(
        [frechet_distance(real["mean"], real["cov"], f) for f in _sample_features(step)]
    )


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, never negative."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def kth_neighbour_distance(points: np.ndarray, k: int) -> np.ndarray:
    """Each point's distance to its k-th nearest other point (squared)."""
    out = np.empty(len(points))
    k = min(k, len(points) - 1)
    for start in range(0, len(points), CHUNK):
        d = squared_distances(points[start : start + CHUNK], points)
        # the point itself is its own 0th neighbour, at distance 0
        out[start : start + CHUNK] = np.partition(d, k, axis=1)[:, k]
    return out


def inside(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each point lies in some ball (centre, squared radius)."""
    hit = np.zeros(len(points), dtype=bool)
    for start in range(0, len(points), CHUNK):
        d = squared_distances(points[start : start + CHUNK], centres)
        hit[start : start + CHUNK] = (d <= radii[None, :]).any(axis=1)
    return hit


def _manifold(step: Step) -> list[tuple[float, float]]:
    """(precision, recall) per seed, with as many samples as real test images."""
    if "manifold" not in step.found:
        real = _real(step)
        size = len(real["features"])
        out = []
        for features in _sample_features(step):
            fake = features[:size]
            fake_radii = kth_neighbour_distance(fake, NEIGHBOURS)
            precision = inside(fake, real["features"], real["radii"]).mean()
            recall = inside(real["features"], fake, fake_radii).mean()
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


def _metric(compute: Any, description: str, expensive: bool = False) -> Metric:
    return Metric(
        ("image",),
        compute,
        _labelled,
        description,
        services=("classifier",),
        params=EVERY if expensive else {},
        needs=NEEDS,
        runs_at=scheduled if expensive else None,
    )


METRICS.register("class_coverage")(
    _metric(class_coverage, "share of the real classes the samples still draw")
)
METRICS.register("class_entropy")(
    _metric(class_entropy, "entropy (nats) of the samples' class shares, by the classifier")
)
METRICS.register("fid")(
    _metric(fid, "Frechet distance to the real test images in the classifier's features", True)
)
METRICS.register("precision")(
    _metric(
        lambda step: np.array([p for p, _ in _manifold(step)]),
        "share of samples inside the real images' manifold (k = 5)",
        True,
    )
)
METRICS.register("recall")(
    _metric(
        lambda step: np.array([r for _, r in _manifold(step)]),
        "share of real test images inside the samples' manifold (k = 5)",
        True,
    )
)
