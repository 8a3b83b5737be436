"""The service ``classifier``: a small network trained once per run on the real training
images and their labels, which labels every generation's samples and gives the feature
space that fid, precision and recall measure in.

It is scikit-learn's multi-layer perceptron (two ReLU layers, 128 and 64 units, Adam,
early stopping on a tenth of the images where there are 50 or more per class) fitted
from the service's own random stream. Only its weights are kept, as named arrays saved
with the run: labels and features are one forward pass in NumPy, so a resumed run reads
the same network back and never trains it again. Its test accuracy goes to
``accuracy_``, and the run log reports it: a classifier that cannot tell real digits
apart makes every class metric meaningless.

The papers measure in an ImageNet network's feature space (Inception); nothing that
large can be trained or shipped offline, and an ImageNet feature space says little about
8x8 digits. A classifier of the run's own images is what Alemohammad et al. and the
MNIST literature use for small images.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Self

import numpy as np

from model_collapse.config import Config
from model_collapse.core.errors import UserInputError
from model_collapse.services import SERVICES, Service
from model_collapse.sources.base import RealData

HIDDEN = (128, 64)  # the last hidden layer is the feature space
MAX_EPOCHS = 200
EARLY_STOPPING_PER_CLASS = 50  # below this many images per class, train all MAX_EPOCHS


class ImageClassifier:
    """Labels and features of images, from a network fitted to the real training images."""

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config

    def fit(self, real: RealData, rng: np.random.Generator) -> Self:
        if importlib.util.find_spec("sklearn") is None:
            raise UserInputError(
                "the class and feature metrics train scikit-learn's classifier; "
                "pip install scikit-learn, or set metrics.names without them"
            )
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        images, labels = training_images(real)
        classes = len(np.unique(labels))
        network = MLPClassifier(
            HIDDEN,
            max_iter=MAX_EPOCHS,
            # a tenth held out to stop on needs a few images of every class
            early_stopping=len(labels) >= EARLY_STOPPING_PER_CLASS * classes,
            random_state=int(rng.integers(2**31)),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            network.fit(images, labels)
        self.weights_ = [np.asarray(w, dtype=np.float64) for w in network.coefs_]
        self.biases_ = [np.asarray(b, dtype=np.float64) for b in network.intercepts_]
        self.classes_ = np.asarray(network.classes_, dtype=np.int64)
        assert real.test_labels is not None
        self.accuracy_ = np.array([np.mean(self.predict(real.test) == real.test_labels)])
        return self

    def summary(self) -> str:
        return (
            f"a classifier of the real training images labels {self.accuracy_[0]:.1%} of the "
            "real test images right"
        )

    def features(self, images: np.ndarray) -> np.ndarray:
        """The last hidden layer's activations, (n, 64): in float64 torch on the run's GPU
        where it has one (the same values to rounding), else NumPy."""
        from model_collapse.metrics.distances import gpu_of

        device = gpu_of(self.config)
        if device:
            return self._features_on(images, device)
        h = np.asarray(images, dtype=np.float64)
        for w, b in zip(self.weights_[:-1], self.biases_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        return h

    def _features_on(self, images: np.ndarray, device: str) -> np.ndarray:
        import torch

        h = torch.as_tensor(np.asarray(images, dtype=np.float64), device=device)
        for w, b in zip(self.weights_[:-1], self.biases_[:-1], strict=True):
            weight = torch.as_tensor(np.asarray(w, dtype=np.float64), device=device)
            bias = torch.as_tensor(np.asarray(b, dtype=np.float64), device=device)
            h = torch.clamp(h @ weight + bias, min=0.0)
        return np.asarray(h.cpu().numpy())

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """The class of each image, from its features."""
        logits = features @ self.weights_[-1] + self.biases_[-1]
        if len(self.classes_) == 1:  # the class metrics leave such runs out; kept whole
            return np.full(len(features), self.classes_[0])
        if logits.shape[1] == 1:  # two classes: scikit-learn keeps one logistic output
            return self.classes_[(logits[:, 0] > 0).astype(np.int64)]
        return self.classes_[np.argmax(logits, axis=1)]

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_features(self.features(images))

    def get_state(self) -> dict[str, np.ndarray]:
        state = {f"weight_{i}": w for i, w in enumerate(self.weights_)}
        state.update({f"bias_{i}": b for i, b in enumerate(self.biases_)})
        return {**state, "classes_": self.classes_, "accuracy_": self.accuracy_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        layers = sum(1 for key in state if key.startswith("weight_"))
        self.weights_ = [state[f"weight_{i}"] for i in range(layers)]
        self.biases_ = [state[f"bias_{i}"] for i in range(layers)]
        self.classes_, self.accuracy_ = state["classes_"], state["accuracy_"]
        return self


def training_images(real: RealData) -> tuple[np.ndarray, np.ndarray]:
    """Every seed's real training images with their labels, each distinct pair once, in a
    fixed order (seeds draw from one pool; the classifier sees all of it)."""
    assert real.labels is not None
    pixels = real.train.shape[2]
    pairs = np.concatenate(
        [real.train.reshape(-1, pixels), real.labels.reshape(-1, 1).astype(np.float64)], axis=1
    )
    pairs = np.unique(pairs, axis=0)
    return pairs[:, :-1], pairs[:, -1].astype(np.int64)


SERVICES.register("classifier")(
    Service(
        ImageClassifier,
        "a classifier of the real training images: labels samples, gives the feature space",
    )
)
