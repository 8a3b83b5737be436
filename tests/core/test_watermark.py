"""The KGW green-list watermark: the split, the bias, and a test with a known null."""

from __future__ import annotations

import numpy as np

from model_collapse.core.watermark import bias, detect, detect_windows, green_flags, green_list

VOCAB, GAMMA = 1000, 0.25


def test_the_green_list_is_a_keyed_split_of_the_vocabulary():
    first = green_list(7, VOCAB, GAMMA)
    assert first.sum() == int(VOCAB * GAMMA)
    assert np.array_equal(first, green_list(7, VOCAB, GAMMA))  # deterministic
    assert not np.array_equal(first, green_list(8, VOCAB, GAMMA))  # depends on the context
    assert not np.array_equal(first, green_list(7, VOCAB, GAMMA, key=12345))  # and the key
    # two contexts' lists overlap as independent draws would: gamma^2 of the vocabulary
    overlap = np.mean(
        [(green_list(a, VOCAB, GAMMA) & green_list(a + 1, VOCAB, GAMMA)).mean() for a in range(200)]
    )
    assert abs(overlap - GAMMA**2) < 0.01


def sample(n: int, rng: np.random.Generator, delta: float) -> list[int]:
    """Tokens drawn from random logits, with the watermark's bias delta."""
    tokens = [int(rng.integers(VOCAB))]
    for _ in range(n):
        logits = rng.normal(size=(1, VOCAB))
        biased = bias(logits, np.array([tokens[-1]]), GAMMA, delta)[0]
        p = np.exp(biased - biased.max())
        tokens.append(int(rng.choice(VOCAB, p=p / p.sum())))
    return tokens


def test_unwatermarked_text_gives_a_standard_normal_z():
    rng = np.random.default_rng(0)
    z = np.array([detect(rng.integers(0, VOCAB, 200).tolist(), VOCAB, GAMMA).z for _ in range(300)])
    # the mean of 300 N(0, 1) draws: 4 standard errors is 0.23 (false alarm 1 in 16,000)
    assert abs(z.mean()) < 4 / np.sqrt(300) and 0.8 < z.std() < 1.2


def test_watermarked_text_is_found_and_the_bias_is_what_finds_it():
    rng = np.random.default_rng(1)
    marked = detect(sample(200, rng, delta=2.0), VOCAB, GAMMA)
    plain = detect(sample(200, rng, delta=0.0), VOCAB, GAMMA)
    assert marked.z > 4 and marked.p_value < 1e-4
    assert plain.z < 4
    assert detect(sample(200, rng, delta=2.0), VOCAB, GAMMA, key=999).z < 4  # wrong key


def test_many_texts_at_once_equal_one_by_one_even_when_some_have_no_pair():
    from model_collapse.core.watermark import detect_many

    rng = np.random.default_rng(3)
    texts = [rng.integers(0, VOCAB, 50).tolist(), [7], rng.integers(0, VOCAB, 9).tolist(), [4]]
    together = detect_many(texts, VOCAB, GAMMA)
    assert together == [detect(t, VOCAB, GAMMA) for t in texts]
    assert together[1].scored == 0 and together[3].z == 0.0


def test_repeated_pairs_count_once():
    text = [1, 2] * 50
    flags = green_flags(text, VOCAB, GAMMA)
    assert len(flags) == 2  # (1, 2) and (2, 1)
    assert len(green_flags(text, VOCAB, GAMMA, ignore_repeated=False)) == 99
    assert detect([5], VOCAB, GAMMA).scored == 0 and detect([5], VOCAB, GAMMA).z == 0.0


def test_a_watermarked_passage_inside_a_long_text_is_found_by_windows():
    rng = np.random.default_rng(2)
    passage = sample(100, rng, delta=4.0)
    text = rng.integers(0, VOCAB, 600).tolist() + passage + rng.integers(0, VOCAB, 600).tolist()
    whole, windows = detect(text, VOCAB, GAMMA), detect_windows(text, VOCAB, GAMMA, window=100)
    assert windows.z > 5 and windows.z > whole.z + 2
