"""knn_precision, knn_recall and standardised_tail_ratio against cases worked by hand.

Each sampled case uses fixed seeds and a tolerance of about five standard errors of the
share it checks (a share p of m points has standard error sqrt(p (1 - p) / m)), so a
correct metric fails it far less than once in a million draws.
"""

import numpy as np
import pytest

from model_collapse.metrics import METRICS, choose_metrics, make_reference
from model_collapse.metrics.tails import own_distances
from model_collapse.sources import load_real_data
from tests.conftest import make_config, step_of


def _reference(**metrics):
    config = make_config(source={"n_test": 2000, "dim": 2}, metrics=metrics)
    return config, make_reference(config, load_real_data(config, "continuous"))


def _value(ref, name, samples):
    return METRICS.get(name).compute(step_of(ref, None, samples))


def test_manifold_metrics_are_opt_in_and_need_samples():
    from model_collapse.families.gaussian import GaussianModel

    config, ref = _reference()
    chosen = choose_metrics(config, ref, GaussianModel(), False)[0]
    assert "knn_precision" not in chosen and "standardised_tail_ratio" not in chosen
    config, ref = _reference(manifold=True, standardised_tail=True)
    chosen = choose_metrics(config, ref, GaussianModel(), False)[0]
    assert {"knn_precision", "knn_recall", "standardised_tail_ratio"} <= set(chosen)
    exact = choose_metrics(config, ref, GaussianModel(), True)[0]
    assert "knn_precision" not in exact and "standardised_tail_ratio" not in exact


def test_a_narrowed_model_keeps_precision_and_loses_recall():
    """Samples drawn with a fifth of the real spread all lie inside the real manifold
    (precision near 1), and cover only its centre (recall far below a faithful model's)."""
    _, ref = _reference(manifold=True)
    rng = np.random.default_rng(0)
    faithful = rng.standard_normal((1, 2000, 2))
    narrow = 0.2 * rng.standard_normal((1, 2000, 2))
    p_faithful, r_faithful = (_value(ref, m, faithful)[0] for m in ("knn_precision", "knn_recall"))
    p_narrow, r_narrow = (_value(ref, m, narrow)[0] for m in ("knn_precision", "knn_recall"))
    assert p_faithful > 0.9 and r_faithful > 0.9  # k = 5 balls hold most fresh points
    # real points within ~0.75 of the centre: 1 - exp(-0.75^2 / 2) = 0.25 of them
    assert p_narrow > 0.99 and r_narrow < 0.35


def test_samples_far_from_the_data_have_no_precision_and_no_recall():
    _, ref = _reference(manifold=True)
    away = 50 + np.random.default_rng(1).standard_normal((2, 500, 2))
    assert (_value(ref, "knn_precision", away) == 0).all()
    assert (_value(ref, "knn_recall", away) == 0).all()


def test_a_diverged_seed_has_no_manifold_value():
    _, ref = _reference(manifold=True)
    samples = np.random.default_rng(2).standard_normal((2, 300, 2))
    samples[1, 0, 0] = np.nan
    values = _value(ref, "knn_recall", samples)
    assert np.isfinite(values[0]) and np.isnan(values[1])


@pytest.mark.parametrize(("mean", "scale"), [(0.0, 1.0), (3.0, 0.1), (-2.0, 5.0)])
def test_a_gaussian_keeps_its_tails_whatever_its_mean_and_scale(mean, scale):
    """Measured about its own centre and scale, a Gaussian scores 1: the share beyond the
    real 2% distance, of 20,000 samples, has standard error sqrt(0.02 * 0.98 / 20000)
    (0.05 of the ratio), and the real threshold from 2,000 test points about 0.07 more."""
    _, ref = _reference(standardised_tail=True)
    samples = mean + scale * np.random.default_rng(3).standard_normal((1, 20_000, 2))
    assert _value(ref, "standardised_tail_ratio", samples)[0] == pytest.approx(1.0, abs=0.45)


def test_shapes_without_tails_score_below_one_and_tail_mass_ratio_cannot_tell():
    """A uniform square has no point beyond sqrt(6) of its own standardised centre: the
    real 2% distance of a 2-D Gaussian is 2.8. tail_mass_ratio, about the real quantiles,
    reads a wide uniform square as heavy-tailed."""
    _, ref = _reference(standardised_tail=True)
    square = np.random.default_rng(4).uniform(-4, 4, size=(1, 5000, 2))
    assert _value(ref, "standardised_tail_ratio", square)[0] == 0.0
    assert _value(ref, "tail_mass_ratio", square)[0] > 5


def test_a_collapsed_set_lies_at_its_own_centre():
    assert (own_distances(np.ones((50, 2))) == 0).all()
