"""Intervals per group and generation, and the comparison of a sweep's runs at one
generation.

A group is one run of a sweep: one setting of its varied keys, over its seeds. For each
group, generation and metric: the mean over seeds, the 95% t interval (the seeds are
independent chains, so the t interval applies where their mean is near normal), and the
95% percentile bootstrap interval over seeds (resampling seeds, 2,000 times, from a
fixed stream: the same table every time), which does not lean on normality.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from model_collapse.config.registry import did_you_mean
from model_collapse.core.errors import UserInputError

RESAMPLES = 2000
LEVEL = 0.95
NOT_METRICS = ("run", "seed", "generation")


def metric_columns(table: Any, keys: list[str]) -> list[str]:
    return [c for c in table.columns if c not in (*NOT_METRICS, *keys)]


FIELDS = ("mean", "t_low", "t_high", "boot_low", "boot_high")


def column_intervals(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, t interval and bootstrap interval over the rows (seeds) of each column
    (generation) of a seeds x generations matrix, and ``n`` the seeds counted.

    A NaN (undefined for that seed; the run log says why) is left out of its column. An
    infinite value (kl_true of a collapsed seed) makes its column's mean infinite and its
    intervals undefined: never dropped so that the rest can be averaged. The bootstrap's
    resampled rows depend only on the number of seeds (a fresh stream from seed 0), so a
    generation gets the same interval whether it is computed alone or with the others.
    """
    columns = matrix.shape[1]
    out = {name: np.full(columns, np.nan) for name in (*FIELDS, "n")}
    clean = np.isfinite(matrix).all(axis=0)
    _fill(out, np.flatnonzero(clean), matrix[:, clean])
    for j in np.flatnonzero(~clean):
        column = matrix[~np.isnan(matrix[:, j]), j]
        out["n"][j] = len(column)
        if np.isinf(column).any():
            out["mean"][j] = column.mean()
        elif len(column):
            _fill(out, np.array([j]), column[:, None])
    return out


def _fill(out: dict[str, np.ndarray], where: np.ndarray, matrix: np.ndarray) -> None:
    """Intervals of columns without NaN or infinities. With one seed there is no spread to
    measure: the mean only, both intervals undefined (never a zero-width interval)."""
    from scipy import stats

    n = matrix.shape[0]
    if not len(where) or n == 0:
        return
    out["n"][where] = n
    out["mean"][where] = mean = matrix.mean(axis=0)
    if n < 2:
        return
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * matrix.std(axis=0, ddof=1) / np.sqrt(n)
    out["t_low"][where], out["t_high"][where] = mean - half, mean + half
    # each resample as counts of the seeds drawn: its means are one matrix product, in
    # memory resamples x (seeds + generations) rather than resamples x seeds x generations
    rows = np.random.default_rng(0).integers(0, n, size=(RESAMPLES, n))
    flat = (rows + n * np.arange(RESAMPLES)[:, None]).ravel()
    counts = np.bincount(flat, minlength=RESAMPLES * n).reshape(RESAMPLES, n)
    means = counts.astype(float) @ matrix / n
    low, high = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
    out["boot_low"][where], out["boot_high"][where] = low, high


def interval(values: np.ndarray) -> dict[str, float]:
    """Mean, t interval and bootstrap interval of one group's values over seeds."""
    found = column_intervals(values.astype(float)[:, None])
    return {name: float(found[name][0]) for name in FIELDS}


