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
from model_collapse.core.rng import of_lineage, stream
from model_collapse.engine import capabilities
from model_collapse.engine.capabilities import WarmStarts, fit_items
from model_collapse.engine.lineages import LINEAGE, Lineage, published
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
    model: Any, config: Config, regime: Regime, generation: int, lineage: Lineage | None = None
) -> tuple[np.ndarray | None, Any]:
    """The generation's samples (None on the exact path) and what the next regime step uses:
    the samples as items from this generation, or their sufficient statistics."""
    tag, index = (lineage.tag, lineage.index) if lineage is not None else ("", 0)
    rng = stream(config.experiment.seed, of_lineage("sample", tag), generation)
    if config.family.exact:  # sufficient statistics of exactly the share the regime takes
        return None, model.sample_stats(regime.synthetic_share(config), rng)
    samples = model.sample(config.sampling.n, rng)
    return samples, Items.of(samples, generation, index)


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
    run directory keeps. ``role`` is the run's own family's role, ``others`` the other
    lineages on its web (:mod:`model_collapse.engine.lineages`), if any.
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
    role: str = "both"
    others: tuple[Lineage, ...] = ()

    def new_model(self, generation: int = 0) -> Model:
        """An unfitted model, made with that generation's config (a scheduled sampling
        key, such as a temperature, is the model's own setting)."""
        return self.family.make(config_at(self.config, generation), self.real)

    @property
    def lineages(self) -> list[Lineage]:
        """Every lineage of the run, its own family's first."""
        first = Lineage(
            self.config.family.name, "", 0, self.role, self.config, self.family, self.real,
            self.reference, self.metrics,
        )  # fmt: skip
        return [first, *self.others]

    @property
    def columns(self) -> list[str]:
        """The columns of metrics.csv after seed and generation."""
        named = [LINEAGE] if self.others else []
        return [*named, *self.names, *self.regime.columns(self.config)]


@dataclass
class Models:
    """A lineage's fitted models the loop carries: generation 0's and the previous one."""

    first: Any = None
    previous: Any = None


def restore(plan: Plan, store: RunStore) -> tuple[list[Any], list[Models]]:
    """On resume: the synthetic sets the regime needs, and each lineage's generation 0 and
    last models."""
    start, config, lineages = store.start, plan.config, plan.lineages
    if start == 0 or start >= config.experiment.generations:
        return [], [Models() for _ in lineages]
    needed = range(start) if plan.regime.keeps(config) else range(start - 1, start)
    kept: list[dict[int, Any]] = []
    for lineage in lineages:
        states = {t: store.load_model_state(t, lineage.tag) for t in sorted({0, *needed})}
        kept.append({t: lineage.new_model(t).set_state(state) for t, state in states.items()})
    history = []
    for t in needed:
        synthetic = [
            generate(models[t], config_at(lineage.config, t), plan.regime, t, lineage)[1]
            for lineage, models in zip(lineages, kept, strict=True)
        ]
        history.append(published(lineages, synthetic))
    return history, [Models(models[0], models[start - 1]) for models in kept]


def measure(plan: Plan, lineage: Lineage, step: Step, notes: RunNotes) -> dict[str, Any]:
    """Every metric of the run and the regime's diagnostics, one value per seed; undefined
    values go to the run log (a metric another lineage's family lacks is NaN)."""
    values = {}
    seeds = plan.config.experiment.seeds
    for name in plan.names:
        metric = lineage.metrics.get(name)
        if metric is None or (metric.runs_at is not None and not metric.runs_at(step)):
            values[name] = np.full(seeds, np.nan)
            continue
        compute = functools.partial(metric.compute, step)
        values[name] = notes.measure(step.generation, name, compute)
    if step.generation == 0:  # generation 0, fitted on real data, against its baselines
        guards = {name: m.guard for name, m in lineage.metrics.items() if name in plan.names}
        notes.guard(0, values, {name: g for name, g in guards.items() if g is not None})
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


@dataclass
class Outcome:
    """One lineage's generation: its values, model state, sample files and samples."""

    values: dict[str, Any]
    state: dict[str, np.ndarray]
    files: dict[str, bytes]
    synthetic: Any


def fit(plan: Plan, lineage: Lineage, step: Step, models: Models) -> tuple[Any, Model]:
    """This generation's training set and fitted model. Generation 0 learns from the real
    data; a teacher keeps the model it learned then."""
    real = Items.of(plan.real.train, REAL)
    if step.generation > 0 and not lineage.learns:
        return real, models.previous
    train = real if step.generation == 0 else plan.regime.training_set(step)
    model = step.new_model()
    if step.generation > 0 and capabilities.can(model, WarmStarts):
        cast(WarmStarts, model).start_from(models.first, models.previous)
    need = lineage.family.min_samples(lineage.config, plan.real.train.shape[2])
    return train, fit_items(model, train, step, need)  # a weighted set keeps ``need``


