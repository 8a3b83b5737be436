"""Detectors: scores of how likely an item is machine-generated (``model-collapse list``)."""

from model_collapse.detectors import classifier, text
from model_collapse.detectors.base import DETECTORS, Detector

__all__ = ["DETECTORS", "Detector", "classifier", "text"]
