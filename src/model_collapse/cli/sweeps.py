"""The ``sweep`` command (registered on the main app by importing this module)."""

from __future__ import annotations

import errno
import shlex
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from model_collapse.cli.base import (
    AddressOption,
    TrackOption,
    app,
    bad_input_exits_2,
    say,
    stops_explained,
    tell_verdict,
)
from model_collapse.core.errors import SaveError, UserInputError

# the disk failed the sweep (not a cluster's connection, also an OSError)
DISK_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EIO, errno.EPERM)

if TYPE_CHECKING:
    from model_collapse.sweeps.sweep import Sweep


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[
        Path, typer.Argument(help="A sweep file (TOML): base, and set, grid, zip tables.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The sweep's directory.")],
    backend: Annotated[
        str, typer.Option("--backend", help="Where runs go: local, dask or ray.")
    ] = "local",
    address: AddressOption = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Runs at once (local processes or workers).")
    ] = 1,
    track: TrackOption = None,
) -> None:
    """Run every combination of a sweep file, each an ordinary run directory in OUT.

    OUT/sweep.csv holds each run's state, OUT/aggregate.csv and .parquet every finished
    run's metrics (the varied keys as columns), OUT/intervals.csv their means and 95%
    intervals per generation. Run it again to resume what is unfinished."""
    from model_collapse.sweeps.sweep import read_sweep, run_sweep

    with bad_input_exits_2():
        check_backend(backend, jobs)
        sweep = read_sweep(sweep_file)
        uri = None
        if track is not None:
            from model_collapse.sweeps.tracking import open_store

            uri = open_store(track, out.resolve().name)  # as each run names it
        if address is not None:  # before anything is written
            check_address(backend, address)
    stop = SweepStop(sweep_command_line(sweep_file, out, backend, address, jobs, track), out)
    view = SweepView(sweep, out) if sys.stderr.isatty() else None
    try:
        with stops_explained(stop), bad_input_exits_2():  # a stop; an unreachable cluster
            tell, on_end = (view.line, view.ended) if view else (say, None)
            try:
                errors = run_sweep(sweep, out, jobs, tell, backend, address, uri, on_end)
            except OSError as err:  # a full or read-only disk: what run says, in one line
                if err.errno not in DISK_ERRORS:
                    raise
                raise SaveError(f"cannot write the sweep in {out}: {err.strerror}") from None
    finally:
        if view is not None:
            view.close()
    failed = [name for name, error in errors.items() if error]
    typer.echo(  # on stdout, as run's last line: what a script reads
        f"sweep directory: {out}  ({len(errors) - len(failed)} done, {len(failed)} failed; "
        "sweep.csv, aggregate.csv, intervals.csv; model-collapse report for report.html)"
    )
    if len(failed) < len(errors):
        tell_verdict(out)
    if failed:
        raise typer.Exit(1)


def sweep_command_line(
    sweep_file: Path, out: Path, backend: str, address: str | None, jobs: int, track: str | None
) -> list[str]:
    """The sweep command as given, for the line that says how to resume it."""
    words = ["model-collapse", "sweep", str(sweep_file), "--out", str(out)]
    return words + sweep_options(backend, address, jobs) + (["--track", track] if track else [])


def sweep_options(backend: str, address: str | None, jobs: int) -> list[str]:
    """--backend, --address and --jobs as given (left out at their defaults)."""
    words = ["--backend", backend] if backend != "local" else []
    words += ["--address", address] if address else []
    return words + (["--jobs", str(jobs)] if jobs != 1 else [])


@dataclass
class SweepStop:
    """What a stopped sweep says: the runs finished (read from sweep.csv) and the command
    that resumes the rest, each from its last saved generation."""

    words: list[str]
    out: Path

    def command(self) -> str:
        return shlex.join(self.words)

    def saved(self) -> str:
        return runs_saved(self.out)


def runs_saved(out: Path) -> str:
    """What a stopped sweep or suite saved, read from its sweep.csv."""
    import pandas as pd

    try:
        states = pd.read_csv(out / "sweep.csv", keep_default_na=False)
        done = int((states["status"] == "done").sum())
    except (OSError, ValueError, KeyError):
        return f"nothing of the sweep was saved in {out}"
    return (
        f"{done} of {len(states)} runs finished; the others keep their saved generations in {out}"
    )


