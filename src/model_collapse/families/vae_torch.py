"""The VAE's network and its training, in PyTorch (imported only when a VAE is built)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


class VAENet(nn.Module):
    """An MLP encoder to a diagonal Gaussian over the latent code, and an MLP decoder to
    per-pixel logits (Kingma & Welling 2014, the shape of the seed paper's MNIST VAE)."""

    def __init__(self, pixels: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU())
        self.mean = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, pixels)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mean(h), self.log_var(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means in (0, 1) for latent codes (n, latent)."""
        return torch.sigmoid(self.decoder(z))


class ConvDecoder(nn.Module):
    """A code to per-pixel logits through two transposed convolutions that double the
    height and width, cropped to the image's size (flat, like the MLP decoder's)."""

    def __init__(self, shape: tuple[int, int, int], hidden: int, latent: int) -> None:
        super().__init__()
        self.shape = shape
        self.start = (-(-shape[1] // 4), -(-shape[2] // 4))  # a quarter, rounded up
        self.linear = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 64 * self.start[0] * self.start[1]),
            nn.ReLU(),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, shape[0], 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.linear(z).view(len(z), 64, *self.start)
        height, width = self.shape[1], self.shape[2]
        return self.up(h)[:, :, :height, :width].reshape(len(z), -1)  # type: ignore[no-any-return]


class ConvVAENet(VAENet):
    """The small convolutional variant: two stride-2 convolutions (32 and 64 channels) to
    the hidden layer and the code, and ``ConvDecoder`` back; same interface as the MLP."""

    def __init__(self, shape: tuple[int, ...], hidden: int, latent: int) -> None:
        height, width = shape[0], shape[1]
        channels = shape[2] if len(shape) == 3 else 1
        pixels = height * width * channels
        super().__init__(pixels, hidden, latent)
        self.layout = (height, width, channels)
        down = -(-height // 4) * -(-width // 4)  # positions left after two stride-2 steps
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * down, hidden),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            ConvDecoder((channels, height, width), hidden, latent),
            Channels((height, width, channels)),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width, channels = self.layout
        # flat pixels are (height, width, channels) in order; convolutions want channels first
        images = x.view(len(x), height, width, channels).permute(0, 3, 1, 2)
        h = self.encoder(images)
        return self.mean(h), self.log_var(h)


class Channels(nn.Module):
    """Channels-first flat logits back to the flat (height, width, channels) pixel order."""

    def __init__(self, layout: tuple[int, int, int]) -> None:
        super().__init__()
        self.layout = layout

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        height, width, channels = self.layout
        images = logits.view(len(logits), channels, height, width).permute(0, 2, 3, 1)
        return images.reshape(len(logits), -1)


@dataclass(frozen=True)
class Training:
    epochs: int
    batch_size: int
    learning_rate: float
    likelihood: str  # "bernoulli" or "gaussian"
    pixel_std: float  # the Gaussian decoder's fixed standard deviation


def negative_elbo(net: VAENet, x: torch.Tensor, noise: torch.Tensor, t: Training) -> torch.Tensor:
    """The negative evidence lower bound, summed over pixels, averaged over images."""
    mean, log_var = net.encode(x)
    z = mean + noise * torch.exp(0.5 * log_var)
    logits = net.decoder(z)
    if t.likelihood == "bernoulli":
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    else:
        reconstruction = ((torch.sigmoid(logits) - x) ** 2).sum() / (2 * t.pixel_std**2)
    kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum()
    return (reconstruction + kl) / len(x)


def train(net: VAENet, images: np.ndarray, t: Training, rng: np.random.Generator) -> VAENet:
    """Adam over shuffled mini-batches; the order and the noise come from ``rng``, drawn on
    the CPU, so every device trains on the same numbers."""
    device = next(net.parameters()).device
    data = torch.from_numpy(images.astype(np.float32))
    optimiser = torch.optim.Adam(net.parameters(), lr=t.learning_rate)
    noise_source = torch.Generator().manual_seed(int(rng.integers(2**62)))
    latent = net.mean.out_features
    net.train()
    for _ in range(t.epochs):
        order = torch.from_numpy(rng.permutation(len(data)))
        for start in range(0, len(data), t.batch_size):
            batch = data[order[start : start + t.batch_size]]
            noise = torch.randn(len(batch), latent, generator=noise_source)
            loss = negative_elbo(net, batch.to(device), noise.to(device), t)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
    net.eval()
    return net


def decode(net: VAENet, codes: np.ndarray) -> np.ndarray:
    """Pixel means of latent codes (n, latent): (n, pixels) float64."""
    device = next(net.parameters()).device
    with torch.inference_mode():
        z = torch.from_numpy(codes.astype(np.float32)).to(device)
        return net.decode(z).double().cpu().numpy()
