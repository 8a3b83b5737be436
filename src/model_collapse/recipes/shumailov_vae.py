"""Shumailov et al.'s VAE: each generation a VAE (an MLP, latent code 20, hidden layer
400) trained from scratch on the previous decoder's samples, under replace. The paper
shows the samples blurring into one average digit, in a figure, with no number. Ours are
the numbers that tell it: the share of real classes still drawn, recall, precision and
fid, at every generation. ``small`` is vae-digits (8x8 digits on a CPU); ``paper`` is
vae-mnist, the paper's settings on all of MNIST, for a GPU."""

from __future__ import annotations

import numpy as np

from model_collapse.recipes.base import RECIPES, Finished, Recipe, Row, Scale, mean_interval

SOURCE = "Shumailov et al. (2024): samples shown in a figure, no number"
READ = ("class_coverage", "recall", "precision", "fid")


def _reproduce(runs: list[Finished]) -> list[Row]:
    rows = []
    for run in runs:
        for metric in READ:
            if metric not in run.metrics:
                continue
            for g, at in run.metrics.groupby("generation")[metric]:
                values = np.asarray(at, dtype=float)
                if np.isfinite(values).any():  # fid may run every k-th generation
                    rows.append(Row(metric, int(g), *mean_interval(values), source=SOURCE))
    return rows


def _sweep(base: str) -> dict[str, object]:
    # one grid value makes the sweep one run: the preset's own settings
    return {"base": base, "grid": {"regime.name": ["replace"]}}


RECIPES.register("shumailov-vae")(
    Recipe(
        "a VAE retrained on its own samples: classes, recall, precision and fid by generation",
        "Shumailov et al. (2024)",
        {
            "small": Scale(_sweep("vae-digits"), "38 s on 2 CPU cores (vae-digits)"),
            "paper": Scale(
                _sweep("vae-mnist"),
                "for a GPU: 285 s a seed on an H200 (vae-mnist, measured with 1 seed; 3 run)",
            ),
        },
        _reproduce,
    )
)
