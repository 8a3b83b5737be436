"""A small GPT-style transformer family, trained on CPU in minutes (torch loads lazily).

Generation 0 trains from a random initialisation on real blocks. Later generations start
from scratch, from generation 0's weights, or from the previous generation's
(``family.init``: the paper restarts every generation from the same pretrained model).
Each training keeps the weights with the best loss on the real validation blocks.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.errors import UserInputError
from model_collapse.families.base import FAMILIES, Family
from model_collapse.sources.base import RealData


class GPTModel:
    """One small GPT per seed.

    Parameters
    ----------
    config : the run's config (family: shape and training; sampling: decoding).
    real : the real data: prompts (its training blocks), validation blocks, begin token.
    """

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config
        self.real = real
        self.start_weights: list[dict[str, np.ndarray]] | None = None

    def _shape(self) -> Any:
        from model_collapse.families.gpt_torch import GPTShape

        f = self.config.family
        return GPTShape(self.real.categories, f.context, f.n_layer, f.n_head, f.n_embd)

    def start_from(self, first: GPTModel | None, previous: GPTModel | None) -> Self:
        """Choose the weights the next fit starts from, as ``family.init`` says."""
        source = {"gen0": first, "previous": previous}.get(self.config.family.init)
        self.start_weights = None if source is None else source.weights()
        return self

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        import torch

        from model_collapse.families.gpt_torch import GPT
        from model_collapse.families.lm_torch import TrainSettings, train

        f = self.config.family
        settings = TrainSettings(f.epochs, f.batch_size, f.learning_rate, f.weight_decay)
        self.nets_ = []
        for seed, blocks in enumerate(data):
            net = GPT(self._shape())
            if self.start_weights is None:
                generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
                net.init_weights(generator)
            else:
                net.load_state_dict(_tensors(self.start_weights[seed]))
            assert self.real.validation is not None
            self.nets_.append(
                train(net, blocks, self.real.validation, self.real.bos, settings, rng)
            )
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_nets(self.nets_, self.config, self.real, n, rng)

    def log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """Natural-log probability of every token of (m, L) blocks, per seed: (S, m, L)."""
        from model_collapse.families.lm_torch import token_log_probs

        return np.stack([token_log_probs(net, blocks, self.real.bos) for net in self.nets_])

    def weights(self) -> list[dict[str, np.ndarray]]:
        return [
            {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
            for net in self.nets_
        ]

    def get_state(self) -> dict[str, np.ndarray]:
        return {
            f"seed{s}.{name}": value
            for s, weights in enumerate(self.weights())
            for name, value in weights.items()
        }

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        from model_collapse.families.gpt_torch import GPT

        seeds = len({key.split(".")[0] for key in state})
        self.nets_ = []
        for s in range(seeds):
            net = GPT(self._shape())
            prefix = f"seed{s}."
            net.load_state_dict(
                _tensors(
                    {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
                )
            )
            self.nets_.append(net)
        return self


def sample_nets(
    nets: list[Any], config: Config, real: RealData, n: int, rng: np.random.Generator
) -> np.ndarray:
    """n blocks per seed, each continuing a real training block: (S, n, L)."""
    import torch

    from model_collapse.families.lm_torch import Decoding, generate

    s = config.sampling
    decoding = Decoding(s.temperature, s.top_k, s.top_p, s.repetition_penalty, s.beams)
    out = []
    for seed, net in enumerate(nets):
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        prompt = real.train[seed, np.arange(n) % real.train.shape[1]]
        out.append(generate(net, prompt, real.train.shape[2], real.bos, decoding, generator))
    return np.stack(out)


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {name: torch.from_numpy(np.array(value)) for name, value in arrays.items()}


def check(config: Config, real: RealData) -> None:
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
    if real.validation is None or real.bos < 0:
        raise UserInputError(f"family 'gpt' needs a text source, not '{config.source.name}'")


FAMILIES.register("gpt")(
    Family(
        kind="text",
        make=GPTModel,
        min_samples=lambda config, dim: 1,
        description="small GPT in PyTorch (family.n_layer, n_head, n_embd, epochs, init)",
        decoding=True,
        check=check,
    )
)
