"""Capabilities: weighted fits equal fits to repeated items, resampling for the others,
and a defence that sees its pool without labels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import model_collapse
from model_collapse.core.data import REAL, Items, Unlabeled
from model_collapse.core.errors import UserInputError
from model_collapse.engine.capabilities import (
    IsGaussian,
    ReadsPositions,
    RunsOnDevice,
    SamplesStatistics,
    ScoresTokens,
    SubsamplesStatistics,
    WeightedFit,
    can,
    checked_weight,
    effective_size,
    resample,
)
from model_collapse.engine.step import Step
from model_collapse.families.categorical import CategoricalModel
from model_collapse.families.gaussian import GaussianModel
from model_collapse.families.gmm import GMMModel
from model_collapse.families.kde import KDEModel
from model_collapse.families.linear import LinearModel
from model_collapse.regimes import REGIMES, Regime, defended
from model_collapse.regimes.builtin import REAL_FRACTION, REAL_SHARE, mix_set, rest
from tests.conftest import TEXT_SOURCE, make_config

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 30, 2))
W = RNG.integers(0, 4, size=(3, 30)).astype(float)


def repeated(x: np.ndarray, w: np.ndarray, seed: int) -> np.ndarray:
    """Seed ``seed``'s items, each repeated its (integer) weight times: (1, sum w, d)."""
    return np.repeat(x[seed], w[seed].astype(int), axis=0)[None]


def test_weighted_gaussian_is_the_fit_to_repeated_items():
    weighted = GaussianModel("mle").fit_weighted(X, W, RNG)
    for s in range(3):
        plain = GaussianModel("mle").fit(repeated(X, W, s), RNG)
        np.testing.assert_allclose(weighted.mean_[s], plain.mean_[0])
        np.testing.assert_allclose(weighted.covariance_[s], plain.covariance_[0])
    unbiased = GaussianModel("unbiased").fit_weighted(X, W, RNG)  # reliability weights
    np.testing.assert_allclose(unbiased.covariance_[1], np.cov(X[1].T, aweights=W[1]))
    equal = GaussianModel("unbiased").fit_weighted(X, np.full(W.shape, 0.3), RNG)
    np.testing.assert_allclose(equal.covariance_, GaussianModel("unbiased").fit(X, RNG).covariance_)


def test_weighted_categorical_is_the_fit_to_repeated_items():
    labels = RNG.integers(0, 5, size=(3, 30, 1))
    weighted = CategoricalModel(5).fit_weighted(labels, W, RNG)
    for s in range(3):
        plain = CategoricalModel(5).fit(repeated(labels, W, s), RNG)
        np.testing.assert_allclose(weighted.probs_[s], plain.probs_[0])


def test_weighted_gmm_is_em_on_repeated_items_from_the_same_start():
    model = GMMModel(components=2, tol=0.0, max_iter=20)
    start = model.initial_parameters(X[:1], np.random.default_rng(3))
    scale = W[:1] * (30 / W[:1].sum())
    weighted = model.fit_from(X[:1], *(p.copy() for p in start), item_weight=scale)
    mean_w, cov_w = weighted.moments()
    plain = GMMModel(components=2, tol=0.0, max_iter=20).fit_from(
        repeated(X, W, 0), *(p.copy() for p in start)
    )
    mean_p, cov_p = plain.moments()
    np.testing.assert_allclose(mean_w, mean_p)
    np.testing.assert_allclose(cov_w, cov_p)
    np.testing.assert_allclose(weighted.weights_, plain.weights_)


def test_weighted_kde_draws_kernels_in_proportion_to_their_weight():
    x = np.arange(4.0).reshape(1, 4, 1) * 100  # far apart: each sample names its kernel
    weight = np.array([[0.0, 1.0, 3.0, 0.0]])
    model = KDEModel(0.01).fit_weighted(x, weight, RNG)
    kernel = np.rint(model.sample(40_000, np.random.default_rng(1))[0, :, 0] / 100)
    counts = np.bincount(kernel.astype(int), minlength=4)
    assert counts[0] == counts[3] == 0
    # Binomial(40000, 1/4): sd 87, so 4 sd is 346; a false alarm once in 16,000 runs.
    assert abs(counts[1] - 10_000) < 346
    mean, cov = model.moments()
    np.testing.assert_allclose(mean[0], [(100 + 3 * 200) / 4])
    np.testing.assert_allclose(cov[0], [[(100**2 + 3 * 200**2) / 4 - 175**2 + 0.01**2]])
    equal = KDEModel("scott").fit_weighted(X, np.ones(W.shape), RNG)
    np.testing.assert_allclose(equal.kernel_, KDEModel("scott").fit(X, RNG).kernel_)
    restored = KDEModel(0.01).set_state(model.get_state())
    np.testing.assert_array_equal(restored.shares_, model.shares_)


def test_resampling_draws_only_weighted_items_in_proportion():
    data = np.arange(6.0).reshape(1, 6, 1).repeat(2, axis=0)
    weight = np.array([[0, 1, 0, 1, 0, 2], [1, 1, 1, 1, 1, 1]], dtype=float)
    drawn = np.concatenate([resample(data, weight, np.random.default_rng(i)) for i in range(2000)])
    first = np.bincount(drawn[0::2, :, 0].astype(int).ravel(), minlength=6) / (2000 * 6)
    assert first[[0, 2, 4]].sum() == 0
    # shares 1/4, 1/4, 1/2 of 12,000 draws: sd <= 0.0046, 4 sd = 0.018
    np.testing.assert_allclose(first[[1, 3, 5]], [0.25, 0.25, 0.5], atol=0.018)


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (np.array([[1.0, -1.0]]), "negative or non-finite weight"),
        (np.array([[1.0, np.nan]]), "negative or non-finite weight"),
        (np.array([[1.0, 1.0], [0.0, 0.0]]), "kept 0 items of seed 1"),
        (np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]]), "kept 1 item of seed 1 .* fewer than the 2"),
    ],
)
def test_unusable_weights_are_refused(weight: np.ndarray, message: str):
    with pytest.raises(UserInputError, match=message):
        checked_weight(weight, need=2)


