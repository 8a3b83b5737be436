"""The image metrics at their edges: a diverged model's NaN samples, a single class, too
few test images or samples, and a small labelled set (each found by review)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import model_collapse
from model_collapse.assemble.validate import config_from_dict
from model_collapse.engine.step import Step
from model_collapse.metrics import METRICS, classes, images
from model_collapse.metrics.image_classifier import ImageClassifier
from tests.metrics.test_classes import _config, _step, digits  # noqa: F401


def test_nan_samples_give_nan_for_their_seed_only(digits):  # noqa: F811
    plan, _ = digits
    samples = np.stack([plan.real.test, plan.real.test])
    samples[1, :10] = np.nan  # seed 1's model diverged
    step = _step(digits, samples)
    for name in ("class_coverage", "class_entropy", "fid", "precision", "recall"):
        values = METRICS.get(name).compute(step)
        assert np.isfinite(values[0]) and np.isnan(values[1]), name
    memorised = images.nearest_real_distance(step)
    assert np.isfinite(memorised[0]) and np.isnan(memorised[1])


def _images(tmp_path: Path, labels: np.ndarray, count: int) -> Path:
    from sklearn.datasets import load_digits

    pixels = load_digits().images[:count] / 16.0
    np.savez(tmp_path / "d.npz", images=pixels, labels=labels[:count])
    return tmp_path / "d.npz"


def _run(path: Path, **sizes: int):
    config = config_from_dict(
        {
            "experiment": {"generations": 1, "seeds": 1},
            "source": {"name": "images", "path": str(path), "n_train": 0, **sizes},
            "family": {"name": "pca-gmm", "pca_components": 4, "components": 2},
            "sampling": {"n": 0},
        }
    )
    return model_collapse.run(config)


def test_a_single_class_leaves_the_class_metrics_out(tmp_path: Path):
    result = _run(_images(tmp_path, np.zeros(300, dtype=int), 300))
    assert "class_entropy" not in result.metrics.columns
    assert "pixel_variance_ratio" in result.metrics.columns


def test_few_test_images_leave_precision_and_recall_out_and_small_sets_train(tmp_path: Path):
    """12 images, 2 for testing: too few for 5 neighbours or a covariance worth the name
    (fid needs 2); the classifier trains on 10 images without early stopping."""
    labels = np.arange(12) % 2
    result = _run(_images(tmp_path, labels, 12), test_fraction=0.2)
    columns = set(result.metrics.columns)
    assert {"class_coverage", "class_entropy", "fid"} <= columns
    assert not {"precision", "recall"} & columns


def test_the_classifier_predicts_one_class_when_it_knows_one(digits):  # noqa: F811
    plan, classifier = digits
    one = ImageClassifier(plan.config, plan.real).set_state(
        {**classifier.get_state(), "classes_": np.array([7])}
    )
    assert (one.predict(plan.real.test[:5]) == 7).all()


@pytest.mark.parametrize(
    ("name", "sizes"),
    [("fid", {"test_fraction": 0.05}), ("recall", {"n": classes.NEIGHBOURS})],
)
def test_a_metric_asked_for_on_too_little_data_is_refused(tmp_path: Path, name, sizes):
    """fid needs 2 test images (here 1 of 12); recall 6 samples (here 5)."""
    from model_collapse.core.errors import UserInputError

    path = _images(tmp_path, np.arange(12) % 2, 12)
    split = {k: v for k, v in sizes.items() if k != "n"}
    config = config_from_dict(
        {
            "experiment": {"generations": 1, "seeds": 1},
            "source": {"name": "images", "path": str(path), "n_train": 0, **split},
            "family": {"name": "pca-gmm", "pca_components": 4, "components": 2},
            "sampling": {"n": sizes.get("n", 0)},
            "metrics": {"names": [name]},
        }
    )
    with pytest.raises(UserInputError, match=f"metric '{name}' does not apply to this run: it"):
        model_collapse.run(config)


def _memorised(digits, train: np.ndarray, samples: np.ndarray) -> np.ndarray:  # noqa: F811
    """nearest_real_distance of ``samples`` against the training set ``train`` (per seed)."""
    from dataclasses import replace

    plan, classifier = digits
    real = replace(plan.real, train=train)
    step = Step(1, plan.config, real, [], None, None, plan.new_model, plan.reference)
    step.services, step.synthetic = {"classifier": classifier}, samples
    plan.reference.cache.clear()
    return images.nearest_real_distance(step)


def test_nearest_real_distance_is_one_for_copies_and_the_level_for_fresh_real(digits):  # noqa: F811
    """The metric's three readings: a model that copies its training images scores about
    1, one that draws fresh real images about 0.05 (its declared level), one that draws
    those images blurred less (vae-digits' 0 at every generation: its samples, decoder
    means, are smoother than any real digit and farther from every training image)."""
    plan, _ = digits
    pool = plan.real.train[0]
    half = len(pool) // 2
    train, fresh = pool[None, :half], pool[None, half:]
    copies = _memorised(digits, train, train[:, : len(fresh[0])])
    assert copies[0] == 1.0
    # fresh real images fall below the 5% quantile of 359 real test images' distances
    # 5% of the time: standard error sqrt(.05 .95 / n) for n fresh images, plus the
    # quantile's own, sqrt(.05 .95 / 359) = 0.0115; 4 of them cover both (false alarm
    # well under 1e-4)
    share = _memorised(digits, train, fresh)[0]
    error = np.sqrt(0.05 * 0.95 / fresh.shape[1]) + np.sqrt(0.05 * 0.95 / 359)
    assert abs(share - images.MEMORISED) < 4 * error, share
    from scipy.ndimage import uniform_filter

    blurred = uniform_filter(fresh.reshape(-1, 8, 8), size=(1, 3, 3)).reshape(fresh.shape)
    assert _memorised(digits, train, blurred)[0] < share / 2
