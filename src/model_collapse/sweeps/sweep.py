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
keys as columns; ``OUT/intervals.csv`` each run's mean and 95% intervals over seeds per
metric and generation (:mod:`model_collapse.sweeps.compare`). Running the sweep again resumes
what is unfinished and skips the rest.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_collapse.config import toml_value
from model_collapse.core.errors import UserInputError, refuse_special
from model_collapse.engine.lineages import refuse_several

SECTIONS = ("base", "set", "grid", "zip")
MAX_NAME = 255  # bytes of a folder name on common file systems
RUN_NAME = re.compile(r"[A-Za-z0-9._=,+-]+")  # what run_name writes: no / or ..


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
    keys: list[str]  # the varied keys, in the file's order
    same: int = 0  # settings that made a run already in the sweep (an unused key varied)
    what: str = "sweep"  # or "suite": a preset's named variants


# A suite's runs are its named variants: its tables' one key column, "variant", holds
# each run's name (a label, not a config key: it has no section)
VARIANT = "variant"


def suite_sweep(title: str, variants: dict[str, tuple[list[str], dict[str, Any]]]) -> Sweep:
    """A suite as a sweep: each variant (its overrides and checked config) a run named
    after it, so a suite runs on every backend and writes a sweep's tables."""
    bad = next((n for n in variants if not RUN_NAME.fullmatch(n) or n in (".", "..")), None)
    if bad is not None:
        raise UserInputError(
            f"[suite.variants] {bad!r} cannot name a run's folder; use letters, digits and . _ "
            "= , + - only"
        )
    check_names(list(variants), "[suite.variants]")
    runs = [SweepRun(name, {VARIANT: name}, o, c) for name, (o, c) in variants.items()]
    return Sweep(title or "the suite", runs, [VARIANT], what="suite")


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
    where = str(path)
    refuse_special(path)  # a FIFO would wait for a writer for ever
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise UserInputError(f"{where}: not a readable TOML sweep file ({err})") from None
    return sweep_from(raw, where, path.parent)


def sweep_from(raw: dict[str, Any], where: str, folder: Path) -> Sweep:
    """Expand a sweep's tables (``base``, ``set``, ``grid``, ``zip``, as a sweep file holds
    them; a recipe's own); a base config file is found in ``folder``. ``where`` names the
    sweep in messages."""
    from model_collapse.api import load_config
    from model_collapse.config import config_to_dict

    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise UserInputError(f"{where}: unknown part {unknown[0]!r}; a sweep has {SECTIONS}")
    base = raw.get("base")
    if not isinstance(base, str) or not base:
        raise UserInputError(f'{where}: base must name a preset or a config file: base = "..."')
    if base.endswith(".toml"):  # a config file: beside the sweep file, read from anywhere
        base = str((folder / base).resolve())
    fixed_table = _table(raw, "set", where)
    runs: dict[str, SweepRun] = {}
    settings = _settings(raw, where, set(fixed_table))
    for varied in settings:
        try:
            overrides = [f"{key}={toml_value(v)}" for key, v in {**fixed_table, **varied}.items()]
        except TypeError as err:  # a date or a table where a value goes
            raise UserInputError(
                f"{where}: {err}; give numbers, strings, true/false or lists"
            ) from None
        try:  # refused here, with the key named, before any runs
            checked = load_config(base, overrides)
        except UserInputError as err:
            raise UserInputError(f"{where}: {err}") from None
        refuse_several(checked, where)
        config = config_to_dict(checked)
        used = used_keys(varied, config)  # real_fraction under replace: the same run again
        if not used:
            raise UserInputError(
                f"{where}: {', '.join(varied)} is not used by the run's plug-ins, so its "
                "settings would all be the same run; vary a key they use"
            )
        same = json.dumps(config, sort_keys=True, default=str)  # one config, one run
        runs.setdefault(same, SweepRun(run_name(used), used, overrides, config))
    check_names([run.name for run in runs.values()], where)
    return Sweep(base, list(runs.values()), list(settings[0]), len(settings) - len(runs))


def used_keys(varied: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The varied keys a run's plug-ins use: a key left out of its checked config (as
    ``regime.real_fraction`` is under ``replace``) does not make it another run."""
    used = {}
    for name, value in varied.items():
        section, key = name.split(".", 1)
        if not (section in config and key not in config[section]):
            used[name] = value
    return used


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


def run_sweep(
    sweep: Sweep,
    out: Path,
    jobs: int = 1,
    tell: Any = print,
    backend: str = "local",
    address: str | None = None,
    track: str | None = None,
    on_end: Callable[[str, str], None] | None = None,
    runner: Callable[..., Any] | None = None,
) -> dict[str, str]:
    """Every run (a finished one is found finished, a partial one resumes) on a backend
    (:mod:`model_collapse.sweeps.backends`: ``jobs`` local processes, or a Dask or Ray cluster,
    the one at ``address`` or a local one of ``jobs`` workers); then sweep.csv and the
    aggregate. With ``track`` (an MLflow URI), each run is logged there too; ``on_end``
    is told of each run's end (name, error); ``runner``, where given, runs the tasks
    instead of the backend (a suite's runs in this process, with their progress). Returns
    each run's error ("" for done)."""
    from contextlib import closing

    from model_collapse.engine.lock import RunLock
    from model_collapse.sweeps.backends import BACKENDS, Task

    check_sweep_folder(out, {run.name for run in sweep.runs})
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"cannot create --out {out}: {err.strerror}") from None
    lock = RunLock(out, "sweep")  # one sweep at a time writes this folder's tables
    lock.acquire()
    try:
        keys = ", ".join(sweep.keys)
        if sweep.what == "suite":
            names = ", ".join(run.name for run in sweep.runs)
            tell(f"suite: {len(sweep.runs)} runs of {sweep.base} ({names}), in {out}")
        else:
            tell(f"sweep: {len(sweep.runs)} runs of {sweep.base}, varying {keys}, in {out}")
        if sweep.same:
            tell(
                f"sweep: the grid has {sweep.same} more setting(s) that vary only keys their "
                "plug-ins do not use; each is the same run as another and runs once"
            )
        errors: dict[str, str] = {}
        # absolute: a worker elsewhere (a Dask cluster) writes the very same folders
        folder = out.resolve()
        todo = [Task(r.name, r.config, str(folder / r.name), track) for r in sweep.runs]
        run_all = runner or BACKENDS[backend][0]
        write_states(sweep, out, errors)  # every run "to do": the folder reads as a sweep
        with closing(run_all(todo, jobs, address)) as results:  # a stop ends its workers
            for name, error in results:
                errors[name] = error
                write_states(sweep, out, errors)
                count = f"({len(errors)} of {len(todo)})"
                tell(f"{name}: {'failed: ' + error if error else 'done'} {count}")
                if on_end is not None:
                    on_end(name, error)
        write_tables(sweep, out, errors)
    finally:
        lock.release()
    return errors


