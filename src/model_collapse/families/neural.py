"""What the PyTorch language-model families share: one network per seed, fitted with the
shared training loop, decoded by the shared sampler, saved as named arrays.

No torch import at module level: the registry imports the families, the families import
torch only when a model is built.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import Param, param
from model_collapse.core.errors import UserInputError
from model_collapse.core.watermark import Watermark
from model_collapse.families.torch_nets import PerSeedNetworks
from model_collapse.sources.base import RealData


def training(
    learning_rate: float, weight_decay: float, schedule: str, batch_size: int = 32
) -> dict[str, Param]:
    """The family.* keys every torch family trains with, with that family's defaults: a
    model trained from scratch and a pretrained one being fine-tuned need different ones."""
    return {
        "epochs": param(1, "passes over the training set per generation", low=1, high=100_000),
        "batch_size": param(batch_size, "blocks per optimiser step", low=1, high=1_000_000),
        "learning_rate": param(
            learning_rate, "peak AdamW learning rate", low=0.0, high=10.0, open_low=True
        ),
        "weight_decay": param(weight_decay, "AdamW weight decay", low=0.0, high=100.0),
        "schedule": param(
            schedule,
            "cosine: 5% warm-up, then down to a tenth of the peak; linear: from the peak "
            "down to 0, no warm-up (Hugging Face Trainer's); constant",
            choices=("cosine", "linear", "constant"),
        ),
        "init": param(
            "scratch",
            "later generations start from scratch, generation 0's or the previous weights",
            choices=("scratch", "gen0", "previous"),
        ),
    }


class NeuralLanguageModel(PerSeedNetworks):
    """Base of the ``gpt`` and ``hf`` families; subclasses say how to build a network.

    Parameters
    ----------
    config : the run's config (family: training settings and init; sampling: decoding).
    real : the real data: prompts (its training blocks), validation blocks, begin token.
    """

    # torch's fused AdamW: on a CPU its step over 135 M parameters takes 0.07 s instead of
    # 0.5 s. Its last bits differ from the for-loop AdamW, so families whose results were
    # published with the latter (gpt) keep it.
    fused = False

    def __init__(self, config: Config, real: RealData) -> None:
        self.config = config
        self.real = real
        self.start_weights: list[dict[str, np.ndarray]] | None = None

    def start_from(self, first: Self | None, previous: Self | None) -> Self:
        """Choose the weights the next fit starts from, as ``family.init`` says."""
        source = {"gen0": first, "previous": previous}.get(self.config.family.init)
        self.start_weights = None if source is None else source.weights()
        return self

    def fit(self, data: Any, rng: np.random.Generator) -> Self:
        import torch

        from model_collapse.families.lm_torch import TrainSettings, train

        f = self.config.family
        settings = TrainSettings(
            f.epochs, f.batch_size, f.learning_rate, f.weight_decay, f.schedule, self.fused
        )
        assert self.real.validation is not None
        self.nets_ = []
        for seed, blocks in enumerate(data):
            start = None if self.start_weights is None else self.start_weights[seed]
            net = self.new_network(start, rng).to(self.device())
            # Pretrained models draw dropout from torch's global generator: seed it from
            # this stage's stream inside fork_rng, which restores it afterwards.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(rng.integers(2**62)))
                label = f"training seed {seed}"
                self.nets_.append(
                    train(net, blocks, self.real.validation, self.real.bos, settings, rng, label)
                )
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n blocks per seed, each continuing a real training block: (S, n, L)."""
        return self._sample(n, rng, Watermark.of(self.config.sampling))

    def sample_unmarked(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The same without the watermark's bias, whatever sampling.watermark says."""
        return self._sample(n, rng, None)

    def _sample(self, n: int, rng: np.random.Generator, mark: Watermark | None) -> np.ndarray:
        import torch

        from model_collapse.families.lm_torch import Decoding, generate

        s, prompts = self.config.sampling, self.real.train
        vocab = self.real.categories
        decoding = Decoding(
            s.temperature, s.top_k, s.top_p, s.repetition_penalty, s.beams, mark, vocab
        )
        out = []
        for seed, net in enumerate(self.nets_):
            generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
            prompt = prompts[seed, np.arange(n) % prompts.shape[1]]
            label = f"seed {seed}: generating {n} blocks"
            length, bos = prompts.shape[2], self.real.bos
            out.append(generate(net, prompt, length, bos, decoding, generator, label=label))
        return np.stack(out)

    def log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """Natural-log probability of every token of (m, L) blocks, per seed: (S, m, L)."""
        return np.stack([self.seed_log_prob(s, blocks) for s in range(len(self.nets_))])

    def seed_log_prob(self, seed: int, blocks: np.ndarray) -> np.ndarray:
        """The same under one seed's model only: (m, L)."""
        from model_collapse.families.lm_torch import token_log_probs

        label = f"seed {seed}: scoring {len(blocks)} blocks"
        return token_log_probs(self.nets_[seed], blocks, self.real.bos, label=label)

    def next_log_probs(self, seed: int, blocks: np.ndarray) -> Any:
        """log P(every token | begin token and the block before it) at every position of
        (b, T) blocks: a torch tensor (b, T, V) on the model's device."""
        from model_collapse.families.lm_torch import next_log_probs

        return next_log_probs(self.nets_[seed], blocks, self.real.bos)


def as_tensors(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {name: torch.from_numpy(np.array(value)) for name, value in arrays.items()}


def resolve_device(config: Config) -> Config:
    """experiment.device = "auto" made explicit (cuda, mps or cpu), so the saved config
    says where the run computed and a resume on another device is refused as a change."""
    import dataclasses

    if config.experiment.device != "auto":
        return config
    from model_collapse.families.lm_torch import torch_device

    experiment = dataclasses.replace(config.experiment, device=torch_device("auto").type)
    return dataclasses.replace(config, experiment=experiment)


def check_device(config: Config) -> None:
    """Refuse a device torch cannot find, before anything runs."""
    import torch

    device = config.experiment.device
    found = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None
        and torch.backends.mps.is_available(),
    }
    if not found.get(device, True):
        raise UserInputError(
            f"experiment.device = {device!r} but torch finds no such device here; "
            'set experiment.device = "auto" or "cpu"'
        )
