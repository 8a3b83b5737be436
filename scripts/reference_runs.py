"""The small reference runs: 15 configurations at small sizes, one run directory each,
and the SHA-256 of each metrics.csv. A change that must change no result (a refactor)
gives the same list before and after it:

    python scripts/reference_runs.py OUT > after.txt
    git stash; python scripts/reference_runs.py OUT2 > before.txt; git stash pop
    diff before.txt after.txt

Each configuration is a preset, or a preset with another family or regime, cut to a few
generations and seeds so that the whole list runs in minutes on a CPU.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

SMALL = ["experiment.generations=3", "experiment.seeds=2"]
TEXT = ["source.max_documents=40", "source.vocab_size=512", "source.n_train=200", "sampling.n=200"]
IMAGES = ["source.n_train=200", "sampling.n=200", "family.epochs=2"]
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "gaussian-replace": ("gaussian-1d", []),
    "gaussian-accumulate": ("gaussian-1d", ["regime.name=accumulate"]),
    "gaussian-mix": ("gaussian-1d", ["regime.name=mix", "regime.real_fraction=0.1"]),
    "gaussian-fresh": ("gaussian-1d", ["regime.name=fresh", "regime.real_fraction=0.5"]),
    "gaussian-unbiased": ("gaussian-1d", ["family.estimator=unbiased"]),
    "gmm-2d": ("gmm-2d", ["sampling.n=300"]),
    "kde-2d": ("gmm-2d", ["family.name=kde", "sampling.n=300"]),
    "linear": ("linear", []),
    "zipf": ("zipf", []),
    "ngram-wikipedia": ("ngram-wikipedia", TEXT),
    "gpt-wikipedia": (
        "ngram-wikipedia",
        [*TEXT, "family.name=gpt", "family.n_layer=1", "family.n_embd=32", "family.epochs=1"],
    ),
    "defences-gmm-filter": (
        "defences-gmm",
        ["regime.name=filter", "sampling.n=300", "source.n_test=300"],
    ),
    "ngram-pool": ("defences", [*TEXT, "regime.calibration=40", "metrics.radioactivity_n=20"]),
    "vae-digits": ("vae-digits", IMAGES),
    "ddpm-digits": ("ddpm-digits", [*IMAGES, "family.timesteps=50", "family.sampling_steps=5"]),
}


def main(out: Path) -> None:
    import model_collapse
    from model_collapse.api import load_config, read_raw

    for name, (preset, changes) in CONFIGS.items():
        raw = {k: v for k, v in read_raw(preset).items() if k != "suite"}
        config = load_config(raw, [*SMALL, *changes])
        model_collapse.run(config, out / name)
        digest = hashlib.sha256((out / name / "metrics.csv").read_bytes()).hexdigest()
        print(f"{digest}  {name}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/reference_runs.py OUT")
    main(Path(sys.argv[1]))
