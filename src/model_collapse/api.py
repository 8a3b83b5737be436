"""The Python API: ``model_collapse.run(config) -> Result``."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model_collapse.assemble.validate import config_from_dict
from model_collapse.config import Config, apply_overrides, config_to_dict, override_keys, read_toml
from model_collapse.config.registry import did_you_mean
from model_collapse.core.errors import SaveError, UserInputError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from model_collapse.engine.observers import Observer


def preset_names() -> list[str]:
    """Bundled presets: ``model-collapse run NAME``."""
    folder = resources.files("model_collapse") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def preset_description(name: str) -> str:
    """The first comment line of a bundled preset."""
    first = next((line for line in _preset_lines(name) if line.startswith("#")), "# ")
    return first.lstrip("# ").strip()


def preset_time(name: str) -> str:
    """How long a bundled preset takes, as measured and written on its ``# time:`` line
    (on 2 CPU cores, or the GPU it is meant for); "" where it states none."""
    line = next((line for line in _preset_lines(name) if line.startswith("# time:")), "")
    return line.removeprefix("# time:").strip()


def _preset_lines(name: str) -> list[str]:
    return (resources.files("model_collapse") / "presets" / f"{name}.toml").read_text().splitlines()


def read_raw(source: Config | dict[str, Any] | str | Path) -> dict[str, Any]:
    """Nested dicts from a Config, a dict, a TOML path or a preset name."""
    if isinstance(source, Config):
        return config_to_dict(source)
    if isinstance(source, dict):
        return source
    path = Path(source)
    if path.suffix == ".toml" or path.is_file():
        return read_toml(path)
    if str(source) in preset_names():  # before folders: `run NAME --out NAME` resumes
        folder = resources.files("model_collapse") / "presets"
        return read_toml(Path(str(folder / f"{source}.toml")))
    names = preset_names()
    if path.is_dir():
        raise UserInputError(
            f"'{source}' is a folder, neither a config file nor a preset; to repeat the run "
            f"in it, give {path / 'config.toml'}"
        )
    raise UserInputError(
        f"'{source}' is neither a config file nor a preset;"
        f"{did_you_mean(str(source), names)} presets: {', '.join(names)}"
    )


def load_config(
    source: Config | dict[str, Any] | str | Path, overrides: list[str] | None = None
) -> Config:
    """A config from a Config, a dict, a TOML path or a preset name, plus ``--set`` overrides."""
    raw = read_raw(source)
    if "suite" in raw:
        raise UserInputError(
            f"'{source}' is a suite of {len(read_suite(raw).variants)} runs; run it with "
            "`model-collapse run` or model_collapse.run_suite"
        )
    return config_from_dict(apply_overrides(raw, overrides or []), override_keys(overrides))


@dataclass(frozen=True)
class Suite:
    """Several runs that differ in a few keys, drawn side by side.

    In TOML: a ``[suite]`` table with ``title``, ``compare`` (metric names) and
    ``[suite.variants]``, each variant a list of ``section.key=value`` overrides of the
    config in the same file; ``jobs``, how many variants run at once where the command
    does not say (``--jobs``): 1, in this process with their progress, unless a suite
    of light runs is known to finish sooner two at a time.
    """

    title: str
    compare: list[str]
    variants: dict[str, list[str]]
    jobs: int = 1


def read_suite(raw: dict[str, Any]) -> Suite:
    body = raw["suite"]
    variants = body.get("variants", {}) if isinstance(body, dict) else {}
    if not variants or not all(isinstance(v, list) for v in variants.values()):
        raise UserInputError("[suite.variants] must map each run's name to a list of overrides")
    jobs = body.get("jobs", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise UserInputError(
            f"suite.jobs is how many variants run at once: a whole number, 1 or more; got {jobs!r}"
        )
    return Suite(str(body.get("title", "")), list(body.get("compare", [])), dict(variants), jobs)


@dataclass
class Result:
    """A finished run: its config, its metrics (one row per seed and generation), its folder."""

    config: Config
    metrics: pd.DataFrame
    directory: Path | None = None

    def plot(self, metrics: list[str] | None = None) -> Figure:
        """One panel per metric: median over seeds, 95% band of seeds, mean dashed, the
        real level dotted, and the closed form where one holds."""
        from model_collapse.engine.lineages import split
        from model_collapse.output.plots import _pyplot, draw_panel

        if len(split(self.metrics)) > 1:
            raise UserInputError(
                "Result.plot draws a run of one lineage; this run has several: read its "
                "figures/ (one line per lineage), or plot each of engine.lineages.split(metrics)"
            )
        names = metrics or list(self.metrics.columns[2:])
        plt = _pyplot()
        cols = min(3, len(names))  # a grid: many metrics stay readable
        rows = -(-len(names) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.6 * rows), squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            draw_panel(ax, self.metrics, name, self.config)
            ax.legend(fontsize=7)
        for ax in axes.flat[len(names) :]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig


def commented_config(preset: str) -> str:
    """A preset as a config to start from: every key, what it means and its valid range."""
    from model_collapse.assemble.validate import commented_toml

    if str(preset) not in preset_names():
        raise UserInputError(
            f"'{preset}' is not a preset;{did_you_mean(str(preset), preset_names())} "
            f"presets: {', '.join(preset_names())}"
        )
    raw = read_raw(preset)
    title = f"model-collapse config from the preset '{preset}': {preset_description(preset)}"
    if "suite" in raw:  # several runs: the preset's own text says how they differ
        text = (resources.files("model_collapse") / "presets" / f"{preset}.toml").read_text()
        base = {k: v for k, v in raw.items() if k != "suite"}
        keys = commented_toml(base, "every key of its runs, with what it does and its range")
        every = "\n".join(f"# {line}" if line else "" for line in keys.splitlines()[2:])
        return (
            f"# {title}\n# A suite: run it with `model-collapse run THIS_FILE`.\n\n{text}\n"
            f"# The keys its runs have, with the values they take (set them above):\n{every}\n"
        )
    return commented_toml(raw, title)


def read_metrics(text: str) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(io.StringIO(text))


def run(
    config: Config | dict[str, Any] | str | Path,
    out: str | Path | None = None,
    overrides: list[str] | None = None,
    on_generation: Callable[[int], None] | None = None,
    restart: bool = False,
    on_start: Callable[[int], None] | None = None,
    observers: Sequence[Observer] = (),
) -> Result:
    """Run an experiment; with ``out``, write (or resume) a run directory and its figures.

    Parameters
    ----------
    config : a Config, a dict of sections, a TOML path or a preset name.
    out : the run directory; None keeps everything in memory.
    overrides : ``section.key=value`` strings, as ``--set`` takes them.
    on_generation : called after each completed generation (for progress bars).
    restart : start ``out`` over (its run files are removed) instead of resuming it.
    on_start : called with the first generation still to run, once ``out`` is open.
    observers : told of the start, every saved generation and the finish
        (:class:`model_collapse.engine.observers.Observer`).
    """
    from model_collapse.assemble.plan import plan_run
    from model_collapse.core import progress
    from model_collapse.engine.loop import run_generations
    from model_collapse.engine.observers import Callbacks, tell
    from model_collapse.engine.store import RunStore

    watching = [*observers, Callbacks(on_start, on_generation)]
    directory = Path(out) if out is not None else None
    plan = plan_run(load_config(config, overrides))  # all is checked before anything is written
    try:
        with (
            one_blas_thread(),
            RunStore(directory, plan.saved, plan.columns, plan.inputs, restart) as store,
        ):
            for observer in watching:
                observer.start(plan, store.start, directory)
            complete = store.start >= plan.config.experiment.generations
            with progress.listening(functools.partial(tell, watching, "stage")):
                run_generations(plan, store, watching)
            result = Result(plan.saved, read_metrics(store.metrics_text()), directory)
            drawn = directory is not None and any((directory / "figures").glob("*.png"))
            if directory is not None and not (complete and drawn):  # a finished run: drawn
                try:
                    write_figures(result)
                except OSError as err:
                    raise SaveError(
                        f"cannot write the figures of {directory}: {err.strerror}; every "
                        f"generation is saved: draw them later with `model-collapse plot "
                        f"{directory}`"
                    ) from None
        for observer in watching:
            observer.finish(result)
    except BaseException as err:  # told, then raised as it was
        tell(watching, "stopped", err)
        raise
    return result


def one_blas_thread() -> Any:
    """BLAS on one thread while a run runs: a matrix product's sums then come out the same
    whatever the machine's core count or the backend's thread settings (Dask and Ray
    workers set one thread; a laptop's numpy uses every core), so a run gives the same
    bytes everywhere. Sweeps are parallel across runs instead."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def write_figures(result: Result) -> list[Path]:
    """The figures of a run directory, from its metrics.csv, collapse.csv and the sample
    files its state lists (never files it does not)."""
    from model_collapse.engine.state import read_state
    from model_collapse.output.plots import plot_image_rows, plot_item_histograms, plot_metrics

    assert result.directory is not None
    state = read_state(result.directory)
    listed = set() if state is None else set(state.files)
    collapse = None
    if "collapse.csv" in listed:
        import pandas as pd

        collapse = pd.read_csv(result.directory / "collapse.csv")
    paths = plot_metrics(result.metrics, result.config, result.directory / "figures", collapse)
    per_item: dict[str, list[Path]] = {}
    for name in sorted(listed):
        parts = name.split("/")
        if parts[0] == "samples" and len(parts) == 3 and parts[2].endswith(".npy"):
            per_item.setdefault(parts[1], []).append(result.directory / name)
    pictures = {
        "images": ("samples.png", "generated images, first seed: one row per generation"),
        "strip": ("strip.png", "the same latent codes decoded by every generation's model"),
    }
    for folder, (figure, title) in pictures.items():
        if folder in per_item:
            target = result.directory / "figures" / figure
            paths.append(plot_image_rows(per_item.pop(folder), target, title))
    for metric, files in per_item.items():
        target = result.directory / "figures" / f"{metric}_histogram.png"
        paths.append(plot_item_histograms(files, target, f"per-item {metric} (all seeds)"))
    return paths


def open_run(directory: str | Path) -> Result:
    """Read a run directory written by :func:`run`, verified against its state."""
    from model_collapse.engine.state import read_verified

    folder = Path(directory)
    if not (folder / "config.toml").exists() or not (folder / "metrics.csv").exists():
        raise UserInputError(f"{folder} is not a run directory: no config.toml and metrics.csv")
    text, _ = read_verified(folder)
    config = config_from_dict(read_toml(folder / "config.toml"))
    return Result(config, read_metrics(text), folder)
