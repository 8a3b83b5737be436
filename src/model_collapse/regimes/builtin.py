"""The built-in regimes: replace, accumulate, accumulate-subsample, mix and fresh (the pool
regimes, pool and oracle, are in :mod:`model_collapse.regimes.pools`, and each defence in
a file of its own)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import MANY, param
from model_collapse.core import data
from model_collapse.core.data import REAL, Items
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import random_subsets, stream
from model_collapse.engine.capabilities import SubsamplesStatistics, can
from model_collapse.engine.step import Step
from model_collapse.families.base import Family, check_sizes
from model_collapse.regimes.base import REGIMES, Diagnostic, Regime, real_share
from model_collapse.sources.base import RealData


def _replace(step: Step) -> Any:
    return step.history[-1]


def _accumulate(step: Step) -> Any:
    return data.concat([Items.of(step.real.train, REAL), *step.history])


def _accumulate_subsample(step: Step) -> Any:
    pool = _accumulate(step)
    k = min(round(step.config.regime.size or 0), data.size(pool))  # a schedule's: whole
    if isinstance(pool, Items):
        return data.subsample(pool, k, step.rng("regime"))
    model = cast(SubsamplesStatistics, step.previous_model)  # the exact path: statistics
    return model.subsample_stats(pool, k, step.rng("regime"))


def kept_real(step: Step) -> Items:
    """regime.real_fraction x n real items: a fresh random subset of the real training set."""
    k = real_share(step.config)
    seeds, n_train = step.real.train.shape[:2]
    rows = random_subsets(step.rng("regime"), seeds, n_train, k)
    return Items.of(step.real.train, REAL).take(rows)


def mix_set(step: Step) -> Any:
    k = real_share(step.config)
    return data.concat([kept_real(step), data.head(step.history[-1], step.config.sampling.n - k)])


def fresh_set(step: Step) -> Any:
    k = real_share(step.config)
    # the rows earlier generations took, where a schedule changed their share
    config_of = step.config_of
    used = (
        None
        if config_of is None
        else sum(real_share(config_of(t)) for t in range(1, step.generation))
    )
    fresh = Items.of(step.real.fresh(step.generation, k, step.rng("regime"), used), REAL)
    return data.concat([fresh, data.head(step.history[-1], step.config.sampling.n - k)])


def _all(config: Config) -> int:
    return config.sampling.n


def rest(config: Config) -> int:
    return config.sampling.n - real_share(config)


def _check_subsample(config: Config, family: Family, real: RealData) -> None:
    if config.family.exact and not can(family.make(config, real), SubsamplesStatistics):
        raise UserInputError(
            f"regime 'accumulate-subsample' has no exact path for the {config.family.name} "
            "family; set family.exact = false"
        )
    size = round(config.regime.size or config.sampling.n)  # a schedule's value: whole
    check_sizes(config, family, real, {"regime.size": size})


def check_mix(config: Config, family: Family, real: RealData) -> None:
    k = real_share(config)
    if k > real.train.shape[1]:
        raise UserInputError(
            f"regime '{config.regime.name}' takes {k} real samples a generation but "
            f"source.n_train is {real.train.shape[1]}; lower regime.real_fraction or raise "
            "source.n_train"
        )


def check_fresh(config: Config, family: Family, real: RealData) -> None:
    k = real_share(config)
    if k > 0 and config.experiment.generations > 1:
        # Asks for the last generation's fresh rows: refuses now if the data run out then.
        real.fresh(config.experiment.generations - 1, k, stream(0, "regime", 0))


def check_oracle_size(config: Config, family: Family, real: RealData) -> None:
    check_mix(config, family, real)
    need = family.min_samples(config, real.train.shape[2])
    if real_share(config) < need:
        raise UserInputError(
            f"regime 'oracle' trains on the real share of each pool only: "
            f"regime.real_fraction x sampling.n = {real_share(config)} items, but family "
            f"'{config.family.name}' needs at least {need}; raise regime.real_fraction"
        )


def _real_share(step: Step, train: Any) -> np.ndarray | float:
    return data.real_share(train)


REAL_SHARE: dict[str, Diagnostic] = {"real_share": _real_share}
REAL_FRACTION = {
    "real_fraction": param(
        0.1, "real share of each training set", low=0.0, high=1.0, schedulable=True
    )
}

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
        check=_check_subsample,
        params={
            "size": param(
                None,
                "training set size (default sampling.n)",
                int | None,
                low=0,
                high=MANY,
                default_from="sampling.n",
                schedulable=True,  # as sampling.n, which it follows by default
            )
        },
    )
)
REGIMES.register("mix")(
    Regime(
        mix_set,
        False,
        rest,
        "regime.real_fraction of each set drawn from the real training data, the rest synthetic",
        params=REAL_FRACTION,
        check=check_mix,
    )
)
REGIMES.register("fresh")(
    Regime(
        fresh_set,
        False,
        rest,
        "regime.real_fraction of each set from real data never used before, the rest synthetic",
        params=REAL_FRACTION,
        check=check_fresh,
    )
)
