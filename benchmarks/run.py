"""Benchmarks of the issue's performance targets, as ratios measured in one process.

Run with ``make bench``; ``--write`` also rewrites docs/benchmarks.md with the results.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from benchmarks.detection import detection_report, detector_benchmark, watermark_benchmark
from benchmarks.pretrained import smollm2_benchmark, smollm2_report
from model_collapse.core.rng import stream
from model_collapse.families.gaussian import GaussianModel
from model_collapse.families.gmm import GMMModel


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def baseline_loop(seeds: int, generations: int, n: int) -> np.ndarray:
    """A plain per-seed, per-generation numpy loop: draw n, refit mean and MLE sd."""
    rng = np.random.default_rng(0)
    variances = np.empty(seeds)
    for s in range(seeds):
        mu, sd = 0.0, 1.0
        for _ in range(generations):
            x = rng.normal(mu, sd, n)
            mu, sd = x.mean(), x.std()
        variances[s] = sd**2
    return variances


def model_collapse_chain(seeds: int, generations: int, n: int, exact: bool) -> np.ndarray:
    """The loop's fit and sample stages for the 1-D Gaussian, all seeds batched."""
    model = GaussianModel("mle").set_state(
        {"mean_": np.zeros((seeds, 1)), "covariance_": np.ones((seeds, 1, 1))}
    )
    for g in range(generations):
        rng = stream(0, "sample", g)
        data = model.sample_stats(n, rng) if exact else model.sample(n, rng)
        model = GaussianModel("mle").fit(data, stream(0, "fit", g))
    return model.covariance_[:, 0, 0]


def whole_run(seeds: int, generations: int, n: int) -> None:
    """model_collapse.run on the exact path, with a metric and its CSV rows, in memory."""
    import model_collapse

    model_collapse.run(
        {
            "experiment": {"generations": generations, "seeds": seeds, "seed": 0},
            "source": {"name": "gaussian", "n_test": 100},
            "family": {"name": "gaussian", "exact": True},
            "sampling": {"n": n},
            "metrics": {"names": ["variance_ratio"]},
        }
    )