class SweepView:
    """A sweep on a terminal: one bar of generations saved over all runs (and runs ended),
    and under it each run under way with its generation. It reads the run directories'
    state files twice a second, so it sees runs on any backend that writes --out. Off a
    terminal the sweep prints a line per ended run instead."""

    SHOWN = 8  # runs under way listed by name

    def __init__(self, sweep: Sweep, out: Path) -> None:
        from rich.console import Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
        from rich.text import Text

        self.folders = {run.name: out / run.name for run in sweep.runs}
        self.generations = {run.name: run.config["experiment"]["generations"] for run in sweep.runs}
        self.finished: set[str] = set()
        self.count = 0  # runs ended, done or failed
        self.bar = Progress(
            "[bold]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        self.task = self.bar.add_task("generations", total=sum(self.generations.values()))
        self.runs = self.bar.add_task("runs ended", total=len(self.folders))
        self.under_way = Text()
        self.live = Live(Group(self.bar, self.under_way), transient=True, refresh_per_second=4)
        self.live.start()
        self.stop = threading.Event()
        self.poller = threading.Thread(target=self.poll, daemon=True)
        self.poller.start()

    def line(self, text: str) -> None:
        self.live.console.print(text, markup=False, highlight=False)

    def ended(self, name: str, error: str) -> None:
        self.count += 1
        if not error:  # a failed run counts the generations it saved, read from its folder
            self.finished.add(name)

    def poll(self) -> None:
        from model_collapse.engine.state import read_state

        while not self.stop.wait(0.5):
            saved, lines = 0, []
            for name, folder in self.folders.items():
                if name in self.finished:
                    saved += self.generations[name]
                    continue
                try:
                    state = read_state(folder) if folder.is_dir() else None
                except (UserInputError, OSError):
                    state = None  # being written this instant
                done = 0 if state is None else state.completed + 1
                saved += done
                if 0 < done < self.generations[name]:
                    lines.append(f"  {name}: generation {done} of {self.generations[name]}")
            self.bar.update(self.task, completed=saved)
            self.bar.update(self.runs, completed=self.count)
            more = (
                f"\n  and {len(lines) - self.SHOWN} more under way"
                if len(lines) > self.SHOWN
                else ""
            )
            self.under_way.plain = "\n".join(lines[: self.SHOWN]) + more

    def close(self) -> None:
        self.stop.set()
        self.poller.join()
        self.live.stop()


def check_backend(backend: str, jobs: int) -> None:
    """A backend this version has, whose package is installed, and at least one job;
    else one line naming it."""
    import importlib.util

    from model_collapse.sweeps.backends import BACKENDS

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
    if jobs < 1:
        raise UserInputError(f"--jobs must be at least 1, got {jobs}")


def check_sweep_options(backend: str, jobs: int, address: str | None) -> None:
    """--backend and --jobs, and --address where one is given (check_backend,
    check_address): what every command that runs a sweep checks first."""
    check_backend(backend, jobs)
    if address is not None:
        check_address(backend, address)


def check_address(backend: str, address: str) -> None:
    """A cluster's address answers, or one line naming it (within 30 s)."""
    from model_collapse.core.network import reach
    from model_collapse.sweeps.backends import reach_scheduler

    if backend == "dask":
        reach_scheduler(address).close()
    elif backend == "ray":
        if address != "auto":  # "auto": the cluster this machine is part of
            reach(address, "Ray cluster")
    else:
        raise UserInputError(f"--address is for --backend dask or ray, not {backend}")


@app.command(
    "compare",
    short_help="Rank a sweep's or suite's runs at one generation, best first, with 95% intervals.",
)
def compare_command(
    directory: Annotated[Path, typer.Argument(help="A sweep's or a suite's directory.")],
    metric: Annotated[
        str | None, typer.Option("--metric", "-m", help="Default: the first.")
    ] = None,
    at: Annotated[int | None, typer.Option("--at", help="Generation (default: the last).")] = None,
    statistic: Annotated[
        str | None,
        typer.Option("--statistic", help="mean, median or log (default: the metric's own)."),
    ] = None,
) -> None:
    """A sweep's or a suite's runs at one generation, best first as the metric is read
    (lower, higher, or closer to the real level), by its statistic over seeds (the median
    of a heavy-tailed ratio), with 95% intervals and the mean beside it. * marks a run
    that differs from the best one (Welch's t test on means, a permutation test on
    medians or log values; Holm-corrected, 5%)."""
    from rich.console import Console
    from rich.table import Table

    from model_collapse.output.report import compared_table
    from model_collapse.sweeps.compare import STATISTIC_WORDS, compare, test_name

    with bad_input_exits_2():
        table, keys = compared_table(directory)
        rows, metric, at, read = compare(table, metric, at, keys, statistic)
    order = {
        "lower": "lowest first",
        "higher": "highest first",
        "closer": f"closest to {read.level:g} first",
    }.get(read.better, "highest first: the metric declares no direction")
    what = STATISTIC_WORDS[read.statistic]
    shown = Table(
        title=f"{metric} at generation {at}: {what} over seeds ({order}), 95% intervals",
        caption=f"vs best: the p-value of {test_name(read.statistic)} against the first row, "
        "uncorrected; * = differs after Holm's correction over the rows, at 5%",
    )
    columns = ["run", what, "bootstrap interval", "mean", "t interval", "vs best"]
    for column in columns if read.statistic != "mean" else [columns[0], *columns[3:]]:
        shown.add_column(column, justify="left" if column == "run" else "right")
    for row in rows:
        if row is rows[0]:
            versus = "(best)"
        elif row["p"] != row["p"]:  # NaN: infinite values, or no spread on either side
            versus = "no p-value"
        else:
            versus = f"{'* ' if row['differs'] else ''}p = {row['p']:.2g}"
        own = [f"{row['value']:.4g}", f"[{row['low']:.4g}, {row['high']:.4g}]"]
        means = [f"{row['mean']:.4g}", f"[{row['t_low']:.4g}, {row['t_high']:.4g}]"]
        shown.add_row(row["run"], *(own if read.statistic != "mean" else []), *means, versus)
    Console(width=160).print(shown)


@app.command(
    "report",
    short_help="Write DIR/report.html, one self-contained page: a run, suite, sweep or folder.",
)
def report_command(
    directory: Annotated[Path, typer.Argument(help="A run, suite or sweep directory.")],
) -> None:
    """Write DIR/report.html: one self-contained page (no network) with the curves of every
    metric per group with 95% intervals and theory, the spread of seeds, each run's
    figures and samples, the config, and a reading of the numbers in plain words."""
    from model_collapse.output.report_page import write_report

    with bad_input_exits_2():
        path = write_report(directory)
    typer.echo(f"report: {path}")
