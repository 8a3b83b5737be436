"""Built-in ground truths with a known distribution (densities or moments where they exist)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from model_collapse.config import SourceConfig
from model_collapse.config.params import BIG, param
from model_collapse.core.degenerate import EPS
from model_collapse.core.errors import UserInputError
from model_collapse.sources.base import truth_source


def _mean_and_cov(cfg: SourceConfig) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) from source.mean/std/correlation or source.cov."""
    d = cfg.dim
    mean = np.zeros(d) if not cfg.mean else np.asarray(cfg.mean, dtype=float)
    if mean.shape != (d,):
        raise UserInputError(f"source.mean has {mean.size} values but source.dim is {d}")
    if cfg.cov:
        cov = np.asarray(cfg.cov, dtype=float)
        if cov.shape != (d, d):
            raise UserInputError(f"source.cov must be a {d}x{d} matrix (source.dim = {d})")
    else:
        if d > 1 and cfg.correlation <= -1.0 / (d - 1):
            raise UserInputError(f"source.correlation must be > {-1 / (d - 1):g} for dim {d}")
        corr = np.full((d, d), cfg.correlation)
        np.fill_diagonal(corr, 1.0)
        cov = cfg.std**2 * corr
    if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() <= 0:
        raise UserInputError("source.cov must be symmetric positive definite")
    values = np.linalg.eigvalsh(cov)
    if values[0] <= d * EPS * values[-1]:
        raise UserInputError(
            "source.cov is singular to float64 precision (its eigenvalues span more than "
            f"{1 / (d * EPS):.0e}); make it better conditioned"
        )
    _check_resolvable(np.sqrt(values[0]), np.abs(mean).max(), "source.std or source.cov")
    return mean, cov


def _check_resolvable(spread: float, centre: float, keys: str) -> None:
    """A truth whose spread float64 cannot resolve at its centre is a point mass already."""
    if spread <= 1e3 * EPS * centre:
        raise UserInputError(
            f"{keys} ({spread:g}) is below what float64 resolves at the mean ({centre:g}): "
            "every sample would be the mean itself; centre the data or widen it"
        )


@dataclass(frozen=True)
class GaussianTruth:
    mean: np.ndarray  # (d,)
    cov: np.ndarray  # (d, d)
    # the family whose maximum-likelihood fit holds this truth exactly (run --decompose)
    exact_family: ClassVar[str] = "gaussian"

    @property
    def dim(self) -> int:
        return len(self.mean)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal((*shape, self.dim))
        return self.mean + z @ np.linalg.cholesky(self.cov).T


@dataclass(frozen=True)
class GMMTruth:
    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    covs: np.ndarray  # (k, d, d)

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.weights @ self.means)

    @property
    def cov(self) -> np.ndarray:
        centred = self.means - self.mean
        between = np.einsum("k,ki,kj->ij", self.weights, centred, centred)
        return np.asarray(np.einsum("k,kij->ij", self.weights, self.covs) + between)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        component = rng.choice(len(self.weights), size=shape, p=self.weights)
        z = rng.standard_normal((*shape, self.dim))
        chol = np.linalg.cholesky(self.covs)  # (k, d, d)
        return np.asarray(self.means[component] + np.einsum("...ij,...j->...i", chol[component], z))


@dataclass(frozen=True)
class StudentTTruth:
    df: float
    loc: np.ndarray  # (d,)
    scale: np.ndarray  # (d, d) scale matrix; cov = df / (df - 2) * scale

    @property
    def dim(self) -> int:
        return len(self.loc)

    @property
    def mean(self) -> np.ndarray:
        return self.loc

    @property
    def cov(self) -> np.ndarray:
        return self.df / (self.df - 2) * self.scale

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal((*shape, self.dim)) @ np.linalg.cholesky(self.scale).T
        w = rng.chisquare(self.df, size=(*shape, 1)) / self.df
        return self.loc + z / np.sqrt(w)


@dataclass(frozen=True)
class MoonsTruth:
    """Two interleaving half circles with Gaussian noise (no closed-form density)."""

    noise: float
    dim: int = 2
    mean: None = None
    cov: None = None

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        upper = rng.random(shape) < 0.5
        angle = np.pi * rng.random(shape)
        x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
        y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
        return np.stack([x, y], axis=-1) + self.noise * rng.standard_normal((*shape, 2))


