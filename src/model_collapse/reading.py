"""A short reading of a report's numbers in plain words, generated from them.

For each of the first metrics: where it starts, where each group ends (mean over seeds
and 95% bootstrap interval at the last generation), whether that is a fall, a rise or no
clear change (the intervals at generation 0 and at the end overlap or not), which groups
differ at the end, and how the closed form compares where one holds; then how many seeds
collapsed. Every sentence names its numbers, so a reader can check it against the curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

METRICS_READ = 3  # the first metrics of a run are the ones its preset puts first


def number(value: float) -> str:
    if not np.isfinite(value):
        return "infinite" if np.isinf(value) else "undefined"
    return f"{value:.3g}"


def span(row: Any) -> str:
    low, high = row["boot_low"], row["boot_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f" [{number(low)}, {number(high)}]"


def overlap(a: Any, b: Any) -> bool:
    """Two rows' bootstrap intervals overlap (or one is undefined: no claim is made)."""
    values = [a["boot_low"], a["boot_high"], b["boot_low"], b["boot_high"]]
    if not all(np.isfinite(values)):
        return True
    return bool(a["boot_low"] <= b["boot_high"] and b["boot_low"] <= a["boot_high"])


def movement(first: Any, last: Any) -> str:
    if not np.isfinite(last["mean"]):
        return "becomes"
    bounds = [first["boot_low"], first["boot_high"], last["boot_low"], last["boot_high"]]
    if not all(np.isfinite(bounds)):  # one seed, or an infinite value: no interval
        return "ends at"
    if overlap(first, last):
        return "stays near"
    return "falls to" if last["mean"] < first["mean"] else "rises to"


def metric_sentences(intervals: Any, labels: dict[str, str], metric: str) -> list[str]:
    rows = intervals[intervals["metric"] == metric]
    ends, starts = {}, {}
    for run, group in rows.groupby("run", sort=False):
        starts[run], ends[run] = group.iloc[0], group.iloc[-1]  # in generation order
    lasts = {int(end["generation"]) for end in ends.values()}
    ranked = sorted(ends, key=lambda r: -ends[r]["mean"] if np.isfinite(ends[r]["mean"]) else 0)
    first = starts[ranked[0]]
    whose = f" under {labels[ranked[0]]}" if len(ranked) > 1 else ""
    at = "" if len(lasts) == 1 else " at generation {}"  # runs of different lengths
    parts = [
        f"under {labels[run]} it {movement(starts[run], ends[run])} "
        f"{number(ends[run]['mean'])}{span(ends[run])}{at.format(int(ends[run]['generation']))}"
        for run in ranked
    ]
    by = f"by generation {lasts.pop()}" if len(lasts) == 1 else "by each run's last generation"
    text = (
        f"{metric} starts at {number(first['mean'])}{span(first)}{whose} "
        f"(generation {int(first['generation'])}); {by}, " + "; ".join(parts) + "."
    )
    sentences = [text]
    top, bottom = ends[ranked[0]], ends[ranked[-1]]
    if len(ranked) > 1 and not at and not overlap(top, bottom):
        sentences.append(
            f"At generation {int(top['generation'])} the 95% intervals of {labels[ranked[0]]} "
            f"and {labels[ranked[-1]]} do not overlap: the difference in {metric} is not "
            "seed noise."
        )
    return sentences


def theory_sentence(run: Any, intervals: Any, metric: str) -> str | None:
    """Where a closed form's mean is drawn: the simulation's last mean against it."""
    lines = [s for s in run.theory.get(metric, []) if s["label"] == "theory: mean"]
    rows = intervals[(intervals["run"] == run.name) & (intervals["metric"] == metric)]
    if not lines or rows.empty:
        return None
    last = rows.iloc[-1]
    expected = lines[0]["y"][int(last["generation"])]
    if expected is None:
        return None
    said = (
        f"Theory expects a mean {metric} of {number(expected)} at generation "
        f"{int(last['generation'])} for {run.label}; the seeds' mean is {number(last['mean'])}"
    )
    if not (np.isfinite(last["t_low"]) and np.isfinite(last["t_high"])):
        return f"{said} (no interval with {int(last['n'])} seed(s): no verdict)."
    inside = last["t_low"] <= expected <= last["t_high"]
    return f"{said} (95% t interval [{number(last['t_low'])}, {number(last['t_high'])}]), " + (
        "which holds it." if inside else "which does not: look at the run's settings."
    )


def collapse_sentence(run: Any) -> str | None:
    if run.collapse is None:
        return None
    at = run.collapse["collapsed_at"].dropna()
    if not len(at):
        return None
    return (
        f"Under {run.label}, the model collapsed in "
        f"{len(at)} of {len(run.collapse)} seeds, first at generation {int(at.min())}."
    )


def reading(gathered: Any) -> list[str]:
    """The sentences of the report's reading, in order."""
    labels = {run.name: run.label for run in gathered.runs}
    intervals = gathered.intervals
    sentences = []
    for metric in list(dict.fromkeys(intervals["metric"]))[:METRICS_READ]:
        sentences += metric_sentences(intervals, labels, metric)
        for run in gathered.runs:
            line = theory_sentence(run, intervals, metric)
            if line:
                sentences.append(line)
    sentences += [line for run in gathered.runs if (line := collapse_sentence(run))]
    if gathered.failed:
        names = ", ".join(run.label for run in gathered.failed)
        sentences.append(f"{len(gathered.failed)} runs failed and are not shown: {names}.")
    return sentences
