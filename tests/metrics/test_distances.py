"""The feature metrics' distance work: NumPy against brute force, and torch (the path a
GPU run takes, here on the CPU) against NumPy, to rounding."""

import numpy as np
import pytest

from model_collapse.metrics import distances
from model_collapse.metrics.distances import inside, kth_neighbour_distance, nearest_distance


@pytest.mark.parametrize("device", ["", "cpu"])  # NumPy, then torch
def test_distances_match_brute_force_across_blocks(monkeypatch, device):
    monkeypatch.setattr(distances, "BUDGET", 8 * 30 * 7)  # blocks of 7 rows of 30 columns
    points = np.random.default_rng(1).standard_normal((30, 3))
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    expected = np.sort(d, axis=1)[:, 5]
    assert np.allclose(kth_neighbour_distance(points, 5, device), expected, rtol=1e-12)
    hit = inside(points[:10], points[10:], expected[10:], device)
    assert np.array_equal(hit, (d[:10, 10:] <= expected[None, 10:]).any(axis=1))
    nearest = nearest_distance(points[:10], points[10:], device)
    assert np.allclose(nearest, np.sqrt(d[:10, 10:].min(axis=1)), rtol=1e-12)


def test_torch_gives_the_numpy_values_at_a_feature_metrics_size():
    """1,000 samples against 2,000 points in 64 dimensions (a classifier's features): the
    distances agree to 1e-10 of themselves, and every membership is the same."""
    rng = np.random.default_rng(2)
    fake, real = rng.standard_normal((1000, 64)), rng.standard_normal((2000, 64))
    radii = kth_neighbour_distance(real, 5)
    assert np.allclose(kth_neighbour_distance(real, 5, "cpu"), radii, rtol=1e-10)
    assert np.array_equal(inside(fake, real, radii, "cpu"), inside(fake, real, radii))
    np.testing.assert_allclose(
        nearest_distance(fake, real, "cpu"), nearest_distance(fake, real), rtol=1e-10
    )


def test_the_classifier_features_are_the_same_in_torch(monkeypatch):
    from types import SimpleNamespace

    from model_collapse.metrics.image_classifier import ImageClassifier

    rng = np.random.default_rng(3)
    classifier = ImageClassifier(SimpleNamespace(experiment=SimpleNamespace(device="cpu")), None)
    classifier.weights_ = [rng.standard_normal((64, 128)), rng.standard_normal((128, 64)),
                           rng.standard_normal((64, 10))]  # fmt: skip
    classifier.biases_ = [rng.standard_normal(128), rng.standard_normal(64), np.zeros(10)]
    images = rng.uniform(size=(500, 64))
    numpy_features = classifier.features(images)  # "cpu" is not a GPU: NumPy
    monkeypatch.setattr(distances, "gpu_of", lambda config: "cpu")  # as a GPU run would
    np.testing.assert_allclose(classifier.features(images), numpy_features, rtol=1e-12)
