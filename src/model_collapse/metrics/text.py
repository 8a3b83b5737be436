"""Metrics for token blocks: perplexities, diversity, coverage, tails, repetition.

Generated text is (S, n, L) token ids; real test text is (m, L).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model_collapse.engine.capabilities import ScoresTokens, can
from model_collapse.engine.step import Step
from model_collapse.metrics import pretrained
from model_collapse.metrics.base import METRICS, Metric, Reference, always


def _per_seed_unique(keys: np.ndarray) -> np.ndarray:
    """Number of distinct values per row of (S, N) integer keys."""
    ordered = np.sort(keys, axis=1)
    return 1 + (np.diff(ordered, axis=1) != 0).sum(axis=1)


def _distinct_ngrams(tokens: np.ndarray, n: int, base: int) -> tuple[np.ndarray, int]:
    """Distinct n-grams inside the blocks of (S, blocks, L) tokens, per seed, and how many
    n-grams each seed has."""
    windows = np.lib.stride_tricks.sliding_window_view(tokens, n, axis=2)
    windows = windows.reshape(len(tokens), -1, n)  # (S, N, n)
    if base**n <= np.iinfo(np.int64).max:  # an n-gram as one int64 key: fast
        keys = (windows * base ** np.arange(n - 1, -1, -1)).sum(axis=-1)
        return _per_seed_unique(keys), keys.shape[1]
    # a vocabulary too large for one 64-bit key (base ** n overflows): compare whole rows
    distinct = [len(np.unique(seed_windows, axis=0)) for seed_windows in windows]
    return np.array(distinct), windows.shape[1]


def _generated(step: Step) -> np.ndarray:
    assert step.synthetic is not None
    return step.synthetic


def test_perplexity(step: Step) -> np.ndarray:
    """exp of the mean negative log-likelihood per token of the real test text."""
    ref = step.reference
    return np.exp(-step.model.log_prob(ref.real.test).mean(axis=(1, 2)))


def sequence_gen0_perplexity(step: Step) -> np.ndarray:
    """Perplexity of every generated block under generation 0's model: (S, n).

    Seed s's text is scored by seed s's generation-0 model; cached per step, since
    the mean and the quantiles all read it.
    """
    ref = step.reference
    # Keyed on the step object itself (held in the cache, so its id cannot be reused).
    if ref.cache.get("gen0_step") is not step:
        text = _generated(step)
        log_p = np.stack([step.first_model.seed_log_prob(s, text[s]) for s in range(len(text))])
        ref.cache["gen0_step"], ref.cache["gen0"] = step, np.exp(-log_p.mean(axis=2))
    return np.asarray(ref.cache["gen0"])


def gen0_perplexity(step: Step) -> np.ndarray:
    """Mean over generated blocks of their perplexity under generation 0's model."""
    return sequence_gen0_perplexity(step).mean(axis=1)


def _gen0_quantile(q: float) -> Callable[[Step], np.ndarray]:
    def quantile(step: Step) -> np.ndarray:
        return np.quantile(sequence_gen0_perplexity(step), q, axis=1)

    return quantile


def distinct_1(step: Step) -> np.ndarray:
    text = _generated(step)
    return _per_seed_unique(text.reshape(len(text), -1)) / text[0].size


def distinct_2(step: Step) -> np.ndarray:
    ref = step.reference
    distinct, total = _distinct_ngrams(_generated(step), 2, ref.real.categories)
    return distinct / total


def vocab_coverage(step: Step) -> np.ndarray:
    """Share of the real test set's token types that the generated text uses."""
    ref = step.reference
    if "real_types" not in ref.cache:
        ref.cache["real_types"] = np.unique(ref.real.test)
    real_types = ref.cache["real_types"]
    text = _generated(step)
    return np.array([np.isin(real_types, seed_text).mean() for seed_text in text])


def tail_mass(step: Step) -> np.ndarray:
    """Share of generated tokens among the rarest real types that make up 10% of real tokens."""
    ref = step.reference
    if "rare_types" not in ref.cache:
        counts = np.bincount(ref.real.test.ravel(), minlength=ref.real.categories)
        order = np.lexsort((np.arange(len(counts)), counts))  # rarest first, ties by id
        used = order[counts[order] > 0]
        cumulative = np.cumsum(counts[used]) / counts.sum()
        ref.cache["rare_types"] = used[: np.searchsorted(cumulative, 0.10) + 1]
    text = _generated(step)
    return np.isin(text, ref.cache["rare_types"]).mean(axis=(1, 2))


def repetition(step: Step) -> np.ndarray:
    """Share of 4-grams in the generated text that repeat an earlier one (blocks of 4+)."""
    ref = step.reference
    distinct, total = _distinct_ngrams(_generated(step), 4, ref.real.categories)
    return 1 - distinct / total


def _has_log_prob(ref: Reference, model: object, exact: bool) -> bool:
    return can(model, ScoresTokens)


def _blocks_of(length: int) -> Callable[[Reference], str]:
    def too_small(ref: Reference) -> str:
        size = ref.real.test.shape[1]
        if size >= length:
            return ""
        return f"it needs blocks of at least {length} tokens (source.block_size = {size})"

    return too_small


TEXT_READINGS: dict[str, tuple[str, float | None]] = {
    "test_perplexity": ("lower", None),
    "distinct_1": ("higher", None),
    "distinct_2": ("higher", None),
    "vocab_coverage": ("higher", 1.0),
    "tail_mass": ("closer", 0.1),  # the rarest real types make up 10% of real tokens
    "repetition": ("lower", None),
}
for _name, _fn, _applies, _text in [
    ("test_perplexity", test_perplexity, _has_log_prob, "perplexity of the real test text"),
    (
        "gen0_perplexity",
        gen0_perplexity,
        _has_log_prob,
        "mean perplexity of generated blocks under generation 0's model",
    ),
    ("gen0_perplexity_p05", _gen0_quantile(0.05), _has_log_prob, "its 5% quantile"),
    ("gen0_perplexity_p50", _gen0_quantile(0.50), _has_log_prob, "its median"),
    ("gen0_perplexity_p95", _gen0_quantile(0.95), _has_log_prob, "its 95% quantile"),
    ("distinct_1", distinct_1, always, "distinct tokens / generated tokens"),
    ("distinct_2", distinct_2, always, "distinct bigrams / generated bigrams"),
    ("vocab_coverage", vocab_coverage, always, "share of real test token types generated"),
    ("tail_mass", tail_mass, always, "generated share of the rarest types (10% of real tokens)"),
    ("repetition", repetition, always, "share of generated 4-grams that repeat"),
]:
    # generated text's perplexity under generation 0's model has no level of its own: the
    # real text's is test_perplexity's generation 0, so its direction is left undeclared
    better, level = TEXT_READINGS.get(_name, ("", None))
    per_item = sequence_gen0_perplexity if _name == "gen0_perplexity" else None
    too_small = _blocks_of(4) if _name == "repetition" else None
    guard = pretrained.GUARD if _name == "test_perplexity" else None
    METRICS.register(_name)(
        Metric(
            ("text",),
            _fn,
            _applies,
            _text,
            per_item,
            too_small,
            guard=guard,
            better=better,
            level=level,
        )
    )
