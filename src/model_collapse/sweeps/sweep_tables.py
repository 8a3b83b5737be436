"""A sweep's tables read back and checked against the runs they gather, as ``run`` checks
a run directory: what ``compare`` and ``report`` read.

``sweep.csv`` names the runs, their varied keys and their states; each run marked done
must be a complete, verified run directory (checksums, config hash) whose config holds
those key values. ``aggregate.csv`` must hold exactly the done runs' metrics: the same
rows (seeds x generations, none twice) with the same values. Anything else is refused in
one line that names the table and what to do, never read as if intact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError

STATUSES = ("done", "failed", "to do")
RERUN = "run the sweep again to rewrite it"


@dataclass
class SweepTables:
    """A verified sweep: its states, varied keys, and each done run read back."""

    states: Any  # pandas DataFrame of sweep.csv
    keys: list[str]
    runs: dict[str, Any]  # name: api.Result, in sweep.csv's order


def read_csv_table(path: Path, what: str, **options: Any) -> Any:
    """A CSV table with at least one row, or a one-line refusal (special files included:
    reading a FIFO would wait for ever)."""
    import pandas as pd

    from model_collapse.core.errors import check_regular_file

    check_regular_file(path, what)
    try:
        table = pd.read_csv(path, **options)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path} cannot be read as {what} ({err}); {RERUN}") from None
    if table.empty:
        raise UserInputError(f"{path} has no rows; {RERUN}")
    return table


def read_states(directory: Path) -> SweepTables:
    """sweep.csv and every run it marks done, each verified (see the module's text)."""
    from model_collapse.api import open_run
    from model_collapse.sweeps.sweep import RUN_NAME

    path = directory / "sweep.csv"
    states = read_csv_table(path, "a sweep's table", keep_default_na=False)  # errors stay text
    columns = list(states.columns)
    if columns[:1] != ["run"] or not {"status", "error"} <= set(columns):
        raise UserInputError(f"{path} is not a sweep's table (run ... status, error); {RERUN}")
    keys = columns[1 : columns.index("status")]
    names = [str(name) for name in states["run"]]
    bad = next((n for n in names if not RUN_NAME.fullmatch(n) or n in (".", "..")), None)
    if bad is not None:
        raise UserInputError(f"{path} names a run {bad!r} that no sweep writes; {RERUN}")
    if len(set(names)) < len(names):
        raise UserInputError(f"{path} lists a run twice; {RERUN}")
    unknown = sorted(set(map(str, states["status"])) - set(STATUSES))
    if unknown:
        raise UserInputError(f"{path} holds an unknown status {unknown[0]!r}; {RERUN}")
    runs = {}
    for row in states.to_dict("records"):
        if row["status"] == "done":
            name = str(row["run"])
            try:  # checksums and config hash verified
                result = open_run(directory / name)
            except UserInputError as err:  # the fix is the sweep's, not run --restart's
                raise UserInputError(f"run {name} of the sweep: {in_sweep(err)}") from None
            check_finished(directory / name, result)
            check_keys(path, name, result.config, {key: row[key] for key in keys})
            runs[name] = result
    return SweepTables(states, keys, runs)


def in_sweep(err: UserInputError) -> str:
    """A run's refusal with the sweep's fix: a damaged run folder is redone by removing it
    and running the sweep again."""
    from model_collapse.engine.state import RESTART

    text = str(err)
    if RESTART in text:
        text = text.replace(RESTART, "remove that run's folder and run the sweep again")
    return text


def check_finished(folder: Path, result: Any) -> None:
    """A run sweep.csv calls done holds every generation and seed of its config."""
    metrics, experiment = result.metrics, result.config.experiment
    generations = int(metrics["generation"].max()) + 1 if len(metrics) else 0
    seeds = metrics["seed"].nunique()
    if generations != experiment.generations or seeds != experiment.seeds:
        raise UserInputError(
            f"sweep.csv calls {folder.name} done, but {folder} holds {generations} of "
            f"{experiment.generations} generations and {seeds} of {experiment.seeds} seeds; "
            "run the sweep again to finish it"
        )


def check_keys(path: Path, name: str, config: Any, row: dict[str, Any]) -> None:
    """The varied values sweep.csv gives a run are the ones its config ran with."""
    from model_collapse.config import config_to_dict
    from model_collapse.sweeps.sweep import shown

    ran = config_to_dict(config)
    for key, value in row.items():
        if "." not in key:  # a suite's variant: the run's own name
            if str(value) != name:
                raise UserInputError(f"{path} gives run {name} {key} = {value!r}; {RERUN}")
            continue
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            continue  # a key this run's plug-ins do not use
        section, _, field = key.partition(".")
        actual = ran.get(section, {}).get(field)
        if actual is None or not same_value(shown(actual), value):
            raise UserInputError(
                f"{path} gives run {name} {key} = {value!r}, but it ran with "
                f"{key} = {actual!r}; {RERUN}"
            )


def same_value(actual: Any, written: Any) -> bool:
    """A config value and the value a CSV table gives back for it (numbers as floats)."""
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        try:
            return math.isclose(float(actual), float(written), rel_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return str(actual) == str(written)


def read_aggregate(directory: Path) -> tuple[Any, list[str]]:
    """A finished sweep's aggregate table, checked against its runs, and its varied keys
    (the columns between run and seed), or a one-line refusal."""
    path = directory / "aggregate.csv"
    if not (directory / "sweep.csv").exists():
        raise UserInputError(
            f"{directory} holds no sweep.csv: compare reads a sweep's directory "
            "(model-collapse sweep SWEEP.toml --out DIR)"
        )
    tables = read_states(directory)
    todo = int((tables.states["status"] == "to do").sum())
    if todo or not path.exists():
        raise UserInputError(
            f"the sweep in {directory} has not finished ({todo} runs to do, sweep.csv says "
            "which); run the sweep again to finish it"
        )
    table = read_csv_table(path, "a sweep's aggregate")
    columns = list(table.columns)
    if columns[:1] != ["run"] or not {"seed", "generation"} <= set(columns):
        raise UserInputError(f"{path} is not a sweep's aggregate (run, keys, seed, ...); {RERUN}")
    keys = columns[1 : columns.index("seed")]
    if keys != tables.keys:
        raise UserInputError(f"{path} varies {keys}, sweep.csv {tables.keys}; {RERUN}")
    check_rows(path, table, tables.runs)
    return table, keys


def check_rows(path: Path, table: Any, runs: dict[str, Any]) -> None:
    """The aggregate holds each done run's verified metrics, row for row, and no other."""
    found = set(map(str, table["run"]))
    if found != set(runs):
        odd = sorted(found ^ set(runs))[0]
        raise UserInputError(f"{path} and sweep.csv disagree on run {odd!r}; {RERUN}")
    if table.duplicated(["run", "seed", "generation"]).any():
        raise UserInputError(f"{path} holds a (run, seed, generation) row twice; {RERUN}")
    for name, result in runs.items():
        rows = table[table["run"].astype(str) == name]
        metrics = result.metrics
        if len(rows) != len(metrics) or list(metrics.columns[2:]) != [
            c for c in metrics.columns[2:] if c in rows.columns
        ]:
            raise UserInputError(
                f"{path} holds {len(rows)} rows of run {name}, which has {len(metrics)}; {RERUN}"
            )
        order = ["seed", "generation"]  # the same rows, in whatever order
        try:
            mine = rows[list(metrics.columns)].sort_values(order).to_numpy(dtype=float)
        except (ValueError, TypeError):
            raise UserInputError(
                f"{path} holds a value of run {name} that is no number; {RERUN}"
            ) from None
        theirs = metrics.sort_values(order).to_numpy(dtype=float)
        if mine.shape != theirs.shape or not np.allclose(
            mine, theirs, rtol=1e-12, atol=0, equal_nan=True
        ):
            raise UserInputError(
                f"{path} differs from the metrics of run {name} (edited or damaged); {RERUN}"
            )
