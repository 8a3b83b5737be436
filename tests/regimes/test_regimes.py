"""What each regime puts into generation t's training set."""

import numpy as np
import pytest

from model_collapse.core.data import REAL, CategoricalStats, GaussianStats, Items
from model_collapse.engine.step import Step
from model_collapse.metrics import make_reference
from model_collapse.regimes import REGIMES
from model_collapse.sources import load_real_data
from tests.conftest import make_config


def _setup(regime: str, **extra):
    config = make_config(regime={"name": regime, **extra})
    real = load_real_data(config, "continuous")
    # generation t's samples are all 100 + t, so the values say where items came from
    synthetic = [Items.of(np.full((4, 50, 1), 100.0 + t), t) for t in range(3)]
    return config, real, synthetic


def _build(config, real, history, generation=3):
    regime = REGIMES.get(config.regime.name)
    kept = history if regime.keeps_history else history[-1:]
    reference = make_reference(config, real)
    step = Step(generation, config, real, kept, None, None, lambda: None, reference)
    train = regime.training_set(step)
    if isinstance(train, Items):  # provenance travels with every item
        expected = np.where(train.data[..., 0] >= 100, train.data[..., 0] - 100, REAL)
        np.testing.assert_array_equal(train.origin, expected)
        return train.data
    return train


def test_replace_takes_the_latest_synthetic_set():
    config, real, synthetic = _setup("replace")
    np.testing.assert_array_equal(_build(config, real, synthetic), synthetic[-1].data)


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
    from model_collapse.core.data import subsample

    drawn = subsample(counts, 10, np.random.default_rng(0))
    assert drawn.count == 10 and (drawn.counts.sum(1) == 10).all()
    assert (drawn.counts[:, 2] == 0).all() and config.regime.size == 10


@pytest.mark.parametrize(("regime", "share"), [("pool", 0.2), ("oracle", 1.0)])
def test_pool_trains_on_the_pool_and_oracle_on_its_real_items(regime: str, share: float):
    config, real, synthetic = _setup(regime, real_fraction=0.2)
    train = _build(config, real, synthetic)
    is_real = train < 100
    assert (is_real.mean(axis=1)[:, 0] == share).all()
    assert train.shape == ((4, 50, 1) if regime == "pool" else (4, 10, 1))
    assert np.isin(train[is_real], real.train).all()


def test_the_oracle_keeps_the_pools_real_items_as_the_pool_drew_them():
    config, real, synthetic = _setup("oracle", real_fraction=0.3)
    pool = _build(make_config(regime={"name": "pool", "real_fraction": 0.3}), real, synthetic)
    oracle = _build(config, real, synthetic)
    np.testing.assert_array_equal(oracle, pool[:, :15])  # the real part, in the pool's order


def test_provenance_survives_concat_and_subsample_with_weights():
    from model_collapse.core import data

    a = Items(np.zeros((2, 3, 1)), np.full((2, 3), REAL), np.full((2, 3), 2.0))
    b = Items.of(np.ones((2, 2, 1)), 4)
    both = data.concat([a, b])
    assert both.origin.tolist() == [[REAL, REAL, REAL, 4, 4]] * 2
    assert both.weight is not None and both.weight.tolist() == [[2.0, 2.0, 2.0, 1.0, 1.0]] * 2
    np.testing.assert_allclose(both.real_share(), 6 / 8)
    picked = data.subsample(both, 4, np.random.default_rng(1))
    np.testing.assert_array_equal(picked.origin == REAL, picked.data[..., 0] == 0)
    stats = data.concat([a, GaussianStats.from_samples(np.ones((2, 2, 1)))])
    assert stats.count == 5 and stats.real == 3 and data.real_share(stats) == 3 / 5
