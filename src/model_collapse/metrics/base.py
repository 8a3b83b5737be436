"""The metric contract: one number per seed and generation, and the registry of metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import Param
from model_collapse.config.registry import Registry
from model_collapse.config.sizes import Need, Shape
from model_collapse.engine.step import Step
from model_collapse.sources.base import Kind, RealData


@dataclass
class Reference:
    """What every generation is compared with, computed once per run.

    ``mean`` and ``cov`` are the true moments where the source knows them, else the real
    test data's. ``cache`` holds sorted projections and quantiles that metrics reuse.
    """

    real: RealData
    config: Config
    mean: np.ndarray | None = None
    cov: np.ndarray | None = None
    probs: np.ndarray | None = None
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    """A check on generation 0: the metric must not exceed ``factor`` times the column
    ``baseline`` (where the run has it). Above it, the run log and the console warn with
    ``advice``, and the metric's figure draws the baseline and says so."""

    baseline: str
    factor: float
    advice: str


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    ``applies(reference, model, exact)`` says whether it can be computed for this run;
    ``compute(step)`` returns one value per seed, shape (S,), from a generation's
    :class:`~model_collapse.engine.step.Step` (its model, samples, training set, reference);
    ``per_item``, where set, returns the values behind it per generated item, (S, n),
    which the run directory keeps under ``samples/NAME/`` (for histograms);
    ``too_small``, where set, says why this run's data are too small for it, if they are.
    Metrics of one generation share work through ``step.found`` (features, distances).
    """

    kinds: tuple[Kind, ...]
    compute: Callable[[Step], np.ndarray]
    applies: Callable[[Reference, Any, bool], bool]
    description: str
    per_item: Callable[[Step], np.ndarray] | None = None
    # why the data are too small for it ("" if they are not): the metric is left out
    too_small: Callable[[Reference], str] | None = None
    params: dict[str, Param] = field(default_factory=dict)  # its own metrics.* keys
    services: tuple[str, ...] = ()  # run-scoped helpers it reads from step.services
    guard: Guard | None = None  # generation 0 must stay within a factor of a baseline
    # what a run needs for it, said when it is asked for and ``applies`` says no
    needs: str = "a Gaussian truth and model (or family.exact = false)"
    # where set, whether to compute it in this generation (an expensive metric may run
    # every k-th); elsewhere its values are NaN, and no note is made of them
    runs_at: Callable[[Step], bool] | None = None
    # drawn on a log scale (a ratio or a distance that spans decades as a chain collapses)
    log_scale: bool = False
    # the memory it needs beyond the run's sets, for the check before a run (None: none)
    memory: Callable[[Config, Shape], Need | None] | None = None
    # How it is read. ``better``: "lower", "higher", or "closer" to ``level`` ("": not
    # declared; compare then ranks highest first and says so). ``level``: the real data's
    # level (1 for a ratio of model to real, 0 for a distance), None where it depends on
    # the data. ``statistic``: what summarises it over seeds without being held up by a
    # few of them: "mean", "median" (a heavy-tailed ratio, whose mean a few seeds carry),
    # or "log" (the geometric mean).
    better: str = ""
    level: float | None = None
    statistic: str = "mean"
    # what a reader needs where a value looks wrong but is not (the report shows it under
    # the metric's chart): e.g. why a share moves in steps
    note: str = ""

    def __post_init__(self) -> None:
        if self.better not in READINGS or self.statistic not in STATISTICS:
            raise ValueError(
                f"a metric is read with better in {READINGS} and statistic in {STATISTICS}, "
                f"got {self.better!r} and {self.statistic!r}"
            )
        if self.better == "closer" and self.level is None:
            raise ValueError('a metric read "closer" needs the level it should be close to')


READINGS = ("lower", "higher", "closer", "")
STATISTICS = ("mean", "median", "log")


METRICS: Registry[Metric] = Registry("metric")


def always(reference: Reference, model: Any, exact: bool) -> bool:
    return True