def test_a_resample_is_as_big_as_the_weights_are_worth():
    weight = np.zeros((2, 100))
    weight[:, :5] = 1.0  # a defence kept 5 of 100
    np.testing.assert_allclose(effective_size(weight), 5.0)
    drawn = resample(np.arange(100.0).reshape(1, 100, 1).repeat(2, 0), weight, RNG, size=5)
    assert drawn.shape == (2, 5, 1) and drawn.max() < 5


def test_a_weighted_mixture_never_starts_from_a_dropped_item():
    rng = np.random.default_rng(4)
    near = rng.normal(size=(20, 40, 1))
    far = rng.normal(100.0, 1.0, size=(20, 10, 1))  # dropped by the weights
    x = np.concatenate([near, far], axis=1)
    weight = np.concatenate([np.ones((20, 40)), np.zeros((20, 10))], axis=1)
    model = GMMModel(components=2).fit_weighted(x, weight, rng)
    assert np.abs(model.means_).max() < 10  # neither component sits on the dropped cluster


def test_capabilities_are_the_models_own_methods():
    assert can(GaussianModel(), WeightedFit) and can(GaussianModel(), SamplesStatistics)
    assert not can(LinearModel(), WeightedFit) and not can(GMMModel(), SamplesStatistics)
    assert not can(KDEModel(), ScoresTokens)
    # the closed-form KL needs a Gaussian law: a mixture knows its moments, but is none
    assert can(GaussianModel(), IsGaussian) and not can(GMMModel(), IsGaussian)
    assert can(CategoricalModel(4), SubsamplesStatistics)
    assert not can(GaussianModel(), SubsamplesStatistics)
    assert not any(can(m, RunsOnDevice) for m in (GaussianModel(), KDEModel(), GMMModel()))


def test_the_torch_families_compute_on_a_device():
    from model_collapse.families.gpt import GPTModel

    config = make_config(family={"name": "gpt", "context": 99}, source=TEXT_SOURCE)
    gpt = GPTModel(config, None)  # type: ignore[arg-type]  # unfitted: what it can do
    assert can(gpt, RunsOnDevice) and can(gpt, ReadsPositions) and gpt.positions() == 99


@pytest.fixture
def weighing_regimes() -> Iterator[dict[str, Any]]:
    """Two defences of the tests' own, registered for the test and removed after it."""
    seen: dict[str, Any] = {}

    def keep_inliers(step: Step) -> Any:
        def choose(pool: Unlabeled) -> np.ndarray:
            seen["pool"] = pool
            centre = np.median(pool.data[..., 0], axis=1, keepdims=True)
            return (np.abs(pool.data[..., 0] - centre) < 1.0).astype(float)

        return defended(mix_set(step), choose)

    def real_only(step: Step) -> Any:
        return defended(mix_set(step), lambda pool: np.ones(pool.data.shape[:2]))

    for name, build in {"test-inliers": keep_inliers, "test-weigh-all": real_only}.items():
        REGIMES.register(name)(
            Regime(build, False, rest, "a test defence", REAL_SHARE, params=REAL_FRACTION)
        )
    yield seen
    for name in ("test-inliers", "test-weigh-all"):
        REGIMES._entries.pop(name)


def test_a_defence_sees_no_labels_and_the_run_records_what_it_kept(weighing_regimes):
    regime = {"name": "test-inliers", "real_fraction": 0.5}
    for family in ("gaussian", "linear"):  # weighted fit, and resampling
        source = {"name": "gaussian"} if family == "gaussian" else {"name": "linear"}
        config = make_config(regime=regime, family={"name": family}, source=source)
        metrics = model_collapse.run(config).metrics
        pool = weighing_regimes["pool"]
        assert isinstance(pool, Unlabeled) and not hasattr(pool, "origin")
        shares = metrics.groupby("generation")["real_share"].mean()
        assert shares[0] == 1.0 and 0.0 < shares[1] < 1.0  # the weighted share of real items


def test_weights_of_one_give_the_unweighted_run(weighing_regimes):
    plain = model_collapse.run(make_config(regime={"name": "pool", "real_fraction": 0.5}))
    regime = {"name": "test-weigh-all", "real_fraction": 0.5}
    weighed = model_collapse.run(make_config(regime=regime))
    np.testing.assert_allclose(
        weighed.metrics.drop(columns="real_share"), plain.metrics.drop(columns="real_share")
    )


def test_a_defence_on_the_exact_path_is_refused():
    from model_collapse.core.data import GaussianStats

    with pytest.raises(UserInputError, match=r"set family\.exact = false"):
        defended(GaussianStats.from_samples(X), lambda pool: np.ones(2))


def test_weighted_items_keep_their_provenance():
    items = Items.of(X, REAL)
    weighted = items.weighted(W)
    np.testing.assert_array_equal(weighted.origin, items.origin)
    np.testing.assert_allclose(weighted.real_share(), 1.0)
    with pytest.raises(UserInputError, match="one weight per item and seed"):
        items.weighted(W[:, :5])
