"""Built-in ground truths: sample moments agree with the closed forms within standard errors."""

import numpy as np
import pytest

from model_collapse.sources import load_real_data
from model_collapse.sources.truths import make_gmm, make_student_t
from tests.conftest import make_config

N = 200_000


def _check_moments(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> None:
    # standard error of a sample mean is sd / sqrt(N); of a variance about sqrt(Var[x^2] / N)
    se_mean = np.sqrt(np.diag(cov) / len(x))
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se_mean)
    centred = x - x.mean(0)
    se_var = np.sqrt(((centred**2 - np.diag(cov)) ** 2).mean(0) / len(x))
    assert np.all(np.abs(centred.var(0) - np.diag(cov)) < 5 * se_var)


def test_gaussian_with_covariance():
    config = make_config(
        source={
            "dim": 2,
            "mean": [1.0, -2.0],
            "cov": [[2.0, 0.6], [0.6, 1.0]],
            "n_train": 10,
            "n_test": N,
        }
    )
    real = load_real_data(config, "continuous")
    assert real.train.shape == (4, 10, 2) and real.test.shape == (N, 2)
    _check_moments(real.test, real.truth.mean, real.truth.cov)
    corr = np.corrcoef(real.test.T)[0, 1]
    assert abs(corr - 0.6 / np.sqrt(2.0)) < 5 * (1 - corr**2) / np.sqrt(N)


def test_gmm_and_student_t_moments():
    for make in (make_gmm, make_student_t):
        name = make.__name__.removeprefix("make_")
        extra = {"df": 8.0} if name == "student_t" else {}
        config = make_config(source={"name": name, "dim": 2, **extra})
        truth = make(config.source)
        x = truth.sample((N,), np.random.default_rng(1))
        _check_moments(x, truth.mean, truth.cov)


def test_zipf_frequencies():
    config = make_config(
        source={"name": "zipf", "categories": 20, "n_test": N}, family={"name": "categorical"}
    )
    real = load_real_data(config, "categorical")
    p = real.truth.probs
    freq = np.bincount(real.test[:, 0], minlength=20) / N
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N))
    assert real.categories == 20


def test_moons_and_linear_shapes():
    moons = load_real_data(make_config(source={"name": "moons"}), "continuous")
    assert moons.test.shape[1] == 2 and moons.truth.mean is None
    linear = load_real_data(
        make_config(source={"name": "linear", "dim": 3, "noise": 0.5, "n_test": N}), "regression"
    )
    x, y = linear.test[:, :3], linear.test[:, 3]
    residual = y - x @ linear.truth.weights
    assert abs(residual.var() - 0.25) < 5 * 0.25 * np.sqrt(2 / N)


def test_seeds_get_different_real_training_sets():
    real = load_real_data(make_config(), "continuous")
    assert not np.allclose(real.train[0], real.train[1])


def test_kind_mismatch_is_refused():
    from model_collapse.core.errors import UserInputError

    with pytest.raises(UserInputError, match="gives continuous data but family"):
        load_real_data(make_config(), "categorical")
