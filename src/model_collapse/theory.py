"""Closed forms that the figures draw beside the simulation, and their registry.

Gaussian, 1-D, replace: generation 0 is fitted on n0 real samples and every later
generation on n samples it drew itself. With the MLE variance the ratio to the true
variance is a product of independent chi-square(k - 1) / k factors (k = n0, then n);
with the unbiased estimator the divisor is k - 1. Categorical, replace, exact MLE:
Wright-Fisher drift, E[1 - sum p^2] shrinks by (1 - 1/k) a generation.

Each closed form is registered in THEORIES by the plug-in it belongs to (the Gaussian
family registers the first, the categorical family the second), with the metric it
describes, when it holds, and what it expects: numbers by generation (``Curve``s), which
the figures, the report, the verdict and the recipes' reproduction.csv all read. This
module names no plug-in, and a recipe or a plug-in adds its own without editing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, polygamma

from model_collapse.config import Config
from model_collapse.config.registry import Registry

Z95 = 1.959963984540054


@dataclass(frozen=True)
class VarianceTheory:
    """Per generation g: E[ratio], E[log ratio], Var[log ratio], Var[ratio]."""

    mean: np.ndarray
    mean_log: np.ndarray
    var_log: np.ndarray
    var: np.ndarray

    def typical(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """exp(E log): what the median seed follows, with a 95% band for one seed."""
        half = Z95 * np.sqrt(self.var_log)
        return np.exp(self.mean_log), np.exp(self.mean_log - half), np.exp(self.mean_log + half)

    def mean_band(self, seeds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """E[ratio] with a 95% band for the mean over ``seeds`` seeds."""
        half = Z95 * np.sqrt(self.var / seeds)
        return self.mean, self.mean - half, self.mean + half


def gaussian_variance_theory(
    generations: int, n: int, n0: int | None = None, estimator: str = "mle"
) -> VarianceTheory:
    """Closed forms for variance_ratio of the 1-D Gaussian chain under replace."""
    sizes = np.full(generations, n, dtype=float)
    sizes[0] = n if n0 is None else n0
    divisor = sizes - 1 if estimator == "unbiased" else sizes
    dof = sizes - 1
    # chi2(k) / c: E = k / c, E[x^2] = k (k + 2) / c^2, E log = digamma(k / 2) + ln(2 / c),
    # Var log = trigamma(k / 2).
    mean = np.cumprod(dof / divisor)
    second = np.cumprod(dof * (dof + 2) / divisor**2)
    mean_log = np.cumsum(digamma(dof / 2) + np.log(2 / divisor))
    var_log = np.cumsum(polygamma(1, dof / 2))
    return VarianceTheory(mean, mean_log, var_log, second - mean**2)


def expected_log_variance_ratio(generation: int, n: int, estimator: str = "mle") -> float:
    """(g + 1) (digamma((n - 1) / 2) + ln(2 / n)); ln(2 / (n - 1)) for the unbiased estimator."""
    divisor = n - 1 if estimator == "unbiased" else n
    return float((generation + 1) * (digamma((n - 1) / 2) + np.log(2 / divisor)))


def heterozygosity_theory(generations: int, n: int, n0: int | None = None) -> np.ndarray:
    """E[(1 - sum q^2) / (1 - sum p^2)] per generation under Wright-Fisher drift."""
    sizes = np.full(generations, n, dtype=float)
    sizes[0] = n if n0 is None else n0
    return np.cumprod(1 - 1 / sizes)


# what a curve is: the expected value itself, a 95% band for the mean of the run's seeds,
# what the median seed follows, or a 95% band for one seed
ROLES = ("mean", "mean band", "typical", "seed band")
STYLES = ("solid", "dashed", "dotted")


@dataclass(frozen=True)
class Curve:
    """One closed-form series, a value per generation: a line (``y``) or a band (``low``,
    ``high``; NaN where it says nothing). ``label`` names it in the legend ("": the entry
    of the line before, as a band's second edge)."""

    label: str
    role: str
    y: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    style: str = "solid"

    def __post_init__(self) -> None:
        if self.role not in ROLES or self.style not in STYLES:
            raise ValueError(f"a curve has a role in {ROLES} and a style in {STYLES}")
        if (self.y is None) == (self.low is None or self.high is None):
            raise ValueError("a curve is a line (y) or a band (low and high)")

    @property
    def kind(self) -> str:
        return "line" if self.y is not None else "band"


@dataclass(frozen=True)
class Theory:
    """A closed form of ``metric`` where ``holds(config)``: ``expected(config,
    generations)`` gives its curves, one value per generation."""

    metric: str
    holds: Callable[[Config], bool]
    expected: Callable[[Config, int], list[Curve]]
    description: str

    def mean(self, config: Config, generations: int) -> np.ndarray | None:
        """The expected value by generation, where the closed form gives it."""
        lines = [c.y for c in self.expected(config, generations) if c.role == "mean"]
        return lines[0] if lines else None


THEORIES: Registry[Theory] = Registry("theory")


def theory_for(config: Config, metric: str) -> Theory | None:
    """The registered closed form of ``metric`` that holds for this run, if any. The closed
    forms take one sample size: a scheduled sampling.n has none."""
    if isinstance(config.sampling.n, dict):
        return None
    for _, theory in THEORIES.items():
        if theory.metric == metric and theory.holds(config):
            return theory
    return None
