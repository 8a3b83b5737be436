"""k-means for many seeds at once: the start scikit-learn's GaussianMixture and
Shumailov et al.'s notebook give EM (``init_params = "kmeans"``).

Centres start by greedy k-means++ (Arthur and Vassilvitskii 2007, as scikit-learn runs
it: for each next centre, 2 + ln k candidate points drawn with probability proportional
to their squared distance to the nearest chosen centre, and the one that leaves the
smallest sum of squared distances kept), then Lloyd's iterations until no point changes
cluster. Every seed is one row of the batch; the labels are returned as one-hot
responsibilities, from which the mixture's first M-step is taken, as scikit-learn takes
it.
"""

from __future__ import annotations

import numpy as np

MAX_ROUNDS = 300  # Lloyd's iterations at most (scikit-learn's KMeans default)


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(S, n, k): each point's squared distance to each centre."""
    return np.asarray(((x[:, :, None, :] - centres[:, None, :, :]) ** 2).sum(axis=-1))


def plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ centres (S, k, d)."""
    seeds, n, _ = x.shape
    every = np.arange(seeds)
    trials = 2 + int(np.log(k))
    centres = [x[every, rng.integers(0, n, size=seeds)]]
    nearest = squared_distances(x, centres[0][:, None])[..., 0]  # (S, n)
    for _ in range(1, k):
        total = nearest.sum(axis=1, keepdims=True)
        # all points on the chosen centres: any point will do (the mixture is degenerate)
        share = np.where(total > 0, nearest / np.where(total > 0, total, 1), 1.0 / n)
        draws = rng.random((seeds, trials))
        picks = (share.cumsum(axis=1)[:, None, :] < draws[..., None]).sum(axis=2).clip(max=n - 1)
        candidates = x[every[:, None], picks]  # (S, trials, d)
        after = np.minimum(nearest[:, None, :], squared_distances(x, candidates).transpose(0, 2, 1))
        best = after.sum(axis=2).argmin(axis=1)  # (S,)
        centres.append(candidates[every, best])
        nearest = after[every, best]
    return np.stack(centres, axis=1)


def kmeans_responsibilities(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(S, n, k) one-hot: each point's cluster after Lloyd's iterations from k-means++."""
    centres = plus_plus(x, k, rng)
    labels = squared_distances(x, centres).argmin(axis=2)
    for _ in range(MAX_ROUNDS):
        resp = np.eye(k)[labels]  # (S, n, k)
        counts = resp.sum(axis=1)  # (S, k)
        sums = np.swapaxes(resp, 1, 2) @ x  # (S, k, d)
        # an emptied cluster keeps its centre, as a point no data chose
        centres = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], centres)
        moved = squared_distances(x, centres).argmin(axis=2)
        if np.array_equal(moved, labels):
            break
        labels = moved
    return np.asarray(np.eye(k)[labels])
