"""``web``: the polluted web, a pool that grows every generation.

The web holds the real training data, the human data added since (``regime.
human_per_generation`` new real rows a generation, which a schedule can make fall), and
what the model published in every earlier generation (``regime.publish`` of each
generation's samples). Each generation trains on a sample of ``sampling.n`` drawn from
the web as it stands, so its synthetic share is a consequence, not a knob: the column
``web_synthetic_share`` records it. A model trained from scratch each generation on this
sample is the model of that year of the web: its metrics against the web's synthetic
share are the first-mover curve (models trained before the pollution do better).

Several model lineages can share one web (``regime.lineages``, :mod:`model_collapse.
engine.lineages`): a teacher that only writes, a student that only learns, or both; the
web then holds what every writing lineage published, and each lineage draws its own
sample of it. ``regime.role`` is the run's own family's role.
"""

from __future__ import annotations

from model_collapse.config import Config
from model_collapse.core.errors import UserInputError
from model_collapse.families.base import Family
from model_collapse.regimes.base import REGIMES, Regime
from model_collapse.regimes.web_pool import (
    LINEAGE_KEYS,
    WEB_KEYS,
    check_human_rows,
    synthetic_share,
    web_sample,
)
from model_collapse.sources.base import RealData


def check_web(config: Config, family: Family, real: RealData) -> None:
    if config.family.exact:
        raise UserInputError(
            "regime 'web' draws items from a pool of real and published ones, which "
            "sufficient statistics do not hold; set family.exact = false"
        )
    check_human_rows(config, real)


REGIMES.register("web")(
    Regime(
        web_sample,
        True,
        lambda config: config.sampling.n,
        "a growing web of real, new human and published items; each set a sample of it",
        diagnostics={"web_synthetic_share": synthetic_share},
        exposure="web_synthetic_share",
        check=check_web,
        params={**WEB_KEYS, **LINEAGE_KEYS},
    )
)
