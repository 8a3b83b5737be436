"""Order-n token model with interpolated Kneser-Ney smoothing; exact log-probabilities.

An n-gram is stored as one int64 key, its tokens as digits in base V + 1 (the extra
symbol is the start-of-block padding). Sampling draws from the interpolated mixture
exactly, one level at a time: with probability 1 - gamma(context) a token among the
context's observed continuations (discounted counts), otherwise the next lower order;
so no step ever builds a distribution over the whole vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.errors import OLD_CHECKPOINT, UserInputError
from model_collapse.core.watermark import Watermark
from model_collapse.families.base import FAMILIES
from model_collapse.families.text_family import text_family
from model_collapse.sources.base import RealData


@dataclass
class Level:
    """The k-grams of one order: sorted keys, (continuation) counts, discount, contexts."""

    keys: np.ndarray
    counts: np.ndarray
    discount: float
    ctx_keys: np.ndarray = field(init=False)
    ctx_start: np.ndarray = field(init=False)
    ctx_total: np.ndarray = field(init=False)
    ctx_types: np.ndarray = field(init=False)
    cum: np.ndarray = field(init=False)  # running sum of discounted counts

    def __post_init__(self) -> None:
        self.cum = np.cumsum(np.maximum(self.counts - self.discount, 0.0))


def _discount(counts: np.ndarray) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2) from the counts of counts."""
    n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
    return float(n1 / (n1 + 2 * n2)) if n1 + n2 > 0 and n1 > 0 else 0.5


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each key in ``sorted_keys`` and whether it is there."""
    index = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return index, sorted_keys[index] == keys


class NGramTables:
    """One seed's interpolated Kneser-Ney model of order ``order`` over ``vocab`` tokens."""

    def __init__(self, order: int, vocab: int, levels: list[Level]) -> None:
        self.order, self.vocab, self.base = order, vocab, vocab + 1
        self.levels = levels  # levels[k - 1] holds the k-grams
        for k, level in enumerate(levels[1:], start=2):
            ctx = level.keys // self.base
            level.ctx_keys, level.ctx_start, level.ctx_types = np.unique(
                ctx, return_index=True, return_counts=True
            )
            level.ctx_total = np.add.reduceat(level.counts, level.ctx_start) if len(ctx) else ctx
            assert k >= 2
        uni = levels[0]
        self.unigram = np.zeros(vocab)
        total = uni.counts.sum()
        np.add.at(self.unigram, uni.keys, np.maximum(uni.counts - uni.discount, 0.0) / total)
        self.unigram_gamma = uni.discount * len(uni.keys) / total
        self.unigram += self.unigram_gamma / vocab

    @classmethod
    def count(
        cls, blocks: np.ndarray, order: int, vocab: int, smoothed: bool = True
    ) -> NGramTables:
        """Counts from (n, L) token blocks, each padded on the left with start symbols.
        Unsmoothed (no discount): each seen context's continuations by their counts alone,
        the maximum-likelihood model, which never draws a token its data lacked."""
        discount = _discount if smoothed else lambda counts: 0.0
        base = vocab + 1
        padded = np.concatenate([np.full((len(blocks), order - 1), vocab), blocks], axis=1)
        windows = np.lib.stride_tricks.sliding_window_view(padded, order, axis=1)
        keys = (windows.reshape(-1, order) * base ** np.arange(order - 1, -1, -1)).sum(axis=1)
        top_keys, top_counts = np.unique(keys, return_counts=True)
        levels = [Level(top_keys, top_counts.astype(float), discount(top_counts))]
        for k in range(order - 1, 0, -1):  # continuation counts: distinct left neighbours
            suffix_keys, continuation = np.unique(levels[0].keys % base**k, return_counts=True)
            levels.insert(0, Level(suffix_keys, continuation.astype(float), discount(continuation)))
        return cls(order, vocab, levels)

    def context_keys(self, context: np.ndarray, k: int) -> np.ndarray:
        """Keys of the last k - 1 tokens of each context row (B, order - 1)."""
        digits = context[:, self.order - k :]
        return (digits * self.base ** np.arange(k - 2, -1, -1)).sum(axis=1)

    def prob(self, context: np.ndarray, token: np.ndarray) -> np.ndarray:
        """P(token | context) for rows of context (B, order - 1) and tokens (B,)."""
        p = self.unigram[token]
        for k in range(2, self.order + 1):
            level = self.levels[k - 1]
            ctx = self.context_keys(context, k)
            i, seen = _lookup(level.ctx_keys, ctx)
            j, has = _lookup(level.keys, ctx * self.base + token)
            count = np.where(has, level.counts[j], 0.0)
            total = level.ctx_total[i]
            mixed = (
                np.maximum(count - level.discount, 0.0) + level.discount * level.ctx_types[i] * p
            ) / np.where(seen, total, 1.0)
            p = np.where(seen, mixed, p)
        return p

    def draw(self, context: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One token per context row, drawn exactly from the interpolated distribution."""
        token = np.full(len(context), -1)
        for k in range(self.order, 1, -1):
            level, todo = self.levels[k - 1], np.flatnonzero(token < 0)
            i, seen = _lookup(level.ctx_keys, self.context_keys(context[todo], k))
            total = level.ctx_total[i]
            target = rng.random(len(todo)) * total  # below total * (1 - gamma): observed
            stay = seen & (target < total - level.discount * level.ctx_types[i])
            start = level.ctx_start[i[stay]]
            before = np.where(start > 0, level.cum[np.maximum(start - 1, 0)], 0.0)
            pick = np.searchsorted(level.cum, before + target[stay], side="right")
            token[todo[stay]] = level.keys[pick] % self.base
        todo = np.flatnonzero(token < 0)
        u = rng.random(len(todo))
        observed = u < 1 - self.unigram_gamma
        uni = self.levels[0]
        pick = np.searchsorted(uni.cum, u[observed] * uni.counts.sum(), side="right")
        token[todo[observed]] = uni.keys[np.minimum(pick, len(uni.keys) - 1)]
        token[todo[~observed]] = rng.integers(0, self.vocab, size=int((~observed).sum()))
        return token

    def levels_of(
        self, context: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """For each order k >= 2, how P(. | context) changes from order k - 1: the rows whose
        context order k has seen, the factor on the lower order's probabilities, and the
        discounted counts (row, token, value) of each observed continuation."""
        for k in range(2, self.order + 1):
            level = self.levels[k - 1]
            i, seen = _lookup(level.ctx_keys, self.context_keys(context, k))
            rows = np.flatnonzero(seen)
            total = level.ctx_total[i[rows]]
            types = level.ctx_types[i[rows]]
            row = np.repeat(rows, types)
            entry = np.repeat(level.ctx_start[i[rows]] - np.cumsum(types) + types, types)
            entry += np.arange(len(row))
            kept = np.maximum(level.counts[entry] - level.discount, 0.0)
            factor = level.discount * types / total
            yield rows, factor, row, level.keys[entry] % self.base, kept / np.repeat(total, types)

    def distribution(self, context: np.ndarray) -> np.ndarray:
        """P(every token | context) for each context row (B, order - 1): (B, V)."""
        p = np.tile(self.unigram, (len(context), 1))
        for rows, factor, row, token, value in self.levels_of(context):
            p[rows] *= factor[:, None]  # the lower order's share, then the observed counts
            p[row, token] += value
        return p

    def log_distribution(self, context: np.ndarray) -> Any:
        """log P(every token | context) as a float32 torch tensor (B, V) (what the detectors
        read): P = (product of every order's factor) x unigram + each order's counts times
        the factors of the orders above it, so the dense matrix is written once."""
        import torch

        parts = list(self.levels_of(context))
        above = np.ones(len(context))  # product of the factors of the orders above
        scaled = []
        for rows, factor, row, token, value in reversed(parts):
            scaled.append((row, token, value * above[row]))
            above[rows] *= factor
        unigram = torch.from_numpy(self.unigram.astype(np.float32))
        p = torch.from_numpy(above.astype(np.float32))[:, None] * unigram[None, :]
        for row, token, value in scaled:
            p.index_put_(
                (torch.from_numpy(row), torch.from_numpy(token)),
                torch.from_numpy(value.astype(np.float32)),
                accumulate=True,
            )
        return p.log_()

    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for k, level in enumerate(self.levels, start=1):
            out[f"keys{k}"], out[f"counts{k}"] = level.keys, level.counts
            out[f"discount{k}"] = np.array(level.discount)
        return out

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], order: int, vocab: int) -> NGramTables:
        levels = [
            Level(state[f"keys{k}"], state[f"counts{k}"], float(state[f"discount{k}"]))
            for k in range(1, order + 1)
        ]
        return cls(order, vocab, levels)


class NGramModel:
    """Kneser-Ney n-gram model per seed, continuing real prompts block by block.

    Parameters
    ----------
    order : n, the number of tokens in an n-gram.
    vocab : vocabulary size V.
    watermark : the green-list watermark its sampler applies, or None.
    smoothing : "kneser-ney" (interpolated, Ney's discounts) or "none" (maximum
        likelihood: no mass for what the data lacked, so a word once lost stays lost, as
        the word-survival results assume).

    Learned: ``tables_``, the counts per seed, and ``prompts_`` (S, m, L), the blocks whose
    last tokens start each generated block: those of the data it is first fitted to
    (generation 0's real blocks), which later generations inherit (``start_from``).
    """

    prompts_: np.ndarray
    tables_: list[NGramTables]

    def __init__(
        self,
        order: int,
        vocab: int,
        watermark: Watermark | None = None,
        smoothing: str = "kneser-ney",
    ) -> None:
        self.order = order
        self.vocab = vocab
        self.watermark = watermark
        self.smoothing = smoothing

    def start_from(self, first: Self, previous: Self) -> Self:
        """Keep generation 0's prompts: every generation continues the same real blocks."""
        self.prompts_ = first.prompts_
        return self

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        if "prompts_" not in vars(self):  # a first fit: its blocks are the prompts
            self.prompts_ = np.asarray(data)
        smoothed = self.smoothing == "kneser-ney"
        self.tables_ = [
            NGramTables.count(blocks, self.order, self.vocab, smoothed) for blocks in data
        ]
        return self

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Counts with whole-number weights as repeats (see ``rows_per_seed``)."""
        from model_collapse.engine.capabilities import rows_per_seed

        rows = rows_per_seed(weight, rng)
        return self.fit([blocks[r] for blocks, r in zip(data, rows, strict=True)], rng)

    def sample_unmarked(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Samples without the watermark's bias, whatever the model was made with."""
        unmarked = NGramModel(self.order, self.vocab)._with(self.tables_, self.prompts_)
        return unmarked.sample(n, rng)

    def _with(self, tables: list[NGramTables], prompts: np.ndarray) -> Self:
        self.tables_, self.prompts_ = tables, prompts
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        seeds, m, length = self.prompts_.shape
        out = np.empty((seeds, n, length), dtype=np.int64)
        for s, tables in enumerate(self.tables_):
            prompt = self.prompts_[s, np.arange(n) % m]  # every real block, repeated if n > m
            context = np.concatenate([np.full((n, self.order), self.vocab), prompt], axis=1)
            context = context[:, context.shape[1] - (self.order - 1) :]
            previous = prompt[:, -1]
            for t in range(length):
                out[s, :, t] = (
                    tables.draw(context, rng)
                    if self.watermark is None
                    else self._draw_watermarked(tables, context, previous, rng)
                )
                context = np.concatenate([context[:, 1:], out[s, :, t, None]], axis=1)
                previous = out[s, :, t]
        return out

    def _draw_watermarked(
        self,
        tables: NGramTables,
        context: np.ndarray,
        previous: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """One token per row from the model's distribution with the green tokens' weight
        multiplied by e^delta (delta added to their logits), by inverse CDF."""
        assert self.watermark is not None
        mark, out = self.watermark, np.empty(len(context), dtype=np.int64)
        step = max(1, 2**24 // self.vocab)  # rows at a time: 128 MB of probabilities
        for start in range(0, len(context), step):
            rows = slice(start, start + step)
            p = tables.distribution(context[rows])
            p *= np.where(mark.masks(previous[rows], self.vocab), math.exp(mark.delta), 1.0)
            cdf = np.cumsum(p, axis=1)
            u = rng.random(len(cdf)) * cdf[:, -1]
            picked = (cdf < u[:, None]).sum(axis=1)
            out[rows] = np.minimum(picked, self.vocab - 1)
        return out

    def log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """Natural-log probability of every token of (m, L) blocks, per seed: (S, m, L)."""
        flat = self._windows(blocks)
        return np.stack([self._score(tables, flat, blocks.shape) for tables in self.tables_])

    def seed_log_prob(self, seed: int, blocks: np.ndarray) -> np.ndarray:
        """The same under one seed's model only: (m, L)."""
        return self._score(self.tables_[seed], self._windows(blocks), blocks.shape)

    def next_log_probs(self, seed: int, blocks: np.ndarray) -> Any:
        """log P(every token | the block before it) at every position of (b, T) blocks, as
        a torch tensor (b, T, V): what the detectors read."""

        contexts = self._windows(blocks)[:, :-1]
        return self.tables_[seed].log_distribution(contexts).reshape(*blocks.shape, self.vocab)

    def position_stats(self, seed: int, blocks: np.ndarray) -> dict[str, np.ndarray]:
        """Per token of (b, T) blocks: log p, log rank, and the mean and variance of log p
        under the model's distribution there, without writing that distribution out."""
        from model_collapse.families.ngram_stats import position_stats

        windows = self._windows(blocks)
        stats = position_stats(self.tables_[seed], windows[:, :-1], windows[:, -1])
        return {name: value.reshape(blocks.shape) for name, value in stats.items()}

    def _windows(self, blocks: np.ndarray) -> np.ndarray:
        """Every token with its context, (m * L, order), blocks padded with start symbols."""
        padded = np.concatenate([np.full((len(blocks), self.order - 1), self.vocab), blocks], 1)
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.order, axis=1)
        return windows.reshape(-1, self.order)

    @staticmethod
    def _score(tables: NGramTables, flat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.log(tables.prob(flat[:, :-1], flat[:, -1])).reshape(shape)

    def get_state(self) -> dict[str, np.ndarray]:
        tables = {
            f"seed{s}_{name}": value
            for s, tables in enumerate(self.tables_)
            for name, value in tables.state().items()
        }
        return {**tables, "prompts_": self.prompts_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        if "prompts_" not in state:
            raise UserInputError(OLD_CHECKPOINT.format(what="prompts"))
        self.prompts_ = state["prompts_"]
        seeds = len({key.split("_")[0] for key in state if key.startswith("seed")})
        self.tables_ = [
            NGramTables.from_state(
                {k.split("_", 1)[1]: v for k, v in state.items() if k.startswith(f"seed{s}_")},
                self.order,
                self.vocab,
            )
            for s in range(seeds)
        ]
        return self


def check(config: Config, real: RealData) -> None:
    """An n-gram is one int64 key, its tokens digits in base V + 1: that must fit."""
    order, base = config.family.order, real.categories + 1
    if base**order > np.iinfo(np.int64).max:
        fits = max(k for k in range(1, order) if base**k <= np.iinfo(np.int64).max)
        raise UserInputError(
            f"family.order = {order} over a vocabulary of {real.categories} tokens needs n-gram "
            f"keys beyond 64 bits; set family.order <= {fits} or use a smaller vocabulary"
        )


def _make(config: Config, real: RealData) -> NGramModel:
    mark = Watermark.of(config.sampling)
    return NGramModel(config.family.order, real.categories, mark, config.family.smoothing)


FAMILIES.register("ngram")(
    text_family(
        _make,
        "order-n token model, interpolated Kneser-Ney or unsmoothed (family.order, smoothing)",
        {
            "order": param(3, "tokens per n-gram", low=1, high=4),
            "smoothing": param(
                "kneser-ney",
                "kneser-ney, or none: maximum likelihood, which never invents a lost word",
                choices=("kneser-ney", "none"),
            ),
        },
        decodes=False,
        check=check,
    )
)
