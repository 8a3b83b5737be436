"""``ddpm``: a small diffusion model on images, one per seed, in PyTorch.

The self-consuming loops of Alemohammad et al. (2023) and Bertrand et al. (2024) train
diffusion models on their own samples. This one is sized for 8x8 digits on a CPU: an MLP
denoiser (three hidden layers of ``family.hidden`` units, sinusoidal timestep features),
trained by DDPM's loss (predicting v) over ``family.timesteps`` steps, sampled by DDIM
(eta = 0) in ``family.sampling_steps`` steps. DDIM is deterministic given its starting
noise, so the strip figure decodes the same noise with every generation's model. No torch
import at module level: torch loads when a model is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config.params import param
from model_collapse.families.base import FAMILIES
from model_collapse.families.image_nets import ImageNetworks, image_family, training_params


class DiffusionModel(ImageNetworks):
    """One denoiser per seed.

    Parameters
    ----------
    config : the run's config (family: width, schedule, training, init; the device).
    real : the real data (its image size).
    """

    def new_network(self, weights: dict[str, np.ndarray] | None, rng: np.random.Generator) -> Any:
        from model_collapse.families.ddpm_torch import Denoiser

        pixels, hidden = self.real.train.shape[2], self.config.family.hidden
        return self.seeded_network(lambda: Denoiser(pixels, hidden), weights, rng)

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        from model_collapse.families.ddpm_torch import Training, train

        f = self.config.family
        settings = Training(f.epochs, f.batch_size, f.learning_rate, f.timesteps)
        return self.fit_each(data, rng, lambda net, images: train(net, images, settings, rng))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n images per seed from fresh noise: (S, n, pixels) in [0, 1]."""
        return self.decode_codes(rng.standard_normal((n, self.latent_size)))

    @property
    def latent_size(self) -> int:
        """DDIM's starting noise has one value per pixel."""
        return int(self.real.train.shape[2])

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        """The same starting noise (n, pixels) denoised by every seed's model."""
        from model_collapse.families.ddpm_torch import ddim

        f = self.config.family
        return np.stack([ddim(net, codes, f.timesteps, f.sampling_steps) for net in self.nets_])


FAMILIES.register("ddpm")(
    image_family(
        DiffusionModel,
        "small diffusion model on images in PyTorch: DDPM training, DDIM "
        "sampling (family.hidden, timesteps, sampling_steps, epochs, init)",
        {
            "hidden": param(
                256, "width of the denoiser's three hidden layers", low=1, high=100_000
            ),
            "timesteps": param(1000, "noising steps of the DDPM schedule", low=2, high=100_000),
            "sampling_steps": param(
                50, "DDIM steps per sample (capped at family.timesteps)", low=1, high=100_000
            ),
            **training_params(400, 128),
        },
    )
)
