"""Generative model families; importing this package registers the built-in ones."""

from model_collapse.families import categorical, gaussian, gmm, kde, linear, ngram
from model_collapse.families.base import FAMILIES, Family, HasMoments, Model, SamplesStatistics

__all__ = [
    "FAMILIES",
    "Family",
    "HasMoments",
    "Model",
    "SamplesStatistics",
    "categorical",
    "gaussian",
    "gmm",
    "kde",
    "linear",
    "ngram",
]
