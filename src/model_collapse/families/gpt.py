"""A small GPT-style transformer family, trained on CPU in minutes (torch loads lazily).

Generation 0 trains from a random initialisation on real blocks. Later generations start
from scratch, from generation 0's weights, or from the previous generation's
(``family.init``: the paper restarts every generation from the same pretrained model).
Each training keeps the weights with the best loss on the real validation blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.errors import UserInputError
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


class GPTModel(NeuralLanguageModel):
    """One small GPT per seed (see :class:`NeuralLanguageModel` for the parameters)."""

    def positions(self) -> int:
        """The longest sequence it reads: family.context (capabilities.ReadsPositions)."""
        return int(self.config.family.context)

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        import torch

        from model_collapse.families.gpt_torch import GPT, GPTShape

        f = self.config.family
        net = GPT(GPTShape(self.real.categories, f.context, f.n_layer, f.n_head, f.n_embd))
        if weights is None:  # from scratch: GPT-2's initialisation from this stage's stream
            return net.init_weights(torch.Generator().manual_seed(int(rng.integers(2**62))))
        net.load_state_dict(as_tensors(weights))
        return net


def check(config: Config, real: RealData) -> None:
    check_device(config)
    f, length = config.family, real.train.shape[2]
    if f.n_embd % f.n_head:
        raise UserInputError(
            f"family.n_embd = {f.n_embd} must be a multiple of family.n_head = {f.n_head}"
        )
    if 2 * length + 1 > f.context:
        raise UserInputError(
            f"a {length}-token prompt plus {length} new tokens and the begin token need "
            f"family.context >= {2 * length + 1}, got {f.context}; raise family.context "
            "or lower source.block_size"
        )


FAMILIES.register("gpt")(
    text_family(
        GPTModel,
        "small GPT in PyTorch (family.n_layer, n_head, n_embd, epochs, init)",
        check=check,
        resolve=resolve_device,
        params={
            "n_layer": param(2, "transformer layers", low=1, high=256),
            "n_head": param(4, "attention heads", low=1, high=256),
            "n_embd": param(128, "embedding width", low=1, high=65536),
            "context": param(160, "longest sequence in tokens", low=2, high=1_000_000),
            **training(learning_rate=3e-3, weight_decay=0.1, schedule="cosine"),
        },
    )
)
