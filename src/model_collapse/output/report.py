"""``model-collapse report DIR``: one self-contained report.html for a run, a suite or a
sweep.

What it holds is gathered here from the directory's own files (each run read back and
verified against its state), then written by :mod:`model_collapse.output.report_page` (its
``write_report`` is what the command calls): the curves of every metric per group (a
run of a sweep or suite, or the one run) with 95% intervals over seeds and the
closed-form theory where one holds, the spread of seeds at the last generation, the
figures each run drew, its text samples, its config, and a short reading of the numbers
(:mod:`model_collapse.output.reading`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError

MAX_RUNS_SHOWN = 12  # runs whose figures and samples are embedded (the page stays small)
MAX_SAMPLE_GENERATIONS = 6  # generations of text shown per run, spread over the run


@dataclass
class RunPart:
    """One run as the report shows it."""

    name: str
    label: str  # for people: "mix, real_fraction=0.1"
    directory: Path
    config_text: str
    metrics: Any  # pandas DataFrame: seed, generation, metrics
    theory: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    collapse: Any = None  # pandas DataFrame of collapse.csv, if any
    status: str = "done"
    error: str = ""
    family: str = ""  # the family it ran
    role: str = "both"  # its lineage's role on a web: a teacher only writes
    samples: str = "samples"  # its sample files' folder (another lineage's: samples/NAME)


@dataclass
class Gathered:
    kind: str  # run, suite or sweep
    directory: Path
    keys: list[str]  # a sweep's varied keys
    runs: list[RunPart]  # finished runs first, in the directory's order
    intervals: Any  # pandas DataFrame, compare.interval_table's columns
    table: Any  # every run's metrics: run, seed, generation, metrics (compare's input)
    failed: list[RunPart] = field(default_factory=list)


def gather(directory: Path, ends_only: bool = False) -> Gathered:
    """Read a run, a suite or a sweep; refuse anything else in one line. ``ends_only``:
    intervals of each run's first and last generations only (what a verdict reads)."""
    if not directory.is_dir():
        raise UserInputError(f"{directory} is not a folder; give a run, suite or sweep directory")
    if (directory / "sweep.csv").is_file():
        return _sweep(directory, ends_only)
    if (directory / "config.toml").is_file():
        return _complete("run", directory, [], _run(directory, None), ends_only)
    found = sorted(p for p in directory.iterdir() if (p / "config.toml").is_file())
    if found:  # a folder of runs: a suite from before suites kept tables, or any runs
        parts = [part for p in found for part in _run(p, p.name)]
        return _complete("suite", directory, [], parts, ends_only)
    raise UserInputError(
        f"{directory} is not a run, a suite or a sweep directory (no config.toml or sweep.csv); "
        "give the --out of model-collapse run or sweep"
    )


def gatherable(directory: Path) -> bool:
    """Whether a folder is a run, a suite or a sweep (what :func:`gather` reads)."""
    if (directory / "sweep.csv").is_file() or (directory / "config.toml").is_file():
        return True
    return any((p / "config.toml").is_file() for p in directory.iterdir() if p.is_dir())


def _complete(
    kind: str, directory: Path, keys: list[str], runs: list[RunPart], ends_only: bool = False
) -> Gathered:
    import pandas as pd

    from model_collapse.sweeps.compare import interval_table

    table = pd.concat([r.metrics.assign(run=r.name) for r in runs], ignore_index=True)
    # run first, as in a sweep's aggregate: its metric columns are all but run, seed, generation
    table = table[["run", *(c for c in table.columns if c != "run")]]
    shown = table
    if ends_only:  # a generation's intervals depend on that generation's values alone
        last = table.groupby("run")["generation"].transform("max")
        shown = table[(table["generation"] == 0) | (table["generation"] == last)]
    return Gathered(kind, directory, keys, runs, interval_table(shown, []), table)


def _run(
    directory: Path, label: str | None, name: str | None = None, result: Any = None
) -> list[RunPart]:
    """One run read back; labelled as its figures label it (``mix 0.1 real``) by default.
    A run of several lineages is read as one part per lineage, named after it."""
    import pandas as pd

    from model_collapse.api import open_run
    from model_collapse.engine.lineages import split
    from model_collapse.output.plots import lineage_roles, run_label

    result = open_run(directory) if result is None else result  # read once, verified
    label = label or run_label(result.config)
    collapse_path = directory / "collapse.csv"
    lineages = split(result.metrics)
    roles = lineage_roles(result.config)
    tables = result.config.regime.params.get("lineages") or {}
    parts: list[RunPart] = []
    for lineage, metrics in lineages:
        other = lineage in tables  # not the run's own family's: its own family and samples
        part = RunPart(
            f"{name or directory.name}/{lineage}" if len(lineages) > 1 else name or directory.name,
            f"{label}: {lineage} ({roles[lineage]})" if len(lineages) > 1 else label,
            directory,
            (directory / "config.toml").read_text(encoding="utf-8", errors="replace"),
            metrics,
            collapse=pd.read_csv(collapse_path) if collapse_path.is_file() and not parts else None,
            family=str(tables[lineage]["family"]["name"]) if other else result.config.family.name,
            role=roles.get(lineage or result.config.family.name, "both"),
            samples=f"samples/{lineage}" if other else "samples",
        )
        if len(lineages) == 1:  # the closed forms are of a run of one family
            generations = int(metrics["generation"].max()) + 1
            part.theory = theory_curves(result.config, list(metrics.columns[2:]), generations)
        parts.append(part)
    return parts


