"""The ``model-collapse`` command line (typer + rich; rich is imported here only)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from model_collapse.errors import UserInputError

if TYPE_CHECKING:
    from model_collapse.config import Config

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Run, measure and prevent model collapse."
)

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")]


@contextmanager
def bad_input_exits_2() -> Iterator[None]:
    """Bad input: one line on stderr and exit status 2, no traceback."""
    try:
        yield
    except UserInputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar over seeds x generations on a TTY; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda generation: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda generation: progress.update(task, completed=generation + 1)


def default_out(text: str, name: str) -> Path:
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return Path("runs") / f"{name}-{digest}"


def run_config(config: Config, directory: Path, label: str) -> None:
    """Run (or resume) one experiment, with a progress bar over its generations."""
    from model_collapse.api import run

    seeds, generations = config.experiment.seeds, config.experiment.generations
    with progress_bar(generations, f"{label} ({seeds} seeds)") as advance:
        run(config, directory, on_generation=advance)


def run_source(
    config_source: str | dict[str, Any], overrides: list[str], out: Path | None, name: str
) -> Path:
    """Run a config, a preset or a suite of runs; return the directory it wrote."""
    from model_collapse.api import load_config, read_raw, run_suite
    from model_collapse.config import config_to_toml

    raw = read_raw(config_source)
    if "suite" in raw:
        text = json.dumps([raw, overrides], sort_keys=True, default=str)
        directory = out or default_out(text, name)
        run_suite(raw, directory, overrides, run_one=run_config)
        return directory
    config = load_config(raw, overrides)
    directory = out or default_out(config_to_toml(config), name)
    run_config(config, directory, "generations")
    return directory


def print_summary(directory: Path) -> None:
    """The last generation's median of each metric, read back from metrics.csv."""
    from rich.console import Console
    from rich.table import Table

    from model_collapse.api import open_run

    metrics = open_run(directory).metrics
    last = metrics[metrics["generation"] == metrics["generation"].max()]
    table = Table(title=f"generation {int(last['generation'].iloc[0])}, median over seeds")
    table.add_column("metric")
    table.add_column("median", justify="right")
    for name in metrics.columns[2:]:
        table.add_row(name, f"{last[name].median():.4g}")
    Console().print(table)


@app.command("run")
def run_command(
    config: Annotated[str, typer.Argument(help="A config .toml file or a preset name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="section.key=value")] = None,
    out: OutOption = None,
) -> None:
    """Run an experiment from a config file or a bundled preset; resumes an interrupted run."""
    name = Path(config).stem if config.endswith(".toml") else config
    with bad_input_exits_2():
        directory = run_source(config, set_ or [], out, name)
    if sys.stdout.isatty() and (directory / "metrics.csv").exists():
        print_summary(directory)
    if (directory / "figures" / "comparison.png").exists():
        typer.echo(f"figure: {directory / 'figures' / 'comparison.png'}")
    typer.echo(f"run directory: {directory}  (metrics.csv, figures/)")


@app.command("demo")
def demo_command(out: OutOption = None) -> None:
    """The default experiment: replace vs mix 10% vs accumulate, 2-D GMM and 1-D Gaussian."""
    from model_collapse.demo import run_demo

    with bad_input_exits_2():
        figures = run_demo(out or Path("runs/demo"), run_source)
    for path in figures:
        typer.echo(f"figure: {path}")


@app.command("plot")
def plot_command(directory: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Draw the figures of a run directory again from its metrics.csv."""
    from model_collapse.api import open_run, write_figures

    with bad_input_exits_2():
        paths = write_figures(open_run(directory))
    for path in paths:
        typer.echo(f"figure: {path}")


@app.command("list")
def list_command() -> None:
    """Families, regimes, metrics, sources, detectors and presets, one line each."""
    from model_collapse.api import preset_description, preset_names
    from model_collapse.families import FAMILIES
    from model_collapse.metrics import METRICS
    from model_collapse.regimes import REGIMES
    from model_collapse.sources import SOURCES

    for kind, registry in (
        ("family", FAMILIES),
        ("regime", REGIMES),
        ("metric", METRICS),
        ("source", SOURCES),
    ):
        for name, entry in registry.items():
            typer.echo(f"{kind:8} {name:22} {entry.description}")
    typer.echo(f"{'detector':8} {'(none yet)':22} detectors arrive with the filtering issue")
    for name in preset_names():
        typer.echo(f"{'preset':8} {name:22} {preset_description(name)}")


def main() -> None:
    app()
