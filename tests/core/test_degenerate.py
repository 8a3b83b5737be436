"""Singular covariances factorise; collapse and divergence are told apart per seed."""

import numpy as np

from model_collapse.core.degenerate import (
    cholesky_where_possible,
    overflowed,
    psd_factor,
    singular_gaussian,
)


def test_psd_factor_is_cholesky_where_it_exists_and_a_root_where_not():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    regular = a @ a.T + np.eye(3)
    line = np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])  # rank 1: a Gaussian on a line
    cov = np.stack([regular, line, np.zeros((3, 3))])
    factor = psd_factor(cov)
    assert np.array_equal(factor[0], np.linalg.cholesky(regular))
    assert np.allclose(factor @ np.swapaxes(factor, 1, 2), cov, atol=1e-12)
    _, ok = cholesky_where_possible(cov)
    assert ok.tolist() == [True, False, False]


def test_singular_gaussian_per_seed():
    mean = np.array([[1.0], [1.0], [0.0], [np.nan]])
    var = np.array([0.0, (2 * np.finfo(float).eps) ** 2, 1e-300, 1.0])
    got = singular_gaussian(mean, var[:, None, None])
    # exact zero; spread below float64's resolution at the mean; tiny but resolvable at 0;
    # a non-finite fit is not "collapsed" (it diverged)
    assert got.tolist() == [True, True, False, False]
    flat = np.array([[1.0, 1.0], [1.0, 1.0]])  # all mass on the diagonal line
    both = singular_gaussian(np.zeros((2, 2)), np.stack([flat, np.eye(2)]))
    assert both.tolist() == [True, False]


def test_overflowed_looks_at_every_array_per_seed():
    a = np.array([[1.0, np.inf], [1.0, 2.0], [0.0, 0.0]])
    b = np.array([0.0, 0.0, np.nan])
    assert overflowed(a, b).tolist() == [True, False, True]
