"""Observers: told what a run does while it does it (start, each generation, finish).

The command line's progress is one; experiment trackers (MLflow) and sweeps are others.
Subclass :class:`Observer` and override what you need; pass instances to
``model_collapse.run(..., observers=[...])``. An observer sees numbers the run has
already saved: it cannot change a result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from model_collapse.api import Result
    from model_collapse.engine.loop import Plan


class Observer:
    """Does nothing; subclasses override the moments they care about."""

    def start(self, plan: Plan, first: int, directory: Path | None) -> None:
        """The run is checked and its directory open; ``first`` is the first generation to
        run (equal to experiment.generations when it is complete already)."""

    def generation(self, generation: int, values: Mapping[str, np.ndarray]) -> None:
        """A generation is saved: its metric values (and diagnostics), one per seed."""

    def stage(self, name: str, done: int, total: int) -> None:
        """Inside a generation, a long stage (training, sampling, scoring) has done
        ``done`` of its ``total`` steps: 0 when it starts, ``total`` when it ends."""

    def warning(self, text: str) -> None:
        """Something the user should know about a result (also in the run's log)."""

    def finish(self, result: Result) -> None:
        """Every generation is saved and the figures drawn."""

    def stopped(self, error: BaseException) -> None:
        """The run stopped before its end (an error, Ctrl-C); what it saved is kept."""


def tell(observers: Sequence[Observer], moment: str, *details: Any) -> None:
    """Tell every observer of one moment ("stage", "warning", ...) with its details."""
    for observer in observers:
        getattr(observer, moment)(*details)


class Callbacks(Observer):
    """The two plain callbacks ``run`` has always taken, as an observer."""

    def __init__(
        self,
        on_start: Callable[[int], None] | None = None,
        on_generation: Callable[[int], None] | None = None,
    ) -> None:
        self.on_start, self.on_generation = on_start, on_generation

    def start(self, plan: Plan, first: int, directory: Path | None) -> None:
        if self.on_start is not None:
            self.on_start(first)

    def generation(self, generation: int, values: Mapping[str, np.ndarray]) -> None:
        if self.on_generation is not None:
            self.on_generation(generation)
