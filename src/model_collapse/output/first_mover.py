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
        if (column := exposure_of(run)) and metric in run.metrics
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
    import pandas as pd

    from model_collapse.output.colours import colours
    from model_collapse.output.plots import _pyplot, draw_level, finish
    from model_collapse.sweeps.compare import interval_table

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    palette = colours([run.label for run, _ in exposed])
    for run, column in exposed:
        table = run.metrics[["seed", "generation", metric]].assign(run=run.name)
        rows = interval_table(pd.DataFrame(table), [])
        rows = rows[rows["metric"] == metric].sort_values("generation")
        x = run.metrics.groupby("generation")[column].mean().to_numpy(float)
        y = rows["value"].to_numpy(float)
        error = np.clip(
            [y - rows["low"].to_numpy(float), rows["high"].to_numpy(float) - y], 0, None
        )
        ax.errorbar(x, y, yerr=error, fmt="o-", ms=3, capsize=2, color=palette[run.label],
                    label=f"{run.label}: one point a year")  # fmt: skip
    draw_level(ax, metric)
    ax.set_xlabel(f"{exposed[0][1]} of the year's training data")
    ax.set_ylabel(f"{metric} (95% interval over seeds)")
    ax.set_title("The first movers' advantage: each year's model against its web", fontsize=9)
    ax.legend(fontsize=7)
    return finish(fig, path)
