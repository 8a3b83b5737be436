"""An example plug-in: a uniform family, its own source and its closed form.

A uniform model on a box, refitted generation after generation by maximum likelihood
(the sample's minimum and maximum per coordinate), can only shrink: every refit's width
is the previous width times the range of n uniform draws, a Beta(n - 1, 2) variable.
With n samples per generation and generation 0 fitted on n real ones, the expected
variance ratio after generation g is q^(g + 1), q = n (n - 1) / ((n + 1) (n + 2)).

Import this module through ``experiment.plugins = ["uniform_family"]`` with its folder on
the Python path (see docs/plugins.md). It registers:

- the family ``uniform`` (``family.estimator = "mle" | "unbiased"``);
- the source ``uniform_box`` (``source.width``, ``source.dim``), a known truth;
- the theory ``uniform-variance``, drawn on the variance_ratio figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from model_collapse.config import Config, SourceConfig
from model_collapse.config.params import param
from model_collapse.families import FAMILIES, Family
from model_collapse.sources.base import truth_source
from model_collapse.theory import THEORIES, Curve, Theory


class UniformModel:
    """A uniform distribution on a box [low_, high_] per seed (scikit-learn's shape)."""

    def __init__(self, estimator: str = "mle") -> None:
        self.estimator = estimator

    def fit(self, data: np.ndarray, rng: np.random.Generator) -> Self:
        low, high = data.min(axis=1), data.max(axis=1)  # (S, d): the MLE
        if self.estimator == "unbiased":  # widen by one expected gap on each side
            gap = (high - low) / (data.shape[1] - 1)
            low, high = low - gap, high + gap
        self.low_, self.high_ = low, high
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, dim = self.low_.shape
        width = self.high_ - self.low_
        return self.low_[:, None, :] + width[:, None, :] * rng.random((seeds, n, dim))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (S, d) and covariance (S, d, d): what the moment metrics read."""
        width = self.high_ - self.low_
        cov = np.zeros(width.shape + width.shape[-1:])
        idx = np.arange(width.shape[1])
        cov[:, idx, idx] = width**2 / 12
        return (self.low_ + self.high_) / 2, cov

    def collapsed(self) -> np.ndarray:
        """A seed has collapsed when its box is flat along some coordinate."""
        return np.asarray((self.high_ <= self.low_).any(axis=1))

    def diverged(self) -> np.ndarray:
        return np.asarray(~np.isfinite(self.high_ - self.low_).all(axis=1))

    def get_state(self) -> dict[str, np.ndarray]:
        return {"low_": self.low_, "high_": self.high_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.low_, self.high_ = state["low_"], state["high_"]
        return self


FAMILIES.register("uniform")(
    Family(
        kind="continuous",
        make=lambda config, real: UniformModel(config.family.estimator),
        min_samples=lambda config, dim: 2,
        description="uniform on a box, refitted by min and max (example plug-in)",
        collapse="its box is flat along some coordinate",
        params={
            "estimator": param(
                "mle",
                "mle: the sample's min and max; unbiased: widened by one expected gap",
                choices=("mle", "unbiased"),
            )
        },
    )
)


@dataclass(frozen=True)
class UniformTruth:
    """Uniform on [0, width]^dim."""

    width: float
    dim: int

    @property
    def mean(self) -> np.ndarray:
        return np.full(self.dim, self.width / 2)

    @property
    def cov(self) -> np.ndarray:
        return np.eye(self.dim) * self.width**2 / 12

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return self.width * rng.random((*shape, self.dim))


@truth_source(
    "continuous",
    "uniform on the box [0, source.width]^source.dim (example plug-in)",
    {
        "width": param(1.0, "side of the box", low=0.0, high=1e100, open_low=True),
        "dim": param(1, "dimensions", low=1, high=1000),
    },
)
def make_uniform_box(cfg: SourceConfig) -> UniformTruth:
    return UniformTruth(cfg.width, cfg.dim)


def expected_variance_ratio(generations: int, n: int) -> np.ndarray:
    """E[variance ratio] after each generation of MLE refits on n samples."""
    q = n * (n - 1) / ((n + 1) * (n + 2))
    return np.asarray(q ** (np.arange(generations) + 1.0))


def _holds(config: Config) -> bool:
    return (
        config.family.name == "uniform"
        and config.family.estimator == "mle"
        and config.source.name == "uniform_box"
        and config.regime.name == "replace"
        and (config.source.n_train or config.sampling.n) == config.sampling.n
    )


def _expected(config: Config, generations: int) -> list[Curve]:
    expected = expected_variance_ratio(generations, config.sampling.n)
    return [Curve("theory: mean", "mean", expected, style="dashed")]


THEORIES.register("uniform-variance")(
    Theory("variance_ratio", _holds, _expected, "MLE uniform refits: E ratio = q^(g+1)")
)
