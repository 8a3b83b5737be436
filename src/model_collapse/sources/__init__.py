"""Sources of real data; importing this package registers the built-in ones."""

from model_collapse.sources import files, images, text, truths
from model_collapse.sources.base import SOURCES, RealData, Truth, load_real_data

__all__ = ["SOURCES", "RealData", "Truth", "files", "images", "load_real_data", "text", "truths"]
