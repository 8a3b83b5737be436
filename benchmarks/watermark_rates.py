"""How often the KGW watermark is found, per decoding setting (``python -m
benchmarks.watermark_rates --write``).

A gpt (the family's default shape) is trained on the Wikipedia sample in 128-token blocks;
it continues 200 real test prompts of 128 tokens with 128 new tokens, watermarked with
gamma = 0.25 and delta = 2, under each decoding setting. A text is flagged when z > 2.326
(a 1% false-positive rate for unwatermarked text: z ~ N(0, 1)); the real continuations of
the same prompts measure that rate. The entropy-aware test (Lee et al.'s SWEET) scores
only the tokens the model drew with at least 1 nat of entropy.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

Z_ONE_PERCENT = 2.326
SETTINGS = {
    "sampling, temperature 1": {},
    "sampling, temperature 0.7": {"temperature": 0.7},
    "nucleus, top-p 0.9": {"top_p": 0.9},
    "beam search, 5 beams": {"beams": 5},
}


def trained_model(folder: Path) -> tuple[Any, Any]:
    import model_collapse
    from model_collapse.detection.export import saved_model

    sets = [
        "experiment.generations=1",
        "experiment.seeds=1",
        "family.name=gpt",
        "family.context=260",
        "family.epochs=2",
        "source.block_size=128",
        "source.n_train=2000",
        "sampling.n=10",
    ]
    model_collapse.run("ngram-wikipedia", folder / "run", overrides=sets)
    return saved_model(folder / "run", 0)


def rates(blocks: int = 200, min_entropy: float = 1.0) -> dict[str, dict[str, float]]:
    import torch

    from model_collapse.core import watermark
    from model_collapse.detectors.text import position_entropies
    from model_collapse.families.lm_torch import Decoding, generate, next_log_probs

    with tempfile.TemporaryDirectory() as folder:
        model, plan = trained_model(Path(folder))
    net, vocab, bos = model.nets_[0], plan.real.categories, plan.real.bos
    test = plan.real.test
    prompts, human = test[:blocks], test[blocks : 2 * blocks]
    mark = watermark.Watermark(0.25, 2.0, 15485863)
    out: dict[str, dict[str, float]] = {}
    human_z = [s.z for s in watermark.detect_many(list(human), vocab, 0.25)]
    out["human text (no watermark)"] = {
        "flagged": float(np.mean(np.array(human_z) > Z_ONE_PERCENT))
    }
    for name, options in SETTINGS.items():
        decoding = Decoding(**options, watermark=mark, vocab=vocab)
        text = generate(net, prompts, 128, bos, decoding, torch.Generator().manual_seed(0))
        z = np.array([s.z for s in watermark.detect_many(list(text), vocab, 0.25)])
        spread = position_entropies(
            lambda ids: next_log_probs(net, ids, bos), np.concatenate([prompts, text], 1), vocab
        )[:, -128:]
        aware = np.array(
            [
                watermark.detect(t.tolist(), vocab, 0.25, keep=e[1:] >= min_entropy).z
                for t, e in zip(text, spread, strict=True)
            ]
        )
        out[name] = {
            "flagged": float(np.mean(z > Z_ONE_PERCENT)),
            "entropy_aware": float(np.mean(aware > Z_ONE_PERCENT)),
            "mean_entropy": float(spread.mean()),
        }
    return out


def rates_report(found: dict[str, dict[str, float]]) -> str:
    lines = [
        "## Watermark detection rate per decoding setting",
        "",
        "gpt (2 layers, 128 wide) trained on the Wikipedia sample in 128-token blocks; 200 "
        "real test prompts continued with 128 watermarked tokens (gamma 0.25, delta 2); "
        "flagged at z > 2.326, a 1% false-positive rate (`python -m "
        "benchmarks.watermark_rates --write`):",
        "",
        "| decoding | mean entropy (nats) | flagged | flagged, entropy-aware (>= 1 nat) |",
        "|---|---|---|---|",
    ]
    for name, row in found.items():
        if "entropy_aware" in row:
            lines.append(
                f"| {name} | {row['mean_entropy']:.2f} | {row['flagged']:.3f} | "
                f"{row['entropy_aware']:.3f} |"
            )
        else:
            lines.append(f"| {name} | | {row['flagged']:.3f} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write into docs/benchmarks.md")
    args = parser.parse_args()
    text = rates_report(rates())
    print(text)
    if args.write:
        from benchmarks.run import write_section

        write_section(Path("docs/benchmarks.md"), text)


if __name__ == "__main__":
    main()