def interval_table(table: Any, keys: list[str]) -> Any:
    """Every run's intervals, per metric and generation: one row each, with the run's
    varied keys (what report.html draws and intervals.csv holds). Beside the mean and its
    intervals: the metric's declared statistic over seeds (``statistic``: mean, median or
    log for the geometric mean), its ``value`` and 95% bootstrap interval (``low``,
    ``high``), which compare and the reading use."""
    import pandas as pd

    frames = []
    for run, rows in table.groupby("run", sort=False):
        wide = rows.drop(columns=["run", *keys]).pivot(index="seed", columns="generation")
        for metric in metric_columns(table, keys):
            matrix = wide[metric].to_numpy(dtype=float)
            found = column_intervals(matrix)
            statistic = reading_of(metric).statistic
            if statistic == "mean":
                own = {"value": found["mean"], "low": found["boot_low"], "high": found["boot_high"]}
            else:
                own = column_statistic(matrix, statistic)
            generations = wide[metric].columns.to_numpy()
            frame = pd.DataFrame(
                {"generation": generations, **found, "statistic": statistic, **own}
            )
            frame.insert(0, "metric", metric)
            for key in reversed(["run", *keys]):
                frame.insert(0, key, run if key == "run" else rows[key].iloc[0])
            frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    return result.astype({"n": int})


def column_statistic(matrix: np.ndarray, statistic: str) -> dict[str, np.ndarray]:
    """The statistic over seeds of each generation and its 95% bootstrap interval."""
    found = {name: np.full(matrix.shape[1], np.nan) for name in ("value", "low", "high")}
    for j in range(matrix.shape[1]):
        found["value"][j] = statistic_of(matrix[:, j], statistic)
        found["low"][j], found["high"][j] = boot_statistic(matrix[:, j], statistic)
    return found


@dataclass(frozen=True)
class Reading:
    """How a column is read (the metric's declaration, :class:`~model_collapse.metrics.
    base.Metric`): which way is better, the real level, the statistic over seeds."""

    better: str = ""
    level: float | None = None
    statistic: str = "mean"
    log_scale: bool = False

    def distance(self, value: float) -> float:
        """How far a group's statistic lies from the best: what compare sorts by."""
        if np.isnan(value):
            return np.inf  # undefined last
        if self.better == "lower":
            return value
        if self.better == "closer" and self.level is not None:
            if self.log_scale and value > 0 and self.level > 0:
                return abs(float(np.log(value / self.level)))  # 0.5 as far as 2 from 1
            return abs(value - self.level)
        return -value  # higher is better, or not declared: highest first


def reading_of(column: str) -> Reading:
    """The declared reading of a metric; a column no metric declares (a regime's
    diagnostic, a plug-in that says nothing) is read highest first, by its mean."""
    from model_collapse.metrics import METRICS

    metric = dict(METRICS.items()).get(column)
    if metric is None:
        return Reading()
    return Reading(metric.better, metric.level, metric.statistic, metric.log_scale)


def statistic_of(values: np.ndarray, statistic: str) -> float:
    """The statistic over seeds (NaN seeds left out); the geometric mean ("log") is
    undefined (NaN) where a value is 0 or negative."""
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    if statistic == "median":
        return float(np.median(values))
    if statistic == "log":
        return float(np.exp(np.log(values).mean())) if (values > 0).all() else float("nan")
    return float(values.mean())


def compare(
    table: Any, metric: str | None, at: int | None, keys: list[str], statistic: str | None = None
) -> tuple[list[dict[str, Any]], str, int, Reading]:
    """The runs at one generation, best first by the metric's declared direction and
    statistic (``statistic`` overrides it), each with its intervals and whether it differs
    from the best run: Welch's t test for means, a permutation test for medians and log
    values, Holm-corrected at 5% over the family of runs against the best."""
    metrics = metric_columns(table, keys)
    metric = metric or metrics[0]
    if metric not in metrics:
        hint = did_you_mean(metric, metrics) or f" metrics: {', '.join(metrics)}"
        raise UserInputError(f"no metric {metric!r} in this sweep;{hint}")
    if statistic is not None and statistic not in ("mean", "median", "log"):
        raise UserInputError(f"--statistic is mean, median or log, got {statistic!r}")
    last = int(table["generation"].max())
    at = last if at is None else at
    if not 0 <= at <= last:
        raise UserInputError(f"--at {at} is outside the sweep's generations 0 to {last}")
    read = reading_of(metric)
    read = Reading(read.better, read.level, statistic or read.statistic, read.log_scale)
    rows = table[table["generation"] == at]
    groups = {run: g[metric].to_numpy(dtype=float) for run, g in rows.groupby("run", sort=False)}
    values = {run: statistic_of(v, read.statistic) for run, v in groups.items()}
    ranked = sorted(groups, key=lambda run: read.distance(values[run]))  # stable: file order
    best = groups[ranked[0]]
    test = welch if read.statistic == "mean" else functools.partial(permuted, read.statistic)
    p_values = [1.0, *(test(groups[run], best) for run in ranked[1:])]
    differs = [False, *holm(p_values[1:])]  # the family: each other run against the best
    return (
        [
            {
                "run": run,
                "value": values[run],
                **dict(
                    zip(("low", "high"), boot_statistic(groups[run], read.statistic), strict=True)
                ),
                **interval(groups[run]),
                "p": p,
                "differs": flag,
            }
            for run, p, flag in zip(ranked, p_values, differs, strict=True)
        ],
        metric,
        at,
        read,
    )


