"""``model-collapse budget``: the largest share of generated data in each generation's
training set that keeps a metric within a tolerance of the all-real baseline.

The config runs under ``mix`` with the generated share s = 1 - regime.real_fraction on a
coarse grid (s = 0, the all-real baseline, to s = 1, no real data), then on a finer grid
where the tolerance is crossed, each grid a sweep through the sweep engine (so it resumes
and spreads like any sweep). At each share the metric is read at generation ``at`` by its
declared statistic over seeds, and how much *worse* than the baseline it is, by its
declared direction (higher for a "lower" metric, farther from the real level for a
"closer" one). The budget is the share where that first exceeds the tolerance, by linear
interpolation between the grid points around the crossing; its 95% interval comes from
resampling the seeds (the same seed indices at every share: the runs share generation 0
and their random streams, so the comparison is paired), 400 times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError

COARSE = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
RESAMPLES = 400  # bootstrap draws of the seeds: the interval's ends move by about 0.01
BOOTSTRAP_SEED = 20261205


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a share may make the metric: ``value`` times the
    baseline's magnitude where ``relative`` (``5%``), else in the metric's units."""

    value: float
    relative: bool

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        relative = text.strip().endswith("%")
        try:
            value = float(text.strip().rstrip("%")) / (100 if relative else 1)
        except ValueError:
            raise UserInputError(
                "--tolerance takes a share such as 5% or a number in the metric's units, "
                f"got {text!r}"
            ) from None
        if not np.isfinite(value) or value < 0:
            raise UserInputError(f"--tolerance must be 0 or more, got {text!r}")
        return cls(value, relative)

    def allowed(self, baseline: float) -> float:
        return self.value * abs(baseline) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


def worse(read: Any, value: np.ndarray | float, baseline: np.ndarray | float) -> Any:
    """How much worse than the baseline, by the metric's declared reading (negative:
    better); an undeclared metric is worse by any change."""
    if read.better == "lower":
        return np.subtract(value, baseline)
    if read.better == "higher":
        return np.subtract(baseline, value)
    if read.better == "closer" and read.level is not None:
        return np.abs(np.subtract(value, read.level)) - np.abs(np.subtract(baseline, read.level))
    return np.abs(np.subtract(value, baseline))


def crossing(shares: np.ndarray, excess: np.ndarray) -> float:
    """The share where ``excess`` (how far past the tolerance; <= 0 within it) first rises
    above 0, interpolated linearly from the last share within it; 1 where none does."""
    for i in range(1, len(shares)):
        if not excess[i] <= 0:  # past the tolerance, or undefined (NaN): not within it
            a, b = excess[i - 1], excess[i]
            if not (np.isfinite(a) and np.isfinite(b)):
                return float(shares[i - 1])
            lost = min(max(-a / (b - a), 0.0), 1.0)
            return float(shares[i - 1] + lost * (shares[i] - shares[i - 1]))
    return float(shares[-1])


def statistic_by_share(
    values: dict[float, np.ndarray], statistic: Callable[[np.ndarray], float]
) -> np.ndarray:
    return np.array([statistic(values[s]) for s in sorted(values)])


def budget_of(
    values: dict[float, np.ndarray], read: Any, tolerance: Tolerance, statistic: Any
) -> tuple[float, float, float]:
    """The budget and its 95% bootstrap interval from each share's per-seed values (the
    seeds in the same order at every share)."""
    shares = np.array(sorted(values))

    def estimate(rows: np.ndarray | slice) -> float:
        stats = statistic_by_share({s: values[s][rows] for s in values}, statistic)
        excess = worse(read, stats, stats[0]) - tolerance.allowed(stats[0])
        return crossing(shares, excess)

    seeds = len(values[shares[0]])
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = [estimate(rng.integers(0, seeds, seeds)) for _ in range(RESAMPLES)]
    low, high = np.quantile(draws, [0.025, 0.975])
    return estimate(slice(None)), float(low), float(high)


def finer(shares: list[float], excess: np.ndarray) -> list[float]:
    """Three shares inside the coarse interval where the tolerance is crossed."""
    at = crossing(np.array(shares), excess)
    i = next((i for i, s in enumerate(shares) if s >= at and excess[i] > 0), None)
    if i is None or i == 0:
        return []
    a, b = shares[i - 1], shares[i]
    return [round(a + (b - a) * k / 4, 6) for k in (1, 2, 3)]


def budget_sweep(base: str, fixed: dict[str, Any], shares: list[float]) -> dict[str, Any]:
    """A sweep over generated shares: mix, real_fraction = 1 - share."""
    return {
        "base": base,
        "set": {**fixed, "regime.name": "mix"},
        "grid": {"regime.real_fraction": [round(1 - s, 6) for s in shares]},
    }


def share_values(out: Path, metric: str, at: int | None) -> tuple[dict[float, np.ndarray], int]:
    """Each share's per-seed values of ``metric`` at generation ``at`` (default the last)
    from a finished budget sweep's runs, in seed order."""
    import pandas as pd

    from model_collapse.api import open_run

    sweep = pd.read_csv(out / "sweep.csv")
    values, generation = {}, at
    for _, row in sweep.iterrows():
        metrics = open_run(out / str(row["run"])).metrics
        if metric not in metrics:
            raise UserInputError(
                f"this run does not compute {metric}; its metrics are "
                f"{', '.join(metrics.columns[2:])}"
            )
        generation = int(metrics["generation"].max()) if at is None else at
        rows = metrics[metrics["generation"] == generation].sort_values("seed")
        values[round(1 - float(row["regime.real_fraction"]), 6)] = rows[metric].to_numpy(float)
    return values, int(generation if generation is not None else 0)


