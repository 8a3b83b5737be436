"""Checks of a whole config against its source, family and regime, before anything runs."""

from __future__ import annotations

from model_collapse.config import Config
from model_collapse.errors import UserInputError
from model_collapse.families.base import Family
from model_collapse.regimes.base import Regime, real_share
from model_collapse.rng import stream
from model_collapse.sizes import check_memory
from model_collapse.sources.base import RealData


def check_run(config: Config, family: Family, regime: Regime, real: RealData) -> None:
    """Refuse combinations that cannot run, with one line naming the key to change."""
    f, name = config.family, config.family.name
    if f.exact and not family.exact:
        raise UserInputError(
            f"family '{name}' has no exact sufficient-statistics path; set family.exact = false"
        )
    if f.exact and config.regime.name == "accumulate-subsample" and name == "gaussian":
        raise UserInputError(
            "regime 'accumulate-subsample' has no exact path for the gaussian family; "
            "set family.exact = false"
        )
    if config.sampling.bias != 1.0 and not family.bias:
        raise UserInputError(
            f"sampling.bias applies to the gaussian and gmm families, not '{name}'; "
            "set sampling.bias = 1"
        )
    decoding = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "repetition_penalty": 1.0, "beams": 1}
    changed = [k for k, default in decoding.items() if getattr(config.sampling, k) != default]
    if changed and not family.decoding:
        raise UserInputError(
            f"sampling.{changed[0]} applies to neural language models, not '{name}'; "
            f"set sampling.{changed[0]} = {decoding[changed[0]]}"
        )
    if family.check is not None:
        family.check(config, real)
    _check_sizes(config, family, real)
    categories = real.categories if real.kind == "categorical" else 0
    check_memory(config, real.train.shape[1], real.train.shape[2], categories, regime.keeps_history)
    k = real_share(config)
    if config.regime.name == "mix" and k > real.train.shape[1]:
        raise UserInputError(
            f"regime 'mix' takes {k} real samples a generation but source.n_train is "
            f"{real.train.shape[1]}; lower regime.real_fraction or raise source.n_train"
        )
    if config.regime.name == "fresh" and k > 0 and config.experiment.generations > 1:
        # Asks for the last generation's fresh rows: refuses now if the data run out then.
        real.fresh(config.experiment.generations - 1, k, stream(0, "regime", 0))


def _check_sizes(config: Config, family: Family, real: RealData) -> None:
    dim = real.train.shape[2]
    need = family.min_samples(config, dim)
    sizes = {"sampling.n": config.sampling.n, "source.n_train": real.train.shape[1]}
    if config.regime.name == "accumulate-subsample":
        sizes["regime.size"] = config.regime.size or config.sampling.n
    for key, value in sizes.items():
        if value < need:
            raise UserInputError(
                f"family '{config.family.name}' needs at least {need} samples per training set "
                f"in {dim} dimension{'s' if dim > 1 else ''}, got {key} = {value}; raise {key}"
            )
