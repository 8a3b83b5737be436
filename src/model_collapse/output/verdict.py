"""The verdict: a run's, suite's or sweep's story in one to three sentences, computed from
its numbers.

It names the metric that best shows the story: the one the family declares as its
headline (``Family.headline``) where the run has it, else the declared metric whose
groups differ most clearly at the last generation (the smallest p-value of compare's test
against the best group), or, for one run, the one that moved most clearly since
generation 0 (the paired test of the reading). Then each group's value of the metric's
declared statistic at the last generation, against generation 0 and the real level;
which groups differ from the best, by compare's test (Holm-corrected, 5%); and where a
closed form holds, how the seeds' mean compares with it. Every number comes from the
run; no sentence is written before its numbers are known.

``run``, ``demo`` and ``sweep`` print it as their last lines, ``report`` opens with it,
and it is written to ``verdict.txt`` beside the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.output.reading import (
    change,
    compared_at_end,
    first_and_last,
    number,
    theory_sentence,
)


def verdict(gathered: Any) -> list[str]:
    """The verdict's sentences (none where no metric is declared or computed)."""
    metric = headline_metric(gathered)
    if metric is None:
        return []
    lines = [level_sentence(gathered, metric)]
    differ = difference(gathered, metric)
    if differ:
        lines.append(differ)
    intervals = gathered.intervals
    theory = [line for run in gathered.runs if (line := theory_sentence(run, intervals, metric))]
    return lines + theory[:1]


def headline_metric(gathered: Any) -> str | None:
    """The family's declared headline, else the declared metric with the clearest story."""
    from model_collapse.families import FAMILIES
    from model_collapse.sweeps.compare import reading_of

    rows = gathered.intervals[gathered.intervals["n"] > 0]
    metrics = [m for m in dict.fromkeys(rows["metric"]) if reading_of(m).better]
    if not metrics:
        return None
    for name in dict.fromkeys(run.family for run in gathered.runs):
        declared = dict(FAMILIES.items()).get(name)
        if declared is not None and declared.headline in metrics:
            return declared.headline
    clearest = {metric: clarity(gathered, metric) for metric in metrics}
    return min(metrics, key=lambda metric: clearest[metric])  # ties: the earliest


def clarity(gathered: Any, metric: str) -> float:
    """A p-value: how clearly the groups differ at the end (compare's test), or for one
    run how clearly it moved since generation 0 (a paired t test over seeds)."""
    from scipy import stats

    if len(gathered.runs) > 1:
        compared = _compared(gathered, metric)
        rows = compared[0] if compared else []
        found = [row["p"] for row in rows[1:] if np.isfinite(row["p"])]
        return min(found, default=1.0)
    metrics = gathered.runs[0].metrics
    last = int(metrics["generation"].max())
    at = metrics.set_index(["generation", "seed"])[metric]
    diff = (at.loc[last] - at.loc[0]).to_numpy(dtype=float)
    diff = diff[np.isfinite(diff)]
    if len(diff) < 2 or diff.std() == 0:
        return 1.0
    from model_collapse.sweeps.compare import steady_groups_allowed

    with steady_groups_allowed():
        return float(stats.ttest_1samp(diff, 0.0).pvalue)


def _compared(gathered: Any, metric: str) -> tuple[list[dict[str, Any]], str] | None:
    """compare's rows at the last generation over every run, and its test in words."""
    found = compared_at_end(gathered, metric, [run.name for run in gathered.runs])
    return None if found is None else (found[0], found[2])


def level_sentence(gathered: Any, metric: str) -> str:
    """Each group's statistic at the last generation, best first, from generation 0."""
    from model_collapse.sweeps.compare import STATISTIC_WORDS, reading_of

    read = reading_of(metric)
    starts, ends = first_and_last(gathered.intervals, metric)
    runs = {run.name: run for run in gathered.runs}
    ranked = sorted(ends, key=lambda name: read.distance(float(ends[name]["value"])))
    seeds = int(max(int(end["n"]) for end in ends.values()))
    last = int(max(int(end["generation"]) for end in ends.values()))
    level = f"; real level {read.level:g}" if read.level is not None else ""
    what = f"{metric} ({STATISTIC_WORDS[read.statistic]} of {seeds} seeds{level})"
    parts = []
    for name in ranked:
        first, end = int(starts[name]["generation"]), int(ends[name]["generation"])
        verb = change(runs[name].metrics, metric, first, end, read.statistic)  # paired, 5%
        parts.append(f"{verb} {number(ends[name]['value'])} under {runs[name].label}")
    origins = {number(float(s["value"])) for s in starts.values()}
    origin = f", from {origins.pop()} at generation 0" if len(origins) == 1 else ""
    return f"By generation {last}, {what} {'; '.join(parts)}{origin}."


def difference(gathered: Any, metric: str) -> str | None:
    """Which groups differ from the best one at the last generation, by compare's test."""
    compared = _compared(gathered, metric)
    if not compared:
        return None
    rows, how = compared
    labels = {run.name: run.label for run in gathered.runs}
    best = labels[rows[0]["run"]]
    differ = [labels[row["run"]] for row in rows[1:] if row["differs"]]
    if not differ:
        return f"No group differs clearly from {best}, the best ({how})."
    verb = "differs" if len(differ) == 1 else "differ"
    return f"{_join(differ)} {verb} clearly from {best}, the best ({how})."


def _join(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def write_verdict(directory: Path) -> list[str]:
    """Gather a run, suite or sweep folder, write its verdict.txt, return the sentences."""
    from model_collapse.engine.store import atomic_write
    from model_collapse.output.report import gather

    gathered = gather(directory, ends_only=True)
    lines = verdict(gathered)
    metric = headline_metric(gathered)
    if metric is not None:
        from model_collapse.output.first_mover import first_mover

        lines += first_mover(gathered, metric, directory)
    if lines:
        atomic_write(directory / "verdict.txt", ("\n".join(lines) + "\n").encode())
    return lines


def add_to_verdict(directory: Path, lines: list[str]) -> None:
    """Sentences a command adds after the verdict (a recipe's matches, a decomposition's
    cause), at the end of verdict.txt."""
    with (directory / "verdict.txt").open("a", encoding="utf-8") as text:
        text.write("".join(f"{line}\n" for line in lines))
