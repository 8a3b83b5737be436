"""Metrics against independent computations: scipy, Monte Carlo and hand-worked cases."""

import numpy as np
from scipy.stats import wasserstein_distance

from model_collapse.families.categorical import CategoricalModel
from model_collapse.families.gaussian import GaussianModel
from model_collapse.metrics import METRICS, choose_metrics, make_reference
from model_collapse.sources import load_real_data
from tests.conftest import make_config, step_of


def _reference(**source):
    config = make_config(source={"n_test": 300, **source})
    return make_reference(config, load_real_data(config, "continuous"))


def test_wasserstein_is_exact_in_1d():
    ref = _reference()
    synthetic = np.random.default_rng(0).normal(0.3, 1.5, size=(3, 70, 1))
    ours = METRICS.get("wasserstein").compute(step_of(ref, None, synthetic))
    expected = [wasserstein_distance(synthetic[s, :, 0], ref.real.test[:, 0]) for s in range(3)]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_sliced_wasserstein_averages_exact_projections():
    ref = _reference(dim=3)
    synthetic = np.random.default_rng(1).normal(size=(2, 40, 3))
    ours = METRICS.get("wasserstein").compute(step_of(ref, None, synthetic))
    directions = ref.cache["directions"]
    expected = [
        np.mean([wasserstein_distance(synthetic[s] @ v, ref.real.test @ v) for v in directions.T])
        for s in range(2)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_exact_path_wasserstein_and_tails_match_monte_carlo():
    ref = _reference(n_test=400_000)
    model = GaussianModel().set_state(
        {"mean_": np.array([[0.4]]), "covariance_": np.array([[[0.5]]])}
    )
    n = 400_000
    samples = model.sample(n, np.random.default_rng(2))
    exact = {
        name: METRICS.get(name).compute(step_of(ref, model, None))[0]
        for name in ("wasserstein", "tail_mass_ratio")
    }
    sampled = {name: METRICS.get(name).compute(step_of(ref, model, samples))[0] for name in exact}
    # An empirical W1 is off by about sd * sqrt(1/n + 1/m) (each sample's quantile noise).
    assert abs(exact["wasserstein"] - sampled["wasserstein"]) < 5 * np.sqrt(2 / n)
    # A tail share p from n samples has standard error sqrt(p (1 - p) / n); the test
    # quantiles add as much again. The ratio divides by 0.02.
    p = exact["tail_mass_ratio"] * 0.02
    se = np.sqrt(2 * p * (1 - p) / n) / 0.02
    assert abs(exact["tail_mass_ratio"] - sampled["tail_mass_ratio"]) < 5 * se


def test_moments_and_kl_closed_forms():
    ref = _reference(dim=2, cov=[[1.0, 0.2], [0.2, 1.0]])
    cov = np.array([[[0.5, 0.0], [0.0, 0.5]]])
    model = GaussianModel().set_state({"mean_": np.array([[1.0, 0.0]]), "covariance_": cov})
    snap = step_of(ref, model, None)
    assert METRICS.get("variance_ratio").compute(snap)[0] == 0.5
    assert METRICS.get("mean_error").compute(snap)[0] == 1.0
    # KL(N(0, S) || N(m, C)) by Monte Carlo
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal([0, 0], ref.cov, size=400_000)

    def logpdf(x, m, c):
        diff = x - m
        return -0.5 * (
            np.einsum("ni,ij,nj->n", diff, np.linalg.inv(c), diff)
            + np.log(np.linalg.det(2 * np.pi * c))
        )

    log_ratio = logpdf(x, [0, 0], ref.cov) - logpdf(x, [1, 0], cov[0])
    kl = METRICS.get("kl_true").compute(snap)[0]
    assert abs(kl - log_ratio.mean()) < 5 * log_ratio.std() / np.sqrt(len(x))


def test_categorical_metrics_by_hand():
    config = make_config(
        source={"name": "zipf", "categories": 4, "exponent": 0.0}, family={"name": "categorical"}
    )
    ref = make_reference(config, load_real_data(config, "categorical"))
    model = CategoricalModel(4).set_state({"probs_": np.array([[0.5, 0.5, 0, 0]])})
    snap = step_of(ref, model, None)
    values = {
        name: METRICS.get(name).compute(snap)[0]
        for name in choose_metrics(config, ref, model, False)[0]
    }
    assert values["support_fraction"] == 0.5
    np.testing.assert_allclose(values["entropy_ratio"], np.log(2) / np.log(4))
    np.testing.assert_allclose(values["kl"], np.log(2))
    np.testing.assert_allclose(values["heterozygosity_ratio"], 0.5 / 0.75)


def test_metric_choice_follows_family_and_path():
    config = make_config(family={"name": "gmm"})
    ref = make_reference(config, load_real_data(config, "continuous"))
    from model_collapse.families.gmm import GMMModel

    assert "kl_true" not in choose_metrics(config, ref, GMMModel(), False)[0]
    assert "kl_true" in choose_metrics(config, ref, GaussianModel(), True)[0]
