"""``web``: the polluted web, a pool that grows every generation.

The web holds the real training data, the human data added since (``regime.
human_per_generation`` new real rows a generation, which a schedule can make fall), and
what the model published in every earlier generation (``regime.publish`` of each
generation's samples). Each generation trains on a sample of ``sampling.n`` drawn from
the web as it stands, so its synthetic share is a consequence, not a knob: the column
``web_synthetic_share`` records it. A model trained from scratch each generation on this
sample is the model of that year of the web: its metrics against the web's synthetic
share are the first-mover curve (models trained before the pollution do better).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import MANY, param
from model_collapse.core import data
from model_collapse.core.data import REAL, Items
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import stream
from model_collapse.engine.step import Step
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES, Regime
from model_collapse.sources.base import RealData


def human(config: Config) -> int:
    """New human rows the web gains this generation (a schedule's value rounded)."""
    return round(config.regime.human_per_generation)


def published(config: Config) -> int:
    """Of this generation's samples, how many join the web (a schedule's value rounded)."""
    publish = config.regime.publish
    return config.sampling.n if publish is None else min(round(publish), config.sampling.n)


def web_pool(step: Step) -> Items:
    """The web at this generation: real rows, human rows added in generations 1 to t, and
    the published part of every earlier generation's samples."""
    config_of = step.config_of or (lambda t: step.config)
    parts = [Items.of(step.real.train, REAL)]
    used = 0
    for t in range(1, step.generation + 1):
        k = human(config_of(t))
        if k:
            # the rows added in generation t are the same in every later generation's web
            rng = stream(step.config.experiment.seed, "web-human", t)
            parts.append(Items.of(step.real.fresh(t, k, rng, used), REAL))
            used += k
    for t, synthetic in enumerate(step.history):
        parts.append(data.head(synthetic, published(config_of(t))))
    return data.concat(parts)  # type: ignore[no-any-return]


def web_sample(step: Step) -> Any:
    pool = web_pool(step)
    return data.subsample(pool, step.config.sampling.n, step.rng("regime"))


def synthetic_share(step: Step, train: Any) -> np.ndarray | float:
    return 1.0 - np.asarray(data.real_share(train))


def check_web(config: Config, family: Family, real: RealData) -> None:
    if config.family.exact:
        raise UserInputError(
            "regime 'web' draws items from a pool of real and published ones, which "
            "sufficient statistics do not hold; set family.exact = false"
        )
    k = human(config)
    if k and config.experiment.generations > 1:
        # as many rows as the largest share would take every generation: refuses now if a
        # fixed data set runs out then
        last = config.experiment.generations - 1
        real.fresh(last, k, stream(0, "web-human", 0), (last - 1) * k)


REGIMES.register("web")(
    Regime(
        web_sample,
        True,
        lambda config: config.sampling.n,
        "a growing web of real, new human and published items; each set a sample of it",
        diagnostics={"web_synthetic_share": synthetic_share},
        exposure="web_synthetic_share",
        check=check_web,
        params={
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
        },
    )
)
