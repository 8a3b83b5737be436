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

import io
import itertools
import re
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from model_collapse.config import toml_value
from model_collapse.errors import UserInputError

SECTIONS = ("base", "set", "grid", "zip")
MAX_NAME = 255  # bytes of a folder name on common file systems
REACH_SECONDS = 25  # an unreachable scheduler is named within half a minute


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its name, the values it varies, its overrides, and the config
    they make (checked; what a worker runs, wherever the base file is)."""

    name: str
    varied: dict[str, Any]
    overrides: list[str]
    config: dict[str, Any]


@dataclass(frozen=True)
class Sweep:
    base: str
    runs: list[SweepRun]

    @property
    def keys(self) -> list[str]:
        """The varied keys, in the file's order."""
        return list(self.runs[0].varied) if self.runs else []


def shown(value: Any) -> Any:
    """A varied value as names and tables show it: strings and numbers as they are,
    anything else (true, lists) as TOML text."""
    plain = isinstance(value, str | int | float) and not isinstance(value, bool)
    return value if plain else toml_value(value)


def run_name(varied: dict[str, Any]) -> str:
    """``key=value`` pairs joined by commas; characters a folder name cannot hold become _."""
    text = ",".join(f"{key}={shown(value)}" for key, value in varied.items())
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


def _settings(raw: dict[str, Any], where: str, fixed: set[str]) -> list[dict[str, Any]]:
    """Every combination of the grid, each with the zipped keys' i-th values."""
    grid = _lists(_table(raw, "grid", where), "grid", where)
    zipped = _lists(_table(raw, "zip", where), "zip", where)
    twice = sorted((set(grid) & set(zipped)) | ((set(grid) | set(zipped)) & fixed))
    if twice:
        raise UserInputError(f"{where}: {twice[0]} is given twice ([set], [grid] or [zip])")
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
    from model_collapse.config import config_to_dict

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
    fixed_table = _table(raw, "set", where)
    runs = []
    for varied in _settings(raw, where, set(fixed_table)):
        try:
            overrides = [f"{key}={toml_value(v)}" for key, v in {**fixed_table, **varied}.items()]
        except TypeError as err:  # a date or a table where a value goes
            raise UserInputError(
                f"{where}: {err}; give numbers, strings, true/false or lists"
            ) from None
        try:  # refused here, with the key named, before any runs
            config = config_to_dict(load_config(base, overrides))
        except UserInputError as err:
            raise UserInputError(f"{where}: {err}") from None
        runs.append(SweepRun(run_name(varied), varied, overrides, config))
    check_names([r.name for r in runs], where)
    return Sweep(base, runs)


def check_names(names: list[str], where: str) -> None:
    """Run folders must be distinct (also where case is not) and fit a file system."""
    seen: dict[str, str] = {}
    for name in names:
        if len(name.encode()) > MAX_NAME:
            raise UserInputError(
                f"{where}: the run name {name[:60]}... is longer than {MAX_NAME} bytes; "
                "vary fewer keys, or move fixed ones to [set]"
            )
        if name.casefold() in seen:
            raise UserInputError(
                f"{where}: runs {seen[name.casefold()]!r} and {name!r} would share a folder"
            )
        seen[name.casefold()] = name


def run_one(config: dict[str, Any], directory: str) -> str:
    """Run (or resume, or find finished) one run of a sweep; "" when it finished, else its
    error in a line. A folder that holds a different run is refused by the run itself, so
    a changed sweep never passes old numbers off as new. At module level, so that worker
    processes can be given it."""
    import model_collapse

    try:
        model_collapse.run(config, directory)
    except Exception as err:  # one failed run is recorded; the others go on
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return ""


def run_sweep(
    sweep: Sweep,
    out: Path,
    jobs: int = 1,
    tell: Any = print,
    backend: str = "local",
    address: str | None = None,
) -> dict[str, str]:
    """Every run (a finished one is found finished, a partial one resumes), on ``jobs``
    local processes or a Dask cluster (the one at ``address``, else a local one of
    ``jobs`` workers); then sweep.csv and the aggregate. Returns each run's error ("" for
    done)."""
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a folder for the sweep")
    from model_collapse.lock import RunLock

    out.mkdir(parents=True, exist_ok=True)
    lock = RunLock(out)  # one sweep at a time writes this folder's tables
    lock.acquire()
    try:
        keys = ", ".join(sweep.keys)
        tell(f"sweep: {len(sweep.runs)} runs of {sweep.base}, varying {keys}, in {out}")
        errors: dict[str, str] = {}
        # absolute: a worker elsewhere (a Dask cluster) writes the very same folders
        todo = [Task(r.name, r.config, str((out / r.name).resolve())) for r in sweep.runs]
        run_all = on_dask if backend == "dask" else on_processes
        for name, error in run_all(todo, jobs, address):
            errors[name] = error
            tell(f"{name}: {'failed: ' + error if error else 'done'}")
        write_tables(sweep, out, errors)
    finally:
        lock.release()
    return errors


class Task(NamedTuple):
    """One run to do: run_one(config, directory) under its name."""

    name: str
    config: dict[str, Any]
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
    except (OSError, TimeoutError, ValueError) as err:
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
            # a key of its own: a shared scheduler must not hand back another sweep's task
            task.name: client.submit(run_one, *task[1:], key=f"run-{uuid.uuid4().hex}")
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
    """sweep.csv (each run's state) and the aggregate of the finished runs' metrics; each
    file replaced whole (written beside, then renamed)."""
    import pandas as pd

    from model_collapse.api import open_run
    from model_collapse.store import atomic_write

    keys = pd.DataFrame([{"run": r.name, **key_columns(sweep, r)} for r in sweep.runs])
    states = keys.assign(
        status=["failed" if errors[r.name] else "done" for r in sweep.runs],
        error=[errors[r.name] for r in sweep.runs],
    )
    atomic_write(out / "sweep.csv", states.to_csv(index=False).encode())
    frames = []
    for row, run in zip(keys.to_dict("records"), sweep.runs, strict=True):
        if not errors[run.name]:
            metrics = open_run(out / run.name).metrics
            frames.append(pd.concat([pd.DataFrame([row] * len(metrics)), metrics], axis=1))
    for suffix in (".csv", ".parquet"):
        (out / f"aggregate{suffix}").unlink(missing_ok=True)  # none finished: none stale
    if frames:
        table = pd.concat(frames, ignore_index=True)
        atomic_write(out / "aggregate.csv", table.to_csv(index=False).encode())
        parquet = io.BytesIO()
        table.to_parquet(parquet, index=False)
        atomic_write(out / "aggregate.parquet", parquet.getvalue())


def key_columns(sweep: Sweep, run: SweepRun) -> dict[str, Any]:
    """A run's varied values for the tables: numbers stay numbers where a key's values are
    all numbers; otherwise each value is shown as text (strings bare, the rest as TOML)."""
    out = {}
    for key, value in run.varied.items():
        values = [r.varied[key] for r in sweep.runs]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        out[key] = value if numbers else str(shown(value))
    return out
