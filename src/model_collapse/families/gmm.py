"""Gaussian mixture family: EM run for every seed at once as batched array computations.

The updates are those of scikit-learn's GaussianMixture (same reg_covar, tolerance on the
change of the mean log-likelihood, same order of E and M steps); a seed whose EM has
converged is frozen while the others go on, so each seed ends where a lone fit would.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import BIG, param
from model_collapse.core.degenerate import overflowed, psd_factor
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import random_subsets
from model_collapse.families.base import BIAS, FAMILIES, Family
from model_collapse.families.categorical import sample_categories
from model_collapse.sources.base import RealData

LOG_2PI = np.log(2 * np.pi)
EMPTY_WEIGHT = 1e-12  # a component no training point is responsible for (weight ~ 10 eps / n)


def _sum_last(a: np.ndarray) -> np.ndarray:
    """Sum over a short last axis (d or k): slice by slice, which numpy does far faster."""
    total = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        total += a[..., i]
    return total


def _max_last(a: np.ndarray) -> np.ndarray:
    top = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        np.maximum(top, a[..., i], out=top)
    return top


def component_log_density(x: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """log N(x | means_k, covs_k) for x (S, n, d), means (S, k, d), covs (S, k, d, d): (S, n, k)."""
    seeds, n, d = x.shape
    k = means.shape[1]
    chol = np.linalg.cholesky(covs)  # (S, k, d, d)
    # As scikit-learn does: y = (x - mu) P with P = inv(L)^T, for all k in one matmul.
    prec_chol = np.swapaxes(np.linalg.inv(chol), 2, 3)  # (S, k, d, d)
    stacked = np.swapaxes(prec_chol, 1, 2).reshape(seeds, d, k * d)  # (S, d, k*d)
    shift = np.einsum("skd,skde->ske", means, prec_chol).reshape(seeds, 1, k * d)
    y = (x @ stacked - shift).reshape(seeds, n, k, d)
    log_det = 2 * np.log(np.diagonal(chol, axis1=2, axis2=3)).sum(-1)  # (S, k)
    y *= y
    return -0.5 * (d * LOG_2PI + log_det[:, None, :] + _sum_last(y))


def mixture_log_density(
    x: np.ndarray, weights: np.ndarray, means: np.ndarray, covs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample mixture log density (S, n) and log responsibilities (S, n, k)."""
    weighted = component_log_density(x, means, covs) + np.log(weights)[:, None, :]
    top = _max_last(weighted)
    log_norm = top + np.log(_sum_last(np.exp(weighted - top[..., None])))
    return log_norm, weighted - log_norm[..., None]


