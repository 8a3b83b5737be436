"""The distance work of the feature metrics (precision, recall, the nearest training image,
the classifier's forward pass), in NumPy, or in torch on the run's device where that is
a GPU (``experiment.device = "cuda"``; ``device`` names the torch device, "" for NumPy):
a generation of vae-mnist spends seconds here on a CPU. Both compute the same float64
formula, so their values agree to rounding (a distance to about 1e-12 of itself; a point
exactly on a ball's edge may fall either way).
torch is imported only on that path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BUDGET = 64 * 2**20  # bytes of one block of a distance matrix


def rows_per_block(columns: int) -> int:
    """Rows of a distance matrix with this many columns that fit in BUDGET."""
    return max(1, BUDGET // (8 * max(columns, 1)))


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, never negative."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def _torch_blocks(a: np.ndarray, b: np.ndarray, device: str, reduce: Any) -> np.ndarray:
    """``reduce`` of each block of rows of the squared distances from a to b, on device."""
    import torch

    left = torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)
    right = torch.as_tensor(np.asarray(b, dtype=np.float64), device=device)
    right_norms = (right * right).sum(1)[None, :]
    out = []
    rows = rows_per_block(len(b))
    for start in range(0, len(left), rows):
        block = left[start : start + rows]
        d = (block * block).sum(1)[:, None] + right_norms - 2.0 * (block @ right.T)
        out.append(reduce(torch.clamp(d, min=0.0)).cpu().numpy())
    return np.concatenate(out) if out else np.empty(0)


def kth_neighbour_distance(points: np.ndarray, k: int, device: str = "") -> np.ndarray:
    """Each point's distance to its k-th nearest other point (squared)."""
    if device:
        # the point itself is its own 0th neighbour, at distance 0: the (k+1)-th smallest
        return _torch_blocks(points, points, device, lambda d: d.kthvalue(k + 1, dim=1).values)
    out = np.empty(len(points))
    rows = rows_per_block(len(points))
    for start in range(0, len(points), rows):
        d = squared_distances(points[start : start + rows], points)
        out[start : start + rows] = np.partition(d, k, axis=1)[:, k]
    return out


def inside(
    points: np.ndarray, centres: np.ndarray, radii: np.ndarray, device: str = ""
) -> np.ndarray:
    """Whether each point lies in some ball (centre, squared radius)."""
    if device:
        import torch

        limit = torch.as_tensor(np.asarray(radii, dtype=np.float64), device=device)[None, :]
        return _torch_blocks(points, centres, device, lambda d: (d <= limit).any(dim=1))
    hit = np.zeros(len(points), dtype=bool)
    rows = rows_per_block(len(centres))
    for start in range(0, len(points), rows):
        d = squared_distances(points[start : start + rows], centres)
        hit[start : start + rows] = (d <= radii[None, :]).any(axis=1)
    return hit


def nearest_distance(points: np.ndarray, train: np.ndarray, device: str = "") -> np.ndarray:
    """Each point's distance to its nearest training point."""
    if device:
        return np.sqrt(_torch_blocks(points, train, device, lambda d: d.min(dim=1).values))
    out = np.empty(len(points))
    rows = rows_per_block(len(train))
    for start in range(0, len(points), rows):
        d = squared_distances(points[start : start + rows], train)
        out[start : start + rows] = np.sqrt(d.min(axis=1))
    return out


def gpu_of(config: Any) -> str:
    """ "cuda" where the run computes on a GPU, else "" (NumPy)."""
    return "cuda" if config.experiment.device == "cuda" else ""
