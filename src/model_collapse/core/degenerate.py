"""Degenerate models are results, not crashes.

A Gaussian whose samples all coincide has a singular covariance; it is still a valid
model (a point mass, or a Gaussian on a line), and it samples as one. These helpers
factorise such covariances and tell, per seed, whether a fit has *collapsed* (the state
the whole project exists to show) or *diverged* (its numbers overflowed float64).
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(float).eps)
# A spread below a few units in the last place of the mean is rounding, not variance:
# samples drawn from it are the mean itself, give or take an ulp.
RESOLUTION = 4 * EPS


def cholesky_where_possible(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of (..., d, d) matrices, and a mask of those that have one.

    Matrices without a factor (singular to float64 precision) get NaN. The batched call
    comes first, so a run without singular matrices computes exactly what it always did.
    """
    try:
        return np.linalg.cholesky(cov), np.ones(cov.shape[:-2], dtype=bool)
    except np.linalg.LinAlgError:
        pass
    d = cov.shape[-1]
    flat = cov.reshape(-1, d, d)
    factors = np.full_like(flat, np.nan)
    ok = np.zeros(len(flat), dtype=bool)
    for i, matrix in enumerate(flat):
        try:
            factors[i] = np.linalg.cholesky(matrix)
            ok[i] = True
        except np.linalg.LinAlgError:
            continue
    return factors.reshape(cov.shape), ok.reshape(cov.shape[:-2])


def psd_factor(cov: np.ndarray) -> np.ndarray:
    """F with F F^T = cov for positive semi-definite (..., d, d) matrices.

    The Cholesky factor where there is one; for a singular matrix the symmetric root with
    eigenvalues clipped at zero, so a collapsed Gaussian samples on its line or point.
    """
    factors, ok = cholesky_where_possible(cov)
    if ok.all():
        return factors
    values, vectors = np.linalg.eigh(cov[~ok])
    factors[~ok] = vectors * np.sqrt(np.maximum(values, 0.0))[..., None, :]
    return factors


def singular_gaussian(mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Per seed: is N(mean (S, d), cov (S, d, d)) collapsed? (S,) bool.

    Collapsed means singular to float64 precision: the smallest eigenvalue is at most
    d * eps times the largest (the numerical rank is below d: a line, a plane), or every
    spread is below the resolution of float64 at the mean (a point mass). Non-finite
    matrices are not collapsed; :func:`overflowed` reports them.
    """
    d = cov.shape[-1]
    finite = np.isfinite(cov).all(axis=(-2, -1)) & np.isfinite(mean).all(axis=-1)
    floor = (RESOLUTION * np.abs(np.where(np.isfinite(mean), mean, 0.0)).max(axis=-1)) ** 2
    out = np.zeros(cov.shape[0], dtype=bool)
    if d == 1:
        out[finite] = cov[finite, 0, 0] <= floor[finite]
        return out
    values = np.linalg.eigvalsh(cov[finite])  # ascending
    smallest, largest = values[:, 0], values[:, -1]
    out[finite] = (smallest <= d * EPS * largest) | (largest <= floor[finite])
    return out


def overflowed(*arrays: np.ndarray) -> np.ndarray:
    """Per seed (the leading axis): does any of these arrays hold inf or NaN? (S,) bool."""
    bad = np.zeros(len(arrays[0]), dtype=bool)
    for array in arrays:
        bad |= ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    return bad
