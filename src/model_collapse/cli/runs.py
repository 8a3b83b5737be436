"""The commands that run experiments: run, demo, plot, init and list, with a run's
progress and the lines that close it."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from model_collapse.cli.base import (
    AddressOption,
    OutOption,
    TrackOption,
    app,
    bad_input_exits_2,
    say,
    stops_explained,
    tell_verdict,
)
from model_collapse.core.errors import UserInputError
from model_collapse.engine.observers import Observer

if TYPE_CHECKING:
    from model_collapse.config import Config
    from model_collapse.engine.loop import Plan


class Progress(Observer):
    """One run's progress: a rich bar on a terminal, else a log line every 10% of generations.

    Either way a first line says where the run goes and whether it starts, resumes or is
    already complete.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.decile = 0
        self.bar: Any = None
        self.current = 0  # the generation being computed
        self.stage_task: Any = None
        self.stage_started = 0.0

    def start(self, plan: Plan, first: int, directory: Path | None) -> None:
        self.generations = plan.config.experiment.generations
        total = f"{self.generations} generations x {plan.config.experiment.seeds} seeds"
        if first >= self.generations:
            say(f"{self.label}: {directory} is complete ({total}); nothing to run")
            return
        what = f"resuming at generation {first} of" if first else "new run,"
        say(f"{self.label}: {what} {total}, in {directory}")
        self.decile = first * 10 // self.generations
        self.current = first
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            columns = ("[bold]{task.description}", BarColumn(), MofNCompleteColumn())
            self.bar = Progress(*columns, TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task(self.label, total=self.generations, completed=first)
            self.bar.start()

    def generation(self, generation: int, values: Mapping[str, Any]) -> None:
        done = self.current = generation + 1
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
            return
        if done * 10 // self.generations > self.decile:
            self.decile = done * 10 // self.generations
            seconds = time.monotonic() - self.started
            share = f"{100 * done // self.generations}%"
            say(
                f"{self.label}: {done} of {self.generations} generations ({share}), {seconds:.0f} s"
            )

    def stage(self, name: str, done: int, total: int) -> None:
        """A stage inside a generation: a second bar on a terminal, else a line when it
        starts and one when it ends (if it took a second or more)."""
        where = f"{self.label}: generation {self.current}: {name}"
        if self.bar is not None:
            if done == 0:
                if self.stage_task is not None:
                    self.bar.remove_task(self.stage_task)
                self.stage_task = self.bar.add_task(f"  {name}", total=total)
            self.bar.update(self.stage_task, completed=done)
            return
        if done == 0:
            self.stage_started = time.monotonic()
            say(where)
        elif done == total and time.monotonic() - self.stage_started >= 1.0:
            say(f"{where}: done in {time.monotonic() - self.stage_started:.0f} s")

    def warning(self, text: str) -> None:
        line = f"{self.label}: warning: {text}"
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            say(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@dataclass
class Session:
    """The command being run, for the lines that say what was saved and how to resume."""

    resume: list[str]  # the command without --out
    restart: bool = False
    track: str | None = None  # an MLflow URI: each run is logged there
    out_in_command: bool = True  # add --out OUT to the command that resumes
    out: Path | None = None  # the directory of the whole command (a run or a suite)
    current: Path | None = None  # the run directory being written now
    finished: list[Path] = field(default_factory=list)
    backend: str = "local"  # where a suite's variants run (local, dask, ray)
    jobs: int | None = None  # a suite's variants at once (None: as the suite says)
    decompose: bool = False  # run --decompose: three arms as a suite
    address: str | None = None  # a Dask scheduler or Ray cluster for them

    @property
    def here(self) -> bool:
        """A suite's variants run in this process, one by one, with their progress."""
        return self.backend == "local" and (self.jobs or 1) == 1

    def run_one(self, config: Config, directory: Path, label: str) -> None:
        """Run (or resume) one experiment with its progress."""
        from model_collapse.api import run

        self.current = directory
        progress = Progress(label)
        observers: list[Observer] = [progress]
        if self.track is not None:
            from model_collapse.sweeps.tracking import MlflowTracker

            observers.append(MlflowTracker(self.track))
        try:
            run(config, directory, restart=self.restart, observers=observers)
        finally:
            progress.close()
        self.finished.append(directory)

    def command(self) -> str:
        out = ["--out", str(self.out)] if self.out and self.out_in_command else []
        return shlex.join(["model-collapse", *self.resume, *out])

    def saved(self) -> str:
        """What the run directory under way holds now."""
        from model_collapse.engine.state import read_state

        if self.current is None and self.out is not None and not self.here:
            from model_collapse.cli.sweeps import runs_saved

            return runs_saved(self.out)  # a suite's variants, run elsewhere
        if self.current is None:
            return "nothing was written"
        try:
            state = read_state(self.current)
        except UserInputError:
            state = None
        if state is None or state.completed < 0:
            return f"no generation of {self.current} was saved"
        return f"generations 0-{state.completed} are saved in {self.current}"


def run_arms(
    raw: dict[str, Any], overrides: list[str], out: Path | None, name: str, session: Session
) -> Path:
    """``run --decompose``: the config's ordinary, statistical-only and functional-only
    arms, run as a suite (model_collapse.sweeps.decompose)."""
    from model_collapse.api import load_config
    from model_collapse.config import config_to_toml
    from model_collapse.sweeps.decompose import arm_overrides, decompose_configs
    from model_collapse.sweeps.suite import run_variants

    if "suite" in raw:
        raise UserInputError(
            "--decompose runs three arms of one config; a suite holds several: decompose one "
            "variant's config (model-collapse init PRESET writes one to edit)"
        )
    config = load_config(raw, overrides)
    arms = decompose_configs(config)
    session.jobs = session.jobs or 1
    session.out = out or default_out(config_to_toml(config), f"{name}-decompose")
    title = f"{name}: the ordinary loop, statistical error only, functional error only"
    run_variants(
        arms, arm_overrides(arms), title, [], session.out,
        run_one=session.run_one if session.here else None, restart=session.restart,
        backend=session.backend, jobs=session.jobs, address=session.address, tell=say,
        track=session.track,
    )  # fmt: skip
    return session.out


def default_out(text: str, name: str) -> Path:
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return Path("runs") / f"{name}-{digest}"


def run_source(
    config_source: str | dict[str, Any],
    overrides: list[str],
    out: Path | None,
    name: str,
    session: Session,
) -> Path:
    """Run a config, a preset or a suite of runs; return the directory it wrote."""
    from model_collapse.api import load_config, read_raw, read_suite
    from model_collapse.config import config_to_toml, unused_overrides
    from model_collapse.sweeps.suite import run_suite

    raw = read_raw(config_source)
    if session.decompose:
        return run_arms(raw, overrides, out, name, session)
    if "suite" in raw:
        if session.jobs is None:  # the suite's own choice; --restart runs here, one by one
            session.jobs = 1 if session.restart else read_suite(raw).jobs
        text = json.dumps([raw, overrides], sort_keys=True, default=str)
        session.out = out or default_out(text, name)
        run_suite(
            raw,
            session.out,
            overrides,
            run_one=session.run_one if session.here else None,
            restart=session.restart,
            backend=session.backend,
            jobs=session.jobs or 1,
            address=session.address,
            tell=say,
            track=session.track,
        )
        return session.out
    if not session.here or session.address:
        raise UserInputError(
            "--backend, --jobs and --address run a suite's variants; a single run runs here: "
            "drop them"
        )
    config = load_config(raw, overrides)
    session.out = out or default_out(config_to_toml(config), name)
    session.run_one(config, session.out, name)
    for line in unused_overrides(config, overrides):  # after the run: bad input stays one line
        typer.echo(line, err=True)
    return session.out


def print_summary(directory: Path) -> None:
    """The last generation's median of each metric, read back from metrics.csv."""
    from rich.console import Console
    from rich.table import Table

    from model_collapse.api import open_run
    from model_collapse.engine.lineages import split

    metrics = open_run(directory).metrics
    lineages = split(metrics)
    last = metrics[metrics["generation"] == metrics["generation"].max()]
    table = Table(title=f"generation {int(last['generation'].iloc[0])}, median over seeds")
    table.add_column("metric")
    for name, _ in lineages:  # one column per lineage (a run of one: "median")
        table.add_column(name or "median", justify="right")
    for name in lineages[0][1].columns[2:]:
        medians = [
            rows[rows["generation"] == rows["generation"].max()][name] for _, rows in lineages
        ]
        table.add_row(name, *(f"{m.median():.4g}" for m in medians))
    Console().print(table)


def collapse_line(directory: Path) -> str | None:
    """'collapsed: 20 of 20 seeds, ...' from collapse.csv, if any seed collapsed."""
    import pandas as pd

    path = directory / "collapse.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    parts = []
    for column, what in (("collapsed_at", "collapsed"), ("diverged_at", "diverged")):
        at = table[column].dropna()
        if len(at):
            parts.append(
                f"{what}: {len(at)} of {len(table)} seeds (first at generation {int(at.min())}, "
                f"median {at.median():g})"
            )
    return f"{'; '.join(parts)}; see {path} and run.log" if parts else None


def report_finished(directory: Path, session: Session) -> None:
    """The closing lines: a summary table on a terminal, then the files that exist."""
    if directory not in session.finished:  # a suite: one run directory per variant
        import pandas as pd

        names = pd.read_csv(directory / "sweep.csv", keep_default_na=False)["run"]
        runs = ", ".join(f"{name}/" for name in names)  # the suite's order
        typer.echo(
            f"suite directory: {directory}  (runs: {runs}; sweep.csv, aggregate.csv, "
            "intervals.csv; model-collapse compare or report)"
        )
        figure = directory / "figures" / "comparison.png"
        if figure.exists():
            typer.echo(f"figure: {figure}")
        tell_verdict(directory)
        return
    if sys.stdout.isatty():
        print_summary(directory)
    line = collapse_line(directory)
    if line:
        typer.echo(line)
    typer.echo(f"run directory: {directory}  (metrics.csv, figures/, run.log)")
    tell_verdict(directory)


@app.command(
    "run",
    short_help="Run a config file or a preset (a suite: each variant); resume an interrupted run.",
)
def run_command(
    config: Annotated[str, typer.Argument(help="A config .toml file or a preset name.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="section.key=value")] = None,
    out: OutOption = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start --out over instead of resuming it.")
    ] = False,
    track: TrackOption = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Where a suite's variants run: local, dask or ray.")
    ] = "local",
    address: AddressOption = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="A suite's variants at once (default: suite.jobs, 1)."),
    ] = None,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Run three arms (ordinary, statistical error only, functional error only) "
            "and name the cause that drives the collapse.",
        ),
    ] = False,
) -> None:
    """Run an experiment from a config file or a bundled preset; resumes an interrupted run.
    A preset or file with a suite table runs each variant, as a sweep runs its runs."""
    from model_collapse.cli.sweeps import check_sweep_options, sweep_options

    name = Path(config).stem if config.endswith(".toml") else config
    overrides = set_ or []
    command = ["run", config, *(a for s in overrides for a in ("--set", s))]
    words = [*command, *(["--track", track] if track else [])]
    words += sweep_options(backend, address, jobs or 1) + (["--decompose"] if decompose else [])
    session = Session(words, restart, backend=backend, jobs=jobs, address=address)
    session.decompose = decompose
    with bad_input_exits_2():
        check_sweep_options(backend, 1 if jobs is None else jobs, address)
    with stops_explained(session), bad_input_exits_2():
        if track is not None:
            from model_collapse.sweeps.tracking import open_store

            session.track = open_store(track, "model-collapse")
        directory = run_source(config, overrides, out, name, session)
    report_finished(directory, session)
    if decompose:
        from model_collapse.output.decomposition import write_decomposition

        with bad_input_exits_2():
            for line in write_decomposition(directory):
                typer.echo(line)


