"""The ``sweep`` command (registered on the main app by importing this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from model_collapse.cli import TrackOption, app, bad_input_exits_2, say, tracking_uri
from model_collapse.errors import UserInputError


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="A sweep file (TOML): base, [set], [grid].")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The sweep's directory.")],
    backend: Annotated[
        str, typer.Option("--backend", help="Where runs go: local, dask or ray.")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option("--address", help="A Dask scheduler or Ray cluster (default: a local one)."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Runs at once (local processes or workers).")
    ] = 1,
    track: TrackOption = None,
) -> None:
    """Run every combination of a sweep file, each an ordinary run directory in OUT; then
    OUT/sweep.csv (each run's state) and OUT/aggregate.csv and .parquet (every finished
    run's metrics, the varied keys as columns). Again: resumes what is unfinished."""
    from model_collapse.sweep import read_sweep, run_sweep

    with bad_input_exits_2():
        check_backend(backend)
        if jobs < 1:
            raise UserInputError(f"--jobs must be at least 1, got {jobs}")
        sweep = read_sweep(sweep_file)
        uri = tracking_uri(track, out.name)
        if address is not None:  # before anything is written
            check_address(backend, address)
    with bad_input_exits_2():  # an unreachable cluster
        errors = run_sweep(sweep, out, jobs, say, backend, address, uri)
    failed = [name for name, error in errors.items() if error]
    say(
        f"sweep directory: {out}  ({len(errors) - len(failed)} done, {len(failed)} failed; "
        "sweep.csv, aggregate.csv)"
    )
    if failed:
        raise typer.Exit(1)


def check_backend(backend: str) -> None:
    """A backend this version has, whose package is installed; else one line naming it."""
    import importlib.util

    from model_collapse.backends import BACKENDS

    if backend not in BACKENDS:
        raise UserInputError(
            f"--backend {backend!r} is not available; this version runs sweeps on: "
            f"{', '.join(BACKENDS)}"
        )
    module = BACKENDS[backend][1]
    if module and importlib.util.find_spec(module) is None:
        raise UserInputError(
            f"--backend {backend} needs {module}, which is not installed; "
            f"pip install 'model-collapse[{backend}]'"
        )


def check_address(backend: str, address: str) -> None:
    """A cluster's address answers, or one line naming it (within 30 s)."""
    from model_collapse.backends import reach, reach_scheduler

    if backend == "dask":
        reach_scheduler(address).close()
    elif backend == "ray":
        if address != "auto":  # "auto": the cluster this machine is part of
            reach(address, "Ray cluster")
    else:
        raise UserInputError(f"--address is for --backend dask or ray, not {backend}")


@app.command("compare")
def compare_command(
    directory: Annotated[Path, typer.Argument(help="A sweep's directory.")],
    metric: Annotated[
        str | None, typer.Option("--metric", "-m", help="Default: the first.")
    ] = None,
    at: Annotated[int | None, typer.Option("--at", help="Generation (default: the last).")] = None,
) -> None:
    """The sweep's runs at one generation, ranked by a metric's mean over seeds, with 95%
    t and bootstrap intervals; * marks a run that differs from the top one (Welch's t
    test, Holm-corrected, 5%)."""
    from rich.console import Console
    from rich.table import Table

    from model_collapse.compare import compare, read_aggregate

    with bad_input_exits_2():
        table, keys = read_aggregate(directory)
        rows, metric, at = compare(table, metric, at, keys)
    shown = Table(title=f"{metric} at generation {at}: mean over seeds, 95% intervals")
    for column in ("run", "mean", "t interval", "bootstrap interval", "vs top"):
        shown.add_column(column, justify="left" if column == "run" else "right")
    for row in rows:
        shown.add_row(
            row["run"],
            f"{row['mean']:.4g}",
            f"[{row['t_low']:.4g}, {row['t_high']:.4g}]",
            f"[{row['boot_low']:.4g}, {row['boot_high']:.4g}]",
            "" if row is rows[0] else f"{'* ' if row['differs'] else ''}p = {row['p']:.2g}",
        )
    Console(width=160).print(shown)


@app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(help="A run, suite or sweep directory.")],
) -> None:
    """Write DIR/report.html: one self-contained page (no network) with the curves of every
    metric per group with 95% intervals and theory, the spread of seeds, each run's
    figures and samples, the config, and a reading of the numbers in plain words."""
    from model_collapse.report import write_report

    with bad_input_exits_2():
        path = write_report(directory)
    typer.echo(f"report: {path}")
