"""``vae``: a variational autoencoder on images, one per seed, in PyTorch.

The seed paper's MNIST experiment: latent size 20, Adam at 1e-3, batches of 256, 30
epochs per generation, each generation trained on the previous decoder's samples. A
sample is the decoder's pixel means at a code drawn from the prior N(0, I): the images
the paper shows. No torch import at module level: torch loads when a VAE is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.families.base import FAMILIES, Family
from model_collapse.families.neural import check_device, resolve_device
from model_collapse.families.torch_nets import PerSeedNetworks
from model_collapse.params import param
from model_collapse.sources.base import RealData


class VAEModel(PerSeedNetworks):
    """One VAE per seed.

    Parameters
    ----------
    config : the run's config (family: architecture, training, init; the device).
    real : the real data (its image size).
    """

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config
        self.real = real
        self.start_weights: list[dict[str, np.ndarray]] | None = None

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        """A network with these weights, or fresh ones drawn on the CPU from ``rng`` (the
        same on every device)."""
        import torch

        from model_collapse.families.neural import as_tensors
        from model_collapse.families.vae_torch import VAENet

        f = self.config.family
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**62)))
            net = VAENet(self.real.train.shape[2], f.hidden, f.latent)
        if weights is not None:
            net.load_state_dict(as_tensors(weights))
        return net.to(self.device())

    def start_from(self, first: Self | None, previous: Self | None) -> Self:
        """``family.init = "previous"`` continues the previous generation's weights."""
        source = previous if self.config.family.init == "previous" else None
        self.start_weights = None if source is None else source.weights()
        return self

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        from model_collapse.families.vae_torch import Training, train

        f = self.config.family
        settings = Training(f.epochs, f.batch_size, f.learning_rate, f.likelihood, f.pixel_std)
        self.nets_ = []
        for seed, images in enumerate(data):
            start = None if self.start_weights is None else self.start_weights[seed]
            self.nets_.append(train(self.new_network(start, rng), images, settings, rng))
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n images per seed, decoded from codes of the prior: (S, n, pixels) in [0, 1]."""
        return self.decode_codes(rng.standard_normal((n, self.config.family.latent)))

    @property
    def latent_size(self) -> int:
        return int(self.config.family.latent)

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        """The same latent codes (n, latent) decoded by every seed's VAE: (S, n, pixels)."""
        from model_collapse.families.vae_torch import decode

        return np.stack([decode(net, codes) for net in self.nets_])


FAMILIES.register("vae")(
    Family(
        kind="image",
        make=VAEModel,
        min_samples=lambda config, dim: 1,
        description="variational autoencoder on images in PyTorch (family.latent, hidden, "
        "likelihood, epochs, init)",
        devices=True,
        check=lambda config, real: check_device(config),
        resolve=resolve_device,
        params={
            "latent": param(20, "size of the latent code", low=1, high=100_000),
            "hidden": param(
                400, "width of the encoder's and decoder's hidden layer", low=1, high=1_000_000
            ),
            "likelihood": param(
                "bernoulli",
                "the decoder's pixel model: Bernoulli (cross-entropy) or a Gaussian of "
                "family.pixel_std",
                choices=("bernoulli", "gaussian"),
            ),
            "pixel_std": param(
                0.1, "the Gaussian decoder's standard deviation", low=0.0, high=100.0, open_low=True
            ),
            "epochs": param(30, "passes over the training set per generation", low=1, high=100_000),
            "batch_size": param(256, "images per optimiser step", low=1, high=1_000_000),
            "learning_rate": param(1e-3, "Adam's learning rate", low=0.0, high=10.0, open_low=True),
            "init": param(
                "scratch",
                "later generations train from scratch or continue the previous weights",
                choices=("scratch", "previous"),
            ),
        },
    )
)
