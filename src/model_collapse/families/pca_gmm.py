"""``pca-gmm``: a Gaussian mixture on the principal-component coefficients of images.

The fast baseline of image collapse, with no network: each seed projects its training
images on their top ``family.pca_components`` principal directions, fits the ``gmm``
family's batched EM to the coefficients, and samples images back through the same
directions (pixels clipped to [0, 1]). A generation takes well under a second on the
digits, so the whole chain of an image experiment runs before a VAE finishes one epoch.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.families.base import FAMILIES, Family
from model_collapse.families.gmm import PARAMS as GMM_PARAMS
from model_collapse.families.gmm import GMMModel
from model_collapse.sources.base import RealData


class PCAGMMModel:
    """Per seed: a PCA of the training images and a GMM of their coefficients.

    Parameters
    ----------
    pca_components : principal directions kept (at most the pixels and the images - 1).
    mixture : the :class:`GMMModel` of the coefficients (its settings; fitted in ``fit``).
    """

    def __init__(self, pca_components: int, mixture: GMMModel) -> None:
        self.pca_components = pca_components
        self.mixture = mixture

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        images = np.asarray(data, dtype=float)  # (S, n, pixels)
        self.centre_ = images.mean(axis=1)
        centred = images - self.centre_[:, None, :]
        keep = min(self.pca_components, images.shape[1] - 1, images.shape[2])
        # rows of vt: the principal directions of each seed's images, largest first
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        self.directions_ = vt[:, :keep, :]
        coefficients = centred @ np.swapaxes(self.directions_, 1, 2)
        self.mixture = self.mixture.fit(coefficients, rng)
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        coefficients = self.mixture.sample(n, rng)
        images = coefficients @ self.directions_ + self.centre_[:, None, :]
        return np.clip(images, 0.0, 1.0)

    def collapsed(self) -> np.ndarray:
        return self.mixture.collapsed()

    def diverged(self) -> np.ndarray:
        return self.mixture.diverged()

    def get_state(self) -> dict[str, np.ndarray]:
        state = {f"mixture/{k}": v for k, v in self.mixture.get_state().items()}
        return {**state, "centre_": self.centre_, "directions_": self.directions_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.centre_, self.directions_ = state["centre_"], state["directions_"]
        prefix = "mixture/"
        mixture = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        self.mixture = self.mixture.set_state(mixture)
        return self


def _make(config: Config, real: RealData) -> PCAGMMModel:
    f = config.family
    mixture = GMMModel(f.components, f.covariance, f.max_iter, f.tol, f.reg_covar)
    return PCAGMMModel(f.pca_components, mixture)


FAMILIES.register("pca-gmm")(
    Family(
        kind="image",
        make=_make,
        min_samples=lambda config, dim: max(config.family.components, 2),
        description="Gaussian mixture on the images' principal-component coefficients: a "
        "fast baseline (family.pca_components, components)",
        params={
            "pca_components": param(20, "principal directions kept", low=1, high=100_000),
            **GMM_PARAMS,
            "components": param(10, "mixture components", low=1, high=1000),
        },
        collapse="a mixture component is empty or sits on a single point",
    )
)
