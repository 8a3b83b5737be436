"""Sweeps: many runs over a grid of settings, each an ordinary run directory.

A sweep file (TOML) names a base (a preset or a config path), overrides for every run
(``[set]``), a grid of keys whose every combination is a run (``[grid]``), and keys that
vary together (``[zip]``: lists of one length, the i-th values forming one setting)::

    base = "gaussian-1d"
    [set]
    "experiment.generations" = 50
    [grid]
    "regime.name" = ["replace", "mix"]
    "regime.real_fraction" = [0.1, 0.5]

Each run is named by its varied keys (``regime.name=mix,regime.real_fraction=0.1``) and
written to ``OUT/NAME``, as ``model-collapse run`` would write it: the same config gives
the same bytes, whichever backend ran it. Every run's config is built and checked before
any runs. ``OUT/sweep.csv`` records each run's state (done, or failed with its error);
``OUT/aggregate.csv`` and ``.parquet`` hold every finished run's metrics, with the varied
keys as columns. Running the sweep again resumes what is unfinished and skips the rest.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from model_collapse.errors import UserInputError

SECTIONS = ("base", "set", "grid", "zip")
REACH_SECONDS = 25  # an unreachable scheduler is named within half a minute


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its name, the values it varies, and all its overrides."""

    name: str
    varied: dict[str, Any]
    overrides: list[str]


@dataclass(frozen=True)
class Sweep:
    base: str
    runs: list[SweepRun]

    @property
    def keys(self) -> list[str]:
        """The varied keys, in the file's order."""
        return list(self.runs[0].varied) if self.runs else []


def toml_value(value: Any) -> str:
    """A value as ``--set`` reads it (TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def run_name(varied: dict[str, Any]) -> str:
    """``key=value`` pairs joined by commas; characters a folder name cannot hold become _."""
    text = ",".join(f"{key}={value}" for key, value in varied.items())
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)


def _table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise UserInputError(f'{where}: [{name}] must be a table of "section.key" = value')
    return table


def _lists(table: dict[str, Any], name: str, where: str) -> dict[str, list[Any]]:
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise UserInputError(f"{where}: [{name}] {key} must be a non-empty list of values")
    return table


def _settings(raw: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Every combination of the grid, each with the zipped keys' i-th values."""
    grid = _lists(_table(raw, "grid", where), "grid", where)
    zipped = _lists(_table(raw, "zip", where), "zip", where)
    if not grid and not zipped:
        raise UserInputError(
            f"{where}: the sweep varies nothing; give [grid] (or [zip]) keys with lists of values"
        )
    lengths = {len(values) for values in zipped.values()}
    if len(lengths) > 1:
        raise UserInputError(f"{where}: the lists of [zip] differ in length ({sorted(lengths)})")
    zip_rows = [dict(zip(zipped, row, strict=True)) for row in zip(*zipped.values(), strict=True)]
    grid_rows = [dict(zip(grid, row, strict=True)) for row in itertools.product(*grid.values())]
    return [{**g, **z} for g in grid_rows for z in (zip_rows or [{}])]


