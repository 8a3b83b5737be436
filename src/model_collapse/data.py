"""Training sets as the regimes see them: sample arrays (S, n, d) or sufficient statistics.

Regimes only concatenate and subsample; these helpers do both for either representation,
so one regime serves the sample path and the exact sufficient-statistics path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Self

import numpy as np

from model_collapse.errors import UserInputError
from model_collapse.rng import random_subsets


class Statistics(Protocol):
    """Sufficient statistics of a data set per seed (S leading)."""

    count: int

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> Self: ...

    def combine(self, other: Self) -> Self: ...


@dataclass(frozen=True)
class GaussianStats:
    """Count, mean (S, d) and scatter matrix (S, d, d) of ``count`` samples per seed."""

    count: int
    mean: np.ndarray
    scatter: np.ndarray

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> GaussianStats:
        mean = samples.mean(axis=1)
        centred = samples - mean[:, None, :]
        return cls(samples.shape[1], mean, np.einsum("snd,sne->sde", centred, centred))

    def combine(self, other: GaussianStats) -> GaussianStats:
        # Chan et al.'s pairwise update: exact, no samples needed.
        n1, n2 = self.count, other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (n2 / (n1 + n2))
        scatter = (
            self.scatter
            + other.scatter
            + np.einsum("sd,se->sde", delta, delta) * (n1 * n2 / (n1 + n2))
        )
        return GaussianStats(n1 + n2, mean, scatter)


@dataclass(frozen=True)
class CategoricalStats:
    """Category counts (S, K) of ``count`` samples per seed."""

    count: int
    counts: np.ndarray

    @classmethod
    def from_samples(cls, samples: np.ndarray, categories: int = 0) -> CategoricalStats:
        seeds, n = samples.shape[:2]
        k = max(categories, int(samples.max()) + 1)
        flat = (samples[..., 0] + k * np.arange(seeds)[:, None]).ravel()
        return cls(n, np.bincount(flat, minlength=seeds * k).reshape(seeds, k))

    def combine(self, other: CategoricalStats) -> CategoricalStats:
        k = max(self.counts.shape[1], other.counts.shape[1])
        return CategoricalStats(
            self.count + other.count, _pad(self.counts, k) + _pad(other.counts, k)
        )


def _pad(counts: np.ndarray, k: int) -> np.ndarray:
    return np.pad(counts, ((0, 0), (0, k - counts.shape[1])))


def size(data: Any) -> int:
    """Number of samples per seed."""
    return int(data.shape[1]) if isinstance(data, np.ndarray) else int(data.count)


def concat(parts: list[Any]) -> Any:
    """Join training-set parts; sample arrays are turned into statistics if any part is."""
    stats = [p for p in parts if not isinstance(p, np.ndarray)]
    if not stats:
        return np.concatenate(parts, axis=1)
    kind = type(stats[0])
    total = None
    for part in parts:
        part = kind.from_samples(part) if isinstance(part, np.ndarray) else part
        total = part if total is None else total.combine(part)
    return total


def subsample(data: Any, k: int, rng: np.random.Generator) -> Any:
    """A uniform random subset of ``k`` samples per seed, without replacement."""
    if isinstance(data, np.ndarray):
        rows = random_subsets(rng, data.shape[0], data.shape[1], k)
        return np.take_along_axis(data, rows[..., None], axis=1)
    if isinstance(data, CategoricalStats):
        counts = np.stack([rng.multivariate_hypergeometric(row, k) for row in data.counts])
        return CategoricalStats(k, counts)
    raise UserInputError(
        "regime 'accumulate-subsample' has no exact sufficient-statistics path for this "
        "family; set family.exact = false"
    )
