"""Gaussian family: MLE or unbiased covariance, batched over seeds, with an exact path.

The exact path never materialises samples: the mean of n draws from N(mu, S) is
N(mu, S / n) and its scatter matrix is Wishart(n - 1, S), independent of the mean.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.data import GaussianStats
from model_collapse.core.degenerate import overflowed, psd_factor, singular_gaussian
from model_collapse.families.base import BIAS, FAMILIES, Family
from model_collapse.sources.base import RealData
from model_collapse.theory import THEORIES, Curve, Theory, gaussian_variance_theory


def sample_gaussian(
    mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """n draws per seed from N(mean (S, d), cov (S, d, d)): shape (S, n, d)."""
    seeds, d = mean.shape
    z = rng.standard_normal((seeds, n, d))
    if d == 1:  # the common 1-D case: scale and shift in place, no batched matmul
        z *= np.sqrt(cov[:, :, 0])[:, None, :]
        z += mean[:, None, :]
        return z
    return mean[:, None, :] + z @ np.swapaxes(psd_factor(cov), 1, 2)


def sample_wishart(cov: np.ndarray, dof: int, rng: np.random.Generator) -> np.ndarray:
    """Wishart(dof, cov) draws per seed by Bartlett's decomposition: (S, d, d)."""
    seeds, d = cov.shape[:2]
    if d == 1:
        return cov * rng.chisquare(dof, size=(seeds, 1, 1))
    # A is lower triangular: sqrt(chi2(dof - i)) on the diagonal, N(0, 1) below it.
    a = np.tril(rng.standard_normal((seeds, d, d)), k=-1)
    idx = np.arange(d)
    a[:, idx, idx] = np.sqrt(rng.chisquare(dof - idx, size=(seeds, d)))
    la = psd_factor(cov) @ a  # any F with F F^T = cov gives Wishart(dof, cov)
    return np.asarray(la @ np.swapaxes(la, 1, 2))


class GaussianModel:
    """A d-dimensional Gaussian per seed.

    Parameters
    ----------
    estimator : "mle" divides the scatter by n, "unbiased" by n - 1.
    bias : sampling bias lambda; samples are drawn with covariance ``bias * covariance_``.
    """

    def __init__(self, estimator: str = "mle", bias: float = 1.0) -> None:
        self.estimator = estimator
        self.bias = bias

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        stats = data if isinstance(data, GaussianStats) else GaussianStats.from_samples(data)
        divisor = stats.count - (1 if self.estimator == "unbiased" else 0)
        self.mean_ = stats.mean
        self.covariance_ = stats.scatter / divisor
        return self

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Weighted mean and covariance; "unbiased" corrects with the effective sample size
        (reliability weights): equal weights give exactly the unweighted estimates."""
        share = weight / weight.sum(axis=1, keepdims=True)  # (S, n), sums to 1
        self.mean_ = np.einsum("sn,snd->sd", share, data)
        centred = data - self.mean_[:, None, :]
        covariance = np.einsum("sn,snd,sne->sde", share, centred, centred)
        if self.estimator == "unbiased":
            covariance /= (1.0 - (share**2).sum(axis=1))[:, None, None]
        self.covariance_ = covariance
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_gaussian(self.mean_, self.bias * self.covariance_, n, rng)

    def sample_stats(self, n: int, rng: np.random.Generator) -> GaussianStats:
        cov = self.bias * self.covariance_
        seeds, d = self.mean_.shape
        if n == 0:  # a regime that takes no synthetic items
            return GaussianStats.from_samples(np.zeros((seeds, 0, d)))
        z = rng.standard_normal((seeds, d))
        if d == 1:
            mean = self.mean_ + z * np.sqrt(cov[:, :, 0] / n)
        else:
            mean = self.mean_ + np.einsum("sde,se->sd", psd_factor(cov / n), z)
        return GaussianStats(n, mean, sample_wishart(cov, n - 1, rng))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean_, self.covariance_

    def gaussian_law(self) -> tuple[np.ndarray, np.ndarray]:
        """One Gaussian per seed, with the fitted moments (capabilities.IsGaussian)."""
        return self.mean_, self.covariance_

    def collapsed(self) -> np.ndarray:
        return singular_gaussian(self.mean_, self.covariance_)

    def diverged(self) -> np.ndarray:
        return overflowed(self.mean_, self.covariance_)

    def item_log_density(self, x: np.ndarray) -> np.ndarray:
        """Log density of each item of x (S, n, d) under its seed's Gaussian: (S, n)."""
        from model_collapse.families.gmm import mixture_log_density

        ones = np.ones((len(self.mean_), 1))
        return mixture_log_density(x, ones, self.mean_[:, None], self.covariance_[:, None])[0]

    def get_state(self) -> dict[str, np.ndarray]:
        return {"mean_": self.mean_, "covariance_": self.covariance_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.mean_, self.covariance_ = state["mean_"], state["covariance_"]
        return self


ESTIMATOR = param(
    "mle", "covariance estimator: mle divides by n, unbiased by n - 1", choices=("mle", "unbiased")
)


def _make(config: Config, real: RealData) -> GaussianModel:
    return GaussianModel(config.family.estimator, config.sampling.bias)


FAMILIES.register("gaussian")(
    Family(
        kind="continuous",
        make=_make,
        min_samples=lambda config, dim: dim + 1,
        description="Gaussian, full covariance (family.estimator mle|unbiased; family.exact)",
        params={"estimator": ESTIMATOR},
        sampling=BIAS,
        headline="variance_ratio",  # the paper's: the variance a refitted chain loses
        collapse="its covariance is singular to float64 precision: a point mass, or flat "
        "along some direction",
    )
)


def _variance_theory_holds(config: Config) -> bool:
    """A 1-D Gaussian refitted on its own unbiased samples: replace, bias 1."""
    source = config.source
    return (
        config.family.name == source.name == "gaussian"  # first: sampling.bias is gaussian's
        and config.regime.name == "replace"
        and config.sampling.bias == 1.0
        and source.dim == 1
    )


def _expected_variance(config: Config, generations: int) -> list[Curve]:
    n, n0, seeds = config.sampling.n, config.source.n_train, config.experiment.seeds
    theory = gaussian_variance_theory(generations, n, n0, config.family.estimator)
    mean, low, high = theory.mean_band(seeds)
    low = np.where(low > 0, low, np.nan)  # a ratio is positive: where not, the band says nothing
    typical, seed_low, seed_high = theory.typical()
    return [
        Curve("theory: mean", "mean", mean, style="dashed"),
        Curve(f"theory: 95% band of the mean of {seeds}", "mean band", low=low, high=high),
        Curve("theory: typical seed exp(E log)", "typical", typical),
        Curve("theory: 95% of single seeds", "seed band", seed_low, style="dotted"),
        Curve("", "seed band", seed_high, style="dotted"),
    ]


THEORIES.register("gaussian-variance")(
    Theory(
        "variance_ratio",
        _variance_theory_holds,
        _expected_variance,
        "1-D Gaussian refitted by MLE (or unbiased): mean and typical-seed variance ratio",
    )
)
