"""Any causal language model in a local Hugging Face directory (or a GGUF file).

Weights load from safetensors only (a ``pytorch_model.bin`` is a pickle and is refused),
offline. Every generation fine-tunes with the same training loop as the ``gpt`` family,
starting from the model's own weights (``family.init = "scratch"``, as the paper does:
each generation restarts from the same pretrained model), from generation 0's weights or
from the previous generation's; sampling and beam search are shared too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.errors import UserInputError
from model_collapse.families.base import FAMILIES, Family
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
            return self.model(input_ids=idx).logits

        def new_cache(self, batch: int) -> Any:
            return DynamicCache(config=self.model.config)

        def decode(self, idx: Any, cache: Any, pos: int) -> Any:
            return self.model(input_ids=idx, cache=cache, use_cache=True).logits

        def reorder(self, cache: Any, index: Any) -> None:
            cache.reorder_cache(index)

    return HFCausalLM(model)


def load_pretrained(path: Path) -> Any:
    """The model of a local directory or GGUF file, in float32 on the CPU, offline."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    if path.suffix == ".gguf":
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
    if not config.family.model_path:
        raise UserInputError("family 'hf' needs family.model_path: a local model directory")
    path = Path(config.family.model_path).expanduser()
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


class HFModel:
    """A Hugging Face causal LM per seed, fine-tuned each generation.

    Parameters
    ----------
    config : the run's config (family.model_path, training settings; sampling).
    real : the real data (prompts, validation blocks, begin token).
    """

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config
        self.real = real
        self.start_weights: list[dict[str, np.ndarray]] | None = None

    def start_from(self, first: HFModel | None, previous: HFModel | None) -> Self:
        source = {"gen0": first, "previous": previous}.get(self.config.family.init)
        self.start_weights = None if source is None else source.weights()
        return self

    def _net(self, weights: dict[str, np.ndarray] | None) -> Any:
        import torch

        net = load_pretrained(Path(self.config.family.model_path).expanduser())
        if weights is not None:
            net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        return net

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        import torch

        from model_collapse.families.lm_torch import TrainSettings, train

        f = self.config.family
        settings = TrainSettings(f.epochs, f.batch_size, f.learning_rate, f.weight_decay)
        assert self.real.validation is not None
        self.nets_ = []
        for s, blocks in enumerate(data):
            net = self._net(None if self.start_weights is None else self.start_weights[s])
            # Pretrained models draw dropout from torch's global generator: seed it from
            # this stage's stream inside fork_rng, which restores it afterwards.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(rng.integers(2**62)))
                self.nets_.append(
                    train(net, blocks, self.real.validation, self.real.bos, settings, rng)
                )
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from model_collapse.families.gpt import sample_nets

        return sample_nets(self.nets_, self.config, self.real, n, rng)

    def log_prob(self, blocks: np.ndarray) -> np.ndarray:
        from model_collapse.families.lm_torch import token_log_probs

        return np.stack([token_log_probs(net, blocks, self.real.bos) for net in self.nets_])

    def weights(self) -> list[dict[str, np.ndarray]]:
        return [
            {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
            for net in self.nets_
        ]

    def get_state(self) -> dict[str, np.ndarray]:
        return {
            f"seed{s}/{name}": value
            for s, weights in enumerate(self.weights())
            for name, value in weights.items()
        }

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        seeds = sorted({key.split("/")[0] for key in state}, key=lambda k: int(k[4:]))
        self.nets_ = [
            self._net({k.split("/", 1)[1]: v for k, v in state.items() if k.startswith(f"{seed}/")})
            for seed in seeds
        ]
        return self


FAMILIES.register("hf")(
    Family(
        kind="text",
        make=HFModel,
        min_samples=lambda config, dim: 1,
        description="a local Hugging Face causal LM or GGUF file, fine-tuned (family.model_path)",
        decoding=True,
        check=check_model_path,
    )
)
