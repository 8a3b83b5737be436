"""The built-in regimes: replace, accumulate, accumulate-subsample, mix and fresh."""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse import data
from model_collapse.config import Config
from model_collapse.regimes.base import REGIMES, Regime, real_share
from model_collapse.rng import random_subsets
from model_collapse.sources.base import RealData


def _replace(
    config: Config, generation: int, real: RealData, history: list[Any], rng: np.random.Generator
) -> Any:
    return history[-1]


def _accumulate(
    config: Config, generation: int, real: RealData, history: list[Any], rng: np.random.Generator
) -> Any:
    return data.concat([real.train, *history])


def _accumulate_subsample(
    config: Config, generation: int, real: RealData, history: list[Any], rng: np.random.Generator
) -> Any:
    pool = _accumulate(config, generation, real, history, rng)
    return data.subsample(pool, min(config.regime.size or 0, data.size(pool)), rng)


def _mix(
    config: Config, generation: int, real: RealData, history: list[Any], rng: np.random.Generator
) -> Any:
    k = real_share(config)
    seeds, n_train = real.train.shape[:2]
    rows = random_subsets(rng, seeds, n_train, k)
    kept_real = np.take_along_axis(real.train, rows[..., None], axis=1)
    return data.concat([kept_real, _head(history[-1], config.sampling.n - k)])


def _fresh(
    config: Config, generation: int, real: RealData, history: list[Any], rng: np.random.Generator
) -> Any:
    k = real_share(config)
    return data.concat([real.fresh(generation, k, rng), _head(history[-1], config.sampling.n - k)])


def _head(synthetic: Any, k: int) -> Any:
    """The first k synthetic samples (iid, so a uniform subset); statistics come sized."""
    return synthetic[:, :k] if isinstance(synthetic, np.ndarray) else synthetic


def _all(config: Config) -> int:
    return config.sampling.n


def _rest(config: Config) -> int:
    return config.sampling.n - real_share(config)


REGIMES.register("replace")(
    Regime(_replace, False, _all, "train on the previous generation's samples only")
)
REGIMES.register("accumulate")(
    Regime(_accumulate, True, _all, "all real data plus every synthetic set so far")
)
REGIMES.register("accumulate-subsample")(
    Regime(
        _accumulate_subsample,
        True,
        _all,
        "accumulate, then a random subset of regime.size (default sampling.n)",
    )
)
REGIMES.register("mix")(
    Regime(
        _mix,
        False,
        _rest,
        "regime.real_fraction of each set drawn from the real training data, the rest synthetic",
    )
)
REGIMES.register("fresh")(
    Regime(
        _fresh,
        False,
        _rest,
        "regime.real_fraction of each set from real data never used before, the rest synthetic",
    )
)
