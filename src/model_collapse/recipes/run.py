"""``model-collapse recipes run NAME``: a recipe's sweep through the sweep engine, then
reproduction.csv, a figure of ours beside theirs, and how many of theirs ours matches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_collapse.core.errors import UserInputError
from model_collapse.recipes.base import COLUMNS, RECIPES, WITHIN, Finished, Recipe, Row


def recipe_scale(
    name: str, scale: str, overrides: list[str] | None = None
) -> tuple[Recipe, dict[str, Any]]:
    """The recipe and its sweep at ``scale``, with ``section.key=value`` overrides on the
    keys every run shares (paths to a model or data); an unknown recipe or scale, or an
    override of a key the recipe varies, is refused in one line."""
    from model_collapse.config.schema import parse_override

    recipe = RECIPES.get(name)
    if scale not in recipe.scales:
        raise UserInputError(
            f"recipe {name!r} has the scales {', '.join(recipe.scales)}; got --scale {scale!r}"
        )
    spec = dict(recipe.scales[scale].sweep)
    fixed = dict(spec.get("set", {}))
    varied = {key for part in ("grid", "zip") for key in spec.get(part, {})}
    for text in overrides or []:
        section, key, value = parse_override(text)
        if f"{section}.{key}" in varied:
            raise UserInputError(
                f"--set {section}.{key}: recipe {name} varies it itself; it cannot be fixed"
            )
        fixed[f"{section}.{key}"] = value
    return recipe, {**spec, "set": fixed}


def run_recipe(
    name: str,
    out: Path,
    scale: str = "small",
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    tell: Callable[[str], None] = lambda line: None,
    overrides: list[str] | None = None,
) -> list[str]:
    """Run a recipe into ``out``; write reproduction.csv, figures/reproduction.png and the
    matches into verdict.txt; return the lines that say how many references ours matches."""
    from model_collapse.assemble.validate import config_from_dict
    from model_collapse.config.schedules import scheduled_keys
    from model_collapse.sweeps.sweep import run_all_or_refuse, sweep_from

    recipe, spec = recipe_scale(name, scale, overrides)
    sweep = sweep_from(spec, f"recipe {name} ({scale})", Path.cwd())
    for run in sweep.runs:  # the published numbers and closed forms hold one value each
        scheduled = scheduled_keys(config_from_dict(run.config))
        if scheduled:
            raise UserInputError(
                f"recipe {name}: {next(iter(scheduled))} follows a schedule, but a recipe "
                "reproduces published settings, which give it one value; give it one value"
            )
    options = {"jobs": jobs, "tell": tell, "backend": backend, "address": address}
    run_all_or_refuse(sweep, out, f"recipe {name}", "run the recipe again", **options)
    finished = [finished_run(run.name, run.varied, out / run.name) for run in sweep.runs]
    rows = recipe.reproduce(finished)
    write_reproduction(rows, out / "reproduction.csv")
    plot_reproduction(rows, out / "figures" / "reproduction.png", f"{name}: {recipe.paper}")
    readings = recipe.reading(finished) if recipe.reading is not None else []
    return matches(rows, recipe.paper) + readings


def finished_run(name: str, varied: dict[str, Any], directory: Path) -> Finished:
    """A finished run read back and verified, with its collapse.csv where its state lists
    one (verified with it)."""
    import pandas as pd

    from model_collapse.api import open_run
    from model_collapse.engine.state import read_state

    result = open_run(directory)
    state = read_state(directory)
    listed = state is not None and "collapse.csv" in state.files
    collapse = pd.read_csv(directory / "collapse.csv") if listed else None
    return Finished(name, varied, result.config, result.metrics, collapse, directory)


def write_reproduction(rows: list[Row], path: Path) -> None:
    import pandas as pd

    from model_collapse.engine.store import atomic_write

    table = pd.DataFrame([[getattr(row, c) for c in COLUMNS] for row in rows], columns=COLUMNS)
    atomic_write(path, table.to_csv(index=False, float_format="%.6g").encode())


def matches(rows: list[Row], paper: str) -> list[str]:
    """How many reference numbers ours matches, and the ones it misses."""
    from model_collapse.output.reading import number

    referenced = [row for row in rows if row.reference == row.reference]  # not NaN
    if not referenced:
        return [f"{paper} publishes no number for these settings; reproduction.csv has ours."]
    missed = [row for row in referenced if not row.matches()]
    lines = [
        f"Ours matches {len(referenced) - len(missed)} of {len(referenced)} reference numbers "
        f"of {paper} (inside our 95% interval over seeds, or within {WITHIN:.0%})."
    ]
    for row in missed[:3]:
        lines.append(
            f"Missed: {row.quantity} at generation {row.generation}: ours {number(row.ours)} "
            f"[{number(row.ours_low)}, {number(row.ours_high)}], theirs {number(row.reference)} "
            f"({row.source})."
        )
    return lines


def plot_reproduction(rows: list[Row], path: Path, title: str) -> Path:
    """One panel per quantity: ours (points, 95% interval) and theirs (black) by generation."""
    import numpy as np

    from model_collapse.output.plots import _pyplot, finish

    plt = _pyplot()
    quantities = list(dict.fromkeys(row.quantity for row in rows))
    cols = min(3, len(quantities))
    grid = -(-len(quantities) // cols)
    fig, axes = plt.subplots(grid, cols, figsize=(4.6 * cols, 3.4 * grid), squeeze=False)
    for ax, quantity in zip(axes.flat, quantities, strict=False):
        mine = [row for row in rows if row.quantity == quantity]
        x = np.array([row.generation for row in mine])
        ours = np.array([row.ours for row in mine])
        # a mean's t interval holds it; NaN where one seed left no interval
        low = np.clip(ours - np.array([row.ours_low for row in mine]), 0, None)
        high = np.clip(np.array([row.ours_high for row in mine]) - ours, 0, None)
        ax.errorbar(x, ours, yerr=[low, high], fmt="o", ms=4, capsize=3, label="ours, 95%")
        theirs = np.array([row.reference for row in mine])
        if np.isfinite(theirs).any():
            ax.plot(x, theirs, "k--", marker="x", lw=1, label="published")
        ax.set_title(quantity, fontsize=8)
        ax.set_xlabel("generation")
        ax.legend(fontsize=7)
    for ax in axes.flat[len(quantities) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=9)
    return finish(fig, path)
