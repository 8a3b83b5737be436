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


def test_a_kmeans_start_finds_the_clusters_scikit_learn_finds():
    """Two clear clusters and a third, near one of them: from greedy k-means++ and
    Lloyd's iterations, EM ends where scikit-learn's GaussianMixture (its default start,
    k-means) ends, to its tolerance, at these fixed seeds. (k-means itself is random: at
    other seeds one chain in four or so ends at another local optimum, as scikit-learn's
    do at other random states.)"""
    from sklearn.mixture import GaussianMixture

    from model_collapse.families.gmm import GMMModel
    from model_collapse.families.kmeans import kmeans_responsibilities

    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [7.5, 2.0]])
    x = np.stack([centres[rng.integers(0, 3, 600)] + rng.normal(size=(600, 2)) for _ in range(4)])
    resp = kmeans_responsibilities(x, 3, np.random.default_rng(1))
    assert resp.shape == (4, 600, 3) and np.array_equal(resp.sum(axis=2), np.ones((4, 600)))
    ours = GMMModel(3, "full", max_iter=500, tol=1e-8, init_params="kmeans").fit(
        x, np.random.default_rng(1)
    )
    scores = ours.score(x)
    for seed in range(4):
        theirs = GaussianMixture(3, tol=1e-8, max_iter=500, random_state=seed).fit(x[seed])
        assert scores[seed] == pytest.approx(theirs.score(x[seed]), abs=1e-4)
