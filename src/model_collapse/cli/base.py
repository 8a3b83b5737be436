"""The command line's base: the typer app every command registers on, and what all
commands share: one line for bad input (exit 2), one line for a stop (what is saved, and
the command that resumes), and the options --out and --track. typer and rich are the
command line's alone; the commands themselves are in this package's other modules."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from model_collapse.core.errors import SaveError, UserInputError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Run, measure and prevent model collapse."
)

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")]
TrackOption = Annotated[
    str | None,
    typer.Option("--track", help="Log to MLflow: mlflow (./mlruns) or mlflow:URI."),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", help="A Dask scheduler or Ray cluster (default: a local one)."),
]
# where a command's sweep sends its runs, and how many at once (recipes, budget)
BackendOption = Annotated[
    str, typer.Option("--backend", help="Where its runs go: local, dask or ray.")
]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help="Runs at once.")]


def say(text: str) -> None:
    """A line for the person running the command (stderr: stdout stays for results)."""
    typer.echo(text, err=True)


@contextmanager
def bad_input_exits_2() -> Iterator[None]:
    """Bad input: one line on stderr and exit status 2, no traceback."""
    try:
        yield
    except UserInputError as err:
        say(f"error: {err}")
        raise typer.Exit(2) from None


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Stoppable(Protocol):
    """What a stop says: what is saved, and the command that goes on."""

    def saved(self) -> str: ...

    def command(self) -> str: ...


@contextmanager
def stops_explained(session: Stoppable) -> Iterator[None]:
    """Ctrl-C and a failing disk end with one line: what happened, what is saved, how to go on.

    SIGINT and SIGTERM both interrupt, even where the shell started the command with SIGINT
    ignored (a background job), so a stop always says how to resume.
    """
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except KeyboardInterrupt:
        say(f"interrupted: {session.saved()}; to resume, run: {session.command()}")
        raise typer.Exit(130) from None
    except SaveError as err:
        say(f"error: {err}; once that is fixed, resume with: {session.command()}")
        raise typer.Exit(1) from None
    except MemoryError:
        say(
            f"error: out of memory; {session.saved()}; lower experiment.seeds or sampling.n, "
            f"or free memory and resume with: {session.command()}"
        )
        raise typer.Exit(1) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def show_version(value: bool) -> None:
    if value:
        from model_collapse import __version__

        typer.echo(f"model-collapse {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run, measure and prevent model collapse."""


def main() -> None:
    app()


def tell_verdict(directory: Path, prefix: str = "") -> None:
    """The verdict of a finished run, suite or sweep as the command's last lines on
    stdout, written to its verdict.txt too (model_collapse.output.verdict)."""
    from model_collapse.output.verdict import write_verdict

    try:
        lines = write_verdict(directory)
    except (UserInputError, OSError) as err:  # the results stand; only the words are missing
        say(f"no verdict for {directory}: {str(err).splitlines()[0]}")
        return
    for line in lines:
        typer.echo(f"{prefix}{line}")
