"""Regimes; importing this package registers the built-in ones: the plain regimes
(:mod:`.builtin`), pool and oracle (:mod:`.pools`), and one file per defence."""

# the order they register in is the order `model-collapse list` shows
# isort: off
from model_collapse.regimes import builtin, pools, filtering, weight, verify, watermark_filter, web

# isort: on
from model_collapse.regimes.base import REGIMES, Regime, defended, real_share

__all__ = [
    "REGIMES",
    "Regime",
    "builtin",
    "defended",
    "filtering",
    "pools",
    "real_share",
    "verify",
    "watermark_filter",
    "web",
    "weight",
]
