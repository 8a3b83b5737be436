"""Figures of a run: each metric over generations, with the closed forms where they exist."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model_collapse.config import Config
from model_collapse.theory import gaussian_variance_theory, heterozygosity_theory

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LOG_SCALE = {"variance_ratio", "kl_true", "kl", "wasserstein", "test_error", "mean_error"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def summarise(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per generation: mean, median and the 2.5% / 97.5% quantiles over seeds."""
    import pandas as pd

    grouped = metrics.groupby("generation")[metric]
    return pd.DataFrame(
        {
            "mean": grouped.mean(),
            "median": grouped.median(),
            "low": grouped.quantile(0.025),
            "high": grouped.quantile(0.975),
        }
    )


def draw_metric(ax: Axes, metrics: pd.DataFrame, metric: str, label: str = "") -> None:
    """Median over seeds with a 95% band of seeds; without a label, the mean dashed too.

    With a label (several runs in one panel) only the median carries a legend entry.
    """
    s = summarise(metrics, metric)
    gens = s.index.to_numpy()
    line = ax.plot(gens, s["median"], lw=1.8, label=label or "median")[0]
    ax.fill_between(
        gens,
        s["low"],
        s["high"],
        color=line.get_color(),
        alpha=0.15,
        lw=0,
        label=None if label else "95% of seeds",
    )
    if not label:
        ax.plot(gens, s["mean"], color=line.get_color(), lw=1, ls="--", label="mean")
    positive = (metrics[metric] > 0).all()
    if metric in LOG_SCALE and positive:
        ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)


def has_theory(config: Config, metric: str) -> bool:
    """The closed forms hold for the 1-D Gaussian and categorical chains under replace."""
    plain = config.regime.name == "replace" and config.sampling.bias == 1.0
    if metric == "variance_ratio":
        return (
            plain
            and config.family.name == "gaussian"
            and (config.source.name == "gaussian" and config.source.dim == 1)
        )
    return plain and metric == "heterozygosity_ratio" and config.source.name != "file"


def draw_theory(ax: Axes, config: Config, metric: str, generations: int) -> None:
    gens = np.arange(generations)
    n, n0 = config.sampling.n, config.source.n_train
    if metric == "heterozygosity_ratio":
        ax.plot(
            gens,
            heterozygosity_theory(generations, n, n0),
            color="k",
            lw=1,
            label="theory: E, Wright-Fisher",
        )
        return
    theory = gaussian_variance_theory(generations, n, n0, config.family.estimator)
    mean, low, high = theory.mean_band(config.experiment.seeds)
    ax.plot(gens, mean, color="k", lw=1, ls="--", label="theory: mean")
    ax.fill_between(
        gens,
        low,
        high,
        color="k",
        alpha=0.08,
        lw=0,
        label=f"theory: 95% band of the mean of {config.experiment.seeds}",
    )
    typical, low, high = theory.typical()
    ax.plot(gens, typical, color="k", lw=1, label="theory: typical seed exp(E log)")
    ax.plot(gens, low, color="k", lw=0.6, ls=":", label="theory: 95% of single seeds")
    ax.plot(gens, high, color="k", lw=0.6, ls=":")


def plot_metrics(metrics: pd.DataFrame, config: Config, figures: Path) -> list[Path]:
    """One PNG per metric in ``figures``; returns their paths."""
    plt = _pyplot()
    figures.mkdir(parents=True, exist_ok=True)
    paths = []
    title = f"{config.family.name} on {config.source.name}, {config.regime.name}"
    if config.regime.name in ("mix", "fresh"):
        title += f" {config.regime.real_fraction:g} real"
    for metric in metrics.columns[2:]:
        fig: Figure = plt.figure(figsize=(6, 4))
        ax = fig.add_subplot()
        draw_metric(ax, metrics, metric)
        if has_theory(config, metric):
            draw_theory(ax, config, metric, int(metrics["generation"].max()) + 1)
        ax.set_title(
            f"{title}\n{config.experiment.seeds} seeds, n = {config.sampling.n}", fontsize=9
        )
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(figures / f"{metric}.png")
        fig.savefig(paths[-1], dpi=110, metadata={"Software": None})
        plt.close(fig)
    return paths


def plot_comparison(
    runs: dict[str, pd.DataFrame], metrics: list[str], title: str, path: Path
) -> Path:
    """Several runs (e.g. regimes) side by side, one panel per metric."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for label, frame in runs.items():
            draw_metric(ax, frame, metric, label=label)
        ax.legend(fontsize=7)
    fig.suptitle(f"{title}: median over seeds, band = 95% of seeds", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def plot_item_histograms(folder: Path, path: Path, title: str) -> Path:
    """Histograms of per-item values (e.g. per-block perplexity) for up to 8 generations."""
    plt = _pyplot()
    files = sorted(folder.glob("generation-*.npy"))
    shown = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, 8).round().astype(int))]
    values = {int(f.stem.split("-")[1]): np.load(f, allow_pickle=False).ravel() for f in shown}
    positive = all((v > 0).all() for v in values.values())
    low = min(v.min() for v in values.values())
    high = max(v.max() for v in values.values())
    edges = (
        np.geomspace(low, high, 60)
        if positive and low < high
        else np.linspace(low, high + 1e-12, 60)
    )
    fig = plt.figure(figsize=(6.5, 4))
    ax = fig.add_subplot()
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(values)))
    for color, (generation, v) in zip(colors, values.items(), strict=True):
        ax.hist(
            v,
            bins=edges,
            density=True,
            histtype="step",
            lw=1.4,
            color=color,
            label=f"generation {generation}",
        )
    if positive:
        ax.set_xscale("log")
    ax.set_xlabel(title)
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
