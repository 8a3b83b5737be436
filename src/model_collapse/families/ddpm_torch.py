"""The diffusion model's denoiser, its DDPM training and its DDIM sampling, in PyTorch
(imported only when a ddpm model is built).

Ho et al. (2020): images scaled to [-1, 1] are noised over ``timesteps`` steps of a linear
variance schedule (1e-4 to 0.02), and a network learns to undo the noise. It predicts
v = sqrt(a) noise - sqrt(1 - a) image (Salimans & Ho 2022) rather than the noise itself:
the same loss up to a weight per step, but at the noisiest steps a small network's error
in the noise is multiplied by 1/sqrt(a), about 150, in the image it implies, and its
samples came out saturated; an error in v is not amplified. Song et al. (2021): DDIM with
eta = 0 turns the same network into a deterministic map from starting noise to an image
in ``sampling_steps`` steps, so the same noise can be decoded by every generation's model
(the strip figure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

EMBEDDING = 64  # sinusoidal features of the timestep


def schedule(timesteps: int) -> np.ndarray:
    """alpha-bar_t, the share of the image's variance left at step t (float64). Ho et al.'s
    betas (1e-4 to 0.02 over 1000 steps) scaled to ``timesteps``, so that the last step
    is almost pure noise, where DDIM starts, whatever the number of steps."""
    scale = 1000.0 / timesteps
    betas = np.linspace(1e-4 * scale, 0.02 * scale, timesteps, dtype=np.float64)
    return np.cumprod(1.0 - np.minimum(betas, 0.999))


def time_features(t: torch.Tensor) -> torch.Tensor:
    """Sinusoidal features of integer timesteps (n,) -> (n, EMBEDDING), as Transformers
    encode positions."""
    half = EMBEDDING // 2
    frequencies = torch.exp(
        -math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    angles = t.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Denoiser(nn.Module):
    """An MLP from a noised image and its timestep to v, which gives both the noise in it
    and the clean image."""

    def __init__(self, pixels: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(pixels + EMBEDDING, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, pixels),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, time_features(t)], dim=1))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Training:
    epochs: int
    batch_size: int
    learning_rate: float
    timesteps: int


def train(net: Denoiser, images: np.ndarray, t: Training, rng: np.random.Generator) -> Denoiser:
    """Adam on the v-prediction loss; batch order, timesteps and noise come from
    ``rng``, drawn on the CPU, so every device trains on the same numbers."""
    device = next(net.parameters()).device
    data = torch.from_numpy(images.astype(np.float32) * 2.0 - 1.0)
    kept = torch.from_numpy(schedule(t.timesteps).astype(np.float32)).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=t.learning_rate)
    noise_source = torch.Generator().manual_seed(int(rng.integers(2**62)))
    net.train()
    for _ in range(t.epochs):
        order = torch.from_numpy(rng.permutation(len(data)))
        for start in range(0, len(data), t.batch_size):
            batch = data[order[start : start + t.batch_size]].to(device)
            steps = torch.from_numpy(rng.integers(t.timesteps, size=len(batch))).to(device)
            noise = torch.randn(batch.shape, generator=noise_source).to(device)
            share = kept[steps][:, None]
            noised = share.sqrt() * batch + (1.0 - share).sqrt() * noise
            target = share.sqrt() * noise - (1.0 - share).sqrt() * batch
            loss = ((net(noised, steps) - target) ** 2).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
    net.eval()
    return net


def ddim(net: Denoiser, noise: np.ndarray, timesteps: int, steps: int) -> np.ndarray:
    """Images in [0, 1] (n, pixels) float64 from starting noise (n, pixels), by DDIM with
    eta = 0 over ``steps`` evenly spaced timesteps: deterministic given the noise."""
    device = next(net.parameters()).device
    kept = schedule(timesteps)
    # evenly spaced, always from the noisiest step down (one step: from it straight to 0)
    path = np.unique(np.linspace(timesteps - 1, 0, steps).round().astype(np.int64))[::-1]
    with torch.inference_mode():
        x = torch.from_numpy(noise.astype(np.float32)).to(device)
        estimate = x
        for i, step in enumerate(path):
            now = float(kept[step])
            after = float(kept[path[i + 1]]) if i + 1 < len(path) else 1.0
            t = torch.full((len(x),), int(step), dtype=torch.int64, device=device)
            v = net(x, t)
            # the clean image v implies, kept in the data's range, and the noise that goes
            # with it
            estimate = (math.sqrt(now) * x - math.sqrt(1.0 - now) * v).clamp(-1, 1)
            noise = (x - math.sqrt(now) * estimate) / math.sqrt(1.0 - now)
            x = math.sqrt(after) * estimate + math.sqrt(1.0 - after) * noise
        return ((estimate.double().cpu().numpy() + 1.0) / 2.0).clip(0.0, 1.0)
