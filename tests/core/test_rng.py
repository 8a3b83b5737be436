import numpy as np

from model_collapse.core.rng import random_subsets, seed_streams, stream, systematic_counts


def test_streams_depend_only_on_their_key():
    a = stream(5, "fit", 3).random(4)
    np.testing.assert_array_equal(a, stream(5, "fit", 3).random(4))
    others = [stream(6, "fit", 3), stream(5, "sample", 3), stream(5, "fit", 4)]
    assert all(not np.array_equal(a, other.random(4)) for other in others)


def test_seed_streams_are_distinct_and_repeatable():
    first = [g.random() for g in seed_streams(0, "fit", 2, 5)]
    assert len(set(first)) == 5
    assert first == [g.random() for g in seed_streams(0, "fit", 2, 5)]


def test_random_subsets_are_uniform_without_replacement():
    rows = random_subsets(np.random.default_rng(0), 20_000, 5, 2)
    assert (rows[:, 0] != rows[:, 1]).all()
    counts = np.bincount(rows.ravel(), minlength=5)  # each index: expected 2/5 of the rows
    expected = 20_000 * 2 / 5
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected * (1 - 2 / 5)))


def test_a_plugins_own_stage_gets_its_own_repeatable_stream():
    mine = stream(5, "my-defence", 3).random(4)
    np.testing.assert_array_equal(mine, stream(5, "my-defence", 3).random(4))
    builtin = ["source", "regime", "fit", "sample", "metric", "resample", "other-defence"]
    assert all(not np.array_equal(mine, stream(5, s, 3).random(4)) for s in builtin)


def test_systematic_counts_are_the_floor_or_ceiling_of_their_expectation():
    rng = np.random.default_rng(0)
    share = rng.random(1000) ** 3
    for size in (17.0, 400.0, 2500.4):
        counts = systematic_counts(share, size, rng)
        expected = share * round(size) / share.sum()
        assert counts.sum() == round(size)
        assert ((counts == np.floor(expected)) | (counts == np.ceil(expected))).all()
