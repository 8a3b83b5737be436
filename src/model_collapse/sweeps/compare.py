"""Intervals per group and generation, and the comparison of a sweep's runs at one
generation.

A group is one run of a sweep: one setting of its varied keys, over its seeds. For each
group, generation and metric: the mean over seeds, the 95% t interval (the seeds are
independent chains, so the t interval applies where their mean is near normal), and the
95% percentile bootstrap interval over seeds (resampling seeds, 2,000 times, from a
fixed stream: the same table every time), which does not lean on normality.
"""

from __future__ import annotations

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
    varied keys (what report.html draws and intervals.csv holds)."""
    import pandas as pd

    frames = []
    for run, rows in table.groupby("run", sort=False):
        wide = rows.drop(columns=["run", *keys]).pivot(index="seed", columns="generation")
        for metric in metric_columns(table, keys):
            found = column_intervals(wide[metric].to_numpy(dtype=float))
            generations = wide[metric].columns.to_numpy()
            frame = pd.DataFrame({"generation": generations, **found})
            frame.insert(0, "metric", metric)
            for key in reversed(["run", *keys]):
                frame.insert(0, key, run if key == "run" else rows[key].iloc[0])
            frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    return result.astype({"n": int})


def compare(
    table: Any, metric: str | None, at: int | None, keys: list[str]
) -> tuple[list[dict[str, Any]], str, int]:
    """The runs at one generation, ranked by mean (highest first), each with its intervals
    and whether it differs from the top run (Welch's t test, Holm-corrected at 5%)."""
    metrics = metric_columns(table, keys)
    metric = metric or metrics[0]
    if metric not in metrics:
        hint = did_you_mean(metric, metrics) or f" metrics: {', '.join(metrics)}"
        raise UserInputError(f"no metric {metric!r} in this sweep;{hint}")
    last = int(table["generation"].max())
    at = last if at is None else at
    if not 0 <= at <= last:
        raise UserInputError(f"--at {at} is outside the sweep's generations 0 to {last}")
    rows = table[table["generation"] == at]
    groups = {run: g[metric].to_numpy(dtype=float) for run, g in rows.groupby("run", sort=False)}
    means = {
        run: float(v[~np.isnan(v)].mean()) if (~np.isnan(v)).any() else -np.inf
        for run, v in groups.items()
    }
    ranked = sorted(groups, key=lambda run: -means[run])  # undefined means last
    top = groups[ranked[0]]
    p_values = [1.0, *(welch(groups[run], top) for run in ranked[1:])]
    differs = [False, *holm(p_values[1:])]  # the family: each other run against the top
    return (
        [
            {"run": run, **interval(groups[run]), "p": p, "differs": flag}
            for run, p, flag in zip(ranked, p_values, differs, strict=True)
        ],
        metric,
        at,
    )


def welch(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's two-sided p-value; NaN where it is undefined (infinite values, or no spread
    on either side, e.g. two collapsed groups), which no correction calls significant."""
    from scipy import stats

    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2 or np.isinf(a).any() or np.isinf(b).any():
        return float("nan")
    if a.std() == 0 and b.std() == 0:
        return float("nan")
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(p_values: list[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down: which p-values stay significant over the family of tests."""
    order = np.argsort(p_values)
    significant = [False] * len(p_values)
    for rank, index in enumerate(order):
        if not p_values[index] <= alpha / (len(p_values) - rank):
            break
        significant[index] = True
    return significant
