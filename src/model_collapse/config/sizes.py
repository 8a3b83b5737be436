"""Will a run fit in this machine's memory? An estimate from the config, before any work.

A run's biggest arrays hold every seed at once: the real training sets, each generation's
training set and samples, every earlier synthetic set for a regime that keeps history,
and what a family allocates while it fits (a mixture's component densities, a
categorical's probabilities). The estimate counts these in 8-byte numbers, times a
factor for the temporaries beside them, and refuses a run that needs more than the
memory available now, naming the keys that size it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model_collapse.core.errors import UserInputError

if TYPE_CHECKING:  # types only: configuration imports no plug-in
    from model_collapse.config.schema import Config
    from model_collapse.families.base import Family

WORD = 8  # bytes of a float64 or int64
TEMPORARIES = 4  # copies a generation makes beside its training set and samples


@dataclass(frozen=True)
class Need:
    what: str
    bytes: float
    keys: str  # the keys that size it


@dataclass(frozen=True)
class Shape:
    """The real data's shape as the config tells it before any data are read (a source
    declares it, ``Source.shape``), or as the data have it once read: the numbers in a
    row, the categories (a categorical source's), the rows of a test set drawn from a
    truth (0 where it is a share of the data)."""

    dim: int
    categories: int = 0
    n_test: int = 0

    @classmethod
    def unknown(cls, kind: str) -> Shape:
        """A bound where the source does not say (a file's columns are read later): one
        token or category; else two numbers, and the label of a regression."""
        return cls(1 if kind in ("text", "categorical") else 2 + (kind == "regression"))


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), else the machine's physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def needs(
    config: Config,
    family: Family,
    n_train: int,
    shape: Shape,
    history: bool,
    extra: Sequence[Need] = (),
) -> list[Need]:
    """The large arrays of a run with these data sizes, in bytes; ``extra`` are what its
    metrics declare they need (``Metric.memory``)."""
    seeds, n, generations = (
        config.experiment.seeds,
        config.sampling.n,
        config.experiment.generations,
    )
    dim, n_test = shape.dim, shape.n_test
    per_set = seeds * n * dim * WORD
    out = [
        Need(
            "the real training sets",
            seeds * n_train * dim * WORD,
            "experiment.seeds or source.n_train",
        )
    ]
    if n_test:  # a test set drawn from a truth
        out.append(Need("the real test set", TEMPORARIES * n_test * dim * WORD, "source.n_test"))
    if not config.family.exact:
        out.append(
            Need("each generation's sets", TEMPORARIES * per_set, "experiment.seeds or sampling.n")
        )
        if history:
            out.append(
                Need(
                    "every earlier synthetic set (the regime keeps them all)",
                    2 * generations * per_set,
                    "experiment.generations, experiment.seeds or sampling.n",
                )
            )
    if family.memory is not None:  # what the family allocates while fitting, per item
        fitting = seeds * n * family.memory(config, dim)
        out.append(Need("the family's fit", fitting, "experiment.seeds or sampling.n"))
    if shape.categories:
        out.append(
            Need(
                "the category probabilities",
                TEMPORARIES * seeds * shape.categories * WORD,
                "experiment.seeds or source.categories",
            )
        )
    return [*out, *extra]


def check_memory(
    config: Config,
    family: Family,
    n_train: int,
    shape: Shape,
    history: bool,
    extra: Sequence[Need] = (),
) -> None:
    """Refuse a run whose arrays will not fit in the memory available, with the estimate."""
    wanted = needs(config, family, n_train, shape, history, extra)
    total = sum(need.bytes for need in wanted)
    free = available_memory()
    if total > free:
        biggest = max(wanted, key=lambda need: need.bytes)
        raise UserInputError(
            f"this run needs about {_size(total)} of memory, more than the {_size(free)} "
            f"available ({biggest.what}: {_size(biggest.bytes)}); lower {biggest.keys}"
        )


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError
