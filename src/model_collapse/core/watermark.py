"""The green-list watermark of Kirchenbauer et al. 2023 (KGW), its bias and its test.

Before each token, the previous token and a key seed a random split of the vocabulary: a
share ``gamma`` of it is "green". Generation adds ``delta`` to the green tokens' logits;
the test needs only the tokens, the vocabulary size and the key. A text of T scored
tokens with g green ones has z = (g - gamma T) / sqrt(T gamma (1 - gamma)); unwatermarked
text gives z ~ N(0, 1). The split follows the reference implementation's "simple_1"
scheme (a CPU ``torch.randperm`` seeded with key x previous token), so its z-scores agree
with the reference's for the same tokens. Repeated (previous, token) pairs are scored once
by default: repetition would otherwise inflate z.

Each previous token's split is computed once and cached (within a memory budget); the
test then looks every (previous, token) pair up at once, grouped by previous token.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KEY = 15485863  # the reference implementation's hash key
CACHE_BYTES = 512 * 2**20  # green lists kept in memory; past this the cache starts over
_cache: dict[tuple[int, int, float, int], np.ndarray] = {}
_cached_bytes = 0


def green_list(previous: int, vocab: int, gamma: float, key: int = KEY) -> np.ndarray:
    """The green tokens after ``previous``: a bool mask over the vocabulary (read-only)."""
    global _cached_bytes
    found = _cache.get((previous, vocab, gamma, key))
    if found is not None:
        return found
    import torch

    generator = torch.Generator(device="cpu").manual_seed((key * previous) % (2**64 - 1))
    order = torch.randperm(vocab, generator=generator).numpy()
    mask = np.zeros(vocab, dtype=bool)
    mask[order[: int(vocab * gamma)]] = True
    mask.flags.writeable = False  # shared through the cache
    if _cached_bytes + vocab > CACHE_BYTES:
        _cache.clear()
        _cached_bytes = 0
    _cache[(previous, vocab, gamma, key)] = mask
    _cached_bytes += vocab
    return mask


def green_masks(previous: np.ndarray, vocab: int, gamma: float, key: int = KEY) -> np.ndarray:
    """The green lists after each of ``previous`` (B,): a bool array (B, vocab)."""
    return np.stack([green_list(int(p), vocab, gamma, key) for p in previous])


def is_green(
    previous: np.ndarray, tokens: np.ndarray, vocab: int, gamma: float, key: int = KEY
) -> np.ndarray:
    """Whether each token was green after its previous token, for arrays of pairs."""
    out = np.zeros(len(tokens), dtype=bool)
    if len(tokens) == 0:
        return out
    uniques, where = np.unique(previous, return_inverse=True)
    chunk = max(1, 2**26 // vocab)  # at most 64 MB of masks at a time
    for start in range(0, len(uniques), chunk):
        masks = green_masks(uniques[start : start + chunk], vocab, gamma, key)
        here = (where >= start) & (where < start + chunk)
        out[here] = masks[where[here] - start, tokens[here]]
    return out


@dataclass(frozen=True)
class Watermark:
    """A watermark's settings: green share, bias and key (``sampling.watermark_*``)."""

    gamma: float = 0.25
    delta: float = 2.0
    key: int = KEY

    def masks(self, previous: np.ndarray, vocab: int) -> np.ndarray:
        return green_masks(previous, vocab, self.gamma, self.key)

    @classmethod
    def of(cls, sampling: Any) -> Watermark | None:
        """The watermark a config's sampling section asks for, or None (also where the
        run's family samples no tokens, and has no sampling.watermark)."""
        if sampling.params.get("watermark", "none") == "none":
            return None
        return cls(sampling.watermark_gamma, sampling.watermark_delta, sampling.watermark_key)


@dataclass(frozen=True)
class Score:
    """What the test found in one text."""

    green: int  # scored tokens that were green
    scored: int  # tokens scored (after dropping repeated pairs)
    z: float
    p_value: float  # one-sided: the chance of a z this high without a watermark


def z_score(green: int, scored: int, gamma: float) -> float:
    if scored == 0:
        return 0.0
    return (green - gamma * scored) / math.sqrt(scored * gamma * (1 - gamma))


def p_value(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def scored_pairs(
    tokens: Sequence[int], ignore_repeated: bool = True, keep: np.ndarray | None = None
) -> np.ndarray:
    """The (previous, token) pairs a test scores, (T, 2): every token after the first; with
    ``ignore_repeated`` each pair only where it first occurs; ``keep`` (per token after the
    first) leaves out the tokens it marks False (e.g. those generated with low entropy)."""
    ids = np.asarray(tokens, dtype=np.int64)
    pairs = np.stack([ids[:-1], ids[1:]], axis=1) if len(ids) > 1 else np.zeros((0, 2), np.int64)
    if keep is not None:
        pairs = pairs[np.asarray(keep, dtype=bool)]
    if ignore_repeated and len(pairs):
        _, first = np.unique(pairs, axis=0, return_index=True)
        pairs = pairs[np.sort(first)]
    return pairs


def green_flags(
    tokens: Sequence[int], vocab: int, gamma: float, key: int = KEY, ignore_repeated: bool = True
) -> np.ndarray:
    """Per scored token, whether it was green."""
    pairs = scored_pairs(tokens, ignore_repeated)
    return is_green(pairs[:, 0], pairs[:, 1], vocab, gamma, key)


def detect(
    tokens: Sequence[int],
    vocab: int,
    gamma: float,
    key: int = KEY,
    ignore_repeated: bool = True,
    keep: np.ndarray | None = None,
) -> Score:
    """The watermark test of one text's token ids (``keep``: see :func:`scored_pairs`)."""
    pairs = scored_pairs(tokens, ignore_repeated, keep)
    flags = is_green(pairs[:, 0], pairs[:, 1], vocab, gamma, key)
    z = z_score(int(flags.sum()), len(flags), gamma)
    return Score(int(flags.sum()), len(flags), z, p_value(z))


def detect_many(
    texts: Sequence[Sequence[int]], vocab: int, gamma: float, key: int = KEY
) -> list[Score]:
    """The test of many texts at once, repeated pairs scored once per text: every text's
    pairs deduplicated and looked up together (no loop over texts)."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    ids = np.fromiter(itertools.chain.from_iterable(texts), np.int64, int(lengths.sum()))
    owner = np.repeat(np.arange(len(texts)), lengths)
    within = owner[:-1] == owner[1:]  # a pair never spans two texts
    previous, token, owner = ids[:-1][within], ids[1:][within], owner[1:][within]
    _, first = np.unique((owner * vocab + previous) * vocab + token, return_index=True)
    flags = is_green(previous[first], token[first], vocab, gamma, key)
    scored = np.bincount(owner[first], minlength=len(texts))
    greens = np.bincount(owner[first], flags, len(texts))
    out = []
    for green, count in zip(greens.astype(int).tolist(), scored.tolist(), strict=True):
        z = z_score(green, count, gamma)
        out.append(Score(green, count, z, p_value(z)))
    return out


def detect_windows(
    tokens: Sequence[int], vocab: int, gamma: float, window: int, key: int = KEY
) -> Score:
    """The highest z over every stretch of ``window`` scored tokens: finds a watermarked
    passage inside a long text. Its p-value is per window (no correction for the number
    of windows tried), as in the reference."""
    flags = green_flags(tokens, vocab, gamma, key).astype(np.int64)
    if len(flags) <= window:
        return detect(tokens, vocab, gamma, key)
    sums = np.convolve(flags, np.ones(window, dtype=np.int64), mode="valid")
    best = int(sums.max())
    z = z_score(best, window, gamma)
    return Score(best, window, z, p_value(z))


def bias(
    logits: np.ndarray, previous: np.ndarray, gamma: float, delta: float, key: int = KEY
) -> np.ndarray:
    """Logits (B, V) with ``delta`` added to each row's green tokens (after ``previous``)."""
    return logits + delta * green_masks(previous, logits.shape[-1], gamma, key)
