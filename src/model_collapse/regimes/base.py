"""The regime contract: how generation t's training set is built, and its registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import Param
from model_collapse.config.registry import Registry
from model_collapse.core.data import Items, Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.sources.base import RealData

# training_set(step) -> Items (sample path) or statistics (exact path). step.history holds
# the synthetic sets of earlier generations, oldest first: all of them for a regime that
# keeps history, else only the latest one.
BuildTrainingSet = Callable[[Step], Any]
# A diagnostic: one number per seed about the training set it was given (S,).
Diagnostic = Callable[[Step, Any], np.ndarray | float]


@dataclass(frozen=True)
class Regime:
    """A registered regime.

    Attributes
    ----------
    training_set : builds the training set of generation t >= 1 from a :class:`Step`.
    keeps_history : needs every earlier synthetic set, not only the latest.
    synthetic_share : how many samples of the latest synthetic set it uses, given n.
    description : one line for ``model-collapse list``.
    diagnostics : columns it adds to metrics.csv, each computed from the training set of
        every generation (generation 0's is the real data).
    check : refuses settings it cannot run with this family and data, before anything runs.
    """

    training_set: BuildTrainingSet
    keeps_history: bool
    synthetic_share: Callable[[Config], int]
    description: str
    diagnostics: dict[str, Diagnostic] = field(default_factory=dict)
    check: Callable[[Config, Family, RealData], None] | None = None
    params: dict[str, Param] = field(default_factory=dict)  # its own regime.* keys
    services: tuple[str, ...] = ()  # run-scoped helpers it reads from step.services
    # columns a setting switches on (a pool regime given a detector), beside diagnostics
    measured: Callable[[Config], dict[str, Diagnostic]] | None = None
    # the diagnostic that says how polluted each generation's training data are (the
    # web's synthetic share): the report reads each generation as a year against it
    exposure: str = ""
    # where a setting makes it need every earlier synthetic set (a pool drawn from the web)
    history_when: Callable[[Config], bool] | None = None

    def columns(self, config: Config) -> dict[str, Diagnostic]:
        """Every diagnostic column it adds to metrics.csv under this config."""
        return {**self.diagnostics, **(self.measured(config) if self.measured else {})}

    def keeps(self, config: Config) -> bool:
        """Whether it needs every earlier synthetic set under this config."""
        return self.keeps_history or (self.history_when is not None and self.history_when(config))

    @property
    def uses_real_fraction(self) -> bool:
        """regime.real_fraction sizes its real share (it declares the key)."""
        return "real_fraction" in self.params


REGIMES: Registry[Regime] = Registry("regime")


def defended(pool: Items, choose: Callable[[Unlabeled], np.ndarray]) -> Items:
    """A defence's training set: ``choose`` sees the pool without its labels and returns a
    weight per item (0 drops it); the weights go back onto the labelled items, so the run
    still knows (and metrics.csv records) how many real items the defence kept."""
    if not isinstance(pool, Items):
        raise UserInputError(
            "a defence weighs items, which sufficient statistics do not have; "
            "set family.exact = false"
        )
    weight = np.asarray(choose(pool.unlabeled()), dtype=float)
    if pool.weight is not None and weight.shape == pool.weight.shape:
        weight = weight * pool.weight
    return pool.weighted(weight)


def real_share(config: Config) -> int:
    """How many real samples a mixed training set of sampling.n holds."""
    return round(config.regime.real_fraction * config.sampling.n)
