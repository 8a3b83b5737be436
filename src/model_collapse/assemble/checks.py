"""Checks of a whole config against its source, family and regime, before anything runs.

What only one plug-in can know (a family's shapes, a regime's share of real data) is that
plug-in's own ``check``; this module asks each in turn and checks what they share.
"""

from __future__ import annotations

from model_collapse.config import Config
from model_collapse.config.schedules import config_at, scheduled_keys, value_at
from model_collapse.config.sizes import Need, Shape, check_memory
from model_collapse.core.errors import UserInputError
from model_collapse.families.base import Family, check_sizes
from model_collapse.metrics import METRICS
from model_collapse.regimes.base import Regime
from model_collapse.sources.base import SOURCES, Kind, RealData


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
    if family.check is not None:
        family.check(config, real)
    check_sizes(config, family, real, {"sampling.n": config.sampling.n})
    if regime.check is not None:
        regime.check(config, family, real)
    categories = real.categories if family.kind != "text" else 0
    n_train, dim = real.train.shape[1:]
    shape = Shape(dim, categories, declared_shape(config, family.kind).n_test)
    extra = metric_needs(config, shape)
    check_memory(config, family, n_train, shape, regime.keeps(config), extra)


def declared_shape(config: Config, kind: Kind) -> Shape:
    """The real data's shape as the source declares it from the config (a bound where
    only its data tell)."""
    source = SOURCES.get(config.source.name)
    return source.shape(config.source, kind) if source.shape is not None else Shape.unknown(kind)


def metric_needs(config: Config, shape: Shape) -> list[Need]:
    """The memory the metrics a run may compute declare (all of them, where it names none:
    which apply is known only once the data are read)."""
    names = config.metrics.names or [name for name, _ in METRICS.items()]
    declared = [METRICS.get(name).memory for name in names]
    return [need for memory in declared if memory and (need := memory(config, shape))]


def check_memory_before_data(config: Config, family: Family, history: bool) -> None:
    """The memory check from the config alone, before the real data are drawn or read."""
    shape = declared_shape(config, family.kind)
    n_train = config.sampling.n if config.source.n_train is None else config.source.n_train
    check_memory(config, family, n_train, shape, history, metric_needs(config, shape))


def generation_configs(config: Config) -> list[Config]:
    """Each distinct generation's config: the config itself where nothing is scheduled."""
    if not scheduled_keys(config):
        return [config]
    distinct: dict[str, Config] = {}
    for g in range(config.experiment.generations):
        now = config_at(config, g)
        values = repr(sorted((k, value_at(now, k)) for k in scheduled_keys(config)))
        distinct.setdefault(values, now)
    return list(distinct.values())
