"""The empirical distribution: draws its training rows again, with replacement.

It has no functional error at all: what it draws is exactly what it was fitted to, so a
chain of empirical refits drifts by sampling error alone (each generation keeps a
multinomial share of the last one's rows, and rows lost are lost for good). ``run
--decompose`` uses it as the statistical-only arm where the truth lies in no family with
a closed-form fit: ``empirical`` for vectors, ``empirical-text`` for token blocks (a
language model's statistical-only arm: whole blocks redrawn, none written anew).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.core.degenerate import overflowed, singular_gaussian
from model_collapse.families.base import FAMILIES, Family
from model_collapse.sources.base import RealData


class EmpiricalModel:
    """The rows it was fitted to, per seed; learned: ``rows_`` (S, n, d)."""

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        self.rows_ = np.asarray(data, dtype=float)
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, m, _ = self.rows_.shape
        picks = rng.integers(0, m, size=(seeds, n))
        return np.take_along_axis(self.rows_, picks[..., None], axis=1)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        mean = self.rows_.mean(axis=1)
        centred = self.rows_ - mean[:, None, :]
        return mean, np.einsum("snd,sne->sde", centred, centred) / self.rows_.shape[1]

    def collapsed(self) -> np.ndarray:
        """Every row drawn is one point along some direction: nothing left to lose there."""
        return singular_gaussian(*self.moments())

    def diverged(self) -> np.ndarray:
        return overflowed(self.rows_)

    def get_state(self) -> dict[str, np.ndarray]:
        return {"rows_": self.rows_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.rows_ = state["rows_"]
        return self


def _make(config: Config, real: RealData) -> EmpiricalModel:
    return EmpiricalModel()


FAMILIES.register("empirical")(
    Family(
        kind="continuous",
        make=_make,
        min_samples=lambda config, dim: 1,
        description="the empirical distribution: redraws its training rows (no functional error)",
        collapse="its rows coincide along some direction",
    )
)


class EmpiricalBlocks(EmpiricalModel):
    """Token blocks redrawn whole; learned: ``rows_`` (S, n, L), the blocks, as integers."""

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        self.rows_ = np.asarray(data)
        return self

    def collapsed(self) -> np.ndarray:
        """Every block it holds is one and the same block."""
        return np.asarray((self.rows_ == self.rows_[:, :1]).all(axis=(1, 2)))

    def diverged(self) -> np.ndarray:
        return np.zeros(len(self.rows_), dtype=bool)  # tokens cannot overflow


FAMILIES.register("empirical-text")(
    Family(
        kind="text",
        make=lambda config, real: EmpiricalBlocks(),
        min_samples=lambda config, dim: 1,
        description="token blocks redrawn whole from its training set (no functional error)",
        collapse="every block it holds is the same block",
    )
)
