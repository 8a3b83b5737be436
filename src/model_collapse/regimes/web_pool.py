"""The web as a pool: the real data, the human data added each generation and what
each generation published; each training set a sample of it. The ``web`` regime
(:mod:`.web`) trains on that sample; a pool regime or a defence given ``regime.real_from
= "web"`` (:mod:`.pools`) sorts it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import MANY, param
from model_collapse.core import data
from model_collapse.core.data import REAL, Items
from model_collapse.core.rng import stream
from model_collapse.engine.lineages import ROLES
from model_collapse.engine.step import Step
from model_collapse.sources.base import RealData


def human(config: Config) -> int:
    """New human rows the web gains this generation (a schedule's value rounded)."""
    return round(config.regime.human_per_generation)


def published(config: Config, drawn: int) -> int:
    """Of the ``drawn`` samples a writing lineage drew the year before, how many join the
    web this year (a schedule's value rounded; all of them by default)."""
    publish = config.regime.publish
    return drawn if publish is None else min(round(publish), drawn)


def web_pool(step: Step) -> Items:
    """The web at generation t: the real rows, and for each year u from 1 to t what it
    gained then: ``human_per_generation`` new human rows and ``publish`` of generation u -
    1's samples, each key at its value of year u (generation 0 trains on the real data,
    so their value at generation 0 is not used)."""
    config_of = step.config_of or (lambda t: step.config)
    parts = [Items.of(step.real.train, REAL)]
    used = 0
    for year in range(1, step.generation + 1):
        now = config_of(year)
        k = human(now)
        if k:
            # the rows added in a year are the same in every later year's web
            rng = stream(step.config.experiment.seed, "web-human", year)
            parts.append(Items.of(step.real.fresh(year, k, rng, used), REAL))
            used += k
        # each lineage that writes publishes that many of its own samples
        written = step.history[year - 1]  # what the writing lineages drew that year
        parts.append(written.head_of_each_lineage(published(now, written.count)))
    return data.concat(parts)  # type: ignore[no-any-return]


def web_sample(step: Step) -> Any:
    pool = web_pool(step)
    return data.subsample(pool, step.config.sampling.n, step.rng("regime"))


def synthetic_share(step: Step, train: Any) -> np.ndarray | float:
    return 1.0 - np.asarray(data.real_share(train))


WEB_KEYS: dict[str, Any] = {
    "human_per_generation": param(
        0,
        "new human rows the web gains each generation",
        low=0,
        high=MANY,
        schedulable=True,
    ),
    "publish": param(
        None,
        "of each generation's samples, how many it publishes (default: all of them)",
        int | None,
        low=0,
        high=MANY,
        schedulable=True,
    ),
}
# the web regime's own: who writes into it and who learns from it (engine.lineages)
LINEAGE_KEYS: dict[str, Any] = {
    "role": param(
        "both",
        "what the run's own family does on the web: learns from it and writes into it (both), "
        "only writes (teacher: fitted once on the real data) or only learns (student)",
        choices=ROLES,
    ),
    "lineages": param(
        {},
        "other model lineages on the same web, each {role = ..., family = {name = ..., ...}, "
        "sampling = {...}}",
        dict,
    ),
}


def check_human_rows(config: Config, real: RealData) -> None:
    """As many new human rows as the largest share would take every generation: refuses
    now if a fixed data set runs out then."""
    k = human(config)
    if k and config.experiment.generations > 1:
        last = config.experiment.generations - 1
        real.fresh(last, k, stream(0, "web-human", 0), (last - 1) * k)