def boot_statistic(values: np.ndarray, statistic: str) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of the statistic over seeds (a fixed stream)."""
    values = values[~np.isnan(values)]
    if len(values) < 2 or np.isinf(values).any():
        return float("nan"), float("nan")
    rows = np.random.default_rng(0).integers(0, len(values), size=(RESAMPLES, len(values)))
    if statistic == "log" and (values <= 0).any():
        return float("nan"), float("nan")
    resampled = values[rows]
    draws = (
        np.median(resampled, axis=1)
        if statistic == "median"
        else np.exp(np.log(resampled).mean(axis=1))
        if statistic == "log"
        else resampled.mean(axis=1)
    )
    low, high = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(low), float(high)


PERMUTATIONS = 9999


# each statistic as sentences and tables name it
STATISTIC_WORDS = {"mean": "mean", "median": "median", "log": "geometric mean"}


def test_name(statistic: str) -> str:
    """The test compare runs on a statistic, in words."""
    return {
        "mean": "Welch's t test",
        "median": "a permutation test of medians",
        "log": "a permutation test of mean log values",
    }[statistic]


def permuted(statistic: str, a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided permutation p-value of the difference in the statistic (median, or mean
    of log values) between two groups of seeds: (1 + as extreme) / (1 + permutations), from
    a fixed stream. Its false-alarm rate is at most the level for exchangeable seeds. NaN
    where it is undefined (a value 0 or below on the log scale, infinities, too few seeds)."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2 or np.isinf(a).any() or np.isinf(b).any():
        return float("nan")
    pooled = np.concatenate([a, b])
    if statistic == "log":
        if (pooled <= 0).any():
            return float("nan")
        pooled = np.log(pooled)
    summary = np.median if statistic == "median" else np.mean
    observed = abs(summary(pooled[: len(a)]) - summary(pooled[len(a) :]))
    rng = np.random.default_rng(0)
    order = np.argsort(rng.random((PERMUTATIONS, len(pooled))), axis=1)
    shuffled = pooled[order]
    diffs = np.abs(summary(shuffled[:, : len(a)], axis=1) - summary(shuffled[:, len(a) :], axis=1))
    return float((1 + np.sum(diffs >= observed - 1e-12)) / (1 + PERMUTATIONS))


def welch(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's two-sided p-value; NaN where it is undefined (infinite values, or no spread
    on either side, e.g. two collapsed groups), which no correction calls significant."""
    from scipy import stats

    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2 or np.isinf(a).any() or np.isinf(b).any():
        return float("nan")
    if a.std() == 0 and b.std() == 0:
        return float("nan")
    with steady_groups_allowed():
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


@contextmanager
def steady_groups_allowed() -> Iterator[None]:
    """Silences scipy's warning for a group whose values are all but equal (a share every
    seed holds at 1): its variance is then 0 to rounding, which the tests handle."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        yield


def holm(p_values: list[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down: which p-values stay significant over the family of tests."""
    order = np.argsort(p_values)
    significant = [False] * len(p_values)
    for rank, index in enumerate(order):
        if not p_values[index] <= alpha / (len(p_values) - rank):
            break
        significant[index] = True
    return significant
