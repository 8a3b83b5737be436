"""The generational loop: build the training set, fit, sample, measure, checkpoint.

Read it top to bottom: everything else in the package is called from here by name.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from model_collapse.config import Config
from model_collapse.config.schedules import config_at
from model_collapse.core.data import REAL, Items
from model_collapse.core.rng import stream
from model_collapse.engine import capabilities
from model_collapse.engine.capabilities import WarmStarts, fit_items
from model_collapse.engine.notes import RunNotes
from model_collapse.engine.observers import Observer, tell
from model_collapse.engine.step import Step
from model_collapse.engine.store import Completed, RunStore, npy_bytes
from model_collapse.services import open_services

if TYPE_CHECKING:  # the parts a plan holds, put together a layer above (assemble.plan)
    from model_collapse.families import Family, Model
    from model_collapse.metrics import Metric, Reference
    from model_collapse.regimes import Regime
    from model_collapse.sources import RealData


def generate(
    model: Any, config: Config, regime: Regime, generation: int
) -> tuple[np.ndarray | None, Any]:
    """The generation's samples (None on the exact path) and what the next regime step uses:
    the samples as items from this generation, or their sufficient statistics."""
    rng = stream(config.experiment.seed, "sample", generation)
    if config.family.exact:  # sufficient statistics of exactly the share the regime takes
        return None, model.sample_stats(regime.synthetic_share(config), rng)
    samples = model.sample(config.sampling.n, rng)
    return samples, Items.of(samples, generation)


def sample_files(step: Step, metrics: dict[str, Metric]) -> dict[str, bytes]:
    """What ``samples/`` keeps of a generation: per-item metric values, excerpts of text."""
    files = {}
    for name, metric in metrics.items():
        per_item = metric.per_item
        if per_item is not None:
            files[f"{name}/generation-{step.generation:05d}.npy"] = npy_bytes(per_item(step))
    decode, text = step.real.decode, step.synthetic
    if decode is not None and text is not None:
        excerpt = [
            f"=== seed {s}, block {b} ===\n{decode(text[s, b].tolist())}\n"
            for s in range(min(len(text), 3))
            for b in range(min(text.shape[1], 5))
        ]
        files[f"text/generation-{step.generation:05d}.txt"] = "".join(excerpt).encode("utf-8")
    if step.real.image_shape and step.synthetic is not None:
        files.update(picture_files(step))
    return files


SHOWN_SEEDS, SHOWN_IMAGES, STRIP_CODES = 3, 16, 10


def picture_files(step: Step) -> dict[str, bytes]:
    """Pictures of a generation: its first images of the first seeds, and, where the model
    decodes latent codes, the same codes (one fixed draw for the whole run) decoded by it."""
    shape, name = step.real.image_shape, f"generation-{step.generation:05d}.npy"
    assert step.synthetic is not None
    shown = step.synthetic[:SHOWN_SEEDS, :SHOWN_IMAGES].astype(np.float32)  # to look at
    files = {f"images/{name}": npy_bytes(shown.reshape(*shown.shape[:2], *shape))}
    if capabilities.can(step.model, capabilities.DecodesCodes):
        codes = stream(step.config.experiment.seed, "strip", 0)
        latent = codes.standard_normal((STRIP_CODES, step.model.latent_size))
        decoded = step.model.decode_codes(latent)[:SHOWN_SEEDS].astype(np.float32)
        files[f"strip/{name}"] = npy_bytes(decoded.reshape(*decoded.shape[:2], *shape))
    return files


@dataclass(frozen=True)
class Plan:
    """A checked run, before anything is written: its parts, real data and metrics, as
    :func:`model_collapse.assemble.plan.plan_run` puts it together from the registries
    (the loop asks no registry itself).

    ``config`` has the data sizes filled in; ``saved`` is the config as given, which the
    run directory keeps.
    """

    config: Config
    saved: Config
    family: Family
    regime: Regime
    real: RealData
    reference: Reference
    names: list[str]
    metrics: dict[str, Metric]  # each name's registered metric
    notes: list[str]  # for the run log: metrics left out, and why
    inputs: str  # checksum of the real data and the model files the run reads
    services: list[str]  # run-scoped helpers the regime and the metrics declare

    def new_model(self, generation: int = 0) -> Model:
        """An unfitted model, made with that generation's config (a scheduled sampling
        key, such as a temperature, is the model's own setting)."""
        return self.family.make(config_at(self.config, generation), self.real)

    @property
    def columns(self) -> list[str]:
        """The columns of metrics.csv after seed and generation."""
        return [*self.names, *self.regime.columns(self.config)]


