"""The verdict of ``run --decompose``: which cause drives the collapse, and by how much.

Each arm's drift is how much farther its declared statistic of the headline metric lies
from the real level at the last generation than at generation 0 (the reading's own
distance: the log ratio for a ratio, the value for a distance), so each arm is measured
from its own start. The cause whose arm drifts farther dominates, where compare's test
(Holm-corrected, 5%) finds the two arms' last values apart; otherwise the verdict says
neither is shown to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.output.reading import compared_at_end, first_and_last, number
from model_collapse.sweeps.decompose import FUNCTIONAL, ORDINARY, STATISTICAL


def decomposition(gathered: Any) -> list[str]:
    """Two sentences from the three arms' numbers."""
    from model_collapse.api import load_config
    from model_collapse.output.verdict import headline_metric
    from model_collapse.sweeps.compare import STATISTIC_WORDS, reading_of

    metric, note = _shared_headline(gathered, headline_metric(gathered))
    if metric is None:
        return ["No metric of these runs declares how it is read, so no cause is named."]
    read = reading_of(metric)
    starts, ends = first_and_last(gathered.intervals, metric)
    if not {ORDINARY, STATISTICAL, FUNCTIONAL} <= set(ends):
        return [f"Not every arm computed {metric}, so no cause is named."]
    first = {arm: float(starts[arm]["value"]) for arm in ends}
    last = {arm: float(ends[arm]["value"]) for arm in ends}
    drift = {arm: read.distance(last[arm]) - read.distance(first[arm]) for arm in ends}
    arms = {
        run.name: (run.family, load_config(run.directory / "config.toml").sampling.n)
        for run in gathered.runs
    }
    generation = int(ends[ORDINARY]["generation"])
    seeds = int(ends[ORDINARY]["n"])

    def moved(arm: str) -> str:
        family, n = arms[arm]
        start, end = number(first[arm]), number(last[arm])
        return f"the {arm} arm ({family}, n = {n}) moves from {start} to {end}"

    what = f"{metric} ({STATISTIC_WORDS[read.statistic]} of {seeds} seeds)"
    found = compared_at_end(gathered, metric, [STATISTICAL, FUNCTIONAL])
    apart = found is not None and bool(found[0][1]["differs"])
    # the two arms alone: one comparison, which Holm's correction leaves as it is
    how = (
        f"the two arms alone, {found[2].replace(', Holm-corrected', '')}"
        if found is not None
        else "no test: the arms' lengths differ"
    )
    cause, other = (
        ("statistical", "functional")
        if drift[STATISTICAL] >= drift[FUNCTIONAL]
        else ("functional", "statistical")
    )
    lead = (
        f"{cause.capitalize()} error dominates" if apart else "Neither cause is shown to dominate"
    )
    lines = [
        f"{lead} the drift of {what}: by generation {generation}, {moved(STATISTICAL)}, "
        f"{moved(FUNCTIONAL)}, and the ordinary loop moves from {number(first[ORDINARY])} "
        f"to {number(last[ORDINARY])}."
    ]
    lines.append(
        _how_much(drift[f"{cause}-only"], drift[f"{other}-only"], cause, other, apart, how)
    )
    return lines + ([note] if note else [])


def _shared_headline(gathered: Any, headline: str | None) -> tuple[str | None, str]:
    """The headline where every arm computed it; else the first metric with a declared
    reading that all three did, and a sentence that says why (the empirical arm of a
    language model has no probabilities, so no perplexity)."""
    from model_collapse.sweeps.compare import reading_of

    rows = gathered.intervals[gathered.intervals["n"] > 0]
    by_arm = [
        set(rows[rows["run"] == arm]["metric"]) for arm in (ORDINARY, STATISTICAL, FUNCTIONAL)
    ]
    shared = set.intersection(*by_arm)
    if headline is None or headline in shared:
        return headline, ""
    common = [m for m in dict.fromkeys(rows["metric"]) if m in shared and reading_of(m).better]
    common.sort(key=lambda m: reading_of(m).level is None)  # a real level first: drift from it
    if not common:
        return None, ""
    return common[0], (
        f"{headline} is not read: the statistical-only arm does not compute it (its family "
        f"redraws its training items and has no probabilities); {common[0]} is."
    )


def write_decomposition(directory: Any) -> list[str]:
    """The decomposition of a finished ``run --decompose`` folder, appended to its
    verdict.txt (after the suite's own verdict); the sentences."""
    from model_collapse.output.report import gather
    from model_collapse.output.verdict import add_to_verdict

    lines = decomposition(gather(directory, ends_only=True))
    add_to_verdict(directory, lines)
    return lines


def _how_much(big: float, small: float, cause: str, other: str, apart: bool, how: str) -> str:
    ends = (
        "their last values differ clearly" if apart else "their last values do not differ clearly"
    )
    if big <= 0:
        return f"Neither arm drifts away from the real level; {ends} ({how})."
    if small <= 0 or not np.isfinite(big / small):
        return f"The {cause} arm drifts while the {other} arm does not; {ends} ({how})."
    return (
        f"The {cause} arm drifts {big / small:.2g} times as far as the {other} arm; {ends} ({how})."
    )