def live(
    plan: Plan, lineage: Lineage, models: Models, history: list[Any], generation: int,
    notes: RunNotes, services: dict[str, Any],
) -> Outcome:  # fmt: skip
    """One lineage's generation: build its training set, fit, sample, measure."""
    now = config_at(lineage.config, generation)  # every schedule at its value this generation
    step = Step(
        generation, now, plan.real, history, models.first, models.previous,
        functools.partial(lineage.new_model, generation), lineage.reference, services,
        config_of=functools.partial(config_at, lineage.config), lineage=lineage.tag,
    )  # fmt: skip
    with notes.watch(generation, "fit and sample"):
        train, model = fit(plan, lineage, step, models)
        samples, synthetic = generate(model, now, plan.regime, generation, lineage)
    notes.check_model(generation, model)
    models.first = model if generation == 0 else models.first
    step.train, step.model, step.synthetic, step.first_model = train, model, samples, models.first
    values = measure(plan, lineage, step, notes)
    with notes.watch(generation, "samples"):
        files = {lineage.file(k): v for k, v in sample_files(step, lineage.metrics).items()}
    models.previous = model
    return Outcome(values, model.get_state(), files, synthetic)


def run_generations(plan: Plan, store: RunStore, observers: Sequence[Observer] = ()) -> RunNotes:
    """Run every generation not yet in ``store``, for all seeds at once, lineage by lineage."""
    config, regime, lineages = plan.config, plan.regime, plan.lineages
    warn = functools.partial(tell, observers, "warning")
    saved = store.notes() or {}
    notes = [
        RunNotes(config.experiment.seeds, lineage.family.collapse,
                 saved if lineage.index == 0 else saved.get("lineages", {}).get(lineage.name),
                 warn)
        for lineage in lineages
    ]  # fmt: skip
    if store.start == 0:
        notes[0].lines += plan.notes
    history, models = restore(plan, store)
    services = open_services(plan.services, config, plan.real, store, notes[0].lines.append)

    for generation in range(store.start, config.experiment.generations):
        outcomes = [
            live(plan, lineage, models[lineage.index], history, generation,
                 notes[lineage.index], services)
            for lineage in lineages
        ]  # fmt: skip
        keeps = regime.keeps(config)
        done = completed(generation, lineages, outcomes, notes)
        store.append(done, keep_models=keeps or config.experiment.keep_checkpoints)
        synthetic = published(lineages, [outcome.synthetic for outcome in outcomes])
        history = [*history, synthetic] if keeps else [synthetic]
        told = by_lineage(lineages, [outcome.values for outcome in outcomes])
        for observer in observers:
            observer.generation(generation, told)
    store.finish(notes[0].collapse_table())
    return notes[0]


def by_lineage(lineages: list[Lineage], values: list[dict[str, Any]]) -> dict[str, Any]:
    """What observers are told of a generation: the run's own family's values by their
    names, another lineage's as ``NAME/metric`` (an experiment tracker's own series)."""
    told = dict(values[0])
    for lineage, more in zip(lineages[1:], values[1:], strict=True):
        told.update({f"{lineage.name}/{name}": value for name, value in more.items()})
    return told


def completed(
    generation: int, lineages: list[Lineage], outcomes: list[Outcome], notes: list[RunNotes]
) -> Completed:
    """What the store saves of a generation: a single lineage's as it always was; several
    lineages' rows one after another, each other lineage's log lines, checkpoint and
    sample files under its name."""
    first = outcomes[0]
    if len(lineages) == 1:
        return Completed(generation, first.values, first.state, first.files, notes[0].take(),
                         notes[0].state())  # fmt: skip
    values = {
        name: np.concatenate([np.asarray(o.values[name]) for o in outcomes])
        for name in first.values
    }
    log = notes[0].take() + "".join(
        f"lineage {lineage.name}: {line}\n"
        for lineage, note in zip(lineages[1:], notes[1:], strict=True)
        for line in note.take().splitlines()
    )
    others = zip(lineages[1:], notes[1:], strict=True)
    memory = {**notes[0].state(), "lineages": {lineage.name: n.state() for lineage, n in others}}
    files = {name: payload for outcome in outcomes for name, payload in outcome.files.items()}
    states = {lineage.tag: o.state for lineage, o in zip(lineages[1:], outcomes[1:], strict=True)}
    return Completed(generation, values, first.state, files, log, memory,
                     [lineage.name for lineage in lineages], states)  # fmt: skip