@app.command("demo")
def demo_command(out: OutOption = None) -> None:
    """The default experiment: replace vs mix 10% vs accumulate, 2-D GMM and 1-D Gaussian."""
    from model_collapse.demo import run_demo

    session = Session(["demo", *(["--out", str(out)] if out else [])], out_in_command=False)
    with stops_explained(session), bad_input_exits_2():
        figures = run_demo(
            out or Path("runs/demo"),
            lambda raw, overrides, folder, name: run_source(raw, overrides, folder, name, session),
        )
    for path in figures:
        typer.echo(f"figure: {path}")
    for path in figures:  # each setting's suite folder: .../SETTING/figures/comparison.png
        tell_verdict(path.parent.parent, prefix=f"{path.parent.parent.name}: ")


@app.command("plot")
def plot_command(directory: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Draw the figures of a run directory again from its metrics.csv."""
    from model_collapse.api import open_run, write_figures

    with bad_input_exits_2():
        try:
            paths = write_figures(open_run(directory))
        except OSError as err:
            say(f"error: cannot write the figures of {directory}: {err.strerror}")
            raise typer.Exit(1) from None
    for path in paths:
        typer.echo(f"figure: {path}")


@app.command("init")
def init_command(
    preset: Annotated[str, typer.Argument(help="The preset to start from (see list).")],
    path: Annotated[Path | None, typer.Argument(help="Where to write it (PRESET.toml).")] = None,
) -> None:
    """Write a config to start from: a preset with every key, its meaning and its range."""
    from model_collapse.api import commented_config
    from model_collapse.engine.store import atomic_write

    target = path or Path(f"{preset}.toml")
    with bad_input_exits_2():
        text = commented_config(preset)
        if target.exists():
            raise UserInputError(f"{target} exists; choose another path or remove it")
        try:
            atomic_write(target, text.encode())  # all of it or nothing, even on a full disk
        except OSError as err:
            raise UserInputError(f"cannot write {target}: {err.strerror}") from None
    typer.echo(f"wrote {target}; run it with: model-collapse run {shlex.quote(str(target))}")


@app.command("list")
def list_command(
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="also import this plug-in module (repeatable)"),
    ] = None,
) -> None:
    """Families, regimes, metrics, sources, services, detectors and presets, one line each."""
    from model_collapse.api import preset_description, preset_names, preset_time
    from model_collapse.assemble.plugins import load_plugins
    from model_collapse.detectors import DETECTORS
    from model_collapse.families import FAMILIES
    from model_collapse.metrics import METRICS
    from model_collapse.regimes import REGIMES
    from model_collapse.services import SERVICES
    from model_collapse.sources import SOURCES

    with bad_input_exits_2():
        load_plugins(plugin or [], named_by="--plugin")
    for kind, registry in (
        ("family", FAMILIES),
        ("regime", REGIMES),
        ("metric", METRICS),
        ("source", SOURCES),
        ("service", SERVICES),
        ("detector", DETECTORS),
    ):
        for name, entry in registry.items():
            typer.echo(f"{kind:8} {name:22} {entry.description}")
    for name, family in FAMILIES.items():  # each family's defaults (training, for torch)
        if family.params:
            pairs = ", ".join(f"{k}={v.default!r}" for k, v in family.params.items())
            typer.echo(f"{'defaults':8} {name:22} {pairs}")
    for name in preset_names():
        typer.echo(f"{'preset':8} {name:22} {preset_description(name)} Time: {preset_time(name)}")