def numpy_draws_only(seeds: int, generations: int, n: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(generations):
        rng.standard_normal((seeds, n))


def gaussian_benchmark(seeds: int, generations: int, n: int) -> dict[str, Any]:
    t_base, _ = timed(lambda: baseline_loop(seeds, generations, n))
    t_exact, v_exact = timed(lambda: model_collapse_chain(seeds, generations, n, True))
    t_sample, v_sample = timed(lambda: model_collapse_chain(seeds, generations, n, False))
    t_draw, _ = timed(lambda: numpy_draws_only(seeds, generations, n))
    t_run, _ = timed(lambda: whole_run(seeds, generations, n))
    return {
        "run_s": t_run,
        "baseline_s": t_base,
        "exact_s": t_exact,
        "sample_s": t_sample,
        "draw_s": t_draw,
        "exact_speedup": t_base / t_exact,
        "sample_over_draw": t_sample / t_draw,
        "ks_pvalue": stats.ks_2samp(v_exact, v_sample).pvalue,
    }


def gmm_benchmark(seeds: int, n: int) -> dict[str, Any]:
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(1)
    x = rng.standard_normal((seeds, n, 2))  # Shumailov et al.: one 2-D Gaussian blob
    model = GMMModel(2, "full")
    start = model.initial_parameters(x, rng)

    def ours() -> np.ndarray:
        fitted = GMMModel(2, "full").fit_from(x, *(a.copy() for a in start))
        return fitted.score(x)

    def sklearn_loop() -> np.ndarray:
        scores = np.empty(seeds)
        for s in range(seeds):
            reference = GaussianMixture(
                2,
                covariance_type="full",
                weights_init=start[0][s],
                means_init=start[1][s],
                precisions_init=np.linalg.inv(start[2][s]),
            )
            scores[s] = reference.fit(x[s]).score(x[s])
        return scores

    ours()  # warm-up: first calls pay for imports and allocation
    t_ours, ll_ours = timed(ours)
    t_sklearn, ll_sklearn = timed(sklearn_loop)
    return {
        "ours_s": t_ours,
        "sklearn_s": t_sklearn,
        "speedup": t_sklearn / t_ours,
        "max_rel_ll_diff": float(np.max(np.abs(ll_ours - ll_sklearn) / np.abs(ll_sklearn))),
    }


def ngram_benchmark(tokens: int = 1_000_000) -> dict[str, Any]:
    """Order-3 Kneser-Ney: fit and sample a million tokens of the Wikipedia sample."""
    from model_collapse.families.ngram import NGramModel
    from model_collapse.sources.text import to_blocks, train_tokenizer, wikipedia_documents

    documents = list(wikipedia_documents())
    tokenizer = train_tokenizer(documents, 4096)
    corpus = to_blocks(tokenizer, documents, 64, "whole sample")  # all of it, ~0.8 M tokens
    blocks = -(-tokens // 64)
    data = np.resize(corpus, (blocks, 64))[None]  # wraps around to reach the token count
    model = NGramModel(3, tokenizer.size, prompts=data)
    t_fit, _ = timed(lambda: model.fit(data, np.random.default_rng(0)))
    t_sample, text = timed(lambda: model.sample(blocks, np.random.default_rng(1)))
    return {
        "corpus": int(corpus.size),
        "tokens": int(data.size),
        "fit_s": t_fit,
        "sample_s": t_sample,
        "sampled": int(text.size),
    }


def gpt_benchmark(blocks: int = 512, batch: int = 256) -> dict[str, Any]:
    """The gpt family against a transformers GPT2LMHeadModel of the same shape.

    Training: the same loop (lm_torch.train), data and batches. Sampling: our KV-cache
    sampler against transformers' ``generate`` at the same batch size and length.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging

    from model_collapse.families.gpt_torch import GPT, GPTShape
    from model_collapse.families.hf import _wrap
    from model_collapse.families.lm_torch import Decoding, TrainSettings, generate, train

    logging.set_verbosity_error()
    vocab, context, n_layer, n_head, n_embd, length = 4096, 160, 2, 4, 128, 64
    rng = np.random.default_rng(0)
    data = rng.integers(0, vocab - 1, size=(blocks, length))
    settings = TrainSettings(epochs=1, batch_size=32, learning_rate=3e-3, weight_decay=0.1)
    ours = GPT(GPTShape(vocab, context, n_layer, n_head, n_embd)).init_weights(
        torch.Generator().manual_seed(0)
    )
    config = GPT2Config(
        vocab_size=vocab,
        n_positions=context,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    theirs = _wrap(GPT2LMHeadModel(config))
    tokens = blocks * length

    def best_of_three(model: Any) -> float:
        train(model, data[:64], data[:8], vocab - 1, settings, np.random.default_rng(1))  # warm-up
        return min(
            timed(
                lambda: train(model, data, data[:8], vocab - 1, settings, np.random.default_rng(1))
            )[0]
            for _ in range(3)
        )

    t_ours, t_theirs = best_of_three(ours), best_of_three(theirs)
    prompts = data[:batch]
    t_sample, _ = timed(
        lambda: generate(
            ours,
            prompts,
            length,
            vocab - 1,
            Decoding(),
            torch.Generator().manual_seed(0),
            batch=batch,
        )
    )
    ids = torch.from_numpy(np.concatenate([np.full((batch, 1), vocab - 1), prompts], axis=1))

    def hf_generate() -> Any:
        with torch.no_grad():
            return theirs.model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                top_k=0,
                max_new_tokens=length,
                min_new_tokens=length,
                pad_token_id=vocab - 1,
            )

    t_hf, _ = timed(hf_generate)
    sampled = batch * length
    return {
        "train_ours": tokens / t_ours,
        "train_theirs": tokens / t_theirs,
        "sample_ours": sampled / t_sample,
        "sample_theirs": sampled / t_hf,
        "blocks": blocks,
        "batch": batch,
    }


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import os

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {platform.platform()}"
    )


def report(
    g: dict[str, Any],
    m: dict[str, Any],
    t: dict[str, Any],
    p: dict[str, Any],
    sizes: dict[str, int],
) -> str:
    s, G, n = sizes["seeds"], sizes["generations"], sizes["n"]
    ok = lambda cond: "met" if cond else "NOT met"  # noqa: E731
    return f"""# Benchmarks

Measured by `make bench` (`python -m benchmarks.run --write`); every ratio compares two
timings taken in the same process, one after the other.

Machine: {machine()}.

## 1-D Gaussian chain: {s} seeds x {G} generations, n = {n}, MLE, replace

| what | seconds |
|---|---|
| baseline: plain per-seed, per-generation numpy loop (draw n, refit) | {g["baseline_s"]:.2f} |
| model-collapse exact sufficient-statistics path (normal mean, chi-square scatter) | {g["exact_s"]:.3f} |
| model-collapse batched sample path (all seeds per generation as one array) | {g["sample_s"]:.2f} |
| numpy drawing the same samples only (`standard_normal((S, n))` per generation) | {g["draw_s"]:.2f} |

- exact path speed-up over the baseline: **{g["exact_speedup"]:.0f}x** (target >= 100x: {ok(g["exact_speedup"] >= 100)})
- sample path over numpy's bare draws: **{g["sample_over_draw"]:.2f}x** (target <= 2x: {ok(g["sample_over_draw"] <= 2)})
- variance at the last generation, exact vs sample path, two-sample KS p-value:
  **{g["ks_pvalue"]:.3f}** (target > 0.01: {ok(g["ks_pvalue"] > 0.01)})

Both model-collapse timings run the loop's own fit and sample stages with its seeded
streams; they leave out metrics and the run directory, which the baseline has no
counterpart for. For scale, the whole `model_collapse.run` on the exact path, with the
`variance_ratio` metric and its {s * G} CSV rows (in memory, no run directory), took
{g["run_s"]:.2f} s: formatting the rows, not the chain, is then most of the time.

## GMM: {sizes["gmm_seeds"]} seeds of N = {sizes["gmm_n"]} 2-D points, 2 components, full covariance

| what | seconds |
|---|---|
| model-collapse batched EM, all seeds at once | {m["ours_s"]:.3f} |
| loop of scikit-learn `GaussianMixture.fit`, same initial parameters | {m["sklearn_s"]:.3f} |

- speed-up: **{m["speedup"]:.1f}x** (target >= 3x: {ok(m["speedup"] >= 3)})
- largest relative difference of the final mean log-likelihood: **{m["max_rel_ll_diff"]:.1e}**
  (target <= 1e-4: {ok(m["max_rel_ll_diff"] <= 1e-4)})

## n-gram (order 3, interpolated Kneser-Ney), byte-level BPE with 4096 tokens

The whole Wikipedia sample of the gensim wheel is {t["corpus"]:,} tokens; it is repeated
to {t["tokens"]:,} tokens (64-token blocks).

| what | seconds |
|---|---|
| fit (count all orders, continuation counts, discounts) | {t["fit_s"]:.2f} |
| sample {t["sampled"]:,} tokens (every block continues a prompt block) | {t["sample_s"]:.2f} |

- fit under 2 s: {ok(t["fit_s"] < 2)}; sample under 2 s: {ok(t["sample_s"] < 2)}

## gpt vs transformers GPT2LMHeadModel of the same shape

2 layers, 4 heads, width 128, vocabulary 4096, context 160, float32 on the CPU.
Training: {p["blocks"]} blocks of 64 tokens, batches of 32, the same loop for both
(AdamW, cosine schedule, best checkpoint on validation). Sampling: {p["batch"]} prompts of
65 tokens continued by 64 sampled tokens, our KV cache against `generate(do_sample=True)`.

| tokens per second | gpt | transformers | ratio |
|---|---|---|---|
| training | {p["train_ours"]:,.0f} | {p["train_theirs"]:,.0f} | **{p["train_ours"] / p["train_theirs"]:.2f}x** |
| sampling | {p["sample_ours"]:,.0f} | {p["sample_theirs"]:,.0f} | **{p["sample_ours"] / p["sample_theirs"]:.2f}x** |

- training >= 1.0x: {ok(p["train_ours"] >= p["train_theirs"])}; sampling >= 1.0x: {ok(p["sample_ours"] >= p["sample_theirs"])}
"""


def time_preset(name: str) -> float:
    """Seconds ``model-collapse run NAME`` takes end to end, in a fresh folder."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "model_collapse", "run", name, "--out", out]
        seconds, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True))
    return seconds


