"""The green-list watermark of Kirchenbauer et al. 2023 (KGW), its bias and its test.

Before each token, the previous token and a key seed a random split of the vocabulary: a
share ``gamma`` of it is "green". Generation adds ``delta`` to the green tokens' logits;
the test needs only the tokens, the vocabulary size and the key. A text of T scored
tokens with g green ones has z = (g - gamma T) / sqrt(T gamma (1 - gamma)); unwatermarked
text gives z ~ N(0, 1). The split follows the reference implementation's "simple_1"
scheme (a CPU ``torch.randperm`` seeded with key x previous token), so its z-scores agree
with the reference's for the same tokens. Repeated (previous, token) pairs are scored once
by default: repetition would otherwise inflate z.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KEY = 15485863  # the reference implementation's hash key


@functools.lru_cache(maxsize=65536)
def green_list(previous: int, vocab: int, gamma: float, key: int = KEY) -> np.ndarray:
    """The green tokens after ``previous``: a bool mask over the vocabulary."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed((key * previous) % (2**64 - 1))
    order = torch.randperm(vocab, generator=generator).numpy()
    mask = np.zeros(vocab, dtype=bool)
    mask[order[: int(vocab * gamma)]] = True
    mask.flags.writeable = False  # shared through the cache
    return mask


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


def _p_value(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def green_flags(
    tokens: Sequence[int], vocab: int, gamma: float, key: int = KEY, ignore_repeated: bool = True
) -> np.ndarray:
    """Per scored token (every token after the first), whether it was green; with
    ``ignore_repeated``, each (previous, token) pair only where it first occurs."""
    pairs = list(itertools.pairwise(tokens))
    if ignore_repeated:
        pairs = list(dict.fromkeys(pairs))
    return np.array([green_list(int(a), vocab, gamma, key)[int(b)] for a, b in pairs], bool)


def detect(
    tokens: Sequence[int], vocab: int, gamma: float, key: int = KEY, ignore_repeated: bool = True
) -> Score:
    """The watermark test of one text's token ids."""
    flags = green_flags(tokens, vocab, gamma, key, ignore_repeated)
    z = z_score(int(flags.sum()), len(flags), gamma)
    return Score(int(flags.sum()), len(flags), z, _p_value(z))


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
    return Score(best, window, z, _p_value(z))


def bias(
    logits: np.ndarray, previous: np.ndarray, gamma: float, delta: float, key: int = KEY
) -> np.ndarray:
    """Logits (B, V) with ``delta`` added to each row's green tokens (after ``previous``)."""
    vocab = logits.shape[-1]
    masks = np.stack([green_list(int(p), vocab, gamma, key) for p in previous])
    return logits + delta * masks
