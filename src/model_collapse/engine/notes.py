"""The run's log, ``run.log``: what a run records beside its numbers.

Seeds whose model collapsed or diverged (and when: ``collapse.csv``), metric values that
are undefined or infinite and why, and the first time each numpy RuntimeWarning came up.
No RuntimeWarning reaches the terminal. The log is a function of the run alone, so a
resumed run writes the same bytes as an uninterrupted one; its own memory (who collapsed
when, what was reported) travels in the run's state.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

from model_collapse.engine.capabilities import Degenerates, can

DIVERGED = "its fitted state overflowed float64 (holds inf or NaN)"


def seed_list(seeds: np.ndarray | list[int]) -> str:
    """'seed 3' or 'seeds 1, 4, 9' (the first ten, then how many in all)."""
    seeds = [int(s) for s in seeds]
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    shown = ", ".join(str(s) for s in seeds[:10])
    return f"seeds {shown}" + (f", ... ({len(seeds)} seeds)" if len(seeds) > 10 else "")


class RunNotes:
    """Collects one generation's log lines and remembers what earlier ones reported.

    Parameters
    ----------
    seeds : how many seeds the run has.
    collapse : the family's words for a collapsed fit ("" if it does not report collapse).
    notes : the memory saved with the last completed generation, on resume.
    """

    def __init__(
        self,
        seeds: int,
        collapse: str,
        notes: dict[str, Any] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        notes = notes or {}
        self.warn = warn  # also shown to the person running (observers' warning)
        self.collapse = collapse
        self.collapsed_at = np.array(notes.get("collapsed_at", [-1] * seeds), dtype=np.int64)
        self.diverged_at = np.array(notes.get("diverged_at", [-1] * seeds), dtype=np.int64)
        self.warned: set[str] = set(notes.get("warned", []))
        # per metric, the seeds whose undefined values were reported (once a seed)
        self.reported: dict[str, list[int]] = dict(notes.get("reported", {}))
        self.lines: list[str] = []

    def state(self) -> dict[str, Any]:
        return {
            "collapsed_at": self.collapsed_at.tolist(),
            "diverged_at": self.diverged_at.tolist(),
            "warned": sorted(self.warned),
            "reported": self.reported,
        }

    def guard(self, generation: int, values: dict[str, Any], guards: dict[str, Any]) -> None:
        """Warn where a guarded metric exceeds its factor times its baseline column."""
        for name, guard in guards.items():
            if name not in values or guard.baseline not in values:
                continue
            ratio = np.asarray(values[name]) / np.asarray(values[guard.baseline])
            worst = int(np.nanargmax(ratio)) if np.isfinite(ratio).any() else -1
            if worst < 0 or ratio[worst] <= guard.factor:
                continue
            line = (
                f"generation {generation}: {name} is {ratio[worst]:.2g}x {guard.baseline} "
                f"({float(values[name][worst]):.4g} vs {float(values[guard.baseline][worst]):.4g}"
                f", seed {worst}), above the {guard.factor:g}x allowed: {guard.advice}"
            )
            self.lines.append(line)
            if self.warn is not None:
                self.warn(line)

    def take(self) -> str:
        """This generation's lines, as text for run.log; starts the next generation."""
        text = "".join(f"{line}\n" for line in self.lines)
        self.lines = []
        return text

    @contextmanager
    def watch(self, generation: int, stage: str) -> Iterator[list[str]]:
        """Catch numpy's RuntimeWarnings: the first of each kind goes to the log.

        Yields a list that holds the messages caught, once the block is done. Other
        warnings are passed on as they were raised.
        """
        caught_messages: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught_messages
        for w in caught:
            if not issubclass(w.category, RuntimeWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                continue
            message = str(w.message)
            caught_messages.append(message)
            if f"{stage}: {message}" not in self.warned:
                self.warned.add(f"{stage}: {message}")
                self.lines.append(
                    f"generation {generation}: {stage}: {message} (noted once; values it "
                    "made undefined are reported below)"
                )

    def check_model(self, generation: int, model: Any) -> None:
        """Record the seeds whose fit collapsed or diverged for the first time."""
        if not can(model, Degenerates):
            return
        fit = cast(Degenerates, model)
        with self.watch(generation, "collapse check"):
            news = [
                (fit.collapsed(), self.collapsed_at, f"collapsed: {self.collapse}"),
                (fit.diverged(), self.diverged_at, f"diverged: {DIVERGED}"),
            ]
        for status, first_at, what in news:
            new = np.flatnonzero(status & (first_at < 0))
            first_at[new] = generation
            if len(new):
                self.lines.append(f"generation {generation}: {seed_list(new)} {what}")

    def measure(
        self, generation: int, name: str, compute: Callable[[], Any], quiet: bool = False
    ) -> np.ndarray:
        """A metric's values; seeds where it first turns NaN or infinite are logged, with why
        (unless ``quiet``: a value known to be undefined there)."""
        with self.watch(generation, f"metric {name}") as caught:
            values = np.asarray(compute(), dtype=float)
        bad = np.flatnonzero(~np.isfinite(values)) if not quiet else np.zeros(0, dtype=int)
        new = sorted(set(bad.tolist()) - set(self.reported.get(name, [])))
        if new:
            self.reported[name] = sorted([*self.reported.get(name, []), *new])
            kinds = sorted({"NaN" if np.isnan(values[s]) else "infinite" for s in new})
            self.lines.append(
                f"generation {generation}: {name} is {' or '.join(kinds)} for "
                f"{seed_list(new)}: {self.reason(new, caught)}"
            )
        return values

    def reason(self, seeds: list[int], caught: list[str]) -> str:
        """Why values of these seeds are undefined: their model's state, the warnings."""
        why = []
        for first_at, what in ((self.collapsed_at, "collapsed"), (self.diverged_at, "diverged")):
            hit = [s for s in seeds if first_at[s] >= 0]
            if len(hit) == 1:
                why.append(f"its model {what} at generation {first_at[hit[0]]}")
            elif hit:
                why.append(f"the models of {seed_list(hit)} {what} (collapse.csv says when)")
        why += sorted(set(caught))
        return "; ".join(why) or "the metric is undefined for this model"

    def collapse_table(self) -> str | None:
        """``collapse.csv``: per seed, the first generation that collapsed and diverged."""
        if not self.collapse:
            return None

        def cell(at: int) -> str:
            return str(at) if at >= 0 else ""

        rows = [
            f"{seed},{cell(c)},{cell(d)}\n"
            for seed, (c, d) in enumerate(zip(self.collapsed_at, self.diverged_at, strict=True))
        ]
        return "seed,collapsed_at,diverged_at\n" + "".join(rows)