@dataclass(frozen=True)
class Budget:
    """A finished search: each share's statistic, the budget and its interval."""

    metric: str
    generation: int
    tolerance: Tolerance
    seeds: int
    table: Any  # pandas DataFrame: budget.csv
    share: float
    low: float
    high: float

    def sentence(self) -> str:
        from model_collapse.sweeps.compare import STATISTIC_WORDS, reading_of

        words = STATISTIC_WORDS[reading_of(self.metric).statistic]
        return (
            f"Up to {self.share:.0%} [{self.low:.0%}, {self.high:.0%}] generated data keeps "
            f"{self.metric} within {self.tolerance} of real-only at generation "
            f"{self.generation} ({words} of {self.seeds} seeds; 95% interval from resampling "
            "the seeds)."
        )


def run_budget(
    base: str,
    overrides: list[str],
    metric: str,
    tolerance: Tolerance,
    at: int | None,
    out: Path,
    run: Callable[[dict[str, Any], Path], None],
) -> Budget:
    """The coarse grid, then the finer one where the tolerance is crossed (each run by
    ``run(sweep, folder)``); the budget from their runs."""
    from model_collapse.sweeps.compare import reading_of, statistic_of

    fixed = check_budget(base, overrides, metric, at)
    read = reading_of(metric)

    def statistic(values: np.ndarray) -> float:
        return statistic_of(values, read.statistic)

    run(budget_sweep(base, fixed, COARSE), out / "coarse")
    values, generation = share_values(out / "coarse", metric, at)
    stats = statistic_by_share(values, statistic)
    if not np.isfinite(stats[0]):
        raise UserInputError(
            f"{metric} has no value at generation {generation} of the all-real run (a metric "
            "computed every k-th generation, or undefined there); read another generation "
            "with --at, or another metric"
        )
    extra = finer(COARSE, worse(read, stats, stats[0]) - tolerance.allowed(stats[0]))
    if extra:
        run(budget_sweep(base, fixed, extra), out / "fine")
        values.update(share_values(out / "fine", metric, at)[0])
    share, low, high = budget_of(values, read, tolerance, statistic)
    table = budget_table(values, read, tolerance, statistic, (share, low, high))
    seeds = len(next(iter(values.values())))
    return Budget(metric, generation, tolerance, seeds, table, share, low, high)


def check_budget(base: str, overrides: list[str], metric: str, at: int | None) -> dict[str, Any]:
    """The overrides as a sweep's fixed keys; a key the search sets itself, an unknown
    metric, one the run does not compute or a generation it does not reach, one line each,
    before anything runs."""
    from model_collapse.api import load_config
    from model_collapse.assemble.plan import plan_run
    from model_collapse.config.schema import parse_override
    from model_collapse.metrics import METRICS

    fixed = {}
    for text in overrides:
        section, key, value = parse_override(text)
        if f"{section}.{key}" in ("regime.name", "regime.real_fraction"):
            raise UserInputError(
                f"--set {section}.{key}: budget sets the regime (mix) and its real share itself"
            )
        fixed[f"{section}.{key}"] = value
    METRICS.get(metric)  # unknown: one line with the closest names
    config = load_config(base, [*overrides, "regime.name=mix", "regime.real_fraction=1.0"])
    generations = config.experiment.generations
    if at is not None and not 0 <= at < generations:
        raise UserInputError(f"--at must be a generation from 0 to {generations - 1}, got {at}")
    computed = plan_run(config).names  # the real data read and the whole config checked
    if metric not in computed:
        raise UserInputError(
            f"this run does not compute {metric}; its metrics are {', '.join(computed)}"
        )
    return fixed


def budget_table(
    values: dict[float, np.ndarray],
    read: Any,
    tolerance: Tolerance,
    statistic: Callable[[np.ndarray], float],
    found: tuple[float, float, float],
) -> Any:
    """budget.csv: a row per share (its statistic with a 95% bootstrap interval over
    seeds, how much worse than the baseline, within the tolerance or not), then the
    budget's own row, last: the share with its interval (share_low, share_high)."""
    import pandas as pd

    shares = sorted(values)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    base = statistic(values[shares[0]])
    rows = []
    for s in shares:
        seeds = values[s]
        draws = [
            statistic(seeds[rng.integers(0, len(seeds), len(seeds))]) for _ in range(RESAMPLES)
        ]
        value, (low, high) = statistic(seeds), np.quantile(draws, [0.025, 0.975])
        excess = float(worse(read, value, base))
        within = bool(excess <= tolerance.allowed(base))
        rows.append([s, np.nan, np.nan, 1 - s, value, low, high, excess, within, "grid"])
    share, share_low, share_high = found
    nan = np.nan
    rows.append([share, share_low, share_high, 1 - share, nan, nan, nan, nan, True, "budget"])
    return pd.DataFrame(rows, columns=COLUMNS)


COLUMNS = [
    "share",  # generated share of each generation's training set
    "share_low",  # the budget's 95% interval (its row only)
    "share_high",
    "real_fraction",
    "value",  # the metric's declared statistic over seeds at the generation read
    "value_low",  # its 95% bootstrap interval
    "value_high",
    "worse_than_real",  # how much worse than the all-real baseline, by its reading
    "within",  # within the tolerance
    "row",  # grid, or budget: the answer, last
]
