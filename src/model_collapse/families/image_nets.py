"""What the image families (vae, ddpm) share: one network per seed trained from scratch
or from the previous generation's weights, the training parameters, and their entry in
the family registry. No torch import at module level."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import Param, param
from model_collapse.families.base import Family
from model_collapse.families.neural import check_device, resolve_device
from model_collapse.families.torch_nets import PerSeedNetworks
from model_collapse.sources.base import RealData


class ImageNetworks(PerSeedNetworks):
    """Base of the image families (vae, ddpm): each generation trains from scratch, or
    continues the previous generation's weights (``family.init = "previous"``)."""

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config
        self.real = real
        self.start_weights: list[dict[str, np.ndarray]] | None = None

    def seeded_network(
        self,
        make: Callable[[], Any],
        weights: dict[str, np.ndarray] | None,
        rng: np.random.Generator,
    ) -> Any:
        """``make()``'s network with these weights, or with fresh ones drawn on the CPU from
        ``rng`` (the same on every device), on the run's device."""
        import torch

        from model_collapse.families.neural import as_tensors

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**62)))
            net = make()
        if weights is not None:
            net.load_state_dict(as_tensors(weights))
        return net.to(self.device())

    def start_from(self, first: Self | None, previous: Self | None) -> Self:
        source = previous if self.config.family.init == "previous" else None
        self.start_weights = None if source is None else source.weights()
        return self

    def fit_each(
        self, data: Any, rng: np.random.Generator, train: Callable[[Any, Any], Any]
    ) -> Self:
        """Each seed's network, trained by ``train(network, images)`` on its own images."""
        self.nets_ = []
        for seed, images in enumerate(data):
            start = None if self.start_weights is None else self.start_weights[seed]
            self.nets_.append(train(self.new_network(start, rng), images))
        return self


def training_params(epochs: int, batch_size: int) -> dict[str, Param]:
    """The keys every image family trains with, and their defaults."""
    return {
        "epochs": param(epochs, "passes over the training set per generation", low=1, high=100_000),
        "batch_size": param(batch_size, "images per optimiser step", low=1, high=1_000_000),
        "learning_rate": param(1e-3, "Adam's learning rate", low=0.0, high=10.0, open_low=True),
        "init": param(
            "scratch",
            "later generations train from scratch or continue the previous weights",
            choices=("scratch", "previous"),
        ),
    }


def image_family(make: Callable[..., Any], description: str, params: dict[str, Param]) -> Family:
    """A torch family of images that runs on ``experiment.device``."""
    return Family(
        kind="image",
        make=make,
        min_samples=lambda config, dim: 1,
        description=description,
        check=lambda config, real: check_device(config),
        resolve=resolve_device,
        params=params,
    )