def m_step(
    x: np.ndarray, resp: np.ndarray, diagonal: bool, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (S, k), means (S, k, d), covariances (S, k, d, d) from responsibilities."""
    nk = resp.sum(axis=1) + 10 * np.finfo(float).eps  # (S, k)
    resp_t = np.swapaxes(resp, 1, 2)  # (S, k, n)
    means = (resp_t @ x) / nk[..., None]
    d = x.shape[2]
    covs = np.empty((*means.shape, d))
    for c in range(means.shape[1]):
        diff = x - means[:, c, None, :]  # (S, n, d)
        weighted = np.swapaxes(diff * resp[:, :, c, None], 1, 2)  # (S, d, n)
        covs[:, c] = (weighted @ diff) / nk[:, c, None, None]
    if diagonal:
        covs = np.diagonal(covs, axis1=2, axis2=3)[..., None] * np.eye(d)
    covs += reg_covar * np.eye(d)
    return nk / x.shape[1], means, covs


class GMMModel:
    """A k-component Gaussian mixture per seed, fitted by EM.

    Parameters
    ----------
    components : number of mixture components k.
    covariance : "full" or "diag".
    max_iter, tol, reg_covar : as in scikit-learn's GaussianMixture.
    bias : sampling bias lambda; components are sampled with covariance ``bias * cov``.
    init_params : EM's start, with scikit-learn's names: "random_from_data" (k distinct
        data points as means, the data's covariance for each; this tool's start before
        the option) or "kmeans" (the first M-step from k-means clusters: scikit-learn's
        default and Shumailov et al.'s notebook's).
    """

    def __init__(
        self,
        components: int = 2,
        covariance: str = "full",
        max_iter: int = 100,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        bias: float = 1.0,
        init_params: str = "random_from_data",
    ) -> None:
        self.components = components
        self.covariance = covariance
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.bias = bias
        self.init_params = init_params

    def initial_parameters(
        self, x: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """EM's start: from k-means clusters, or uniform weights with k distinct data points
        as means and the data's covariance for each."""
        seeds, n, d = x.shape
        if self.init_params == "kmeans":
            from model_collapse.families.kmeans import kmeans_responsibilities

            resp = kmeans_responsibilities(x, self.components, rng)
            return m_step(x, resp, self.covariance == "diag", self.reg_covar)
        rows = random_subsets(rng, seeds, n, self.components)
        means = np.take_along_axis(x, rows[..., None], axis=1)
        centred = x - x.mean(axis=1, keepdims=True)
        cov = np.einsum("snd,sne->sde", centred, centred) / n + self.reg_covar * np.eye(d)
        if self.covariance == "diag":
            cov = np.diagonal(cov, axis1=1, axis2=2)[..., None] * np.eye(d)
        covs = np.repeat(cov[:, None], self.components, axis=1)
        return np.full((seeds, self.components), 1.0 / self.components), means, covs

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        x = np.asarray(data, dtype=float)
        return self.fit_from(x, *self.initial_parameters(x, rng))

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """EM in which item i counts weight[i] times (its responsibilities are scaled),
        started from k distinct items drawn by weight and the weighted covariance."""
        x = np.asarray(data, dtype=float)
        seeds, n, d = x.shape
        scale = weight * (n / weight.sum(axis=1, keepdims=True))  # mean 1 per seed
        # Efraimidis-Spirakis: the k largest u^(1/w) are a weighted draw without
        # replacement; items of weight 0 get key 0 and are never drawn.
        with np.errstate(divide="ignore"):
            keys = rng.random((seeds, n)) ** (1.0 / weight)
        rows = np.argsort(-keys, axis=1, kind="stable")[:, : self.components]
        means = np.take_along_axis(x, rows[..., None], axis=1)
        share = weight / weight.sum(axis=1, keepdims=True)
        centred = x - np.einsum("sn,snd->sd", share, x)[:, None, :]
        cov = np.einsum("sn,snd,sne->sde", share, centred, centred) + self.reg_covar * np.eye(d)
        if self.covariance == "diag":
            cov = np.diagonal(cov, axis1=1, axis2=2)[..., None] * np.eye(d)
        covs = np.repeat(cov[:, None], self.components, axis=1)
        mix = np.full((seeds, self.components), 1.0 / self.components)
        return self.fit_from(x, mix, means, covs, item_weight=scale)

    def fit_from(
        self,
        x: np.ndarray,
        weights: np.ndarray,
        means: np.ndarray,
        covs: np.ndarray,
        item_weight: np.ndarray | None = None,
    ) -> Self:
        """Run EM on x (S, n, d) from the given initial parameters; ``item_weight`` (S, n),
        of mean 1 per seed, weighs the items."""
        active = np.ones(x.shape[0], dtype=bool)
        bound = np.full(x.shape[0], -np.inf)
        self.n_iter_ = np.zeros(x.shape[0], dtype=int)
        for _ in range(self.max_iter):
            log_norm, log_resp = mixture_log_density(
                x[active], weights[active], means[active], covs[active]
            )
            resp = np.exp(log_resp)
            if item_weight is not None:
                log_norm = log_norm * item_weight[active]
                resp *= item_weight[active][..., None]
            new_bound = log_norm.mean(axis=1)
            w, m, c = m_step(x[active], resp, self.covariance == "diag", self.reg_covar)
            weights[active], means[active], covs[active] = w, m, c
            self.n_iter_[active] += 1
            converged = np.abs(new_bound - bound[active]) < self.tol
            bound[active] = new_bound
            active[np.flatnonzero(active)[converged]] = False
            if not active.any():
                break
        self.weights_, self.means_, self.covariances_ = weights, means, covs
        self.lower_bound_ = bound
        return self

    def item_log_density(self, x: np.ndarray) -> np.ndarray:
        """Log density of each item of x (S, n, d) under its seed's mixture: (S, n)."""
        return mixture_log_density(x, self.weights_, self.means_, self.covariances_)[0]

    def score(self, x: np.ndarray) -> np.ndarray:
        """Mean log-likelihood of x (S, n, d) per seed."""
        return mixture_log_density(x, self.weights_, self.means_, self.covariances_)[0].mean(1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, _, d = self.means_.shape
        component = sample_categories(self.weights_, n, rng)  # (S, n)
        z = rng.standard_normal((seeds, n, d))
        chol = psd_factor(self.bias * self.covariances_)  # (S, k, d, d)
        pick = np.arange(seeds)[:, None], component
        return np.asarray(self.means_[pick] + np.einsum("snij,snj->sni", chol[pick], z))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        mean = np.einsum("sk,skd->sd", self.weights_, self.means_)
        centred = self.means_ - mean[:, None, :]
        between = np.einsum("sk,skd,ske->sde", self.weights_, centred, centred)
        return mean, np.einsum("sk,skde->sde", self.weights_, self.covariances_) + between

    def collapsed(self) -> np.ndarray:
        """A component is empty, or its own spread is below reg_covar: it sits on a point."""
        d = self.means_.shape[2]
        spread = np.trace(self.covariances_, axis1=2, axis2=3)  # (S, k)
        on_a_point = spread <= 2 * d * self.reg_covar
        return np.asarray((self.weights_ < EMPTY_WEIGHT).any(axis=1) | on_a_point.any(axis=1))

    def diverged(self) -> np.ndarray:
        return overflowed(self.weights_, self.means_, self.covariances_)

    def get_state(self) -> dict[str, np.ndarray]:
        return {"weights_": self.weights_, "means_": self.means_, "covariances_": self.covariances_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.weights_ = state["weights_"]
        self.means_ = state["means_"]
        self.covariances_ = state["covariances_"]
        return self


def check(config: Config, real: RealData) -> None:
    """reg_covar must be small against every coordinate's variance, yet resolvable."""
    reg = config.family.reg_covar
    variances = np.var(real.train, axis=1).mean(axis=0)  # (d,), averaged over seeds
    if not reg <= 1e-2 * variances.min():
        raise UserInputError(
            f"family.reg_covar = {reg:g} is not small against the real data's variance "
            f"({variances.min():.3g} in its narrowest coordinate): the mixture would model "
            "the regularisation; lower family.reg_covar or rescale the data"
        )
    if reg < 1e3 * np.finfo(float).eps * variances.max():
        raise UserInputError(
            f"family.reg_covar = {reg:g} is below float64 precision at the real data's "
            f"variance ({variances.max():.3g}); raise family.reg_covar or rescale the data"
        )


PARAMS = {
    "components": param(2, "mixture components", low=1, high=1000),
    "covariance": param("full", "component covariance", choices=("full", "diag")),
    "max_iter": param(100, "EM iterations at most", low=1, high=100_000),
    "tol": param(1e-3, "EM convergence tolerance", low=0.0, high=1e6, open_low=True),
    "reg_covar": param(
        1e-6, "added to every component's covariance", low=0.0, high=BIG, open_low=True
    ),
    "init_params": param(
        "random_from_data",
        "EM's start: k data points as means, or kmeans (scikit-learn's and the paper's)",
        choices=("random_from_data", "kmeans"),
    ),
}


def _make(config: Config, real: RealData) -> GMMModel:
    f = config.family
    return GMMModel(
        f.components, f.covariance, f.max_iter, f.tol, f.reg_covar, config.sampling.bias,
        f.init_params,
    )  # fmt: skip


FAMILIES.register("gmm")(
    Family(
        kind="continuous",
        make=_make,
        min_samples=lambda config, dim: max(
            config.family.components, dim + 1 if config.family.covariance == "full" else 2
        ),
        description="Gaussian mixture by EM (family.components, covariance full|diag)",
        check=check,
        params=PARAMS,
        sampling=BIAS,
        headline="variance_ratio",  # the paper's: the variance a refitted chain loses
        memory=lambda config, dim: 3 * config.family.components * dim * 8.0,
        collapse="a component is empty or sits on a single point (covariance at family.reg_covar)",
    )
)
