"""Figures of a run: each metric over generations, with the closed forms where they exist."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from model_collapse.config import Config
from model_collapse.output.colours import colours
from model_collapse.output.overlays import draw_schedules, draw_theory
from model_collapse.theory import theory_for

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


F = TypeVar("F", bound=Callable[..., Any])


def quiet(draw: F) -> F:
    """Drawing values near float64's limits (a diverged run) makes matplotlib's own numpy
    arithmetic overflow; that says nothing about the numbers, so it is not reported."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Figure, path: Path) -> None:
    """Write a PNG atomically: a reader (or a second writer) never sees half of one."""
    from model_collapse.engine.store import atomic_write

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    atomic_write(path, buffer.getvalue())


def finish(fig: Figure, path: Path) -> Path:
    """Lay a figure out, write it (its folder made where missing) and free it."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save(fig, path)
    _pyplot().close(fig)
    return path


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


def log_scale(metric: str) -> bool:
    """Whether a metric declares a log scale (a regime's diagnostic columns do not)."""
    from model_collapse.metrics import METRICS

    entry = dict(METRICS.items()).get(metric)
    return entry is not None and entry.log_scale


def skips_generations(metric: str) -> bool:
    """Whether a metric runs every k-th generation only (metrics.feature_every)."""
    from model_collapse.metrics import METRICS

    return metric in METRICS.names() and METRICS.get(metric).runs_at is not None


def draw_metric(ax: Axes, metrics: pd.DataFrame, metric: str, label: str = "") -> None:
    """Median over seeds with a 95% band of seeds; without a label, the mean dashed too.

    With a label (several runs in one panel) only the median carries a legend entry.
    Generations whose median is infinite (collapsed models, e.g. kl_true) are marked on
    the top edge; the x axis always spans every generation.
    """
    s = summarise(metrics, metric)
    if skips_generations(metric):  # NaN where it was not computed: the line steps over
        s = s.dropna(how="all")
    gens = s.index.to_numpy()
    line = ax.plot(gens, s["median"], lw=1.8, label=label or "median")[0]
    band = s[["low", "high"]].replace([np.inf, -np.inf], np.nan)
    ax.fill_between(
        gens,
        band["low"],
        band["high"],
        color=line.get_color(),
        alpha=0.15,
        lw=0,
        label=None if label else "95% of seeds",
    )
    if not label:
        ax.plot(gens, s["mean"], color=line.get_color(), lw=1, ls="--", label="mean")
    values = metrics[metric].to_numpy()
    finite = values[np.isfinite(values)]
    log = log_scale(metric) and len(finite) > 0 and (finite >= 0).all() and finite.max() > 0
    if log:
        ax.set_yscale("log")
    median = s["median"].to_numpy()
    edges = [(np.isinf(median), 1.0, "median infinite")]
    if log and not (finite > 0).all():
        edges.append((median == 0, 0.0, "median 0"))
    for where, edge, text in edges:  # off the scale: a bar on the axis edge
        if where.any():
            ax.plot(
                np.where(where, gens, np.nan),
                np.full(len(gens), edge),
                transform=ax.get_xaxis_transform(),
                color=line.get_color(),
                lw=5,
                clip_on=False,
                label=f"{label + ': ' if label else ''}{text}",
            )
    if len(gens) > 1:
        ax.set_xlim(gens[0], gens[-1])
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # generations are whole numbers
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)


def draw_panel(ax: Axes, metrics: pd.DataFrame, metric: str, config: Config) -> None:
    """One run's metric: its seeds' median, band and mean, the real level, and the
    closed form where one holds (in the legend, inside the frame: the axis fits the data)."""
    draw_metric(ax, metrics, metric)
    draw_level(ax, metric)
    theory = theory_for(config, metric)
    if theory is not None:
        draw_theory(ax, theory.expected(config, int(metrics["generation"].max()) + 1))
        fit_to_data(ax, metrics[metric].to_numpy())
    draw_schedules(ax, config)


def draw_lineages(
    ax: Axes, lineages: list[tuple[str, pd.DataFrame]], metric: str, config: Config
) -> None:
    """Each lineage's median and band of seeds (its role in the legend), the real level and
    the schedules."""
    roles = lineage_roles(config)
    # keyed as the report and the verdict name each lineage's group: the same colour there
    keys = {
        name: f"{run_label(config)}: {name} ({roles.get(name, 'both')})" for name, _ in lineages
    }
    palette = colours(list(keys.values()))
    for name, rows in lineages:
        ax.set_prop_cycle(color=[palette[keys[name]]])
        draw_metric(ax, rows, metric, label=f"{name} ({roles.get(name, 'both')})")
    draw_level(ax, metric)
    draw_schedules(ax, config)