def _sweep(directory: Path, ends_only: bool = False) -> Gathered:
    """A sweep's runs as sweep.csv lists them, each done one verified (sweep_tables)."""
    from model_collapse.sweeps.sweep_tables import read_states

    tables = read_states(directory)
    keys = tables.keys
    runs, failed = [], []
    for row in tables.states.to_dict("records"):
        label = group_label({key: row[key] for key in keys})
        if row["status"] == "done":
            name = str(row["run"])
            runs += _run(directory / name, label, name, tables.runs[name])
        else:
            part = RunPart(str(row["run"]), label, directory / str(row["run"]), "", None)
            part.status, part.error = str(row["status"]), str(row["error"])
            failed.append(part)
    if not runs:
        raise UserInputError(f"no run of the sweep in {directory} finished; nothing to report")
    from model_collapse.sweeps.sweep import VARIANT

    kind = "suite" if keys == [VARIANT] else "sweep"
    gathered = _complete(kind, directory, keys, runs, ends_only)
    gathered.failed = failed
    return gathered


def group_label(varied: dict[str, Any]) -> str:
    """``mix, real_fraction=0.1``: a plug-in's name bare, other keys by their last part."""
    parts = []
    for key, value in varied.items():
        if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
            continue  # a key this run's plug-ins do not use
        if isinstance(value, bool):  # as TOML and the tables write it
            shown = "true" if value else "false"
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
        bare = key.endswith(".name") or "." not in key  # a plug-in, or a suite's variant
        parts.append(shown if bare else f"{key.rsplit('.', 1)[-1]}={shown}")
    return ", ".join(parts)


def theory_curves(
    config: Any, metrics: list[str], generations: int
) -> dict[str, list[dict[str, Any]]]:
    """Per metric with a closed form that holds for this run: its lines and bands."""
    from model_collapse.theory import theory_for

    curves = {}
    for metric in metrics:
        theory = theory_for(config, metric)
        if theory is not None:
            curves[metric] = [as_series(c) for c in theory.expected(config, generations)]
    return curves


def as_series(curve: Any) -> dict[str, Any]:
    """A closed form's curve as the page's data: its kind, role, label, x and values."""
    values = {"y": curve.y} if curve.kind == "line" else {"low": curve.low, "high": curve.high}
    length = len(next(iter(values.values())))
    series = {"kind": curve.kind, "role": curve.role, "label": curve.label}
    series["x"] = list(range(length))
    series.update({key: finite_list(v) for key, v in values.items()})
    if curve.kind == "line":
        series["dashed"] = curve.style != "solid"
    return series


def finite_list(values: Any) -> list[float | None]:
    """Numbers for JSON: NaN and infinities (no value to draw) become null."""
    array = np.asarray(values, dtype=float)
    return [float(v) if np.isfinite(v) else None for v in array]


def text_samples(run: RunPart) -> dict[int, str]:
    """Text excerpts of up to MAX_SAMPLE_GENERATIONS generations, spread over the run."""
    from model_collapse.core.errors import check_regular_file

    files = sorted((run.directory / run.samples / "text").glob("generation-*.txt"))
    if not files:
        return {}
    picks = np.unique(np.linspace(0, len(files) - 1, MAX_SAMPLE_GENERATIONS).round().astype(int))
    for i in picks:
        check_regular_file(files[i], "a text sample")
    return {
        int(files[i].stem.split("-")[1]): files[i].read_text(encoding="utf-8", errors="replace")
        for i in picks
    }


def compared_table(directory: Path) -> tuple[Any, list[str]]:
    """What ``compare`` ranks: a sweep's aggregate checked against its runs, or a suite's
    runs, each verified (a suite varies no keys: its runs are its variants)."""
    from model_collapse.sweeps.sweep_tables import read_aggregate

    if (directory / "sweep.csv").exists():
        return read_aggregate(directory)
    gathered = gather(directory)
    if gathered.kind != "suite":
        raise UserInputError(
            f"{directory} is one run; compare ranks the runs of a sweep or a suite directory"
        )
    return gathered.table, []
