"""Batched EM matches scikit-learn's GaussianMixture started from the same parameters."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from model_collapse.families.gmm import GMMModel


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_batched_em_matches_sklearn(covariance: str):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 1, (5, 150, 2)), rng.normal(2, 0.5, (5, 150, 2))], axis=1)
    model = GMMModel(2, covariance)
    weights, means, covs = model.initial_parameters(x, rng)
    start = (weights.copy(), means.copy(), covs.copy())
    model.fit_from(x, weights, means, covs)
    for s in range(5):
        precisions = np.linalg.inv(start[2][s])
        if covariance == "diag":
            precisions = np.diagonal(precisions, axis1=1, axis2=2)
        reference = GaussianMixture(
            2,
            covariance_type=covariance,
            weights_init=start[0][s],
            means_init=start[1][s],
            precisions_init=precisions,
        ).fit(x[s])
        assert model.n_iter_[s] == reference.n_iter_
        np.testing.assert_allclose(model.means_[s], reference.means_, rtol=1e-6, atol=1e-9)
        ours = model.score(x)[s]
        assert abs(ours - reference.score(x[s])) <= 1e-8 * abs(ours)


def test_samples_follow_the_mixture():
    model = GMMModel(2).set_state(
        {
            "weights_": np.array([[0.25, 0.75]]),
            "means_": np.array([[[-5.0, 0.0], [5.0, 0.0]]]),
            "covariances_": np.array([[np.eye(2), np.eye(2)]]),
        }
    )
    x = model.sample(40_000, np.random.default_rng(1))[0]
    share = (x[:, 0] > 0).mean()
    assert abs(share - 0.75) < 5 * np.sqrt(0.75 * 0.25 / len(x))
    mean, cov = model.moments()
    assert np.all(np.abs(x.mean(0) - mean[0]) < 5 * np.sqrt(np.diag(cov[0]) / len(x)))
