"""The default experiment: replace vs mix 10% real vs accumulate, on two settings.

(a) Shumailov et al.'s GMM setting: one 2-D Gaussian blob, N = 1000 samples a
generation, fitted by a 2-component full-covariance GMM; (b) a 1-D Gaussian, n = 100.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REGIMES = {
    "replace": ["regime.name=replace"],
    "mix 10% real": ["regime.name=mix", "regime.real_fraction=0.1"],
    "accumulate": ["regime.name=accumulate"],
}
SETTINGS = {
    "gmm-2d": (
        "gmm-2d",
        ["experiment.generations=100", "experiment.seeds=8"],
        "2-D Gaussian blob, 2-component GMM, N = 1000",
    ),
    "gaussian-1d": (
        "gaussian-1d",
        ["experiment.generations=200", "experiment.seeds=200"],
        "1-D Gaussian, MLE, n = 100",
    ),
}
SHOWN = ["variance_ratio", "wasserstein", "tail_mass_ratio"]


def run_demo(out: Path, run_one: Callable[[str, list[str], Path | None, str], Path]) -> list[Path]:
    """Run the six experiments into ``out`` and draw one comparison figure per setting."""
    from model_collapse.api import open_run
    from model_collapse.plots import plot_comparison

    figures = []
    for setting, (preset, settings, title) in SETTINGS.items():
        runs = {}
        for label, regime in REGIMES.items():
            folder = out / f"{setting}-{regime[0].split('=')[1]}"
            run_one(preset, settings + regime, folder, f"{setting} {label}")
            runs[label] = open_run(folder).metrics
        figures.append(plot_comparison(runs, SHOWN, title, out / "figures" / f"{setting}.png"))
    return figures
