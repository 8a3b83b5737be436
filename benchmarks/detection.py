"""Detection costs: the watermark test's throughput, and each text detector against the same
model's plain scoring pass (log P of each token), on real Wikipedia blocks, in one process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

DETECTORS = ("loglik", "logrank", "entropy", "fast_detectgpt", "binoculars")


def _best(fn: Callable[[], Any], runs: int = 3) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _real_blocks(family: str, blocks: int) -> tuple[Any, Any, np.ndarray]:
    """Two models of ``family`` (generation 0's and a second fit, for Binoculars) on the
    Wikipedia sample, and ``blocks`` real test blocks of 64 tokens."""
    from model_collapse.api import load_config
    from model_collapse.assemble.plan import plan_run

    sets = ["experiment.seeds=1", "source.n_train=1000", "sampling.n=1000"]
    plan = plan_run(load_config("ngram-wikipedia", [*sets, f"family.name={family}"]))
    train = plan.real.train
    first = plan.new_model().fit(train, np.random.default_rng(0))
    second = plan.new_model().fit(train[:, ::-1].copy(), np.random.default_rng(1))
    return first, second, plan.real.test[:blocks]


def detector_benchmark(blocks: int = 512) -> dict[str, Any]:
    """Seconds per pass over the blocks: plain scoring, then every detector."""
    import torch

    from model_collapse.detectors.text import ModelScorer, TextDetector

    torch.manual_seed(0)
    out: dict[str, Any] = {}
    for family in ("ngram", "gpt"):
        first, second, data = _real_blocks(family, blocks)
        vocab = int(first.vocab if hasattr(first, "vocab") else first.real.categories)
        plain = _best(lambda m=first, d=data: m.seed_log_prob(0, d))
        row = {"plain": plain}
        for name in DETECTORS:
            # the scorers the CLI and the loop use: the n-gram's sparse statistics too
            detector = TextDetector(
                name,
                ModelScorer(first, 0),
                vocab,
                performer=ModelScorer(second, 0) if name == "binoculars" else None,
            )
            row[name] = _best(lambda det=detector, d=data: det.score_blocks(d))
        out[family] = row
    out["tokens"] = int(data.size)
    return out


def watermark_benchmark(tokens: int = 2_000_000) -> dict[str, float]:
    """Tokens per second of the watermark test over real token ids (4096-token BPE): with
    the green lists cached (a detector's steady state) and from a cold cache."""
    import torch

    from model_collapse.api import load_config
    from model_collapse.core import watermark
    from model_collapse.sources.base import load_real_data

    torch.set_num_threads(1)
    real = load_real_data(load_config("ngram-wikipedia", ["experiment.seeds=1"]), "text")
    ids = np.concatenate([real.train[0], real.test])
    texts = [list(row) for row in np.resize(ids, (tokens // 64, 64))]
    watermark._cache.clear()
    start = time.perf_counter()
    watermark.detect_many(texts, real.categories, 0.25, 42)
    cold = time.perf_counter() - start
    warm = _best(lambda: watermark.detect_many(texts, real.categories, 0.25, 42), runs=2)
    torch.set_num_threads(2)
    return {"tokens": float(len(texts) * 64), "warm": warm, "cold": cold}


def detection_report(detectors: dict[str, Any], marks: dict[str, float]) -> str:
    tokens = detectors["tokens"]
    lines = [
        "## Detection",
        "",
        f"The watermark test over {marks['tokens']:,.0f} tokens of real Wikipedia ids "
        "(4096-token BPE, 64-token texts, repeated pairs scored once), one thread:",
        "",
        "| what | tokens per second |",
        "|---|---|",
        f"| green lists cached (a detector's steady state) | "
        f"{marks['tokens'] / marks['warm']:,.0f} |",
        f"| from a cold cache (every previous token's split computed) | "
        f"{marks['tokens'] / marks['cold']:,.0f} |",
        "",
        f"Each text detector against the same model's plain scoring pass (log P of each token) "
        f"over {tokens:,} tokens of real test blocks (best of 3); Binoculars reads two models:",
        "",
        "| family | plain scoring, s | " + " | ".join(DETECTORS) + " |",
        "|---|---|" + "---|" * len(DETECTORS),
    ]
    for family in ("ngram", "gpt"):
        row = detectors[family]
        ratios = " | ".join(f"{row[name] / row['plain']:.2f}x" for name in DETECTORS)
        lines.append(f"| {family} | {row['plain']:.3f} | {ratios} |")
    return "\n".join(lines) + "\n"
