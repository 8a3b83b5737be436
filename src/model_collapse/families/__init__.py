"""Generative model families; importing this package registers the built-in ones."""

from model_collapse.families import categorical, gaussian, gmm, gpt, hf, kde, linear, ngram
from model_collapse.families.base import (
    FAMILIES,
    Degenerates,
    Family,
    HasMoments,
    Model,
    SamplesStatistics,
    WarmStarts,
)

__all__ = [
    "FAMILIES",
    "Degenerates",
    "Family",
    "HasMoments",
    "Model",
    "SamplesStatistics",
    "WarmStarts",
    "categorical",
    "gaussian",
    "gmm",
    "gpt",
    "hf",
    "kde",
    "linear",
    "ngram",
]
