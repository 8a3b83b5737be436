"""Regimes; importing this package registers the built-in ones."""

from model_collapse.regimes import builtin, defences
from model_collapse.regimes.base import REGIMES, Regime, defended, real_share

__all__ = ["REGIMES", "Regime", "builtin", "defences", "defended", "real_share"]
