"""What each regime puts into generation t's training set."""

import numpy as np
import pytest

from model_collapse.data import CategoricalStats, GaussianStats
from model_collapse.regimes import REGIMES
from model_collapse.sources import load_real_data
from tests.conftest import make_config


def _setup(regime: str, **extra):
    config = make_config(regime={"name": regime, **extra})
    real = load_real_data(config, "continuous")
    synthetic = [np.full((4, 50, 1), 100.0 + t) for t in range(3)]  # tagged by generation
    return config, real, synthetic


def _build(config, real, history, generation=3):
    regime = REGIMES.get(config.regime.name)
    kept = history if regime.keeps_history else history[-1:]
    return regime.training_set(config, generation, real, kept, np.random.default_rng(0))


def test_replace_takes_the_latest_synthetic_set():
    config, real, synthetic = _setup("replace")
    np.testing.assert_array_equal(_build(config, real, synthetic), synthetic[-1])


def test_accumulate_holds_all_real_and_all_synthetic():
    config, real, synthetic = _setup("accumulate")
    train = _build(config, real, synthetic)
    assert train.shape == (4, 50 + 3 * 50, 1)
    np.testing.assert_array_equal(train[:, :50], real.train)


def test_accumulate_subsample_keeps_a_fixed_size_drawn_from_everything():
    config, real, synthetic = _setup("accumulate-subsample", size=60)
    train = _build(config, real, synthetic)
    assert train.shape == (4, 60, 1)
    values = set(np.unique(train))
    assert {100.0, 101.0, 102.0} <= values and len(values) > 3  # real values too


@pytest.mark.parametrize("regime", ["mix", "fresh"])
def test_mix_and_fresh_keep_the_real_fraction(regime):
    config, real, synthetic = _setup(regime, real_fraction=0.2)
    train = _build(config, real, synthetic)
    assert train.shape == (4, 50, 1)
    is_synthetic = train >= 100
    assert (is_synthetic.sum(axis=1) == 40).all()
    real_part = train[~is_synthetic].reshape(4, 10)
    in_train = np.isin(real_part, real.train)
    # mix draws from the real training data; fresh from real data never used before
    assert in_train.all() if regime == "mix" else not in_train.any()


def test_regimes_combine_sufficient_statistics():
    config, real, _ = _setup("accumulate")
    stats = [GaussianStats.from_samples(np.full((4, 50, 1), 3.0)) for _ in range(2)]
    pooled = _build(config, real, stats, generation=2)
    assert pooled.count == 150
    np.testing.assert_allclose(pooled.mean[:, 0], (real.train.sum(1)[:, 0] + 300) / 150)


def test_categorical_subsample_is_hypergeometric():
    config = make_config(regime={"name": "accumulate-subsample", "size": 10})
    counts = CategoricalStats(20, np.array([[5, 15, 0]] * 3))
    from model_collapse.data import subsample

    drawn = subsample(counts, 10, np.random.default_rng(0))
    assert drawn.count == 10 and (drawn.counts.sum(1) == 10).all()
    assert (drawn.counts[:, 2] == 0).all() and config.regime.size == 10
