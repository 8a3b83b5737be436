"""Gaussian family: MLE fits, batched sampling, and the exact sufficient-statistics path."""

import numpy as np
from scipy import stats

from model_collapse.core.data import GaussianStats
from model_collapse.families.gaussian import GaussianModel, sample_wishart


def test_fit_is_the_mle_per_seed():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 40, 2))
    model = GaussianModel("mle").fit(x, rng)
    for s in range(3):
        np.testing.assert_allclose(model.mean_[s], x[s].mean(0))
        np.testing.assert_allclose(model.covariance_[s], np.cov(x[s].T, bias=True))
    unbiased = GaussianModel("unbiased").fit(x, rng)
    np.testing.assert_allclose(unbiased.covariance_[1], np.cov(x[1].T))


def test_fit_from_statistics_equals_fit_from_samples():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 30, 3)), rng.normal(2.0, 3.0, size=(2, 50, 3))
    joined = GaussianStats.from_samples(a).combine(GaussianStats.from_samples(b))
    direct = GaussianModel().fit(np.concatenate([a, b], axis=1), rng)
    pooled = GaussianModel().fit(joined, rng)
    np.testing.assert_allclose(pooled.mean_, direct.mean_)
    np.testing.assert_allclose(pooled.covariance_, direct.covariance_)


def test_samples_have_the_model_moments():
    rng = np.random.default_rng(2)
    model = GaussianModel(bias=0.5).set_state(
        {"mean_": np.array([[1.0, -1.0]]), "covariance_": np.array([[[2.0, 0.8], [0.8, 1.0]]])}
    )
    x = model.sample(200_000, rng)[0]
    cov = 0.5 * np.array([[2.0, 0.8], [0.8, 1.0]])
    assert np.all(np.abs(x.mean(0) - [1.0, -1.0]) < 5 * np.sqrt(np.diag(cov) / len(x)))
    se = np.sqrt(2 * np.diag(cov) ** 2 / len(x))
    assert np.all(np.abs(x.var(0) - np.diag(cov)) < 5 * se)


def test_wishart_mean_and_marginal_law():
    rng = np.random.default_rng(3)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    draws = sample_wishart(np.broadcast_to(cov, (40_000, 2, 2)), 9, rng)
    se = draws.std(0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - 9 * cov) < 5 * se)
    # the diagonal of Wishart(k, S) is S_ii * chi2(k)
    assert stats.kstest(draws[:, 0, 0] / 2.0, stats.chi2(9).cdf).pvalue > 0.01


def test_exact_path_matches_the_sample_path_in_law():
    """Statistics drawn exactly and statistics of drawn samples: same distribution (KS)."""
    mean, cov = np.array([[0.5, 0.0]]), np.array([[[1.0, 0.3], [0.3, 2.0]]])
    model = GaussianModel().set_state(
        {"mean_": np.repeat(mean, 4000, 0), "covariance_": np.repeat(cov, 4000, 0)}
    )
    exact = model.sample_stats(12, np.random.default_rng(4))
    sampled = GaussianStats.from_samples(model.sample(12, np.random.default_rng(5)))
    for a, b in [
        (exact.mean[:, 0], sampled.mean[:, 0]),
        (exact.scatter[:, 1, 1], sampled.scatter[:, 1, 1]),
        (exact.scatter[:, 0, 1], sampled.scatter[:, 0, 1]),
    ]:
        assert stats.ks_2samp(a, b).pvalue > 0.01
