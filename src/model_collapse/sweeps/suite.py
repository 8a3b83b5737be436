"""A suite (a preset's named variants) run through the sweep engine: on every backend,
resuming what is unfinished, with a sweep's tables beside its comparison figure.

The package exports :func:`run_suite` as ``model_collapse.run_suite``. Like the sweep
engine, it builds on the public API's one run (``run``, ``open_run``, ``read_raw``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_collapse.api import Result, Suite, open_run, read_raw, read_suite, run
from model_collapse.assemble.validate import config_from_dict
from model_collapse.config import Config, apply_overrides, config_to_dict, override_keys
from model_collapse.core.errors import UserInputError
from model_collapse.engine.lineages import refuse_several


def run_suite(
    source: dict[str, Any] | str | Path,
    out: str | Path,
    overrides: list[str] | None = None,
    run_one: Callable[[Config, Path, str], None] | None = None,
    restart: bool = False,
    backend: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    tell: Callable[[str], None] = lambda line: None,
    track: str | None = None,
) -> dict[str, Result]:
    """Run every variant of a suite into ``out/NAME`` and draw ``out/figures/comparison.png``.

    A suite runs through the sweep engine: on ``backend`` (local processes, Dask or Ray,
    ``jobs`` at once, by default the suite's own ``jobs``; ``track``, an MLflow URI, logs
    each run), resuming what is unfinished, and writing a sweep's tables (sweep.csv,
    aggregate.csv, intervals.csv, its key column ``variant``), so ``compare`` and ``report``
    read it as a sweep. ``run_one`` (the command line's, with progress) runs the variants
    one by one in this process instead; ``restart`` starts every variant's directory over
    (here too).
    ``overrides`` apply to every variant; one that sets a key a variant sets itself is
    refused (which should win is the user's call, and a silent winner would run one thing
    under the other's name).
    """
    raw = read_raw(source)
    suite = read_suite(raw)
    jobs = (1 if restart or run_one else suite.jobs) if jobs is None else jobs
    variants = suite_configs(raw, suite, overrides or [])
    changes = {name: suite.variants[name] for name in variants}
    return run_variants(
        variants, changes, suite.title, suite.compare, out, run_one, restart, backend, jobs,
        address, tell, track,
    )  # fmt: skip


def run_variants(
    variants: dict[str, Config],
    changes: dict[str, list[str]],
    title: str,
    compare: list[str],
    out: str | Path,
    run_one: Callable[[Config, Path, str], None] | None = None,
    restart: bool = False,
    backend: str = "local",
    jobs: int = 1,
    address: str | None = None,
    tell: Callable[[str], None] = lambda line: None,
    track: str | None = None,
) -> dict[str, Result]:
    """Named configs run as a suite (``run_suite``'s second half; ``run --decompose``'s
    arms too): each into ``out/NAME``, the sweep's tables, the comparison figure of the
    ``compare`` metrics. ``changes`` are each one's overrides, for its tables."""
    from model_collapse.assemble.plan import check_names
    from model_collapse.sweeps.sweep import run_sweep, suite_sweep

    for config in variants.values():  # every variant is checked before any runs
        check_names(config)
    here = run_one is not None or restart
    if here and (backend != "local" or jobs != 1):
        raise UserInputError(
            "--restart runs a suite's variants one by one in this process; drop --backend "
            "and --jobs, or remove the variants' folders and run without --restart"
        )
    one = run_one or (lambda config, folder, name: run(config, folder, restart=restart))
    runs = {name: (changes[name], config_to_dict(c)) for name, c in variants.items()}
    sweep = suite_sweep(title, runs)
    runner = _in_process(one, variants, Path(out)) if here else None
    created = not Path(out).exists()
    try:  # here, each run says what it does: the sweep's own lines would say it twice
        quiet = (lambda line: None) if here else tell
        errors = run_sweep(sweep, Path(out), jobs, quiet, backend, address, track, runner=runner)
    except UserInputError:
        if created:  # refused before any variant wrote a thing: leave nothing behind
            _remove_if_untouched(Path(out), list(variants))
        raise
    failed = next((name for name, error in errors.items() if error), None)
    if failed is not None:
        raise UserInputError(
            f"variant {failed!r} of the suite failed: {errors[failed]}; the others' results are "
            f"in {out}; run the suite again to retry it"
        )
    results = {name: open_run(Path(out) / name) for name in variants}
    from model_collapse.output.plots import plot_comparison

    # the first three metrics every run has (an arm of --decompose may lack some)
    columns = [list(result.metrics.columns[2:]) for result in results.values()]
    shown = compare or [m for m in columns[0] if all(m in c for c in columns)][:3]
    frames = {name: result.metrics for name, result in results.items()}
    plot_comparison(frames, shown, title, Path(out) / "figures" / "comparison.png")
    return results


def suite_configs(raw: dict[str, Any], suite: Suite, overrides: list[str]) -> dict[str, Config]:
    """Each variant's checked config: the suite's base with its changes and ``overrides``."""
    for name, changes in suite.variants.items():
        clash = sorted(override_keys(changes) & override_keys(overrides))
        if clash:
            raise UserInputError(
                f"--set {clash[0]} clashes with the suite's variant {name!r}, which sets "
                f"{clash[0]} itself; drop that --set, or change the variant in the suite"
            )
    base = {k: v for k, v in raw.items() if k != "suite"}
    configs = {
        name: config_from_dict(
            apply_overrides(base, [*changes, *overrides]), override_keys(overrides)
        )
        for name, changes in suite.variants.items()
    }
    for name, config in configs.items():
        refuse_several(config, f"the suite's variant {name!r}")
    return configs


def _in_process(
    run_one: Callable[[Config, Path, str], Any], configs: dict[str, Config], out: Path
) -> Callable[..., Any]:
    """A sweep runner that runs each variant here, one by one: an error ends the suite,
    as it ends a run."""

    def runner(todo: list[Any], jobs: int, address: str | None) -> Any:
        for task in todo:
            run_one(configs[task.name], out / task.name, task.name)
            yield task.name, ""

    return runner


def _remove_if_untouched(out: Path, names: list[str]) -> None:
    """Remove the folder a refused suite created, where no variant wrote anything in it:
    only the sweep's own tables and lock are there."""
    from model_collapse.engine.lock import LOCK

    ours = {"sweep.csv", "aggregate.csv", "aggregate.parquet", "intervals.csv", LOCK}
    entries = {entry.name for entry in out.iterdir()} if out.is_dir() else set()
    if entries & set(names) or not entries <= ours:
        return
    for name in entries:
        (out / name).unlink()
    out.rmdir()
