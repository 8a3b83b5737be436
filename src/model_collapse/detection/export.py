"""A generation's whole generated set, handed to other tools: .jsonl for text (one document
a line, field ``text``), .npy for numbers.

A run keeps its models, not its samples: the generation is drawn again from its saved
model with the stream the run drew it from, so the set is the one the run trained on. A
run keeps generation 0's model and the latest (every one with
``experiment.keep_checkpoints`` or a regime that keeps history).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError


def saved_model(directory: Path, generation: int) -> tuple[Any, Any]:
    """Generation ``generation``'s model of the run, verified, and the run's plan."""
    from safetensors.numpy import load

    from model_collapse.api import open_run
    from model_collapse.assemble.plan import plan_run
    from model_collapse.engine.state import damaged, read_state, sha256_bytes

    result = open_run(directory)
    state = read_state(directory)
    assert state is not None
    if not 0 <= generation <= state.completed:
        raise UserInputError(
            f"{directory} has generations 0 to {state.completed}; generation {generation} "
            "is not among them"
        )
    name = f"checkpoints/model-{generation:05d}.safetensors"
    if name not in state.files:
        raise UserInputError(
            f"{directory} kept no model of generation {generation} (only generation 0's and "
            f"the latest, {state.completed}); rerun with experiment.keep_checkpoints = true"
        )
    payload = (directory / name).read_bytes()
    if sha256_bytes(payload) != state.files[name]:
        raise damaged(directory, name, "does not match its checksum")
    plan = plan_run(result.config)
    if plan.inputs != state.inputs_sha256:
        raise UserInputError(
            f"the real data or model files of {directory} changed since it ran; its "
            "models cannot be used"
        )
    return plan.new_model(generation).set_state(load(payload)), plan


def generated_set(directory: Path, generation: int) -> tuple[np.ndarray, Any]:
    """The samples (S, n, ...) generation ``generation`` of the run drew, and its plan."""
    from model_collapse.config.schedules import config_at
    from model_collapse.engine.loop import generate

    model, plan = saved_model(directory, generation)
    if plan.config.family.exact:
        raise UserInputError(
            f"{directory} ran on the exact path (family.exact): it drew sufficient statistics, "
            "not samples; run it with family.exact = false to export samples"
        )
    samples, _ = generate(model, config_at(plan.config, generation), plan.regime, generation)
    assert samples is not None
    return samples, plan


def export(directory: Path, generation: int, out: Path) -> int:
    """Write the set to ``out`` (.jsonl for text, .npy otherwise); returns how many items."""
    from model_collapse.detection.corpus import vocabulary_fingerprint
    from model_collapse.engine.store import atomic_write, npy_bytes

    if not directory.is_dir():
        raise UserInputError(f"{directory} is not a run directory")
    samples, plan = generated_set(directory, generation)
    real = plan.real
    text = real.decode is not None
    wanted = ".jsonl" if text else ".npy"
    if out.suffix != wanted:
        what = "text" if text else "numbers"
        raise UserInputError(f"{directory} generated {what}: export it to a {wanted} file")
    if text:
        fingerprint = vocabulary_fingerprint(real.decode, real.categories)
        lines = [
            json.dumps(
                {
                    "text": real.decode(tokens.tolist()),
                    "seed": seed,
                    "generation": generation,
                    "tokenizer": fingerprint,
                }
            )
            for seed, per_seed in enumerate(samples)
            for tokens in per_seed
        ]
        payload = ("\n".join(lines) + "\n").encode()
    else:
        payload = npy_bytes(samples)
    try:
        atomic_write(out, payload)
    except OSError as err:
        raise UserInputError(f"cannot write {out}: {err.strerror}") from None
    return int(samples.shape[0] * samples.shape[1])