def lineage_roles(config: Config) -> dict[str, str]:
    """Each lineage's role, by the name metrics.csv gives it."""
    tables = config.regime.params.get("lineages") or {}
    roles = {name: str(table.get("role", "both")) for name, table in tables.items()}
    return {config.family.name: str(config.regime.params.get("role", "both")), **roles}


def run_label(config: Config) -> str:
    """The regime as a figure names it: with its real share where it has one."""
    from model_collapse.regimes import REGIMES

    regime = REGIMES.get(config.regime.name)
    if config.regime.params.get("real_from") == "web":  # its real share is the web's own
        return f"{config.regime.name} on the web"
    fraction = config.regime.real_fraction if regime.uses_real_fraction else None
    if isinstance(fraction, dict):  # a schedule (config.schedules)
        from model_collapse.config.schedules import describe

        return f"{config.regime.name} {describe(fraction)} real"
    share = f" {fraction:g} real" if fraction is not None else ""
    return f"{config.regime.name}{share}"


def fit_to_data(ax: Axes, values: np.ndarray) -> None:
    """On a log axis, the data's range: theory curves far below it (a chain that went on
    shrinking where float64 rounded the samples to a point) must not squeeze the data."""
    shown = values[np.isfinite(values) & (values > 0)]
    if ax.get_yscale() == "log" and len(shown):
        ax.set_ylim(shown.min() / 3, shown.max() * 3)


def draw_guard(ax: Axes, metrics: pd.DataFrame, metric: str) -> None:
    """A guarded metric's baseline as a level, and a warning where generation 0 exceeds
    the factor it allows (e.g. test perplexity against the pretrained model's own)."""
    from model_collapse.metrics import METRICS

    if metric not in METRICS.names():
        return
    guard = METRICS.get(metric).guard
    if guard is None or guard.baseline not in metrics.columns:
        return
    first = metrics[metrics["generation"] == metrics["generation"].min()]
    level = float(first[guard.baseline].median())
    ax.axhline(level, color="tab:red", lw=1, ls=":", label=f"{guard.baseline}: {level:.4g}")
    ratio = float((first[metric] / first[guard.baseline]).max())
    if ratio > guard.factor:
        ax.text(
            0.02,
            0.97,
            f"warning: generation 0 is {ratio:.2g}x {guard.baseline}\n"
            f"(more than {guard.factor:g}x): {guard.advice}",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            color="tab:red",
            wrap=True,
        )


def draw_level(ax: Axes, metric: str) -> None:
    """A grey dotted line at the real data's level of a metric that declares one (1 for a
    ratio of model to real, 0 for a distance): where the curves would stay without
    collapse. Not on a log axis, for a level of 0."""
    from model_collapse.sweeps.compare import reading_of

    level = reading_of(metric).level
    if level is None or (ax.get_yscale() == "log" and level <= 0):
        return
    ax.axhline(level, color="0.45", lw=1.2, ls=(0, (1, 2)), label=f"real level, {level:g}")


def mark_collapse(ax: Axes, collapse: pd.DataFrame) -> None:
    """A vertical line where half the seeds had collapsed, if they did."""
    at = collapse["collapsed_at"].dropna().sort_values().to_numpy()
    half = (len(collapse) + 1) // 2
    if len(at) >= half:
        ax.axvline(at[half - 1], color="0.3", lw=0.8, ls="-.", label="half the seeds collapsed")


