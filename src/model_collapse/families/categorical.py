"""Categorical family: the exact MLE of the counts, batched over seeds, with an exact path.

Refitting a categorical to its own samples is Wright-Fisher drift: a category that draws
no sample is lost for good.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.core.data import CategoricalStats, subsample
from model_collapse.families.base import FAMILIES, Family
from model_collapse.sources.base import RealData
from model_collapse.theory import THEORIES, Curve, Theory, heterozygosity_theory


def sample_categories(probs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n category indices per seed from probs (S, K) by inverse CDF: shape (S, n)."""
    seeds, k = probs.shape
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((seeds, n))
    # One searchsorted over all seeds: seed s lives in the interval [s, s + 1).
    offset = np.arange(seeds, dtype=float)[:, None]
    flat = np.searchsorted((cdf + offset).ravel(), (u + offset).ravel(), side="right")
    return np.minimum(flat.reshape(seeds, n) - k * np.arange(seeds)[:, None], k - 1)


class CategoricalModel:
    """Category probabilities per seed, the MLE ``probs_ = counts / n``.

    Parameters
    ----------
    categories : number of categories K.
    """

    def __init__(self, categories: int) -> None:
        self.categories = categories

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        stats = (
            data
            if isinstance(data, CategoricalStats)
            else CategoricalStats.from_samples(data, self.categories)
        )
        self.probs_ = stats.counts[:, : self.categories] / stats.count
        return self

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Each category's share of the weight."""
        seeds, k = data.shape[0], self.categories
        flat = (data[..., 0].astype(np.int64) + k * np.arange(seeds)[:, None]).ravel()
        totals = np.bincount(flat, weights=weight.ravel(), minlength=seeds * k).reshape(seeds, k)
        self.probs_ = totals / totals.sum(axis=1, keepdims=True)
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_categories(self.probs_, n, rng)[..., None]

    def sample_stats(self, n: int, rng: np.random.Generator) -> CategoricalStats:
        return CategoricalStats(n, rng.multinomial(n, self.probs_))

    def subsample_stats(
        self, stats: CategoricalStats, k: int, rng: np.random.Generator
    ) -> CategoricalStats:
        """The counts of a uniform random subset of ``k`` items per seed."""
        return subsample(stats, k, rng)

    def collapsed(self) -> np.ndarray:
        return np.asarray(self.probs_.max(axis=1) >= 1.0)

    def diverged(self) -> np.ndarray:
        return np.zeros(len(self.probs_), dtype=bool)  # counts cannot overflow

    def get_state(self) -> dict[str, np.ndarray]:
        return {"probs_": self.probs_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.probs_ = state["probs_"]
        return self


def _make(config: Config, real: RealData) -> CategoricalModel:
    return CategoricalModel(real.categories)


FAMILIES.register("categorical")(
    Family(
        kind="categorical",
        make=_make,
        min_samples=lambda config, dim: 1,
        description="categorical, exact MLE of the counts (family.exact)",
        collapse="one category holds all the probability",
    )
)


def _drift_holds(config: Config) -> bool:
    """Exact refits of counts on their own unbiased samples (replace), from a source
    whose categories are the truth (not a user's file)."""
    return config.regime.name == "replace" and config.source.name != "file"


def _expected_heterozygosity(config: Config, generations: int) -> list[Curve]:
    expected = heterozygosity_theory(generations, config.sampling.n, config.source.n_train)
    return [Curve("theory: E, Wright-Fisher", "mean", expected)]


THEORIES.register("wright-fisher")(
    Theory(
        "heterozygosity_ratio",
        _drift_holds,
        _expected_heterozygosity,
        "categorical refits drift as Wright-Fisher: E heterozygosity shrinks by 1 - 1/n",
    )
)