def write_section(path: Path, section: str) -> None:
    """Replace the section with the same heading (to the next one), or append it."""
    text = path.read_text()
    heading = section.splitlines()[0]
    start = text.find(heading)
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(heading))
    path.write_text(text[:start] + section + ("" if end < 0 else text[end:]))


def kept_section(text: str, heading: str) -> str:
    """A section measured apart (scripts/time_presets.py), kept when the rest is rewritten."""
    start = text.find(heading)
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(heading))
    return "\n" + (text[start:] if end < 0 else text[start : end + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite docs/benchmarks.md")
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--generations", type=int, default=1000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--preset", action="store_true", help="also time lm-smollm2 (~12 min)")
    parser.add_argument(
        "--preset-seconds", type=float, default=None, help="lm-smollm2's time, measured apart"
    )
    for part in ("detection", "images", "sweeps", "classifier", "distances"):
        parser.add_argument(
            f"--only-{part}", action="store_true", help=f"measure {part} only; replace its section"
        )
    args = parser.parse_args()
    from benchmarks.classifier import classifier_benchmark
    from benchmarks.distances import distances_benchmark
    from benchmarks.images import image_benchmark
    from benchmarks.sweeps import sweep_benchmark

    parts = {"detection": lambda: detection_report(detector_benchmark(), watermark_benchmark())}
    parts["images"] = image_benchmark
    parts["sweeps"] = sweep_benchmark
    parts["classifier"] = classifier_benchmark
    parts["distances"] = distances_benchmark
    for part, measure in parts.items():
        if getattr(args, f"only_{part}"):
            section = measure()
            print(section)
            if args.write:
                write_section(Path("docs/benchmarks.md"), section)
            return
    detection = parts["detection"]()
    sizes = {
        "seeds": args.seeds,
        "generations": args.generations,
        "n": args.n,
        "gmm_seeds": 100,
        "gmm_n": 1000,
    }
    g = gaussian_benchmark(args.seeds, args.generations, args.n)
    m = gmm_benchmark(sizes["gmm_seeds"], sizes["gmm_n"])
    t = ngram_benchmark()
    p = gpt_benchmark()
    smol = smollm2_benchmark()
    preset = time_preset("lm-smollm2") if args.preset else args.preset_seconds
    text = report(g, m, t, p, sizes) + smollm2_report(smol, preset) + "\n" + detection
    text += "\n" + image_benchmark() + "\n" + sweep_benchmark() + "\n" + classifier_benchmark()
    text += "\n" + distances_benchmark()
    print(text)
    if args.write:
        docs = Path("docs/benchmarks.md")
        docs.write_text(text + kept_section(docs.read_text(), "## Preset times"))


if __name__ == "__main__":
    main()
