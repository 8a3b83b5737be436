"""The family contract (a Protocol in scikit-learn's shape) and the registry of families."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import Param
from model_collapse.config.registry import Registry
from model_collapse.core.errors import UserInputError
from model_collapse.sources.base import Kind, RealData


@runtime_checkable
class Model(Protocol):
    """A generative model fitted to every seed at once.

    ``__init__`` stores hyperparameters only; ``fit`` learns state (attributes ending in
    ``_``) from data of shape (S, n, d), seeds first, and returns the fitted model.
    """

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        """Fit one model per seed to ``data`` (S, n, d) or its sufficient statistics."""
        ...

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` samples per seed: shape (S, n, d)."""
        ...

    def get_state(self) -> dict[str, np.ndarray]:
        """The learned state as named arrays (what a checkpoint stores)."""
        ...

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        """Restore learned state saved by :meth:`get_state`."""
        ...


@dataclass(frozen=True)
class Family:
    """A registered family: the data kind it models and how to build an unfitted model.

    ``min_samples(config)`` is the smallest training set the family can fit. What its
    model can do beyond fit and sample, its model shows by its methods
    (:mod:`model_collapse.engine.capabilities`); the keys that tune it, the family
    declares: ``params`` in the family section, ``sampling`` in the sampling section (a
    language model's temperature, a Gaussian's bias).
    """

    kind: Kind
    make: Callable[[Config, RealData], Model]
    min_samples: Callable[[Config, int], int]
    description: str
    check: Callable[[Config, RealData], None] | None = None  # refuses settings it cannot run
    collapse: str = ""  # what a collapsed fit is, for models that are Degenerates
    inputs: Callable[[Config], list[Path]] | None = None  # files it reads (model weights)
    resolve: Callable[[Config], Config] | None = None  # fills defaults that depend on it
    memory: Callable[[Config, int], float] | None = None  # bytes its fit needs, per (n, d)
    params: dict[str, Param] = field(default_factory=dict)  # its own family.* keys
    sampling: dict[str, Param] = field(default_factory=dict)  # its own sampling.* keys
    headline: str = ""  # the metric that tells its collapse best, for the verdict


FAMILIES: Registry[Family] = Registry("family")

# sampling.bias, the sampling key of the families whose covariance it scales (gaussian, gmm)
BIAS = {
    "bias": Param(
        1.0,
        "sample with covariance x bias (1: as fitted)",
        float,
        0.0,
        10.0,
        open_low=True,
        schedulable=True,
    )
}


def check_sizes(config: Config, family: Family, real: RealData, sizes: dict[str, int]) -> None:
    """Each training set (real, and those the keys size) is big enough for the family."""
    dim = real.train.shape[2]
    need = family.min_samples(config, dim)
    for key, value in {**sizes, "source.n_train": real.train.shape[1]}.items():
        if value < need:
            raise UserInputError(
                f"family '{config.family.name}' needs at least {need} samples per training set "
                f"in {dim} dimension{'s' if dim > 1 else ''}, got {key} = {value}; raise {key}"
            )
