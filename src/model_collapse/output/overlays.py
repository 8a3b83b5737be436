"""What a run's figure draws over a metric's own curve: the closed form where one holds
(``Theory.expected``'s curves, black) and the values of scheduled keys (grey, on a second
axis at the right)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model_collapse.config import Config
from model_collapse.theory import Curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def draw_schedules(ax: Axes, config: Config) -> None:
    """Each scheduled key's value by generation, grey on a second axis at the right."""
    from model_collapse.config.schedules import scheduled_keys, values_of

    scheduled = scheduled_keys(config)
    if not scheduled:
        return
    right = ax.twinx()
    generations = config.experiment.generations
    for style, (dotted, table) in zip(("-.", ":", "--"), scheduled.items(), strict=False):
        values = values_of(dotted, table, generations)
        right.step(range(generations), values, where="mid", color="0.45", ls=style, lw=1)
        right.plot([], [], color="0.45", ls=style, label=f"{dotted} (right axis)")
    right.set_ylabel("scheduled value", color="0.45", fontsize=8)
    right.tick_params(axis="y", colors="0.45", labelsize=7)
    right.legend(loc="lower right", fontsize=7)


# a closed form is black: a dashed mean, a solid typical seed, dotted single-seed bounds
LINES: dict[str, tuple[float, str]] = {"solid": (1, "-"), "dashed": (1, "--"), "dotted": (0.6, ":")}


def draw_theory(ax: Axes, curves: list[Curve]) -> None:
    """A closed form's lines and bands, each named in the legend."""
    for curve in curves:
        label = curve.label or "_nolegend_"
        if curve.kind == "band":
            assert curve.low is not None and curve.high is not None
            gens = np.arange(len(curve.low))
            ax.fill_between(gens, curve.low, curve.high, color="k", alpha=0.08, lw=0, label=label)
        else:
            assert curve.y is not None
            width, style = LINES[curve.style]
            ax.plot(np.arange(len(curve.y)), curve.y, color="k", lw=width, ls=style, label=label)
