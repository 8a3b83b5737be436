"""What the text detectors read of an n-gram model, without writing its dense distribution.

At each position the interpolated Kneser-Ney distribution is p(v) = A u(v) + s(v): the
unigram u scaled by the product A of every seen order's back-off factor, plus a sparse
part s on the tokens some order has seen after this context. Sums over the whole
vocabulary then split into the few seen tokens and closed forms over the rest:

    sum_v p log p   = sum_seen p log p + A [log A (1 - U) + (L - L_seen)]
    sum_v p log^2 p = sum_seen p log^2 p
                      + A [log^2 A (1 - U) + 2 log A (L - L_seen) + (Q - Q_seen)]

with U the unigram mass of the seen tokens and L, Q the sums of u log u and u log^2 u
(over all tokens, and over the seen ones). The rank of a token counts the seen tokens
above it and, through a sorted unigram, the unseen ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def position_stats(tables: Any, context: np.ndarray, token: np.ndarray) -> dict[str, np.ndarray]:
    """Per position (rows of ``context`` and ``token``): log p of the token, log of its
    rank, the mean and the variance of log p under p."""
    rows, tokens, sparse, scale = _sparse_parts(tables, context)
    u = tables.unigram
    log_u = np.log(u)
    p = scale[rows] * u[tokens] + sparse
    log_p = np.log(p)
    n = len(context)
    seen_u = np.bincount(rows, u[tokens], n)
    seen_l = np.bincount(rows, u[tokens] * log_u[tokens], n)
    seen_q = np.bincount(rows, u[tokens] * log_u[tokens] ** 2, n)
    whole_l, whole_q = float(u @ log_u), float(u @ log_u**2)
    log_a = np.log(scale)
    rest = 1.0 - seen_u
    mean = np.bincount(rows, p * log_p, n) + scale * (log_a * rest + whole_l - seen_l)
    second = np.bincount(rows, p * log_p**2, n) + scale * (
        log_a**2 * rest + 2 * log_a * (whole_l - seen_l) + whole_q - seen_q
    )
    # the token's own probability: seen or not
    key = rows * (tables.vocab + 1) + tokens
    own_key = np.arange(n) * (tables.vocab + 1) + token
    where = np.searchsorted(key, own_key)
    where = np.minimum(where, len(key) - 1)
    hit = key[where] == own_key if len(key) else np.zeros(n, bool)
    own = np.where(hit, p[where] if len(p) else 0.0, scale * u[token])
    above_seen = np.bincount(rows, p > own[rows], n)
    # an unseen token's p is A u: above the token's iff its u is (exact, so ties stay ties)
    bar = np.where(hit, own / scale, u[token])
    unseen_above = len(u) - np.searchsorted(np.sort(u), bar, side="right").astype(float)
    unseen_above -= np.bincount(rows, u[tokens] > bar[rows], n)
    return {
        "loglik": np.log(own),
        "logrank": np.log(1.0 + above_seen + unseen_above),
        "mean": mean,
        "variance": np.maximum(second - mean**2, 0.0),
    }


def _sparse_parts(
    tables: Any, context: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, token, s) of the seen tokens, sorted by row then token with duplicates summed,
    and the unigram's scale A per row."""
    parts = list(tables.levels_of(context))
    scale = np.ones(len(context))
    rows, tokens, values = [], [], []
    for level_rows, factor, row, token, value in reversed(parts):
        rows.append(row)
        tokens.append(token)
        values.append(value * scale[row])
        scale[level_rows] *= factor
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), scale
    key = np.concatenate(rows) * (tables.vocab + 1) + np.concatenate(tokens)
    # each order's keys come sorted: a stable sort merges the runs (timsort), some 25
    # times faster than np.unique's quicksort, and keeps each key's order of summation
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    unique = ordered[first]
    summed = np.bincount(np.cumsum(first) - 1, np.concatenate(values)[order], len(unique))
    return unique // (tables.vocab + 1), unique % (tables.vocab + 1), summed, scale
