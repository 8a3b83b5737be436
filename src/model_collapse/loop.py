"""The generational loop: build the training set, fit, sample, measure, checkpoint.

Read it top to bottom: everything else in the package is called from here by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from model_collapse.checks import check_run
from model_collapse.config import Config
from model_collapse.families import FAMILIES, Model, WarmStarts
from model_collapse.metrics import METRICS, Reference, Snapshot, choose_metrics, make_reference
from model_collapse.regimes import REGIMES, Regime
from model_collapse.rng import stream
from model_collapse.sources import SOURCES, load_real_data
from model_collapse.store import RunStore, npy_bytes


def generate(
    model: Any, config: Config, regime: Regime, generation: int
) -> tuple[np.ndarray | None, Any]:
    """The generation's samples (None on the exact path) and what the next regime step uses."""
    rng = stream(config.experiment.seed, "sample", generation)
    if config.family.exact:  # sufficient statistics of exactly the share the regime takes
        return None, model.sample_stats(regime.synthetic_share(config), rng)
    samples = model.sample(config.sampling.n, rng)
    return samples, samples


def sample_files(
    generation: int, reference: Reference, snapshot: Snapshot, names: list[str]
) -> dict[str, bytes]:
    """What ``samples/`` keeps of a generation: per-item metric values, excerpts of text."""
    files = {}
    for name in names:
        per_item = METRICS.get(name).per_item
        if per_item is not None:
            files[f"{name}/generation-{generation:05d}.npy"] = npy_bytes(
                per_item(reference, snapshot)
            )
    decode, text = reference.real.decode, snapshot.synthetic
    if decode is not None and text is not None:
        excerpt = [
            f"=== seed {s}, block {b} ===\n{decode(text[s, b].tolist())}\n"
            for s in range(min(len(text), 3))
            for b in range(min(text.shape[1], 5))
        ]
        files[f"text/generation-{generation:05d}.txt"] = "".join(excerpt).encode("utf-8")
    return files


def check_names(config: Config) -> None:
    """Refuse an unknown family, regime, source or metric name before anything runs."""
    FAMILIES.get(config.family.name)
    REGIMES.get(config.regime.name)
    SOURCES.get(config.source.name)
    for name in config.metrics.names:
        METRICS.get(name)


def with_data_sizes(config: Config, real: Any) -> Config:
    """sampling.n = 0 means as many as the real training set, regime.size = 0 means n."""
    n = config.sampling.n or real.train.shape[1]
    return dataclasses.replace(
        config,
        sampling=dataclasses.replace(config.sampling, n=n),
        regime=dataclasses.replace(config.regime, size=config.regime.size or n),
    )


def run_loop(
    config: Config, store_dir: Any = None, on_generation: Callable[[int], None] | None = None
) -> RunStore:
    """Run every generation of ``config`` for all seeds at once; resume where a run stopped."""
    family = FAMILIES.get(config.family.name)
    regime = REGIMES.get(config.regime.name)
    real = load_real_data(config, family.kind)
    saved, config = config, with_data_sizes(config, real)
    check_run(config, family, regime, real)
    reference = make_reference(config, real)
    new_model: Callable[[], Model] = lambda: family.make(config, real)  # noqa: E731
    names = choose_metrics(config, reference, new_model(), config.family.exact)
    store = RunStore(store_dir, saved, names)
    start = store.open()
    root = config.experiment.seed

    # On resume, rebuild the synthetic sets the regime needs from the saved models.
    needed = range(start) if regime.keeps_history else range(max(start - 1, 0), start)
    if start >= config.experiment.generations:
        needed = range(0)
    restored = {
        t: new_model().set_state(store.load_model_state(t))
        for t in (sorted({0, *needed, start - 1}) if needed else [])
    }
    history = [generate(restored[t], config, regime, t)[1] for t in needed]
    first_model, previous = restored.get(0), restored.get(start - 1)

    for generation in range(start, config.experiment.generations):
        if generation == 0:
            train = real.train
        else:
            train = regime.training_set(
                config, generation, real, history, stream(root, "regime", generation)
            )
        model = new_model()
        if generation > 0 and isinstance(model, WarmStarts):
            model.start_from(first_model, previous)
        model = model.fit(train, stream(root, "fit", generation))
        samples, synthetic = generate(model, config, regime, generation)
        first_model = model if generation == 0 else first_model
        snapshot = Snapshot(model, samples, first_model)
        values = {name: METRICS.get(name).compute(reference, snapshot) for name in names}
        store.save_samples(sample_files(generation, reference, snapshot, names))
        keep = regime.keeps_history or config.experiment.keep_checkpoints
        store.append(generation, values, model.get_state(), keep_models=keep)
        history = [*history, synthetic] if regime.keeps_history else [synthetic]
        previous = model
        if on_generation is not None:
            on_generation(generation)
    store.finish()
    return store
