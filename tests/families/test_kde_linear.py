import numpy as np
import pytest
from scipy.stats import gaussian_kde

from model_collapse.core.errors import UserInputError
from model_collapse.families.kde import KDEModel
from model_collapse.families.linear import LinearModel


def test_kde_kernel_matches_scipy_and_samples_have_its_moments():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 300, 2))
    for rule in ("scott", "silverman"):
        model = KDEModel(rule).fit(x, rng)
        np.testing.assert_allclose(model.kernel_[0], gaussian_kde(x[0].T, rule).covariance)
    model = KDEModel(0.5).fit(x, rng)
    np.testing.assert_allclose(model.kernel_[0], 0.25 * np.eye(2))
    draws = model.sample(100_000, rng)[0]
    _, cov = model.moments()
    centred = draws - draws.mean(0)
    # standard error of a sample variance: sqrt((m4 - var^2) / n)
    se = np.sqrt(((centred**4).mean(0) - centred.var(0) ** 2) / len(draws))
    assert np.all(np.abs(draws.var(0) - np.diag(cov[0])) < 5 * se)


def test_linear_fit_recovers_ols_and_samples_on_the_fixed_design():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 80, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=(2, 80))
    data = np.concatenate([x, y[..., None]], axis=2)
    model = LinearModel(estimator="unbiased").fit(data, rng)
    for s in range(2):
        coef, res, *_ = np.linalg.lstsq(x[s], y[s], rcond=None)
        np.testing.assert_allclose(model.coef_[s], coef)
        np.testing.assert_allclose(model.noise_[s] ** 2, res[0] / (80 - 3))
    again = model.sample(80, rng)
    np.testing.assert_array_equal(again[..., :3], x)  # the design never changes


def test_later_generations_label_generation_0s_design():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 40, 2))
    data = np.concatenate([x, x.sum(axis=2, keepdims=True) + rng.normal(size=(2, 40, 1))], 2)
    first = LinearModel().fit(data, rng)
    shuffled = data[:, rng.permutation(40)]  # a later training set: rows in another order
    later = LinearModel().start_from(first, first).fit(shuffled, rng)
    np.testing.assert_array_equal(later.sample(40, rng)[..., :2], x)
    restored = LinearModel().set_state(later.get_state())
    np.testing.assert_array_equal(restored.design_, x)
    old = {k: v for k, v in later.get_state().items() if k != "design_"}
    with pytest.raises(UserInputError, match="run the run again with --restart"):
        LinearModel().set_state(old)
