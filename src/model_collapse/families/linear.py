"""Linear regression with Gaussian noise on a fixed design (Gerstgrasser et al. 2024).

Rows are ``[x_1 .. x_d, y]``. The design X is generation 0's real features and never
changes; each generation's labels are drawn from the previous generation's fit,
``y = X w_hat + sigma * N(0, 1)``, with sigma fitted to the residuals every generation
(``family.noise = "fitted"``, by ``family.estimator``), or the true noise where the source
knows it (``"known"``: the setting of Gerstgrasser et al. and Dohmatob et al., whose
closed forms assume it).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.degenerate import RESOLUTION, overflowed
from model_collapse.core.errors import OLD_CHECKPOINT, UserInputError
from model_collapse.families.base import FAMILIES, Family
from model_collapse.sources.base import KnowsWeights, RealData


class LinearModel:
    """Ordinary least squares per seed plus the noise level of its residuals.

    Parameters
    ----------
    estimator : "mle" divides the residual sum of squares by n, "unbiased" by n - d.
    noise : the labels' noise level where it is known (the truth's); None fits it.

    Learned: ``coef_`` (S, d), ``noise_`` (S,), and ``design_`` (S, m, d), the fixed design
    whose labels each generation samples: the features of the data it is first fitted
    to (generation 0's real rows), which later generations inherit (``start_from``).
    """

    design_: np.ndarray
    coef_: np.ndarray
    noise_: np.ndarray

    def __init__(self, estimator: str = "mle", noise: float | None = None) -> None:
        self.estimator = estimator
        self.noise = noise

    def start_from(self, first: Self, previous: Self) -> Self:
        """Keep generation 0's design: every generation labels the same X."""
        self.design_ = first.design_
        return self

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        x, y = data[..., :-1], data[..., -1]
        if "design_" not in vars(self):  # a first fit: its features are the design
            self.design_ = np.asarray(x)
        gram = np.einsum("snd,sne->sde", x, x)
        self.coef_ = np.linalg.solve(gram, np.einsum("snd,sn->sd", x, y)[..., None])[..., 0]
        residual = y - np.einsum("snd,sd->sn", x, self.coef_)
        dof = x.shape[1] - (x.shape[2] if self.estimator == "unbiased" else 0)
        self.noise_ = np.sqrt((residual**2).sum(axis=1) / dof)  # (S,)
        if self.noise is not None:  # known: the fit's own estimate is not used
            self.noise_ = np.full_like(self.noise_, self.noise)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for x (m, d) or (S, m, d): shape (S, m)."""
        if x.ndim == 2:
            return np.asarray(self.coef_ @ x.T)
        return np.einsum("snd,sd->sn", x, self.coef_)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, m, _ = self.design_.shape
        x = self.design_[:, np.arange(n) % m]  # the fixed design, repeated if n > m
        y = self.predict(x) + self.noise_[:, None] * rng.standard_normal((seeds, n))
        return np.concatenate([x, y[..., None]], axis=2)

    def collapsed(self) -> np.ndarray:
        """No noise left: every later generation's labels are the same function of X."""
        scale = np.sqrt((self.predict(self.design_) ** 2).mean(axis=1))
        return np.asarray(self.noise_ <= RESOLUTION * scale)

    def diverged(self) -> np.ndarray:
        return overflowed(self.coef_, self.noise_)

    def get_state(self) -> dict[str, np.ndarray]:
        return {"coef_": self.coef_, "noise_": self.noise_, "design_": self.design_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        if "design_" not in state:
            raise UserInputError(OLD_CHECKPOINT.format(what="design"))
        self.coef_, self.noise_ = state["coef_"], state["noise_"]
        self.design_ = state["design_"]
        return self


def _make(config: Config, real: RealData) -> LinearModel:
    if config.family.noise == "fitted":
        return LinearModel(config.family.estimator)
    if not isinstance(real.truth, KnowsWeights):
        raise UserInputError(
            f"family.noise = known needs the true noise, which source {config.source.name!r} "
            "does not know (source.name = linear does); use family.noise = fitted"
        )
    return LinearModel(config.family.estimator, float(real.truth.noise))


FAMILIES.register("linear")(
    Family(
        kind="regression",
        make=_make,
        min_samples=lambda config, dim: dim,  # more rows than features
        description="linear regression with Gaussian noise on a fixed design (Gerstgrasser 2024)",
        params={
            "estimator": param(
                "mle",
                "noise estimator: mle divides by n, unbiased by n - d",
                choices=("mle", "unbiased"),
            ),
            "noise": param(
                "fitted",
                "the labels' noise: fitted to each generation's residuals, or known (the "
                "source's true sigma, as Gerstgrasser et al. keep it)",
                choices=("fitted", "known"),
            ),
        },
        collapse="the residual noise is zero: labels are a fixed function of the design",
    )
)
