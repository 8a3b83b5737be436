"""Reading the user's images, with every way they can be wrong refused in one line.

Arrays: a .npy of shape (count, height, width) or (count, height, width, channels), or an
.npz whose 'images' array is that (and whose 'labels' array, if any, gives the classes).
A folder: its .png files, or class folders of .png files (the folder names, in sorted
order, become classes 0, 1, ...). Pixels in [0, 1] are kept, pixels in [0, 255] divided
by 255; anything else is refused rather than guessed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from model_collapse.core.errors import UserInputError
from model_collapse.sources.files import MAX_CATEGORIES

CHANNELS = (1, 3)


def read_images(path: Path, labels_path: Path | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(count, height, width[, 3]) floats in [0, 1], and one class per image or None."""
    try:
        return _read_images(path, labels_path)
    except PermissionError as err:
        raise UserInputError(f"cannot read {err.filename or path}: permission denied") from None


def _read_images(path: Path, labels_path: Path | None) -> tuple[np.ndarray, np.ndarray | None]:
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
        if labels is not None:
            raise UserInputError(
                f"{path} has its own labels and source.labels names {labels_path}; keep one"
            )
        labels = _read_labels(labels_path)
    if labels is not None:
        labels = _checked_labels(labels, len(images), labels_path or path)
    return images, labels


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with path.open("rb") as handle:  # ours to close, whatever numpy makes of it
            loaded = np.load(handle, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                return loaded, None
            if path.suffix.lower() == ".npy":
                raise UserInputError(f"{path} is an .npz archive, not an .npy array; rename it")
            names = list(loaded.keys())
            if "images" not in names and len(names) != 1:
                raise UserInputError(
                    f"{path} holds arrays {', '.join(names)}; name the images 'images' (and "
                    "the classes 'labels')"
                )
            images = loaded["images" if "images" in names else names[0]]
            return images, loaded["labels"] if "labels" in names else None
    except FileNotFoundError:
        raise UserInputError(f"image data not found: {path}") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise UserInputError(f"cannot read {path}: {_first_line(err)}") from None


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0]


def _png_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.suffix.lower() == ".png" and f.is_file())


def _read_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None]:
    import matplotlib.image

    classes = [d for d in folder.iterdir() if d.is_dir()]
    files = _png_files(folder)
    if classes and files:
        raise UserInputError(
            f"{folder} holds both .png files and class folders of them; keep one layout"
        )
    numbered = all(d.name.isdigit() for d in classes)
    classes.sort(key=lambda d: (int(d.name), d.name) if numbered else (0, d.name))
    groups = [(c, _png_files(c)) for c in classes] if classes else [(folder, files)]
    empty = [c.name for c, members in groups if classes and not members]
    if empty:
        raise UserInputError(
            f"{folder}: class folder {empty[0]} holds no .png images; every class folder "
            "needs images, or the classes after it would be renumbered"
        )
    pictures, labels = [], []
    for label, (_, members) in enumerate(groups):
        for file in members:
            try:
                pictures.append((file, np.asarray(matplotlib.image.imread(file))))
            except (OSError, ValueError, SyntaxError) as err:
                raise UserInputError(f"cannot read {file}: {_first_line(err)}") from None
            labels.append(label)
    if not pictures:
        raise UserInputError(f"{folder} holds no .png images (nor class folders of them)")
    first_file, first = pictures[0]
    for file, picture in pictures:
        if picture.shape != first.shape:
            raise UserInputError(
                f"images of mixed shapes: {first_file.name} is {_size(first)} but {file.name} "
                f"is {_size(picture)}; give them one size and one colour mode"
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
    if kind == np.bool_:  # a binary image: its pixels are 0 and 1
        images, kind = images.astype(np.float64), np.dtype(np.float64)
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
        with path.open("rb") as handle:
            loaded = np.load(handle, allow_pickle=False)
            if not isinstance(loaded, np.ndarray):
                raise UserInputError(f"{path} is an .npz archive; give a .npy array of classes")
            return loaded
    except FileNotFoundError:
        raise UserInputError(f"labels file not found: {path}") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise UserInputError(f"cannot read {path}: {_first_line(err)}") from None


def _checked_labels(labels: np.ndarray, count: int, where: Path) -> np.ndarray:
    """One whole, non-negative class per image."""
    array = np.asarray(labels)
    column = array.ndim == 2 and array.shape[1] == 1
    if array.ndim > 1 and not column:
        raise UserInputError(
            f"{where}: labels of shape {array.shape}; give one class per image, in order"
        )
    flat = array.reshape(-1)
    if len(flat) != count:
        raise UserInputError(
            f"{where}: {len(flat)} labels for {count} images; give one class per image, in order"
        )
    kind = flat.dtype
    numbers = np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating)
    wide = flat.astype(np.float64) if numbers else flat  # exact for every class below 2^53
    if (
        not numbers
        or not np.isfinite(wide).all()
        or (wide < 0).any()
        or (wide != np.round(wide)).any()
    ):
        raise UserInputError(f"{where}: the labels are not class numbers 0, 1, 2, ...")
    if wide.max() >= MAX_CATEGORIES:  # checked before anything is sized by it
        raise UserInputError(
            f"{where}: class numbers run up to {wide.max():.0f}; number the classes 0, 1, "
            f"2, ... (fewer than {MAX_CATEGORIES})"
        )
    return wide.astype(np.int64)
