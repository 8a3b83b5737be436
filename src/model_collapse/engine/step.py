"""What a regime or a metric sees of one generation: one object, not a list of arguments.

A :class:`Step` holds the generation, the config, the real data, the history of synthetic
sets (with their provenance), the models (generation 0's, the previous one, a factory for
a fresh unfitted one), the run-scoped services, the reference every metric compares with,
and named random streams: ``step.rng("regime")`` is the stream of that stage in this
generation, exactly the one the loop has always used, so results stay byte-identical.
After the fit, the loop fills in this generation's training set, model and samples for
the metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from model_collapse.config import Config
from model_collapse.core.rng import of_lineage, stream

if TYPE_CHECKING:
    from model_collapse.metrics.base import Reference
    from model_collapse.sources.base import RealData


@dataclass
class Step:
    """One generation, as regimes and metrics see it.

    Attributes
    ----------
    generation : this generation, from 0.
    config : the run's config (data sizes filled in).
    real : the real data.
    history : earlier synthetic sets, oldest first (all of them for a regime that keeps
        history, else the latest only): :class:`~model_collapse.core.data.Items` or statistics.
    first_model, previous_model : generation 0's fitted model and the previous one.
    new_model : builds a fresh, unfitted model of the run's family.
    services : run-scoped helpers by name (built once per run, checkpointed).
    reference : what the metrics compare with (true moments, real test data, caches).
    train, model, synthetic : this generation's training set, fitted model and what it
        generated (None on the exact path); set once the model is fitted.
    found : what this generation's stages found, for the columns that read it: a
        defence's pool and scores, the samples' image features (computed once).
    config_of : any generation's config (``config.schedules.config_at``): what a regime
        needs of earlier generations' scheduled values (the fresh rows they took).
    lineage : the lineage this step fits ("" for the run's own family, whose streams are
        the ones every run has always drawn; another lineage's streams carry its name).
    """

    generation: int
    config: Config
    real: RealData
    history: list[Any]
    first_model: Any
    previous_model: Any
    new_model: Callable[[], Any]
    reference: Reference
    services: dict[str, Any] = field(default_factory=dict)
    train: Any = None
    model: Any = None
    synthetic: np.ndarray | None = None
    found: dict[str, Any] = field(default_factory=dict)  # shared work of this generation
    config_of: Callable[[int], Config] | None = None
    lineage: str = ""

    def rng(self, stage: str) -> np.random.Generator:
        """The random stream of ``stage`` in this generation (:mod:`model_collapse.core.rng`),
        this lineage's own."""
        return stream(self.config.experiment.seed, of_lineage(stage, self.lineage), self.generation)