@dataclass(frozen=True)
class CategoricalTruth:
    probs: np.ndarray  # (K,)
    dim: int = 1
    mean: None = None
    cov: None = None
    exact_family: ClassVar[str] = "categorical"

    @property
    def categories(self) -> int:
        return len(self.probs)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(self.probs), size=(*shape, 1), p=self.probs)


@dataclass(frozen=True)
class LinearTruth:
    """Rows ``[x, y]`` with x ~ N(0, I_d) and y = x . weights + noise * N(0, 1)."""

    weights: np.ndarray  # (d,)
    noise: float
    mean: None = None
    cov: None = None

    @property
    def dim(self) -> int:
        return len(self.weights) + 1

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        x = rng.standard_normal((*shape, len(self.weights)))
        y = x @ self.weights + self.noise * rng.standard_normal(shape)
        return np.concatenate([x, y[..., None]], axis=-1)


DIM = {"dim": param(1, "dimensions", low=1, high=10_000)}
SHAPE = {
    **DIM,
    "mean": param([], "the mean, one value per dimension (default 0)", list[float], -BIG, BIG),
    "std": param(1.0, "the standard deviation", low=0.0, high=BIG, open_low=True),
    "cov": param([], "the full covariance matrix (instead of std)", list[list[float]], -BIG, BIG),
    "correlation": param(0.0, "correlation between dimensions", low=-1.0, high=1.0),
}
NOISE = {"noise": param(0.1, "standard deviation of the noise", low=0.0, high=BIG)}


@truth_source("continuous", "d-dim Gaussian: source.dim, mean, std, correlation or cov", SHAPE)
def make_gaussian(cfg: SourceConfig) -> GaussianTruth:
    mean, cov = _mean_and_cov(cfg)
    return GaussianTruth(mean, cov)


@truth_source(
    "continuous",
    "k equal Gaussian blobs (source.components) source.spread apart",
    {
        **DIM,
        "components": param(3, "blobs", low=1, high=1000),
        "spread": param(4.0, "distance of the blobs from the centre", low=0.0, high=BIG),
        "std": param(1.0, "standard deviation of each blob", low=0.0, high=BIG, open_low=True),
    },
)
def make_gmm(cfg: SourceConfig) -> GMMTruth:
    k, d = cfg.components, cfg.dim
    means = np.zeros((k, d))
    if d == 1:
        means[:, 0] = cfg.spread * (np.arange(k) - (k - 1) / 2)
    else:  # on a circle in the first two coordinates
        angle = 2 * np.pi * np.arange(k) / k
        means[:, 0], means[:, 1] = cfg.spread * np.cos(angle), cfg.spread * np.sin(angle)
    covs = np.broadcast_to(cfg.std**2 * np.eye(d), (k, d, d)).copy()
    _check_resolvable(cfg.std, float(np.abs(means).max()), "source.std")
    return GMMTruth(np.full(k, 1.0 / k), means, covs)


@truth_source(
    "continuous",
    "heavy-tailed multivariate Student t: source.df > 2, dim, std",
    {**SHAPE, "df": param(3.0, "degrees of freedom", low=2.0, high=1e6, open_low=True)},
)
def make_student_t(cfg: SourceConfig) -> StudentTTruth:
    mean, cov = _mean_and_cov(cfg)
    return StudentTTruth(cfg.df, mean, cov)


@truth_source("continuous", "2-D two moons with Gaussian source.noise", NOISE)
def make_moons(cfg: SourceConfig) -> MoonsTruth:
    return MoonsTruth(cfg.noise)


@truth_source(
    "categorical",
    "Zipf law over source.categories with source.exponent",
    {
        "categories": param(100, "categories", low=2, high=10_000_000),
        "exponent": param(1.1, "the Zipf exponent", low=0.0, high=100.0),
    },
)
def make_zipf(cfg: SourceConfig) -> CategoricalTruth:
    weights = 1.0 / np.arange(1, cfg.categories + 1) ** cfg.exponent
    return CategoricalTruth(weights / weights.sum())


@truth_source(
    "regression", "x ~ N(0, I_dim), y = x.w + source.noise * N(0, 1), |w| = 1", {**DIM, **NOISE}
)
def make_linear(cfg: SourceConfig) -> LinearTruth:
    return LinearTruth(np.full(cfg.dim, 1.0 / np.sqrt(cfg.dim)), cfg.noise)
