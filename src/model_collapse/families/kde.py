"""Kernel density family: a Gaussian kernel on every training sample, per seed.

Sampling picks a training point and adds kernel noise, so each generation's variance
grows by the kernel's: the opposite drift to the MLE families.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import BIG, param
from model_collapse.core.degenerate import overflowed, singular_gaussian
from model_collapse.core.rng import weighted_rows
from model_collapse.families.base import FAMILIES, Family
from model_collapse.families.gaussian import sample_gaussian
from model_collapse.sources.base import RealData


class KDEModel:
    """Gaussian kernel density estimate per seed.

    Parameters
    ----------
    bandwidth : "scott" or "silverman" (the factor that multiplies the data covariance,
        as in ``scipy.stats.gaussian_kde``), or a number: a fixed kernel standard deviation.
    """

    def __init__(self, bandwidth: str | float = "scott") -> None:
        self.bandwidth = bandwidth

    def kernel_covariance(self, x: np.ndarray) -> np.ndarray:
        """The kernel covariance per seed (S, d, d)."""
        seeds, n, d = x.shape
        if not isinstance(self.bandwidth, str):
            return np.broadcast_to(self.bandwidth**2 * np.eye(d), (seeds, d, d)).copy()
        centred = x - x.mean(axis=1, keepdims=True)
        cov = np.einsum("snd,sne->sde", centred, centred) / (n - 1)
        return np.asarray(cov * self.factor(n, d) ** 2)

    def factor(self, n: Any, d: int) -> Any:
        """The rule's factor of the data covariance for n items (or effective items) in d-D."""
        if self.bandwidth == "scott":
            return n ** (-1.0 / (d + 4))
        return (n * (d + 2) / 4.0) ** (-1.0 / (d + 4))  # silverman

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        self.points_ = np.asarray(data, dtype=float)
        self.kernel_ = self.kernel_covariance(self.points_)
        self.shares_: np.ndarray | None = None
        return self

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Kernels weighted by the items' weights; the bandwidth rule uses the weighted
        covariance and the effective sample size (as scipy's gaussian_kde does)."""
        self.points_ = np.asarray(data, dtype=float)
        self.shares_ = weight / weight.sum(axis=1, keepdims=True)
        d = self.points_.shape[2]
        if not isinstance(self.bandwidth, str):
            self.kernel_ = self.kernel_covariance(self.points_)
            return self
        share = self.shares_
        mean = np.einsum("sn,snd->sd", share, self.points_)
        centred = self.points_ - mean[:, None, :]
        squares = (share**2).sum(axis=1)  # 1 / effective sample size, per seed
        cov = np.einsum("sn,snd,sne->sde", share, centred, centred) / (1 - squares)[:, None, None]
        self.kernel_ = cov * (self.factor(1.0 / squares, d) ** 2)[:, None, None]
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, m, d = self.points_.shape
        if self.shares_ is None:
            rows = rng.integers(0, m, size=(seeds, n))
        else:  # kernels drawn in proportion to their weight
            rows = weighted_rows(self.shares_, n, rng)
        centres = np.take_along_axis(self.points_, rows[..., None], axis=1)
        noise = sample_gaussian(np.zeros((seeds, d)), self.kernel_, n, rng)
        return centres + noise

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        if self.shares_ is not None:
            mean = np.einsum("sn,snd->sd", self.shares_, self.points_)
            centred = self.points_ - mean[:, None, :]
            cov = np.einsum("sn,snd,sne->sde", self.shares_, centred, centred)
            return mean, cov + self.kernel_
        mean = self.points_.mean(axis=1)
        centred = self.points_ - mean[:, None, :]
        cov = np.einsum("snd,sne->sde", centred, centred) / self.points_.shape[1]
        return mean, cov + self.kernel_

    def collapsed(self) -> np.ndarray:
        return singular_gaussian(self.points_.mean(axis=1), self.kernel_)

    def diverged(self) -> np.ndarray:
        return overflowed(self.points_, self.kernel_)

    def get_state(self) -> dict[str, np.ndarray]:
        state = {"points_": self.points_, "kernel_": self.kernel_}
        return state if self.shares_ is None else {**state, "shares_": self.shares_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.points_, self.kernel_ = state["points_"], state["kernel_"]
        self.shares_ = state.get("shares_")
        return self


def _make(config: Config, real: RealData) -> KDEModel:
    return KDEModel(config.family.bandwidth)


FAMILIES.register("kde")(
    Family(
        kind="continuous",
        make=_make,
        min_samples=lambda config, dim: dim + 1,
        description="Gaussian kernel density (family.bandwidth scott|silverman|number)",
        params={
            "bandwidth": param(
                "scott",
                "kernel bandwidth rule, or a kernel standard deviation",
                str | float,
                low=0.0,
                high=BIG,
                open_low=True,
                choices=("scott", "silverman"),
            )
        },
        collapse="the kernel covariance is singular: the points coincide along some direction",
    )
)