@quiet
def plot_metrics(
    metrics: pd.DataFrame, config: Config, figures: Path, collapse: pd.DataFrame | None = None
) -> list[Path]:
    """One PNG per metric in ``figures`` (and collapse.png if seeds collapsed); their paths."""
    plt = _pyplot()
    figures.mkdir(parents=True, exist_ok=True)
    paths = []
    from model_collapse.engine.lineages import split

    lineages = split(metrics)
    title = f"{config.family.name} on {config.source.name}, {run_label(config)}"
    if len(lineages) > 1:
        title = f"{len(lineages)} lineages on {config.source.name}, {run_label(config)}"
    for metric in lineages[0][1].columns[2:]:
        fig: Figure = plt.figure(figsize=(6, 4))
        ax = fig.add_subplot()
        if len(lineages) == 1:
            draw_panel(ax, metrics, metric, config)
        else:  # one line per lineage, coloured by its name as everywhere
            draw_lineages(ax, lineages, metric, config)
        if collapse is not None and len(lineages) == 1:  # collapse.csv: the run's own family
            mark_collapse(ax, collapse)
        draw_guard(ax, metrics, metric)
        n = config.sampling.n or "all rows"  # 0: as many as the real data have
        if isinstance(n, dict):  # a schedule (config.schedules)
            from model_collapse.config.schedules import describe

            n = describe(n)
        ax.set_title(f"{title}\n{config.experiment.seeds} seeds, n = {n}", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(figures / f"{metric}.png")
        save(fig, paths[-1])
        plt.close(fig)
    if collapse is not None and collapse[["collapsed_at", "diverged_at"]].notna().any(axis=None):
        paths.append(plot_collapse(collapse, int(metrics["generation"].max()) + 1, title, figures))
    return paths


@quiet
def plot_collapse(collapse: pd.DataFrame, generations: int, title: str, figures: Path) -> Path:
    """The share of seeds whose model had collapsed (or diverged) by each generation."""
    plt = _pyplot()
    fig = plt.figure(figsize=(6, 4))
    ax = fig.add_subplot()
    gens = np.arange(generations)
    for column, what in (("collapsed_at", "collapsed"), ("diverged_at", "diverged")):
        at = collapse[column].dropna().to_numpy()
        if len(at):
            share = (at[None, :] <= gens[:, None]).sum(axis=1) / len(collapse)
            ax.step(gens, share, where="post", lw=1.8, label=f"share of seeds {what}")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(generations - 1, 1))
    ax.set_xlabel("generation")
    ax.set_ylabel("share of seeds")
    ax.set_title(f"{title}\n{len(collapse)} seeds: when each model collapsed", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = figures / "collapse.png"
    save(fig, path)
    plt.close(fig)
    return path


def comparison_rows(names: list[str]) -> dict[str, list[str]]:
    """Runs named GROUP-VARIANT (e.g. ngram-pool, gpt-pool) in one row per group, so that
    each panel compares the variants within a group; otherwise all in one row."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.split("-", 1)[0], []).append(name)
    split = len(groups) > 1 and all("-" in n for n in names) and min(map(len, groups.values())) > 1
    return groups if split else {"": names}


@quiet
def plot_comparison(
    runs: dict[str, pd.DataFrame], metrics: list[str], title: str, path: Path
) -> Path:
    """Several runs (e.g. regimes) side by side, one panel per metric (and one row per
    group of runs, where their names say GROUP-VARIANT); a variant keeps its colour."""
    plt = _pyplot()
    rows = comparison_rows(list(runs))
    fig, axes = plt.subplots(
        len(rows), len(metrics), figsize=(4.5 * len(metrics), 3.8 * len(rows)), squeeze=False
    )
    variants = list(dict.fromkeys(n.split("-", 1)[-1] if len(rows) > 1 else n for n in runs))
    palette = colours(variants)  # keyed by name: the report draws each group in its colour
    for row, (group, names) in zip(axes, rows.items(), strict=True):
        for ax, metric in zip(row, metrics, strict=True):
            ax.set_prop_cycle(color=[palette[n.split("-", 1)[-1] if group else n] for n in names])
            for label in names:
                if metric in runs[label]:  # a run whose family does not compute it: none
                    draw_metric(ax, runs[label], metric, label=label)
            draw_level(ax, metric)
            ax.legend(fontsize=7)
    fig.suptitle(f"{title}: median over seeds, band = 95% of seeds", fontsize=10)
    return finish(fig, path)


@quiet
def plot_item_histograms(files: list[Path], path: Path, title: str) -> Path:
    """Histograms of per-item values (e.g. per-block perplexity) for up to 8 generations,
    from ``generation-G.npy`` files in generation order."""
    plt = _pyplot()
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
    return finish(fig, path)


def plot_image_rows(files: list[Path], path: Path, title: str) -> Path:
    """One row of images per generation (up to 10, spread over the run) from
    ``generation-G.npy`` files of (seeds, images, height, width[, 3]) pixels in [0, 1]:
    the first seed's images, so a reader sees them blur and merge down the rows."""
    plt = _pyplot()
    shown = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, 10).round().astype(int))]
    rows = {int(f.stem.split("-")[1]): np.load(f, allow_pickle=False)[0] for f in shown}
    columns = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(
        len(rows), columns, figsize=(0.8 * columns + 1, 0.8 * len(rows) + 0.6), squeeze=False
    )
    for row, (generation, images) in zip(axes, rows.items(), strict=True):
        for column, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if column < len(images):
                ax.imshow(np.clip(images[column], 0, 1), cmap="gray", vmin=0, vmax=1)
        row[0].set_ylabel(f"gen {generation}", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return finish(fig, path)
