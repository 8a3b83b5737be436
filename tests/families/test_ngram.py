"""The vectorised Kneser-Ney model against a plain dictionary implementation of its formulas."""

from collections import Counter, defaultdict

import numpy as np
import pytest

from model_collapse.families.ngram import NGramModel, NGramTables


def reference_kn(blocks: np.ndarray, order: int, vocab: int):
    """Interpolated Kneser-Ney written out with dicts, straight from the textbook formulas."""
    bos = vocab
    grams: list[Counter] = [Counter() for _ in range(order + 1)]
    for block in blocks.tolist():
        padded = [bos] * (order - 1) + block
        for t in range(order - 1, len(padded)):
            grams[order][tuple(padded[t - order + 1 : t + 1])] += 1
    for k in range(order - 1, 0, -1):  # continuation counts: distinct left extensions
        for gram in grams[k + 1]:
            grams[k][gram[1:]] += 1
    discount = {}
    for k in range(1, order + 1):
        counts = list(grams[k].values())
        n1, n2 = counts.count(1), counts.count(2)
        discount[k] = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5
    totals: list[dict] = [defaultdict(float) for _ in range(order + 1)]
    types: list[dict] = [defaultdict(int) for _ in range(order + 1)]
    for k in range(1, order + 1):
        for gram, c in grams[k].items():
            totals[k][gram[:-1]] += c
            types[k][gram[:-1]] += 1

    def prob(context: tuple, w: int) -> float:
        total1 = totals[1][()]
        p = max(grams[1][(w,)] - discount[1], 0) / total1
        p += discount[1] * types[1][()] / total1 / vocab
        for k in range(2, order + 1):
            h = context[len(context) - (k - 1) :]
            if totals[k][h] > 0:
                c = grams[k][(*h, w)]
                p = (max(c - discount[k], 0) + discount[k] * types[k][h] * p) / totals[k][h]
        return p

    return prob


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_equal_the_reference_and_sum_to_one(order: int):
    rng = np.random.default_rng(order)
    vocab = 6
    blocks = rng.integers(0, vocab, size=(40, 12))
    blocks[:, 3] = 2  # some structure, so higher orders matter
    tables = NGramTables.count(blocks, order, vocab)
    reference = reference_kn(blocks, order, vocab)
    contexts = rng.integers(0, vocab + 1, size=(30, order - 1))
    for w in range(vocab):
        ours = tables.prob(contexts, np.full(30, w))
        expected = [reference(tuple(c), w) for c in contexts.tolist()]
        np.testing.assert_allclose(ours, expected, rtol=1e-12)
    totals = sum(tables.prob(contexts, np.full(30, w)) for w in range(vocab))
    np.testing.assert_allclose(totals, 1.0, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 3])
def test_draws_follow_the_probabilities(order: int):
    rng = np.random.default_rng(10)
    vocab = 8
    blocks = rng.integers(0, vocab, size=(30, 16))
    tables = NGramTables.count(blocks, order, vocab)
    n = 200_000
    context = np.repeat(blocks[:1, : order - 1], n, axis=0)
    freq = np.bincount(tables.draw(context, rng), minlength=vocab) / n
    p = tables.prob(context[:vocab], np.arange(vocab))
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_model_continues_prompts_and_round_trips_its_state():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 20, size=(2, 25, 10))
    model = NGramModel(3, 20).fit(data, rng)
    text = model.sample(30, rng)
    assert text.shape == (2, 30, 10) and text.min() >= 0 and text.max() < 20
    log_p = model.log_prob(data[0])
    assert log_p.shape == (2, 25, 10) and np.all(log_p < 0)
    again = NGramModel(3, 20).set_state(model.get_state())
    np.testing.assert_array_equal(again.log_prob(data[0]), log_p)
    np.testing.assert_array_equal(again.prompts_, data)  # what it continues is learned state
    later = NGramModel(3, 20).start_from(model, model).fit(text, rng)
    np.testing.assert_array_equal(later.prompts_, data)  # later generations inherit it


def test_a_deterministic_corpus_is_learnt():
    """Text that repeats one cycle: the model continues it as often as its probabilities say."""
    cycle = np.tile(np.arange(5), 40).reshape(10, 20)
    model = NGramModel(3, 5).fit(cycle[None], np.random.default_rng(0))
    text = model.sample(400, np.random.default_rng(1))[0]
    follows = (text[:, 2:] - text[:, 1:-1]) % 5 == 1
    # only positions whose two previous tokens are in cycle order, each with its own P
    in_cycle = (text[:, 1:-1] - text[:, :-2]) % 5 == 1
    context = np.stack([text[:, :-2][in_cycle], text[:, 1:-1][in_cycle]], axis=1)
    p = model.tables_[0].prob(context, (context[:, 1] + 1) % 5)
    hits = follows[in_cycle]
    assert p.mean() > 0.9
    assert abs(hits.mean() - p.mean()) < 5 * np.sqrt((p * (1 - p)).sum()) / hits.size


def test_orders_whose_keys_overflow_64_bits_are_refused():
    import re

    from model_collapse.core.errors import UserInputError
    from model_collapse.families.ngram import check
    from model_collapse.sources.base import RealData
    from tests.conftest import make_config

    def real(vocab: int) -> RealData:
        blocks = np.zeros((1, 2, 8), dtype=np.int64)
        return RealData("text", blocks, blocks[0], None, lambda *a: blocks, vocab)

    config = make_config(family={"name": "ngram", "order": 4})
    check(config, real(55_000))  # (V + 1) ** 4 < 2 ** 63: fits
    message = "family.order = 4 over a vocabulary of 128256 tokens needs n-gram keys beyond 64 "
    with pytest.raises(UserInputError, match=re.escape(message + "bits; set family.order <= 3")):
        check(config, real(128_256))


def test_unsmoothed_counts_never_draw_a_token_their_data_lacked():
    """family.smoothing = none, the maximum-likelihood n-gram: every drawn token was in
    the data (a word once lost stays lost); Kneser-Ney gives the vocabulary's other
    tokens mass, and at these sizes draws some of them."""
    vocab = 40
    rng = np.random.default_rng(3)
    data = rng.integers(0, 12, size=(1, 60, 16))  # tokens 0-11 only, of 40
    drawn = {}
    for smoothing in ("none", "kneser-ney"):
        model = NGramModel(3, vocab, smoothing=smoothing).fit(data, np.random.default_rng(0))
        drawn[smoothing] = set(np.unique(model.sample(400, np.random.default_rng(1))))
    assert drawn["none"] <= set(range(12))
    assert drawn["kneser-ney"] - set(range(12))  # unseen tokens drawn: smoothing's mass
    tables = NGramTables.count(data[0], 3, vocab, smoothed=False)
    assert all(level.discount == 0.0 for level in tables.levels)
