"""Recipes: the field's published results, each a named sweep at two scales, with the
numbers the paper published (or the closed form it proved) to set ours beside.

A recipe is one file in this folder. It declares its scales (``small``: a CPU in
minutes; ``paper``: the published settings, for a GPU or a cluster), each a sweep (the
sweep engine's ``base``, ``set``, ``grid``, ``zip``) with its measured time, and a
``reproduce`` function that turns the finished runs into the rows of reproduction.csv:
what was measured (``quantity``, ``generation``), ours with its 95% interval over seeds,
and the reference with its source (the paper and its table, figure or equation). Core
code names no recipe; ``model-collapse recipes list`` and ``recipes run`` read the
registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.config.registry import Registry

# reproduction.csv's columns, in order
COLUMNS = ["quantity", "generation", "ours", "ours_low", "ours_high", "reference", "source"]
# ours matches a reference number inside our 95% interval, or within this relative error
# (the acceptance the issue states: a number printed with two digits is read to ~15%)
WITHIN = 0.15


@dataclass(frozen=True)
class Scale:
    """One size of a recipe: its sweep (a sweep file's tables as a dict) and its time."""

    sweep: dict[str, Any]
    time: str  # measured, with the machine: "40 s on 2 CPU cores"


@dataclass(frozen=True)
class Row:
    """One line of reproduction.csv: a quantity at a generation, ours and theirs."""

    quantity: str
    generation: int
    ours: float
    ours_low: float
    ours_high: float
    reference: float = float("nan")  # NaN: the paper gives no number for this one
    source: str = ""

    def matches(self) -> bool:
        """Inside our 95% interval, or within WITHIN of the reference."""
        if not np.isfinite(self.reference):
            return False
        inside = self.ours_low <= self.reference <= self.ours_high
        scale = max(abs(self.reference), 1e-12)
        return bool(inside or abs(self.ours - self.reference) / scale <= WITHIN)


@dataclass(frozen=True)
class Finished:
    """A finished run of the recipe's sweep: the values its sweep varied, its config,
    and its metrics (seed, generation, metrics...)."""

    name: str
    varied: dict[str, Any]
    config: Any
    metrics: Any  # pandas DataFrame
    collapse: Any = None  # collapse.csv (seed, collapsed_at, diverged_at), where it has one
    directory: Path | None = None  # the run's folder: its per-item values under samples/


@dataclass(frozen=True)
class Recipe:
    """A published result to reproduce."""

    description: str
    paper: str  # the paper, as cited
    scales: dict[str, Scale]
    reproduce: Callable[[list[Finished]], list[Row]]
    notes: list[str] = field(default_factory=list)  # honest differences, for the docs
    # what the runs show where the paper states a finding but prints no number: sentences
    # computed from the runs through a stated test, added to the verdict
    reading: Callable[[list[Finished]], list[str]] | None = None


RECIPES: Registry[Recipe] = Registry("recipe")


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """The mean over seeds and its 95% t interval (NaN seeds left out)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        mean = float(values.mean()) if len(values) else float("nan")
        return mean, float("nan"), float("nan")
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def last_generation(run: Finished) -> int:
    return int(run.metrics["generation"].max())


def checkpoints(run: Finished, *divisors: int) -> list[int]:
    """The generations a recipe reads: 0, the last // d for each divisor, and the last."""
    last = last_generation(run)
    return sorted({0, *(last // d for d in divisors), last})


def seeds_at(run: Finished, metric: str, generation: int) -> np.ndarray:
    """The seeds' values of a metric at one generation of a run."""
    rows = run.metrics[run.metrics["generation"] == generation]
    return np.asarray(rows[metric], dtype=float)


def share_interval(hits: int, total: int) -> tuple[float, float, float]:
    """A share and its 95% Wilson interval (right at 0 and 1, where a normal one is not)."""
    z = 1.959963984540054
    share = hits / total
    centre = (share + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z * np.sqrt(share * (1 - share) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    # rounding must not put the share itself outside its interval (at 0 or 1)
    return share, min(share, max(0.0, centre - half)), max(share, min(1.0, centre + half))
