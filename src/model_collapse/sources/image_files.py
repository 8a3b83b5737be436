"""Reading the user's images, with every way they can be wrong refused in one line.

Arrays: a .npy of shape (count, height, width) or (count, height, width, channels), or an
.npz whose 'images' array is that (and whose 'labels' array, if any, gives the classes).
A folder: its .png files, or class folders of .png files (the folder names, in sorted
order, become classes 0, 1, ...). Pixels in [0, 1] are kept, pixels in [0, 255] divided
by 255; anything else is refused rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model_collapse.errors import UserInputError

CHANNELS = (1, 3)


def read_images(path: Path, labels_path: Path | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(count, height, width[, 3]) floats in [0, 1], and one class per image or None."""
    if path.is_dir():
        images, labels = _read_folder(path)
    elif path.suffix.lower() in (".npy", ".npz"):
        images, labels = _read_arrays(path)
    elif not path.exists():
        raise UserInputError(f"image data not found: {path}")
    else:
        raise UserInputError(
            f"{path}: unknown image file type '{path.suffix}'; use .npy, .npz or a folder "
            "of .png files"
        )
    images = _checked(images, str(path))
    if labels_path is not None:
        labels = _read_labels(labels_path)
    if labels is not None:
        labels = _checked_labels(labels, len(images), labels_path or path)
    return images, labels


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False), None
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.keys())
            if "images" not in names and len(names) != 1:
                raise UserInputError(
                    f"{path} holds arrays {', '.join(names)}; name the images 'images' (and "
                    "the classes 'labels')"
                )
            images = archive["images" if "images" in names else names[0]]
            labels = archive["labels"] if "labels" in names else None
            return images, labels
    except FileNotFoundError:
        raise UserInputError(f"image data not found: {path}") from None
    except (ValueError, OSError) as err:
        raise UserInputError(f"cannot read {path}: {str(err).splitlines()[0]}") from None


def _read_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None]:
    import matplotlib.image

    classes = sorted(d for d in folder.iterdir() if d.is_dir() and any(d.glob("*.png")))
    files = sorted(folder.glob("*.png"))
    if classes and files:
        raise UserInputError(
            f"{folder} holds both .png files and class folders of them; keep one layout"
        )
    groups = [(c, sorted(c.glob("*.png"))) for c in classes] if classes else [(folder, files)]
    pictures, labels = [], []
    for label, (_, members) in enumerate(groups):
        for file in members:
            try:
                pictures.append((file, np.asarray(matplotlib.image.imread(file))))
            except (OSError, ValueError, SyntaxError) as err:
                raise UserInputError(f"cannot read {file}: {err}") from None
            labels.append(label)
    if not pictures:
        raise UserInputError(f"{folder} holds no .png images (nor class folders of them)")
    first_file, first = pictures[0]
    for file, picture in pictures:
        if picture.shape != first.shape:
            raise UserInputError(
                f"images of mixed shapes: {first_file.name} is {_size(first)} but {file.name} "
                f"is {_size(picture)}; resize them to one shape"
            )
    images = np.stack([p for _, p in pictures])
    if images.ndim == 4 and images.shape[-1] == 4:  # PNG's alpha channel: not a pixel value
        images = images[..., :3]
    if images.ndim == 4 and (images == images[..., :1]).all():  # grey written as colour
        images = images[..., 0]
    return images, np.array(labels) if classes else None


def _size(picture: np.ndarray) -> str:
    return "x".join(str(d) for d in picture.shape)


def _checked(images: np.ndarray, where: str) -> np.ndarray:
    """Images as floats in [0, 1], or a one-line refusal naming what is wrong."""
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in CHANNELS):
        raise UserInputError(
            f"{where} holds an array of shape {tuple(images.shape)}, which is not images: "
            "give (count, height, width) or (count, height, width, 1 or 3 channels)"
        )
    if len(images) < 2 or min(images.shape[1:3]) < 2:
        raise UserInputError(
            f"{where} holds {len(images)} images of {images.shape[1]}x{images.shape[2]} "
            "pixels; give at least 2 images of at least 2x2"
        )
    kind = images.dtype
    if not np.issubdtype(kind, np.number) or np.issubdtype(kind, np.complexfloating):
        raise UserInputError(f"{where}: pixels of type {images.dtype} are not numbers")
    pixels = images.astype(np.float64)
    bad = ~np.isfinite(pixels)
    if bad.any():
        raise UserInputError(
            f"{where} has NaN or infinite pixels (first in image {np.argwhere(bad)[0][0]}); "
            "remove or repair those images"
        )
    low, high = float(pixels.min()), float(pixels.max())
    if low >= 0 and high <= 1:
        return pixels
    if low >= 0 and high <= 255:
        return pixels / 255.0
    raise UserInputError(
        f"{where}: pixel values run from {low:g} to {high:g}, neither [0, 1] nor [0, 255]; "
        "rescale them to one of those"
    )


def _read_labels(path: Path) -> np.ndarray:
    if path.suffix.lower() != ".npy":
        raise UserInputError(f"source.labels = {path}: give a .npy array of one class per image")
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserInputError(f"labels file not found: {path}") from None
    except (ValueError, OSError) as err:
        raise UserInputError(f"cannot read {path}: {str(err).splitlines()[0]}") from None


def _checked_labels(labels: np.ndarray, count: int, where: Path) -> np.ndarray:
    """One whole, non-negative class per image."""
    flat = np.asarray(labels).reshape(-1) if np.asarray(labels).ndim <= 1 else None
    if flat is None or len(flat) != count:
        size = len(flat) if flat is not None else f"an array of shape {np.shape(labels)}"
        raise UserInputError(
            f"{where}: {size} labels for {count} images; give one class per image, in order"
        )
    numbers = np.issubdtype(flat.dtype, np.number) and not np.issubdtype(flat.dtype, np.bool_)
    if not numbers or not np.isfinite(flat.astype(float)).all():
        raise UserInputError(f"{where}: the labels are not class numbers 0, 1, 2, ...")
    if (flat < 0).any() or (flat != np.round(flat)).any():
        raise UserInputError(f"{where}: the labels are not class numbers 0, 1, 2, ...")
    return flat.astype(np.int64)