def restore(plan: Plan, store: RunStore) -> tuple[list[Any], Model | None, Model | None]:
    """On resume: the synthetic sets the regime needs, generation 0's and the last model."""
    start, config = store.start, plan.config
    if start == 0 or start >= config.experiment.generations:
        return [], None, None
    needed = range(start) if plan.regime.keeps(config) else range(start - 1, start)
    models = {
        t: plan.new_model(t).set_state(store.load_model_state(t)) for t in sorted({0, *needed})
    }
    history = [generate(models[t], config_at(config, t), plan.regime, t)[1] for t in needed]
    return history, models[0], models[start - 1]


def measure(plan: Plan, step: Step, notes: RunNotes) -> dict[str, Any]:
    """Every metric of the run and the regime's diagnostics, one value per seed; undefined
    values go to the run log."""
    values = {}
    for name in plan.names:
        metric = plan.metrics[name]
        if metric.runs_at is not None and not metric.runs_at(step):
            values[name] = np.full(plan.config.experiment.seeds, np.nan)
            continue
        compute = functools.partial(metric.compute, step)
        values[name] = notes.measure(step.generation, name, compute)
    if step.generation == 0:  # generation 0, fitted on real data, against its baselines
        guards = {name: plan.metrics[name].guard for name in plan.names}
        notes.guard(0, values, {name: g for name, g in guards.items() if g is not None})
    seeds = plan.config.experiment.seeds
    for name, diagnostic in plan.regime.columns(step.config).items():
        # generation 0 trains on the real data, before any regime: a regime's column about
        # what it chose (a defence's pool) is undefined there, which is no news for the log
        value = notes.measure(
            step.generation,
            name,
            functools.partial(diagnostic, step, step.train),
            quiet=step.generation == 0,
        )
        values[name] = np.broadcast_to(value, (seeds,))
    return values


def run_generations(plan: Plan, store: RunStore, observers: Sequence[Observer] = ()) -> RunNotes:
    """Run every generation not yet in ``store``, for all seeds at once."""
    config, real, regime = plan.config, plan.real, plan.regime
    warn = functools.partial(tell, observers, "warning")
    notes = RunNotes(config.experiment.seeds, plan.family.collapse, store.notes(), warn)
    if store.start == 0:
        notes.lines += plan.notes
    history, first_model, previous = restore(plan, store)
    services = open_services(plan.services, config, real, store, notes.lines.append)
    reference = plan.reference
    need = plan.family.min_samples(config, real.train.shape[2])  # a weighted set keeps this

    for generation in range(store.start, config.experiment.generations):
        now = config_at(config, generation)  # every schedule at its value this generation
        new_model = functools.partial(plan.new_model, generation)
        step = Step(
            generation, now, real, history, first_model, previous, new_model, reference, services,
            config_of=functools.partial(config_at, config),
        )  # fmt: skip
        with notes.watch(generation, "fit and sample"):
            train = Items.of(real.train, REAL) if generation == 0 else regime.training_set(step)
            model = new_model()
            if generation > 0 and capabilities.can(model, WarmStarts):
                cast(WarmStarts, model).start_from(first_model, previous)
            model = fit_items(model, train, step, need)
            samples, synthetic = generate(model, now, regime, generation)
        notes.check_model(generation, model)
        first_model = model if generation == 0 else first_model
        step.train, step.model, step.synthetic, step.first_model = (
            train,
            model,
            samples,
            first_model,
        )
        values = measure(plan, step, notes)
        with notes.watch(generation, "samples"):
            files = sample_files(step, plan.metrics)
        done = Completed(generation, values, model.get_state(), files, notes.take(), notes.state())
        keeps = regime.keeps(config)
        store.append(done, keep_models=keeps or config.experiment.keep_checkpoints)
        history = [*history, synthetic] if keeps else [synthetic]
        previous = model
        for observer in observers:
            observer.generation(generation, values)
    store.finish(notes.collapse_table())
    return notes
