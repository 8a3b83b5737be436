"""Explicit randomness: every random draw comes from a stream spawned from one root seed.

A stream is keyed by (stage, generation): ``SeedSequence(root, spawn_key=(stage, generation))``.
All seeds of a run are rows of the arrays drawn from that stream, which is what lets the
loop run every seed as one batched array computation. Families that fit seed by seed
(EM, KDE) take one child stream per seed, keyed by (stage, generation, seed). Because a
stream depends only on its key, a resumed run draws exactly what an uninterrupted one did.
"""

from __future__ import annotations

import hashlib

import numpy as np

STAGES = {"source": 0, "regime": 1, "fit": 2, "sample": 3, "metric": 4, "resample": 5}
SOURCE_TRAIN, SOURCE_TEST = -1, -2  # "generation" slots of the source stage


def stage_key(stage: str) -> int:
    """The spawn key of a stage: the built-in ones are fixed (results depend on them); any
    other name (a plug-in's own stage) gets a number from its SHA-256, far above them."""
    if stage in STAGES:
        return STAGES[stage]
    return 1000 + int.from_bytes(hashlib.sha256(stage.encode()).digest()[:4], "big")


def of_lineage(stage: str, lineage: str) -> str:
    """A stage's name in one lineage: the first lineage ("") keeps the stage's own name, so a
    run with one lineage draws what every run has always drawn; another's is its own."""
    return f"{stage}@{lineage}" if lineage else stage


def stream(root: int, stage: str, generation: int) -> np.random.Generator:
    """The generator for one stage of one generation (all seeds as array rows)."""
    key = (stage_key(stage), generation + 2)  # +2 keeps the source slots non-negative
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=key)))


def seed_streams(root: int, stage: str, generation: int, n_seeds: int) -> list[np.random.Generator]:
    """One independent generator per seed for one stage of one generation."""
    base = (stage_key(stage), generation + 2)
    return [
        np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(*base, s))))
        for s in range(n_seeds)
    ]


def weighted_rows(weight: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices (S, size) drawn with replacement in proportion to ``weight`` (S, n)."""
    seeds, n = weight.shape
    cumulative = np.cumsum(weight, axis=1)
    draws = rng.random((seeds, size)) * cumulative[:, -1:]
    rows = np.stack([np.searchsorted(cumulative[s], draws[s], side="right") for s in range(seeds)])
    return np.minimum(rows, n - 1)  # a draw that rounds onto the total takes the last row


def random_subsets(rng: np.random.Generator, n_seeds: int, pool: int, size: int) -> np.ndarray:
    """Row indices of a uniform subset without replacement per seed: shape (S, size)."""
    keys = rng.random((n_seeds, pool))
    return np.argsort(keys, axis=1, kind="stable")[:, :size]


def systematic_counts(share: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """How often to draw each item, in proportion to ``share``, round(size) in all: each
    count the floor or the ceiling of its expectation (systematic resampling, Kitagawa
    1996). The items go in a random order, so which of them round up is not their order."""
    order = rng.permutation(len(share))
    edges = np.cumsum(share[order]) * (round(size) / share.sum())
    edges[-1] = round(size)  # not a rounding error's item more or less
    reached = np.floor(np.concatenate([[0.0], edges]) + rng.random()).astype(np.int64)
    counts = np.empty(len(share), dtype=np.int64)
    counts[order] = np.diff(reached)
    return counts
