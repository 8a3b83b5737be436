"""What every PyTorch family shares: one network per seed on ``experiment.device``, saved
as named arrays (``seed{S}/{parameter}``), and fitted to weighted items by repeating them.

No torch import at module level: torch loads when a network is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config


class PerSeedNetworks:
    """Base of the torch families; subclasses build a network (``new_network``) and fit."""

    config: Config
    nets_: list[Any]

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        """A network with these weights, or with the family's own starting weights."""
        raise NotImplementedError

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        raise NotImplementedError

    def device(self) -> Any:
        """Where the networks train, sample and score: ``experiment.device``."""
        from model_collapse.families.lm_torch import torch_device

        return torch_device(self.config.experiment.device)

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Trains each seed on its items repeated by whole-number weights (see
        ``rows_per_seed``): a filter's kept items, once each."""
        from model_collapse.engine.capabilities import rows_per_seed

        rows = rows_per_seed(weight, rng)
        return self.fit([items[r] for items, r in zip(data, rows, strict=True)], rng)

    def weights(self) -> list[dict[str, np.ndarray]]:
        return [
            {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
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
            self.new_network(
                {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith(f"{seed}/")},
                np.random.default_rng(0),
            ).to(self.device())
            for seed in seeds
        ]
        return self
