"""Recipes: the field's published results, reproduced side by side (``model-collapse
recipes``). Importing this package registers the built-in ones, one file each."""

from __future__ import annotations

from model_collapse.recipes import (
    bertrand_lambda,
    gerstgrasser_linear,
    kazdan,
    seddik_categorical,
    shumailov_gaussian,
    shumailov_gmm,
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
    "gerstgrasser_linear",
    "kazdan",
    "seddik_categorical",
    "shumailov_gaussian",
    "shumailov_gmm",
    "shumailov_vae",
    "wright_fisher",
]
