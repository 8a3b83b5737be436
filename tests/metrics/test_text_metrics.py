"""Text metrics on hand-made token blocks, and perplexities against direct computation."""

import numpy as np

from model_collapse.families.ngram import NGramModel
from model_collapse.metrics import METRICS, Reference
from model_collapse.sources.base import RealData
from tests.conftest import make_config, step_of


def _reference(test: np.ndarray, vocab: int = 10) -> Reference:
    real = RealData("text", test[None], test, None, lambda *a: test[None], vocab)
    return Reference(real, make_config())


def _value(name: str, ref: Reference, text: np.ndarray, model=None, first=None) -> float:
    return float(METRICS.get(name).compute(step_of(ref, model, text[None], first))[0])


def test_diversity_and_repetition_by_hand():
    ref = _reference(np.array([[0, 1, 2, 3, 4, 5]]))
    text = np.array([[1, 1, 2, 1, 1, 2], [7, 7, 7, 7, 7, 7]])  # 12 tokens, 10 bigrams, 6 4-grams
    assert _value("distinct_1", ref, text) == 3 / 12
    assert _value("distinct_2", ref, text) == 4 / 10  # (1,1) (1,2) (2,1) (7,7)
    assert _value("repetition", ref, text) == 1 - 4 / 6  # 1121 1211 2112 7777
    assert _value("vocab_coverage", ref, text) == 2 / 6  # types 1 and 2 of 0..5


def test_tail_mass_uses_the_rarest_real_types():
    # counts in the real test text: 0 -> 15, 1 -> 3, 2 -> 1, 3 -> 1 (20 tokens; rarest 10% = 2, 3)
    test = np.array([[0] * 15 + [1] * 3 + [2, 3]])
    ref = _reference(test)
    text = np.array([[2, 3, 0, 0], [0, 1, 3, 9]])
    assert _value("tail_mass", ref, text) == 3 / 8


def test_perplexities_are_exp_mean_negative_log_likelihood():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 10, size=(1, 30, 8))
    test = rng.integers(0, 10, size=(5, 8))
    model = NGramModel(2, 10).fit(train, rng)
    ref = _reference(test)
    tables = model.tables_[0]
    padded = np.concatenate([np.full((5, 1), 10), test], axis=1)
    probs = [tables.prob(padded[:, t : t + 1], padded[:, t + 1]) for t in range(8)]
    expected = np.exp(-np.mean(np.log(probs)))
    assert np.isclose(_value("test_perplexity", ref, test, model), expected, rtol=1e-12)
    text = model.sample(4, rng)
    other = NGramModel(2, 10).fit(text, rng)
    per_block = np.exp(-model.log_prob(text[0])[0].mean(axis=1))  # (4,)
    gen0 = _value("gen0_perplexity", ref, text[0], other, first=model)
    assert np.isclose(gen0, per_block.mean(), rtol=1e-12)
    median = _value("gen0_perplexity_p50", ref, text[0], other, first=model)
    assert np.isclose(median, np.median(per_block), rtol=1e-12)


def test_diversity_beyond_64_bit_keys_counts_whole_rows():
    """A 128k vocabulary: 4-gram keys would overflow int64; the counts stay exact."""
    rng = np.random.default_rng(1)
    small = rng.integers(0, 5, size=(3, 6, 12))  # 5 distinct tokens, many repeats
    big = small * 40_000 + 7  # the same token pattern, spread over a 200k vocabulary
    for name in ("distinct_2", "repetition"):
        low = METRICS.get(name).compute(step_of(_reference(small[0], 5), None, small))
        high = METRICS.get(name).compute(step_of(_reference(big[0], 200_007), None, big))
        assert np.array_equal(low, high), name


def test_gen0_perplexity_scores_each_seed_with_its_own_model_once(monkeypatch):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 10, size=(4, 30, 8))
    first = NGramModel(2, 10).fit(train, rng)
    text = first.sample(5, rng)
    calls = []
    score = NGramModel._score
    monkeypatch.setattr(NGramModel, "_score", staticmethod(lambda *a: calls.append(1) or score(*a)))
    ref = _reference(train[0])
    values = METRICS.get("gen0_perplexity").compute(step_of(ref, first, text, first))
    assert len(calls) == 4  # S scorings, not S x S
    monkeypatch.undo()
    expected = [np.exp(-first.log_prob(text[s])[s].mean(axis=1)).mean() for s in range(4)]
    assert np.allclose(values, expected, rtol=1e-12)


def test_repetition_needs_blocks_of_four(tmp_path):
    import re

    import pytest

    import model_collapse
    from model_collapse.core.errors import UserInputError
    from tests.conftest import TEXT_SOURCE

    config = make_config(
        family={"name": "ngram"}, source={**TEXT_SOURCE, "block_size": 3}, sampling={"n": 40}
    )
    result = model_collapse.run(config, tmp_path / "r")
    assert "repetition" not in result.metrics and "distinct_2" in result.metrics
    log = (tmp_path / "r/run.log").read_text()
    assert log.startswith(
        "repetition is left out: it needs blocks of at least 4 tokens (source.block_size = 3)"
    )
    asked = make_config(
        family={"name": "ngram"},
        source={**TEXT_SOURCE, "block_size": 3},
        metrics={"names": ["repetition"]},
    )
    message = "metric 'repetition' does not apply to this run: it needs blocks of at least 4"
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(asked)
