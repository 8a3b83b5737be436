import numpy as np
from scipy import stats

from model_collapse.core.data import CategoricalStats
from model_collapse.families.categorical import CategoricalModel, sample_categories


def test_sampler_frequencies_match_probabilities_per_seed():
    probs = np.array([[0.5, 0.0, 0.3, 0.2], [0.0, 0.0, 0.0, 1.0], [0.1, 0.2, 0.3, 0.4]])
    n = 100_000
    draws = sample_categories(probs, n, np.random.default_rng(0))
    for s in range(3):
        freq = np.bincount(draws[s], minlength=4) / n
        assert np.all(np.abs(freq - probs[s]) <= 5 * np.sqrt(probs[s] * (1 - probs[s]) / n))
    assert draws[1].min() == 3 and draws[0].tolist().count(1) == 0


def test_fit_is_counts_over_n_and_lost_categories_stay_lost():
    data = np.array([[[0], [0], [2], [2]], [[1], [1], [1], [3]]])
    model = CategoricalModel(5).fit(data, np.random.default_rng(0))
    np.testing.assert_allclose(model.probs_, [[0.5, 0, 0.5, 0, 0], [0, 0.75, 0, 0.25, 0]])
    again = model.sample(1000, np.random.default_rng(1))
    assert set(np.unique(again[0])) <= {0, 2}


def test_exact_counts_have_the_law_of_sampled_counts():
    probs = np.repeat([[0.6, 0.3, 0.1]], 5000, axis=0)
    model = CategoricalModel(3).set_state({"probs_": probs})
    exact = model.sample_stats(30, np.random.default_rng(2)).counts
    sampled = CategoricalStats.from_samples(model.sample(30, np.random.default_rng(3)), 3).counts
    assert exact.sum(1).tolist() == [30] * 5000
    for k in range(3):
        assert stats.ks_2samp(exact[:, k], sampled[:, k]).pvalue > 0.01
