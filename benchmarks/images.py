"""Image costs, each against a baseline in the same process: a VAE epoch over the 1,797
digits (the vae family's training loop against a plain PyTorch loop of the same network),
the feature-space metrics for 10,000 samples (ours against scikit-learn's nearest
neighbours and SciPy's matrix square root), and the classifier, trained once per run."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from benchmarks.detection import _best

SAMPLES = 10_000


def _digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return np.asarray(load_digits().images.reshape(-1, 64) / 16.0)


def vae_epoch() -> dict[str, float]:
    """One epoch over the 1,797 digits at the paper's settings (batch 256, latent 20,
    hidden 400, Adam at 1e-3)."""
    import torch

    from model_collapse.families.vae_torch import Training, VAENet, negative_elbo, train

    images = _digits()
    settings = Training(1, 256, 1e-3, "bernoulli", 0.1)
    torch.manual_seed(0)
    ours = _best(lambda: train(VAENet(64, 400, 20), images, settings, np.random.default_rng(0)))

    def plain() -> None:
        net = VAENet(64, 400, 20)
        data = torch.from_numpy(images.astype(np.float32))
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        for batch in torch.randperm(len(data)).split(256):
            loss = negative_elbo(net, data[batch], torch.randn(len(batch), 20), settings)
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()

    return {"ours": ours, "plain": _best(plain)}


def feature_metrics() -> dict[str, float]:
    """fid, precision, recall, class_coverage and class_entropy of 10,000 samples (real
    digits with pixel noise) against the 359 real test digits, the classifier's features
    included; the baseline computes fid and precision/recall with SciPy and scikit-learn."""
    from model_collapse.assemble.plan import plan_run
    from model_collapse.assemble.validate import config_from_dict
    from model_collapse.engine.step import Step
    from model_collapse.metrics import METRICS
    from model_collapse.metrics.image_classifier import ImageClassifier

    config = config_from_dict(
        {
            "experiment": {"seeds": 1},
            "source": {"name": "digits", "n_train": 0},
            "family": {"name": "vae"},
            "sampling": {"n": 0},
        }
    )
    plan = plan_run(config)
    rng = np.random.default_rng(0)
    trained = time.perf_counter()
    classifier = ImageClassifier(plan.config, plan.real).fit(plan.real, rng)
    trained = time.perf_counter() - trained
    pool = plan.real.train[0]
    samples = pool[rng.integers(len(pool), size=SAMPLES)] + 0.05 * rng.standard_normal(
        (SAMPLES, 64)
    )

    def ours() -> None:
        step = Step(1, plan.config, plan.real, [], None, None, plan.new_model, plan.reference)
        step.services, step.synthetic = {"classifier": classifier}, samples[None]
        plan.reference.cache.clear()
        for metric in ("fid", "precision", "recall", "class_coverage", "class_entropy"):
            METRICS.get(metric).compute(step)

    def baseline() -> None:
        scipy_and_sklearn(classifier, plan.real.test, samples)

    return {"ours": _best(ours), "baseline": _best(baseline), "classifier": trained}


def scipy_and_sklearn(classifier: Any, test: np.ndarray, samples: np.ndarray) -> None:
    """fid by SciPy's sqrtm, precision and recall by scikit-learn's neighbours and pairwise
    distances, the classes by the classifier: what the metrics compute, the usual way."""
    import scipy.linalg
    from sklearn.metrics import pairwise_distances
    from sklearn.neighbors import NearestNeighbors

    real, fake = classifier.features(test), classifier.features(samples)
    cov_a, cov_b = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU units leave the covariances singular
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    _ = ((real.mean(0) - fake.mean(0)) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)
    fake = fake[: len(real)]
    for a, b in ((real, fake), (fake, real)):
        radii = NearestNeighbors(n_neighbors=6).fit(a).kneighbors(a)[0][:, -1]
        _ = (pairwise_distances(b, a) <= radii[None, :]).any(axis=1).mean()
    classifier.predict(samples)


def images_report(vae: dict[str, float], features: dict[str, float]) -> str:
    return f"""## Images

One VAE epoch over the 1,797 digits at the paper's settings (batch 256, latent 20, hidden 400, Adam), best of 3:

| what | seconds |
|---|---|
| the vae family's training loop (batch order and noise drawn on the CPU) | {vae["ours"]:.3f} |
| a plain PyTorch loop of the same network, same process | {vae["plain"]:.3f} ({vae["ours"] / vae["plain"]:.2f}x) |

The feature-space metrics of {SAMPLES:,} samples against the 359 real test digits (fid, precision, recall, class_coverage, class_entropy; the classifier's forward pass included), best of 3. Precision and recall compare as many samples as there are real test images (Kynkaanniemi et al.'s equal sizes), so they read 359 of the samples:

| what | seconds |
|---|---|
| ours | {features["ours"]:.3f} |
| SciPy's sqrtm for fid and scikit-learn's nearest neighbours for precision/recall (its pairwise distances for the balls), same process | {features["baseline"]:.3f} ({features["ours"] / features["baseline"]:.2f}x) |
| the classifier, trained once per run on the 1,438 training digits (saved; a resume reads it) | {features["classifier"]:.2f} |
"""


def image_benchmark() -> str:
    import torch

    torch.set_num_threads(2)
    return images_report(vae_epoch(), feature_metrics())