def read_sweep(path: Path) -> Sweep:
    """Read and expand a sweep file; every run's config is checked before any runs."""
    from model_collapse.api import load_config

    where = str(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise UserInputError(f"{where}: not a readable TOML sweep file ({err})") from None
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise UserInputError(f"{where}: unknown part {unknown[0]!r}; a sweep has {SECTIONS}")
    base = raw.get("base")
    if not isinstance(base, str) or not base:
        raise UserInputError(f'{where}: base must name a preset or a config file: base = "..."')
    if base.endswith(".toml"):  # a config file: beside the sweep file, read from anywhere
        base = str((path.parent / base).resolve())
    fixed = [f"{key}={toml_value(v)}" for key, v in _table(raw, "set", where).items()]
    runs = []
    for varied in _settings(raw, where):
        overrides = [*fixed, *(f"{key}={toml_value(v)}" for key, v in varied.items())]
        try:  # refused here, with the key named, before any runs
            load_config(base, overrides)
        except UserInputError as err:
            raise UserInputError(f"{where}: {err}") from None
        runs.append(SweepRun(run_name(varied), varied, overrides))
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        raise UserInputError(f"{where}: two runs would share a name; vary distinct values")
    return Sweep(base, runs)


def run_one(base: str, overrides: list[str], directory: str) -> str:
    """Run (or resume) one run of a sweep; "" when it finished, else its error in a line.
    At module level, so that worker processes can be given it."""
    import model_collapse

    try:
        model_collapse.run(base, directory, overrides)
    except Exception as err:  # one failed run is recorded; the others go on
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return ""


def finished(out: Path) -> set[str]:
    """The runs an earlier pass of this sweep recorded as done."""
    import pandas as pd

    path = out / "sweep.csv"
    if not path.is_file():
        return set()
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    done = table.loc[table["status"] == "done", "run"]
    return {name for name in done if (out / name / "metrics.csv").is_file()}


def run_sweep(
    sweep: Sweep,
    out: Path,
    jobs: int = 1,
    tell: Any = print,
    backend: str = "local",
    address: str | None = None,
) -> dict[str, str]:
    """Every run not yet done, on ``jobs`` local processes or a Dask cluster (the one at
    ``address``, else a local one of ``jobs`` workers); then sweep.csv and the aggregate.
    Returns each run's error ("" for done)."""
    out.mkdir(parents=True, exist_ok=True)
    done = finished(out)
    errors = {run.name: "" for run in sweep.runs if run.name in done}
    # absolute: a worker elsewhere (a Dask cluster) writes the very same folders
    todo = [
        Task(r.name, sweep.base, r.overrides, str((out / r.name).resolve())) for r in sweep.runs
    ]
    todo = [task for task in todo if task.name not in done]
    run_all = on_dask if backend == "dask" else on_processes
    for name, error in run_all(todo, jobs, address):
        errors[name] = error
        tell(f"{name}: {'failed: ' + error if error else 'done'}")
    write_tables(sweep, out, errors)
    return errors


class Task(NamedTuple):
    """One run to do: run_one(base, overrides, directory) under its name."""

    name: str
    base: str
    overrides: list[str]
    directory: str


def on_processes(todo: list[Task], jobs: int, address: str | None) -> Iterator[tuple[str, str]]:
    """(name, error) of each run, in this process (one job) or ``jobs`` spawned ones."""
    if jobs == 1:
        for task in todo:
            yield task.name, run_one(*task[1:])
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        futures = {task.name: pool.submit(run_one, *task[1:]) for task in todo}
        for name, future in futures.items():
            try:
                yield name, future.result()
            except Exception as err:  # its process died (killed, out of memory)
                yield name, f"{type(err).__name__}: {err}"


def reach_scheduler(address: str) -> Any:
    """A client of the Dask scheduler at ``address``, or a one-line refusal within 30 s."""
    from distributed import Client

    try:
        return Client(address, timeout=f"{REACH_SECONDS}s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as err:
        raise UserInputError(
            f"cannot reach the Dask scheduler at {address} within {REACH_SECONDS} s "
            f"({type(err).__name__}); start it, or check the address"
        ) from None


def on_dask(todo: list[Task], jobs: int, address: str | None) -> Iterator[tuple[str, str]]:
    """(name, error) of each run, on dask.distributed. A worker that dies mid-run has its
    run retried elsewhere (the scheduler's allowed failures), resuming from the run
    directory's last completed generation."""
    from distributed import Client, LocalCluster

    if address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        cluster = None
        client = reach_scheduler(address)
    try:
        futures = {
            task.name: client.submit(run_one, *task[1:], key=f"run-{task.name}", pure=False)
            for task in todo
        }
        for name, future in futures.items():
            try:
                yield name, future.result()
            except Exception as err:  # its workers died more often than Dask retries
                yield name, f"{type(err).__name__}: {err}"
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]


def write_tables(sweep: Sweep, out: Path, errors: dict[str, str]) -> None:
    """sweep.csv (each run's state) and the aggregate of the finished runs' metrics."""
    import pandas as pd

    from model_collapse.api import open_run

    states = pd.DataFrame(
        [
            {
                "run": r.name,
                **r.varied,
                "status": "failed" if errors[r.name] else "done",
                "error": errors[r.name],
            }
            for r in sweep.runs
        ]
    )
    states.to_csv(out / "sweep.csv", index=False)
    frames = []
    for run in sweep.runs:
        if errors[run.name]:
            continue
        metrics = open_run(out / run.name).metrics
        keys = pd.DataFrame({"run": run.name, **run.varied}, index=metrics.index)
        frames.append(pd.concat([keys, metrics], axis=1))
    if frames:
        table = pd.concat(frames, ignore_index=True)
        table.to_csv(out / "aggregate.csv", index=False)
        table.to_parquet(out / "aggregate.parquet", index=False)
