"""A short reading of a report's numbers in plain words, generated from them.

For each of the first metrics: where each group starts and ends (the metric's declared
statistic over seeds, its median for a heavy-tailed ratio, with the 95% bootstrap
interval at the end), best first as the metric is read, and whether that is a fall, a
rise or no clear change: a paired t test over seeds of last minus first value (each seed
is one chain), at 5%. Then which groups differ from the best one at the end, by the very
test ``compare`` prints (Holm-corrected), how the closed form compares where one holds (against its
own 95% band for the mean of that many seeds), and how many seeds collapsed. Every
sentence names its numbers, so a reader can check it against the curves; where the seeds
cannot support a claim (one seed, infinite values), none is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

METRICS_READ = 3  # the first metrics of a run are the ones its preset puts first
ALPHA = 0.05


def number(value: float) -> str:
    if not np.isfinite(value):
        return "infinite" if np.isinf(value) else "undefined"
    return f"{value:.3g}"


def span(row: Any) -> str:
    low, high = row["low"], row["high"]  # the bootstrap interval of the declared statistic
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f" [{number(low)}, {number(high)}]"


def change(metrics: Any, metric: str, first: int, last: int, statistic: str = "mean") -> str:
    """'falls to', 'rises to' or 'ends at' (no clear change) for one run, from the paired
    differences of its seeds between two generations: a paired t test for a metric read
    by its mean, Wilcoxon's signed-rank test for one read by its median or log values (a
    few seeds far out do not carry it)."""
    from scipy import stats

    at = metrics.set_index(["generation", "seed"])[metric]
    diff = (at.loc[last] - at.loc[first]).to_numpy(dtype=float)
    diff = diff[~np.isnan(diff)]
    if len(diff) < 2 or not np.isfinite(diff).all():
        return "ends at"  # one seed, or an infinite value: no test
    # every seed moved by the same amount: clear unless that amount is zero
    steady = diff.std() == 0
    if statistic != "mean" and not steady:
        if stats.wilcoxon(diff).pvalue >= ALPHA:
            return "ends at"
        return "falls to" if np.median(diff) < 0 else "rises to"
    from model_collapse.sweeps.compare import steady_groups_allowed

    with steady_groups_allowed():
        unmoved = (diff.mean() == 0) if steady else stats.ttest_1samp(diff, 0.0).pvalue >= ALPHA
    if unmoved:
        return "ends at"
    return "falls to" if diff.mean() < 0 else "rises to"


def first_and_last(intervals: Any, metric: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each run's intervals row of a metric at its first and last generation (a run that
    did not compute the metric is left out)."""
    rows = intervals[(intervals["metric"] == metric) & (intervals["n"] > 0)]
    starts, ends = {}, {}
    for name, group in rows.groupby("run", sort=False):
        starts[name], ends[name] = group.iloc[0], group.iloc[-1]  # in generation order
    return starts, ends


def metric_sentences(gathered: Any, metric: str) -> list[str]:
    runs = {run.name: run for run in gathered.runs}
    starts, ends = first_and_last(gathered.intervals, metric)
    if not ends:
        return []
    from model_collapse.sweeps.compare import STATISTIC_WORDS, reading_of

    read = reading_of(metric)  # best first, as compare ranks
    ranked = sorted(ends, key=lambda r: read.distance(float(ends[r]["value"])))
    shared = len({(s["generation"], s["value"]) for s in starts.values()}) == 1
    parts = []
    for name in ranked:
        end, start = ends[name], starts[name]
        first_at, last_at = int(start["generation"]), int(end["generation"])
        verb = change(runs[name].metrics, metric, first_at, last_at, read.statistic)
        origin = "" if shared else f" from {number(start['value'])}"
        parts.append(
            f"under {runs[name].label} it {verb} {number(end['value'])}{span(end)}"
            f" at generation {int(end['generation'])}{origin}"
        )
    first = starts[ranked[0]]
    what = STATISTIC_WORDS[read.statistic]
    lead = (
        f"{metric} ({what} over seeds) starts at {number(first['value'])}{span(first)} "
        f"(generation {int(first['generation'])}{', every run' if len(ranked) > 1 else ''}); "
        if shared
        else f"{metric} ({what} over seeds): "
    )
    sentences = [lead + "; ".join(parts) + "."]
    differ = difference_sentence(gathered, metric, ranked)
    return sentences + ([differ] if differ else [])


