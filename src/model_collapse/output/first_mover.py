"""The first movers' advantage: where a run's regime declares an *exposure* column (how
polluted each generation's training data are: the web's ``web_synthetic_share``), each
generation's model is the model of that year of the web. The figure draws the headline
metric, with 95% intervals over seeds, against the exposure, one line per run; the
verdict states how much the metric moves per year, from the seeds' own least-squares
slopes over the years (their mean and 95% t interval).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np


def exposure_of(run: Any) -> str:
    """The exposure column the run's regime declares, where its metrics have it."""
    from model_collapse.regimes import REGIMES

    name = tomllib.loads(run.config_text).get("regime", {}).get("name", "")
    regime = dict(REGIMES.items()).get(name)
    column = regime.exposure if regime is not None else ""
    return column if column and column in run.metrics else ""


def slope_per_year(metrics: Any, metric: str) -> tuple[float, float, float]:
    """Each seed's least-squares slope of the metric over generations; their mean and
    95% t interval (NaN where fewer than two seeds have one)."""
    from model_collapse.recipes.base import mean_interval

    slopes = []
    for _, rows in metrics.groupby("seed"):
        x, y = rows["generation"].to_numpy(float), rows[metric].to_numpy(float)
        keep = np.isfinite(y)
        if keep.sum() >= 2:
            slopes.append(np.polyfit(x[keep], y[keep], 1)[0])
    return mean_interval(np.asarray(slopes))


def first_mover(gathered: Any, metric: str, directory: Path) -> list[str]:
    """One sentence per exposed run, and figures/first_mover.png; none where no run's
    regime declares an exposure."""
    from model_collapse.output.reading import number

    exposed = [
        (run, column)
        for run in gathered.runs
        # a teacher never learns from the web: its one model has no year to be read by
        if (column := exposure_of(run)) and metric in run.metrics and run.role != "teacher"
    ]
    if not exposed:
        return []
    lines = []
    for run, column in exposed:
        mean, low, high = slope_per_year(run.metrics, metric)
        share = run.metrics.groupby("generation")[column].mean()
        start, end = number(share.iloc[0]), number(share.iloc[-1])
        exposure = f"at {start} throughout" if start == end else f"going from {start} to {end}"
        lines.append(
            f"Under {run.label}, each later year's model moves {metric} by {number(mean)} "
            f"[{number(low)}, {number(high)}] a year (the mean of its seeds' least-squares "
            f"slopes, 95% t interval), with {column} {exposure}."
        )
    plot_first_mover(exposed, metric, directory / "figures" / "first_mover.png")
    return lines


def plot_first_mover(exposed: list[tuple[Any, str]], metric: str, path: Path) -> Path:
    """Each group's years against their exposure: one panel, or one per group where their
    ranges do not overlap (a GPT's and an n-gram's perplexities), so no line is flattened."""
    from model_collapse.output.colours import colours
    from model_collapse.output.plots import _pyplot, draw_level, finish

    plt = _pyplot()
    points = [year_points(run, column, metric) for run, column in exposed]
    panels = len(points) if apart([(lo.min(), hi.max()) for _, _, lo, hi in points]) else 1
    fig, axes = plt.subplots(
        panels, 1, figsize=(6.2, 2.2 + 2.0 * panels), sharex=True, squeeze=False
    )
    palette = colours([run.label for run, _ in exposed])
    for i, ((run, _), (x, y, low, high)) in enumerate(zip(exposed, points, strict=True)):
        ax = axes[min(i, panels - 1), 0]
        error = np.clip([y - low, high - y], 0, None)
        ax.errorbar(x, y, yerr=error, fmt="o-", ms=3, capsize=2, color=palette[run.label],
                    label=f"{run.label}: one point a year")  # fmt: skip
    for ax in axes[:, 0]:
        draw_level(ax, metric)
        ax.set_ylabel(f"{metric}\n(95% interval over seeds)", fontsize=8)
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel(f"{exposed[0][1]} of the year's training data")
    axes[0, 0].set_title(
        "The first movers' advantage: each year's model against its web", fontsize=9
    )
    return finish(fig, path)


def year_points(run: Any, column: str, metric: str) -> tuple[np.ndarray, ...]:
    """Per year: the exposure (mean over seeds), the metric's statistic and its interval."""
    import pandas as pd

    from model_collapse.sweeps.compare import interval_table

    table = run.metrics[["seed", "generation", metric]].assign(run=run.name)
    rows = interval_table(pd.DataFrame(table), [])
    rows = rows[rows["metric"] == metric].sort_values("generation")
    x = run.metrics.groupby("generation")[column].mean().to_numpy(float)
    return x, *(rows[c].to_numpy(float) for c in ("value", "low", "high"))


def apart(ranges: list[tuple[float, float]]) -> bool:
    """Whether some two groups' ranges do not overlap at all."""
    return any(
        a_high < b_low or b_high < a_low
        for i, (a_low, a_high) in enumerate(ranges)
        for b_low, b_high in ranges[i + 1 :]
    )
