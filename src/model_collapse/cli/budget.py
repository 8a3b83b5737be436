"""``model-collapse budget``: how much generated data a pipeline can afford (registered on
the main app by importing this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from model_collapse.cli.base import (
    AddressOption,
    BackendOption,
    JobsOption,
    app,
    bad_input_exits_2,
    say,
    stops_explained,
)


@app.command("budget")
def budget_command(
    config: Annotated[str, typer.Argument(help="A config file or a preset (not a suite).")],
    metric: Annotated[str, typer.Option("--metric", help="The metric to keep in tolerance.")],
    tolerance: Annotated[
        str, typer.Option("--tolerance", help="5% (of the all-real value) or a number.")
    ],
    at: Annotated[
        int | None, typer.Option("--at", help="The generation read (default the last).")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="section.key=value")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Its folder (runs/budget-METRIC).")
    ] = None,
    backend: BackendOption = "local",
    address: AddressOption = None,
    jobs: JobsOption = 1,
) -> None:
    """How much generated data keeps a metric within a tolerance of all-real training.

    The largest share of generated data in each generation's training set that keeps
    METRIC within TOLERANCE of the all-real baseline: a coarse grid of shares, then a finer
    one where the tolerance is crossed, each a sweep. Writes budget.csv (the answer last),
    figures/budget.png and the verdict. Run it again to resume."""
    from model_collapse.cli.sweeps import SweepStop, check_sweep_options, sweep_options
    from model_collapse.output.budget import plot_budget
    from model_collapse.sweeps.budget import Tolerance, check_budget, run_budget
    from model_collapse.sweeps.sweep import run_all_or_refuse, sweep_from

    overrides = list(set_ or [])
    folder = out or Path("runs") / f"budget-{metric}"
    with bad_input_exits_2():
        limit = Tolerance.parse(tolerance)
        check_budget(config, overrides, metric, at)  # before anything is written
        check_sweep_options(backend, jobs, address)

    def run(spec: dict[str, Any], where: Path) -> None:
        sweep = sweep_from(spec, f"budget of {config}", Path.cwd())
        options = {"jobs": jobs, "tell": say, "backend": backend, "address": address}
        run_all_or_refuse(sweep, where, "the budget", "run budget again", **options)

    words = ["model-collapse", "budget", config, "--metric", metric, "--tolerance", tolerance]
    words += [w for text in overrides for w in ("--set", text)] + ["--out", str(folder)]
    words += [] if at is None else ["--at", str(at)]
    stop = SweepStop(words + sweep_options(backend, address, jobs), folder)
    with stops_explained(stop), bad_input_exits_2():
        found = run_budget(config, overrides, metric, limit, at, folder, run)
    from model_collapse.engine.store import atomic_write

    atomic_write(
        folder / "budget.csv", found.table.to_csv(index=False, float_format="%.6g").encode()
    )
    plot_budget(found, folder / "figures" / "budget.png")
    typer.echo(f"budget directory: {folder}  (budget.csv, figures/budget.png)")
    atomic_write(
        folder / "verdict.txt", f"{found.sentence()}\n".encode()
    )  # its own: resumes rewrite it
    typer.echo(found.sentence())
