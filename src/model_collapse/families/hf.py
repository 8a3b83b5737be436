"""Any causal language model in a local Hugging Face directory (or a GGUF file).

Weights load from safetensors only (a ``pytorch_model.bin`` is a pickle and is refused),
offline. Every generation fine-tunes with the same training loop as the ``gpt`` family,
starting from the model's own weights (``family.init = "scratch"``, as the paper does:
each generation restarts from the same pretrained model), from generation 0's weights or
from the previous generation's; sampling and beam search are shared too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.config import Config, replace
from model_collapse.config.params import param
from model_collapse.core.errors import UserInputError
from model_collapse.core.local_models import model_location
from model_collapse.families.base import FAMILIES
from model_collapse.families.neural import (
    NeuralLanguageModel,
    as_tensors,
    check_device,
    resolve_device,
    training,
)
from model_collapse.families.text_family import text_family
from model_collapse.sources.base import RealData


def _wrap(model: Any) -> Any:
    """The model behind the small interface the shared training and decoding code uses."""
    from torch import nn
    from transformers import DynamicCache

    class HFCausalLM(nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.model = inner
            self.vocab = int(inner.config.vocab_size)

        def forward(self, idx: Any) -> Any:
            return self.model(input_ids=idx, use_cache=False).logits  # no KV cache to fill

        def new_cache(self, batch: int) -> Any:
            return DynamicCache(config=self.model.config)

        def decode(self, idx: Any, cache: Any, pos: int) -> Any:
            # the last position's logits only: a prompt's others would cost B x T x vocab
            return self.model(input_ids=idx, cache=cache, use_cache=True, logits_to_keep=1).logits

        def reorder(self, cache: Any, index: Any) -> None:
            cache.reorder_cache(index)

    return HFCausalLM(model)


def max_positions(net: Any) -> int:
    """The longest sequence a pretrained network reads, in tokens (its position table;
    1025, GPT-2's, where its config does not say)."""
    return int(getattr(net.model.config, "max_position_embeddings", 1025))


def load_pretrained(path: Path) -> Any:
    """The model of a local directory or GGUF file, in float32 on the CPU, offline.

    Each call gets its own copy; the file is read (and a GGUF dequantised) once a process.
    """
    import copy

    return copy.deepcopy(_read_pretrained(path))


@functools.lru_cache(maxsize=2)
def _read_pretrained(path: Path) -> Any:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    if path.suffix == ".gguf":
        # its de-quantising progress bar writes to stderr past transformers' switch
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
            model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name, local_files_only=True, dtype=torch.float32
            )
    else:
        model = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, use_safetensors=True, dtype=torch.float32
        )
    return _wrap(model)


def check_model_path(config: Config, real: RealData) -> None:
    """Refuse a missing directory, pickled weights, a tokenizer too big, a short context."""
    check_device(config)
    if not config.family.model_path:
        raise UserInputError("family 'hf' needs family.model_path: a local model directory")
    path = model_location(config.family.model_path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise UserInputError(f"GGUF file not found: {path}")
        return
    if not (path / "config.json").is_file():
        raise UserInputError(f"{path} is not a Hugging Face model directory: no config.json")
    if not any(path.glob("*.safetensors")):
        pickled = (
            " (pytorch_model.bin is a pickle and is refused)" if any(path.glob("*.bin")) else ""
        )
        raise UserInputError(
            f"{path} has no weights in safetensors{pickled}; save with "
            "save_pretrained(..., safe_serialization=True)"
        )
    settings = json.loads((path / "config.json").read_text())
    vocab = int(settings.get("vocab_size", 0))
    if real.categories > vocab:
        raise UserInputError(
            f"the tokenizer has {real.categories} tokens but the model in {path} embeds only "
            f"{vocab}; use the tokenizer that came with the model (source.tokenizer)"
        )
    positions = settings.get("n_positions") or settings.get("max_position_embeddings") or 0
    length = real.train.shape[2]
    if positions and 2 * length + 1 > positions:
        raise UserInputError(
            f"a {length}-token prompt plus {length} new tokens need {2 * length + 1} positions; "
            f"the model in {path} has {positions}; lower source.block_size"
        )


# A pretrained model scores a block far more slowly than a small one: the metrics score
# this many test blocks and training this many validation blocks unless the config says
# (0: all). 256 test blocks of 64 tokens put a perplexity's standard error near 1%.
SCORED_BLOCKS = {"n_test": 256, "n_validation": 128}


def resolve(config: Config) -> Config:
    """The device "auto" picks, written down; the model's own tokenizer unless
    source.tokenizer names another; and how many real blocks are scored."""
    config = resolve_device(config)
    given = config.source.params
    changes = {k: v for k, v in SCORED_BLOCKS.items() if k in given and given[k] is None}
    if given.get("tokenizer", "unused") == "":  # a text source left to its own BPE
        changes["tokenizer"] = config.family.model_path
    return dataclasses.replace(config, source=replace(config.source, **changes))


def model_files(config: Config) -> list[Path]:
    """The files a resumed run must find unchanged: the weights and the model's config."""
    path = model_location(config.family.model_path)
    if path.is_file():
        return [path]
    return sorted([*path.glob("*.safetensors"), *path.glob("*.json")])


class HFModel(NeuralLanguageModel):
    """A Hugging Face causal LM per seed, fine-tuned each generation; its starting weights
    are the pretrained ones in ``family.model_path``."""

    fused = True

    def pretrained_log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """log p of every token of (m, L) blocks under the pretrained weights: (m, L)."""
        from model_collapse.families.lm_torch import token_log_probs

        net = load_pretrained(model_location(self.config.family.model_path)).to(self.device())
        label = f"pretrained model: scoring {len(blocks)} test blocks"
        return token_log_probs(net, blocks, self.real.bos, label=label)

    def positions(self) -> int:
        """The longest sequence its network reads (capabilities.ReadsPositions)."""
        return max_positions(self.nets_[0])

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        net = load_pretrained(model_location(self.config.family.model_path))
        if weights is not None:
            net.load_state_dict(as_tensors(weights))
        return net


FAMILIES.register("hf")(
    text_family(
        HFModel,
        "a local Hugging Face causal LM or GGUF file, fine-tuned (family.model_path)",
        check=check_model_path,
        params={
            "model_path": param(
                "", "a local Hugging Face model directory, GGUF file or package:NAME", path=True
            ),
            # Fine-tuning, not training: Hugging Face Trainer's defaults (AdamW at 5e-5,
            # linear decay, no weight decay), which the paper's OPT-125m fine-tuning used.
            # gpt's from-scratch 3e-3 wrecks a pretrained model in one epoch.
            **training(learning_rate=5e-5, weight_decay=0.0, schedule="linear"),
        },
        inputs=model_files,
        resolve=resolve,
    )
)
