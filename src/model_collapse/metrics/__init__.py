"""Metrics; importing this package registers the built-in ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from model_collapse.config import Config
from model_collapse.core.errors import UserInputError
from model_collapse.metrics import (
    classes,
    continuous,
    discrete,
    images,
    manifold,
    pretrained,
    radioactivity,
    regression,
    tails,
    text,
    two_sample,
)
from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.sources.base import RealData, true_probabilities

__all__ = [
    "METRICS",
    "Metric",
    "Reference",
    "choose_metrics",
    "classes",
    "continuous",
    "discrete",
    "images",
    "make_reference",
    "manifold",
    "pretrained",
    "radioactivity",
    "regression",
    "tails",
    "text",
    "two_sample",
]


def make_reference(config: Config, real: RealData) -> Reference:
    """True moments or probabilities where the source knows them, else the test data's."""
    ref = Reference(real, config)
    truth, test = real.truth, real.test
    if real.kind == "categorical":
        probs = true_probabilities(truth)
        if probs is None:
            counts = np.bincount(test[:, 0], minlength=real.categories)
            probs = counts / counts.sum()
        ref.probs = np.asarray(probs)
    elif real.kind == "continuous":
        ref.mean = truth.mean if truth is not None and truth.mean is not None else test.mean(0)
        ref.cov = (
            truth.cov
            if truth is not None and truth.cov is not None
            else np.atleast_2d(np.cov(test, rowvar=False, bias=True))
        )
    return ref


def choose_metrics(
    config: Config, reference: Reference, model: Any, exact: bool
) -> tuple[list[str], list[str]]:
    """The metrics of this run (those asked for, or every one that applies) and notes on
    those left out because the data are too small for them."""
    kind = reference.real.kind
    usable, notes = [], []
    for name, metric in METRICS.items():
        if kind not in metric.kinds or not metric.applies(reference, model, exact):
            continue
        why = metric.too_small(reference) if metric.too_small is not None else ""
        if why and config.metrics.names and name in config.metrics.names:
            raise UserInputError(f"metric '{name}' does not apply to this run: {why}")
        if why:
            notes.append(f"{name} is left out: {why}")
        else:
            usable.append(name)
    if not config.metrics.names:
        return usable, notes
    for name in config.metrics.names:
        metric = METRICS.get(name)
        if name not in usable:
            why = (
                f"it is for {' or '.join(metric.kinds)} data"
                if kind not in metric.kinds
                else f"it needs {metric.needs}"
            )
            raise UserInputError(f"metric '{name}' does not apply to this run: {why}")
    return list(config.metrics.names), []
