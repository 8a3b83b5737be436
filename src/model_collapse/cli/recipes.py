"""``model-collapse recipes list`` and ``recipes run NAME``: the field's published results
reproduced through the sweep engine (registered on the main app by importing this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from model_collapse.cli.base import (
    AddressOption,
    BackendOption,
    JobsOption,
    app,
    bad_input_exits_2,
    say,
    stops_explained,
    tell_verdict,
)

recipes_app = typer.Typer(
    no_args_is_help=True, help="The field's published results, reproduced side by side."
)
app.add_typer(recipes_app, name="recipes")


@recipes_app.command("list")
def list_command() -> None:
    """Every recipe: what it reproduces, its scales and their times."""
    from model_collapse.recipes import RECIPES

    for name, recipe in RECIPES.items():
        scales = "; ".join(f"--scale {s}: {scale.time}" for s, scale in recipe.scales.items())
        typer.echo(f"{name:22} {recipe.description} ({recipe.paper}). {scales}")


@recipes_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="A recipe (see recipes list).")],
    scale: Annotated[
        str, typer.Option("--scale", help="small (a CPU, minutes) or paper (the published size).")
    ] = "small",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Its folder (runs/recipe-NAME-SCALE).")
    ] = None,
    backend: BackendOption = "local",
    address: AddressOption = None,
    jobs: JobsOption = 1,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="section.key=value for every run (a model's or data's path)."),
    ] = None,
) -> None:
    """Run a recipe's sweep, then write reproduction.csv (ours beside the published
    numbers, each with its source), figures/reproduction.png and the verdict: how many of
    the published numbers ours matches. Run it again to resume."""
    from model_collapse.cli.sweeps import SweepStop, check_sweep_options, sweep_options
    from model_collapse.output.verdict import add_to_verdict
    from model_collapse.recipes.run import recipe_scale, run_recipe

    folder = out or Path("runs") / f"recipe-{name}-{scale}"
    with bad_input_exits_2():
        recipe_scale(name, scale, set_)  # an unknown recipe, scale or key: one line
        check_sweep_options(backend, jobs, address)
    words = ["model-collapse", "recipes", "run", name, "--scale", scale, "--out", str(folder)]
    words += [word for text in set_ or [] for word in ("--set", text)]
    stop = SweepStop(words + sweep_options(backend, address, jobs), folder)
    with stops_explained(stop), bad_input_exits_2():
        lines = run_recipe(name, folder, scale, jobs, backend, address, say, set_)
    typer.echo(f"recipe directory: {folder}  (reproduction.csv, figures/reproduction.png)")
    tell_verdict(folder)
    add_to_verdict(folder, lines)
    for line in lines:
        typer.echo(line)
