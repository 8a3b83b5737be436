"""``vae``: a variational autoencoder on images, one per seed, in PyTorch.

The seed paper's MNIST experiment: latent size 20, Adam at 1e-3, batches of 256, 30
epochs per generation, each generation trained on the previous decoder's samples. A
sample is the decoder's pixel means at a code drawn from the prior N(0, I): the images
the paper shows. No torch import at module level: torch loads when a VAE is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config.params import param
from model_collapse.families.base import FAMILIES
from model_collapse.families.image_nets import ImageNetworks, image_family, training_params


class VAEModel(ImageNetworks):
    """One VAE per seed.

    Parameters
    ----------
    config : the run's config (family: architecture, training, init; the device).
    real : the real data (its image size).
    """

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        from model_collapse.families.vae_torch import ConvVAENet, VAENet

        f = self.config.family
        if f.architecture == "conv":
            shape = self.real.image_shape
            return self.seeded_network(lambda: ConvVAENet(shape, f.hidden, f.latent), weights, rng)
        pixels = self.real.train.shape[2]
        return self.seeded_network(lambda: VAENet(pixels, f.hidden, f.latent), weights, rng)

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        from model_collapse.families.vae_torch import Training, train

        f = self.config.family
        settings = Training(f.epochs, f.batch_size, f.learning_rate, f.likelihood, f.pixel_std)
        return self.fit_each(data, rng, lambda net, images: train(net, images, settings, rng))

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
    image_family(
        VAEModel,
        "variational autoencoder on images in PyTorch (family.architecture "
        "mlp|conv, latent, hidden, likelihood, epochs, init)",
        {
            "architecture": param(
                "mlp",
                "one hidden layer each way (the paper's), or two stride-2 convolutions each way",
                choices=("mlp", "conv"),
            ),
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
            **training_params(30, 256),
        },
    )
)
