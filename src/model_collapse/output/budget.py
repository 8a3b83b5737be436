"""The data budget's figure: the metric against the generated share, the all-real
baseline, the tolerance's limit and the budget with its interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def limits(read: Any, baseline: float, allowed: float) -> list[float]:
    """Where the metric stops being within the tolerance: one side for a direction, both
    for a level to stay close to or an undeclared metric."""
    if read.better == "lower":
        return [baseline + allowed]
    if read.better == "higher":
        return [baseline - allowed]
    if read.better == "closer" and read.level is not None:
        gap = abs(baseline - read.level) + allowed
        return [read.level - gap, read.level + gap]
    return [baseline - allowed, baseline + allowed]


def plot_budget(budget: Any, path: Path) -> Path:
    from model_collapse.output.plots import _pyplot, finish
    from model_collapse.sweeps.compare import reading_of

    plt = _pyplot()
    table = budget.table
    grid, found = table[table["row"] == "grid"], table[table["row"] == "budget"].iloc[0]
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    value = grid["value"].to_numpy(float)
    error = [value - grid["value_low"].to_numpy(float), grid["value_high"].to_numpy(float) - value]
    ax.errorbar(grid["share"], value, yerr=np.clip(error, 0, None), fmt="o-", ms=4, capsize=3,
                color="C0", label=f"{budget.metric}, 95% interval over seeds")  # fmt: skip
    baseline = float(value[0])
    ax.axhline(baseline, color="0.4", ls=":", lw=1, label="all real (share 0)")
    allowed = budget.tolerance.allowed(baseline)
    for i, limit in enumerate(limits(reading_of(budget.metric), baseline, allowed)):
        label = f"tolerance: {budget.tolerance} of real-only" if i == 0 else None
        ax.axhline(limit, color="C3", ls="--", lw=1, label=label)
    ax.axvspan(found["share_low"], found["share_high"], color="C2", alpha=0.15, lw=0)
    low, high = found["share_low"], found["share_high"]
    label = f"budget {found['share']:.0%} [{low:.0%}, {high:.0%}]"
    ax.axvline(found["share"], color="C2", lw=1.5, label=label)
    ax.set_xlabel("generated share of each training set")
    ax.set_ylabel(f"{budget.metric} at generation {budget.generation}")
    ax.set_xlim(-0.02, 1.02)
    ax.legend(fontsize=7)
    ax.set_title(f"How much generated data: {budget.metric} within {budget.tolerance}", fontsize=9)
    return finish(fig, path)
