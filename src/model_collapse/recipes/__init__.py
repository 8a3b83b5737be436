"""Recipes: the field's published results, reproduced side by side (``model-collapse
recipes``). Importing this package registers the built-in ones, one file each."""

from __future__ import annotations

from model_collapse.recipes import (
    bertrand_lambda,
    drayson_defence,
    gerstgrasser_linear,
    kazdan,
    mad_bias,
    seddik_categorical,
    shumailov_gaussian,
    shumailov_gmm,
    shumailov_lm,
    shumailov_vae,
    wright_fisher,
)
from model_collapse.recipes.base import RECIPES, Recipe, Row, Scale

__all__ = [
    "RECIPES",
    "Recipe",
    "Row",
    "Scale",
    "bertrand_lambda",
    "drayson_defence",
    "gerstgrasser_linear",
    "kazdan",
    "mad_bias",
    "seddik_categorical",
    "shumailov_gaussian",
    "shumailov_gmm",
    "shumailov_lm",
    "shumailov_vae",
    "wright_fisher",
]
