"""The regime contract: how generation t's training set is built, and its registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.registry import Registry
from model_collapse.sources.base import RealData

# training_set(config, generation, real, history, rng) -> data of shape (S, n, d) or statistics.
# ``history`` holds the synthetic sets of earlier generations, oldest first: all of them
# for a regime that keeps history, else only the latest one.
BuildTrainingSet = Callable[[Config, int, RealData, list[Any], np.random.Generator], Any]


@dataclass(frozen=True)
class Regime:
    """A registered regime.

    Attributes
    ----------
    training_set : builds the training set of generation t >= 1.
    keeps_history : needs every earlier synthetic set, not only the latest.
    synthetic_share : how many samples of the latest synthetic set it uses, given n.
    description : one line for ``model-collapse list``.
    """

    training_set: BuildTrainingSet
    keeps_history: bool
    synthetic_share: Callable[[Config], int]
    description: str


REGIMES: Registry[Regime] = Registry("regime")


def real_share(config: Config) -> int:
    """How many real samples a mixed training set of sampling.n holds."""
    return round(config.regime.real_fraction * config.sampling.n)
