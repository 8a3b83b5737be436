"""Generative model families; importing this package registers the built-in ones."""

from model_collapse.engine.capabilities import (
    Degenerates,
    HasMoments,
    SamplesStatistics,
    ScoresTokens,
    WarmStarts,
    WeightedFit,
)
from model_collapse.families import (
    categorical,
    ddpm,
    empirical,
    gaussian,
    gmm,
    gpt,
    hf,
    kde,
    linear,
    ngram,
    pca_gmm,
    vae,
)
from model_collapse.families.base import FAMILIES, Family, Model

__all__ = [
    "FAMILIES",
    "Degenerates",
    "Family",
    "HasMoments",
    "Model",
    "SamplesStatistics",
    "ScoresTokens",
    "WarmStarts",
    "WeightedFit",
    "categorical",
    "ddpm",
    "empirical",
    "gaussian",
    "gmm",
    "gpt",
    "hf",
    "kde",
    "linear",
    "ngram",
    "pca_gmm",
    "vae",
]
