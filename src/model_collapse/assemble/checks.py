"""Checks of a whole config against its source, family and regime, before anything runs.

What only one plug-in can know (a family's shapes, a regime's share of real data) is that
plug-in's own ``check``; this module asks each in turn and checks what they share.
"""

from __future__ import annotations

from model_collapse.config import Config
from model_collapse.config.sizes import check_memory
from model_collapse.core.errors import UserInputError
from model_collapse.families.base import FAMILIES, Family, check_sizes
from model_collapse.regimes.base import Regime
from model_collapse.sources.base import RealData

DECODING = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "repetition_penalty": 1.0, "beams": 1}


def check_columns(config: Config, regime: Regime, names: list[str]) -> None:
    """A regime's diagnostic must not take a metric's column in metrics.csv."""
    clash = sorted(set(names) & set(regime.columns(config)))
    if clash:
        raise UserInputError(
            f"regime '{config.regime.name}' adds a column '{clash[0]}' that a metric of the "
            f"run writes too; leave the metric out (metrics.names) or rename the diagnostic"
        )


def check_run(config: Config, family: Family, regime: Regime, real: RealData) -> None:
    """Refuse combinations that cannot run, with one line naming the key to change."""
    name = config.family.name
    if config.sampling.bias != 1.0 and not family.bias:
        able = " and ".join(n for n, f in FAMILIES.items() if f.bias)
        raise UserInputError(
            f"sampling.bias applies to the {able} families, not '{name}'; set sampling.bias = 1"
        )
    device = config.experiment.device
    if device not in ("auto", "cpu") and not family.devices:
        able = ", ".join(n for n, f in FAMILIES.items() if f.devices)
        raise UserInputError(
            f"experiment.device = {device!r} applies to the families that run on torch "
            f"({able}), not '{name}'; set experiment.device = \"auto\""
        )
    changed = [k for k, default in DECODING.items() if getattr(config.sampling, k) != default]
    if changed and not family.decoding:
        raise UserInputError(
            f"sampling.{changed[0]} applies to neural language models, not '{name}'; "
            f"set sampling.{changed[0]} = {DECODING[changed[0]]}"
        )
    if config.sampling.watermark != "none" and not family.watermark:
        able = ", ".join(n for n, f in FAMILIES.items() if f.watermark)
        raise UserInputError(
            f"sampling.watermark applies to the families that sample tokens ({able}), not "
            f"'{name}'; set sampling.watermark = \"none\""
        )
    if family.check is not None:
        family.check(config, real)
    check_sizes(config, family, real, {"sampling.n": config.sampling.n})
    if regime.check is not None:
        regime.check(config, family, real)
    categories = real.categories if family.kind != "text" else 0
    n_train, dim = real.train.shape[1:]
    check_memory(config, family, n_train, dim, categories, regime.keeps_history)
