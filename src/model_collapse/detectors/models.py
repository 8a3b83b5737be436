"""The scoring models a detector reads outside a run: a run's model of a generation (its
source's tokenizer), or a pretrained local model (a Hugging Face directory, a GGUF file,
``package:NAME``). To score with a model trained on a reference corpus, run it: a run of
one generation on that corpus (``source.name = "text"``) is such a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from model_collapse.core.errors import UserInputError


@dataclass(frozen=True)
class ScoringModel:
    """Next-token log-probabilities of id blocks, with the tokenizer that makes the ids."""

    scorer: Callable[[np.ndarray], Any]
    vocab: int
    encode: Callable[[list[str]], list[list[int]]]
    decode: Callable[[list[int]], str]
    tokenizer_size: int
    max_tokens: int
    name: str

    @property
    def fingerprint(self) -> str:
        from model_collapse.detection.corpus import vocabulary_fingerprint

        return vocabulary_fingerprint(self.decode, self.tokenizer_size)


def load_scoring_model(spec: str) -> ScoringModel:
    """RUN_DIR or RUN_DIR@GENERATION (default 0: trained on real data only), or a model."""
    folder, _, generation = spec.partition("@")
    if (Path(folder) / "config.toml").is_file():
        if generation and not generation.isdigit():
            raise UserInputError(f"--model {spec}: the generation after @ must be a number")
        return _run_model(Path(folder), int(generation or 0), spec)
    return _pretrained(spec)


def _run_model(directory: Path, generation: int, spec: str) -> ScoringModel:
    from model_collapse.detection.export import saved_model
    from model_collapse.engine.capabilities import ReadsPositions, ScoresDistributions, can

    model, plan = saved_model(directory, generation)
    real = plan.real
    if not can(model, ScoresDistributions) or real.encode is None or real.decode is None:
        raise UserInputError(f"--model {spec}: its family does not score text tokens")
    # an n-gram reads any length: cut at GPT-2's 1024 tokens, as every scorer is
    positions = cast(ReadsPositions, model).positions() if can(model, ReadsPositions) else 1025
    length = positions - 1
    from model_collapse.detectors.text import ModelScorer

    return ScoringModel(
        ModelScorer(model, 0),
        real.categories,
        real.encode,
        real.decode,
        real.categories,
        min(length, 1024),
        spec,
    )


def _pretrained(spec: str) -> ScoringModel:
    from model_collapse.core.local_models import model_location
    from model_collapse.families.hf import load_pretrained, max_positions
    from model_collapse.families.lm_torch import next_log_probs
    from model_collapse.sources.text import model_tokenizer

    path = model_location(spec)
    tokenizer = model_tokenizer(path)
    net = load_pretrained(path)
    positions = max_positions(net)
    return ScoringModel(
        lambda ids: next_log_probs(net, ids, tokenizer.eot)[..., : net.vocab],
        net.vocab,
        tokenizer.encode,
        tokenizer.decode,
        tokenizer.size,
        min(int(positions) - 1, 1024),
        spec,
    )