def compared_at_end(gathered: Any, metric: str, names: list[str]) -> Any:
    """compare's rows for these runs at their common last generation, with that
    generation and its test in words; None for fewer than two runs, runs of different
    lengths or a metric they lack. The reading and the verdict both say what it finds."""
    from model_collapse.sweeps.compare import compare, test_name

    runs = [run for run in gathered.runs if run.name in names]
    lasts = {int(run.metrics["generation"].max()) for run in runs}
    table = gathered.table[gathered.table["run"].isin(names)]
    if len(runs) < 2 or len(lasts) != 1 or metric not in table or table[metric].isna().all():
        return None
    rows, _, at, read = compare(table, metric, lasts.pop(), [])
    return rows, at, f"{test_name(read.statistic)}, Holm-corrected, 5%"


def difference_sentence(gathered: Any, metric: str, ranked: list[str]) -> str | None:
    """Which runs differ from the top one at the last generation, as compare marks them."""
    found = compared_at_end(gathered, metric, ranked)
    if found is None:
        return None
    rows, at, how = found
    labels = {run.name: f'"{run.label}"' for run in gathered.runs}  # labels hold commas
    differ = [labels[row["run"]] for row in rows[1:] if row["differs"]]
    same = [labels[row["run"]] for row in rows[1:] if not row["differs"]]
    top = labels[rows[0]["run"]]
    if not differ:
        return f"At generation {at} no run's {metric} differs clearly from {top}'s ({how})."
    verb = "differs" if len(differ) == 1 else "differ"
    text = f"At generation {at}, {', '.join(differ)} {verb} clearly from {top} in {metric}"
    text += f"; {', '.join(same)} {'does' if len(same) == 1 else 'do'} not" if same else ""
    return text + f" ({how}; as `model-collapse compare` marks)."


def theory_sentence(run: Any, intervals: Any, metric: str) -> str | None:
    """The seeds' last mean against the closed form's mean and its 95% band for the mean
    of that many seeds (the theory's own spread, not a t interval that assumes symmetry)."""
    series = run.theory.get(metric, [])
    means = [s for s in series if s["role"] == "mean"]
    bands = [s for s in series if s["role"] == "mean band"]
    rows = intervals[(intervals["run"] == run.name) & (intervals["metric"] == metric)]
    if not means or rows.empty:
        return None
    last = rows.iloc[-1]
    g = int(last["generation"])
    expected = means[0]["y"][g]
    if expected is None:
        return None
    said = (
        f"Theory expects a mean {metric} of {number(expected)} at generation {g} for "
        f"{run.label}; the mean of its {int(last['n'])} seeds is {number(last['mean'])}"
    )
    low = bands[0]["low"][g] if bands else None
    high = bands[0]["high"][g] if bands else None
    if low is None or high is None or not np.isfinite(last["mean"]):
        return said + "."
    inside = low <= last["mean"] <= high
    where = "inside" if inside else "outside (by chance about 1 time in 20)"
    return f"{said}, {where} the theory's 95% band for such a mean [{number(low)}, {number(high)}]."


def collapse_sentence(run: Any) -> str | None:
    if run.collapse is None:
        return None
    at = run.collapse["collapsed_at"].dropna()
    if not len(at):
        return None
    return (
        f"Under {run.label}, the model collapsed in {len(at)} of {len(run.collapse)} seeds, "
        f"first at generation {int(at.min())}."
    )


def reading(gathered: Any) -> list[str]:
    """The sentences of the report's reading, in order."""
    intervals = gathered.intervals
    metrics = list(dict.fromkeys(intervals["metric"]))
    sentences = []
    for metric in metrics[:METRICS_READ]:
        sentences += metric_sentences(gathered, metric)
        for run in gathered.runs:
            line = theory_sentence(run, intervals, metric)
            if line:
                sentences.append(line)
    if len(metrics) > METRICS_READ:
        rest = ", ".join(metrics[METRICS_READ:])
        sentences.append(f"The charts below show the other metrics too: {rest}.")
    sentences += [line for run in gathered.runs if (line := collapse_sentence(run))]
    if gathered.failed:
        names = ", ".join(f"{run.label} ({run.status})" for run in gathered.failed)
        sentences.append(f"{len(gathered.failed)} runs are not shown: {names}.")
    return sentences
