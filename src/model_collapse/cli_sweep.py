"""The ``sweep`` command (registered on the main app by importing this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from model_collapse.cli import app, bad_input_exits_2, say
from model_collapse.errors import UserInputError

BACKENDS = ("local",)  # dask and ray: the next slice of the sweeps issue


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="A sweep file (TOML): base, [set], [grid].")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The sweep's directory.")],
    backend: Annotated[str, typer.Option("--backend", help="Where runs go: local.")] = "local",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Runs at once (local).")] = 1,
) -> None:
    """Run every combination of a sweep file, each an ordinary run directory in OUT; then
    OUT/sweep.csv (each run's state) and OUT/aggregate.csv and .parquet (every finished
    run's metrics, the varied keys as columns). Again: resumes what is unfinished."""
    from model_collapse.sweep import read_sweep, run_sweep

    with bad_input_exits_2():
        if backend not in BACKENDS:
            raise UserInputError(
                f"--backend {backend!r} is not available; this version runs sweeps on: "
                f"{', '.join(BACKENDS)}"
            )
        if jobs < 1:
            raise UserInputError(f"--jobs must be at least 1, got {jobs}")
        sweep = read_sweep(sweep_file)
    say(f"sweep: {len(sweep.runs)} runs of {sweep.base}, varying {', '.join(sweep.keys)}, in {out}")
    errors = run_sweep(sweep, out, jobs, tell=say)
    failed = [name for name, error in errors.items() if error]
    say(
        f"sweep directory: {out}  ({len(errors) - len(failed)} done, {len(failed)} failed; "
        "sweep.csv, aggregate.csv)"
    )
    if failed:
        raise typer.Exit(1)