def run_all_or_refuse(sweep: Sweep, out: Path, what: str, again: str, **backend: Any) -> None:
    """Run a sweep that a command reads whole (a recipe, a budget): a run that failed is
    refused in one line that names it, ``what`` it belongs to and the command to run
    ``again``; the others' results stay in ``out``. ``backend``: run_sweep's options."""
    errors = run_sweep(sweep, out, **backend)
    failed = next((name for name, error in errors.items() if error), None)
    if failed is not None:
        raise UserInputError(
            f"run {failed!r} of {what} failed: {errors[failed]}; the others' results are in "
            f"{out}; {again} to retry it"
        )


def check_sweep_folder(out: Path, own: Collection[str] = ()) -> None:
    """``--out`` is new, empty, or a sweep's own folder (it has sweep.csv, or holds only
    its own runs and figures: a suite written before suites kept a sweep's tables): a
    sweep never writes its tables and run folders into a run's folder or anyone's files."""
    from model_collapse.engine.lock import LOCK

    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a folder for the sweep")
    if not out.is_dir() or (out / "sweep.csv").is_file():
        return
    try:
        entries = sorted(entry.name for entry in out.iterdir() if entry.name != LOCK)
    except OSError as err:
        raise UserInputError(f"cannot read --out {out}: {err.strerror}") from None
    if own and set(entries) <= {*own, "figures"}:
        return
    if entries:
        what = "a run (config.toml)" if "config.toml" in entries else f"{entries[0]!r}"
        raise UserInputError(
            f"--out {out} holds {what} and no sweep.csv: it is not a sweep's folder; give "
            "a new or empty folder, or the --out of this sweep to resume it"
        )


def write_tables(sweep: Sweep, out: Path, errors: dict[str, str]) -> None:
    """sweep.csv (each run's state) and the aggregate of the finished runs' metrics; each
    file replaced whole (written beside, then renamed)."""
    import pandas as pd

    from model_collapse.api import open_run
    from model_collapse.engine.store import atomic_write
    from model_collapse.sweeps.compare import interval_table

    keys = write_states(sweep, out, errors)
    frames = []
    for row, run in zip(keys.to_dict("records"), sweep.runs, strict=True):
        if not errors[run.name]:
            metrics = open_run(out / run.name).metrics
            frames.append(pd.concat([pd.DataFrame([row] * len(metrics)), metrics], axis=1))
    for name in ("aggregate.csv", "aggregate.parquet", "intervals.csv"):
        (out / name).unlink(missing_ok=True)  # none finished: none stale
    if frames:
        table = pd.concat(frames, ignore_index=True)
        atomic_write(out / "aggregate.csv", table.to_csv(index=False).encode())
        parquet = io.BytesIO()
        table.to_parquet(parquet, index=False)
        atomic_write(out / "aggregate.parquet", parquet.getvalue())
        found = interval_table(table, sweep.keys)
        atomic_write(out / "intervals.csv", found.to_csv(index=False).encode())


def write_states(sweep: Sweep, out: Path, errors: dict[str, str]) -> Any:
    """sweep.csv: each run, its varied keys, and "done", "failed" (with the error) or "to
    do"; rewritten whole as runs end. Returns the keys' table."""
    import pandas as pd

    from model_collapse.engine.store import atomic_write

    keys = pd.DataFrame([{"run": r.name, **key_columns(sweep, r)} for r in sweep.runs])
    status = {name: "failed" if error else "done" for name, error in errors.items()}
    states = keys.assign(
        status=[status.get(r.name, "to do") for r in sweep.runs],
        error=[errors.get(r.name, "") for r in sweep.runs],
    )
    atomic_write(out / "sweep.csv", states.to_csv(index=False).encode())
    return keys


def key_columns(sweep: Sweep, run: SweepRun) -> dict[str, Any]:
    """A run's varied values for the tables: numbers stay numbers where a key's values are
    all numbers; otherwise each value is shown as text (strings bare, the rest as TOML)."""
    out = {}
    for key in sweep.keys:
        values = [r.varied[key] for r in sweep.runs if key in r.varied]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        value = run.varied.get(key)  # None: a key this run's plug-ins do not use
        out[key] = value if numbers or value is None else str(shown(value))
    return out
