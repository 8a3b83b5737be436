"""Shumailov et al.'s language models: every real 64-token block continued with 64 tokens by
5-way beam search; each generation fine-tuned from generation 0's weights (the paper: from
the pretrained OPT-125m) on the previous generation's text, for 5 epochs with no real data
kept or 10 epochs keeping 10% of the real blocks. The paper's finding is a shape, shown in
a figure: the generated text grows *more* probable under generation 0's model (its
perplexity histogram shifts lower), with a long tail of improbable blocks. The recipe
tests that shift on the runs' own per-block perplexities and says plainly whether it shows.

``small`` is a 2-layer GPT trained from scratch on the Wikipedia sample (a CPU, minutes);
``paper`` is any causal LM folder on WikiText-2 (a GPU): give
``--set family.model_path=DIR --set source.path=DIR``."""

from __future__ import annotations

import numpy as np

from model_collapse.recipes.base import (
    RECIPES,
    Finished,
    Recipe,
    Row,
    Scale,
    last_generation,
    mean_interval,
    seeds_at,
)

PAPER = "Shumailov et al. (Nature 631, 2024)"
SHAPE = (
    "Shumailov et al. (2024), Fig. 1b-c: generated text more probable under generation 0's "
    "model, with a long tail; a histogram, no number"
)
READ = ("gen0_perplexity_p05", "gen0_perplexity_p50", "gen0_perplexity_p95", "test_perplexity")
SHIFT_ALPHA = 0.05  # the one-sided Mann-Whitney test's false-alarm rate


def _arm(run: Finished) -> str:
    keep = run.config.regime.name == "mix"
    return f"{'10% real' if keep else 'no real'}, {run.config.family.epochs} epochs"


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in sorted(runs, key=_arm):
        for metric in READ:
            for g in sorted(set(run.metrics["generation"])):
                ours = mean_interval(seeds_at(run, metric, int(g)))
                rows.append(Row(f"{metric}, {_arm(run)}", int(g), *ours, source=SHAPE))
    return rows


def per_block(run: Finished, generation: int) -> np.ndarray:
    """Every seed's blocks' perplexity under generation 0's model, one generation."""
    assert run.directory is not None
    path = run.directory / "samples" / "gen0_perplexity" / f"generation-{generation:05d}.npy"
    return np.asarray(np.load(path, allow_pickle=False), dtype=float).ravel()


def shift(run: Finished) -> str:
    """Whether the last generation's text is more probable under generation 0's model than
    generation 1's (the first written by a model that learned from generated text): a
    one-sided Mann-Whitney test on the blocks, at SHIFT_ALPHA, with its effect size (the
    share of block pairs in which the later block is the more probable) and the tail."""
    from scipy.stats import mannwhitneyu

    from model_collapse.output.reading import number

    last = last_generation(run)
    first, final = per_block(run, 1), per_block(run, last)
    test = mannwhitneyu(final, first, alternative="less")
    p, pairs = float(test.pvalue), 1 - float(test.statistic) / (len(first) * len(final))
    numbers = (
        f"a block of generation {last} is the more probable in {pairs:.0%} of pairs with "
        f"generation 1's (a one-sided Mann-Whitney test, p = {p:.2g}, at {SHIFT_ALPHA:.0%}); "
        f"median perplexity {number(np.median(first))}, then {number(np.median(final))}; "
        f"95% quantile {number(np.quantile(first, 0.95))}, then {number(np.quantile(final, 0.95))}"
    )
    head = f"{_arm(run)}: generation {last}'s text is"
    if p < SHIFT_ALPHA:
        return f"{head} more probable under generation 0's model, as in the paper: {numbers}."
    return f"{head} not more probable under generation 0's model: {numbers}. {_why(run)}"


def _why(run: Finished) -> str:
    """The run's numbers that bear on why no shift shows, where it does not."""
    from model_collapse.output.reading import number

    at = run.metrics.groupby("generation").mean(numeric_only=True)
    repeated, test = at["repetition"].iloc[1], at["test_perplexity"]
    return (
        f"Why, from its numbers: generation 1's beam-search text repeats {repeated:.0%} of "
        f"its 4-grams, and test perplexity went from {number(test.iloc[0])} at generation 0 "
        f"to {number(test.iloc[-1])} at the last. The paper's shift came from a pretrained "
        "model whose beam-search text stays fluent (--scale paper)."
    )


def _reading(runs: list[Finished]) -> list[str]:
    return [shift(run) for run in sorted(runs, key=_arm) if run.metrics["generation"].max() >= 2]


# the paper's two arms: 5 epochs keeping no real data; 10 epochs keeping 10% real blocks
ARMS = {"regime.name": ["replace", "mix"], "family.epochs": [5, 10]}
PROTOCOL = {"sampling.beams": 5, "regime.real_fraction": 0.1, "source.block_size": 64}


def _small(generations: int, blocks: int) -> dict[str, object]:
    gpt = {"n_layer": 2, "n_head": 4, "n_embd": 128, "context": 160, "batch_size": 32}
    return {
        "base": "ngram-wikipedia",
        "set": {
            **PROTOCOL,
            **{f"family.{k}": v for k, v in gpt.items()},
            "family.name": "gpt",
            "family.learning_rate": 0.003,
            "family.init": "gen0",
            "source.vocab_size": 2048,
            # scored every epoch and generation: fewer blocks keep the recipe to minutes
            "source.n_validation": 128,
            "source.n_test": 512,
            "source.n_train": blocks,
            "sampling.n": blocks,
            "experiment.generations": generations,
            "experiment.seeds": 1,
        },
        "zip": ARMS,
    }


def _paper() -> dict[str, object]:
    return {
        "base": "ngram-wikipedia",
        "set": {
            **PROTOCOL,
            "source.name": "wikitext",
            "source.n_train": 0,  # every training block
            "family.name": "hf",
            "family.init": "scratch",  # every generation from the pretrained weights
            "family.batch_size": 32,
            "family.learning_rate": 0.00002,
            "sampling.n": 0,  # as many blocks as the real training set
            "experiment.generations": 10,
            "experiment.seeds": 1,
        },
        "zip": ARMS,
    }


RECIPES.register("shumailov-lm")(
    Recipe(
        "language models on their own beam-search text: the gen0-perplexity shift",
        PAPER,
        {
            "small": Scale(_small(4, 400), "3 min 54 s on 2 CPU cores"),
            "paper": Scale(_paper(), "for a GPU: not measured (OPT-125m is not offline here)"),
        },
        _reproduce,
        notes=[
            "The small scale trains a 2-layer GPT from scratch on 400 blocks: its beam-search "
            "text repeats, unlike OPT-125m's, and the reading says whether the shift shows.",
        ],
        reading=_reading,
    )
)
