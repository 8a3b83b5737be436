"""User files: CSV, NPY, NPZ and Parquet of real data, and every way they can be bad."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_collapse.core.errors import UserInputError
from model_collapse.sources import load_real_data
from tests.conftest import make_config


def _load(path: Path, kind: str = "continuous", **source):
    config = make_config(source={"name": "file", "path": str(path), "n_train": 40, **source})
    return load_real_data(config, kind)


def _indexed(iris_csv: Path) -> Path:
    """Iris with its row number as a first column, so every row is unique (iris repeats some)."""
    frame = pd.read_csv(iris_csv)
    frame.insert(0, "row", range(len(frame)))
    path = iris_csv.with_name("iris-indexed.csv")
    frame.to_csv(path, index=False)
    return path


def test_csv_with_header_is_split_into_train_and_test(iris_csv: Path):
    real = _load(_indexed(iris_csv))
    assert real.test.shape == (30, 5)  # 20% of 150
    assert real.train.shape == (4, 40, 5)
    test_rows = set(real.test[:, 0])
    for seed in range(4):
        rows = real.train[seed, :, 0]
        assert len(set(rows)) == 40 and not test_rows & set(rows)
    assert not np.array_equal(real.train[0], real.train[1])  # each seed its own rows


def test_npy_npz_parquet_and_headerless_csv_agree(iris_csv: Path, tmp_path: Path):
    data = pd.read_csv(iris_csv).to_numpy()
    np.save(tmp_path / "a.npy", data)
    np.savez(tmp_path / "b.npz", data=data, other=data[:3])
    pd.read_csv(iris_csv).to_parquet(tmp_path / "c.parquet")
    np.savetxt(tmp_path / "d.csv", data, delimiter=",")
    reference = _load(iris_csv)
    for name in ("a.npy", "b.npz", "c.parquet", "d.csv"):
        real = _load(tmp_path / name)
        np.testing.assert_allclose(real.test, reference.test)
        np.testing.assert_allclose(real.train, reference.train)


def test_categorical_labels(digits_labels: Path):
    real = _load(digits_labels, "categorical")
    assert real.categories == 10 and real.train.dtype == np.int64


def test_fresh_rows_are_never_used_before(iris_csv: Path):
    real = _load(_indexed(iris_csv), n_train=20)
    used = [set(real.train[seed, :, 0]) for seed in range(4)]
    for generation in (1, 2, 3):
        fresh = real.fresh(generation, 10, None)
        for seed in range(4):
            rows = set(fresh[seed, :, 0])
            assert len(rows) == 10 and not rows & used[seed]
            used[seed] |= rows
    with pytest.raises(UserInputError, match="the fresh regime needs 10 new real rows"):
        real.fresh(20, 10, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty: it holds no data rows"),
        ("a,b\n", "is empty: it holds no data rows"),
        ("a,b\n1,2\n3,x\n", "has a non-numeric value 'x' (row 2, column b)"),
        ("a,b\n1,2\n3,nan\n", "has NaN or infinite values (first at row 2, column b)"),
        ("a,b\n1,inf\n3,4\n", "has NaN or infinite values (first at row 1, column b)"),
    ],
)
def test_bad_csv(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UserInputError, match=re.escape(message)):
        _load(path)


def test_missing_unknown_and_too_small_files(tmp_path: Path, iris_csv: Path):
    with pytest.raises(UserInputError, match="data file not found"):
        _load(tmp_path / "nope.csv")
    (tmp_path / "x.xlsx").write_text("1")
    with pytest.raises(UserInputError, match=re.escape("unknown file type '.xlsx'")):
        _load(tmp_path / "x.xlsx")
    with pytest.raises(UserInputError, match=re.escape("set source.n_train <= 120")):
        _load(iris_csv, n_train=500)
    with pytest.raises(UserInputError, match=re.escape("needs source.path")):
        load_real_data(make_config(source={"name": "file"}), "continuous")


def test_binary_file_is_refused(tmp_path: Path):
    path = tmp_path / "bin.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UserInputError, match=re.escape("is not UTF-8 text (byte offset 128)")):
        _load(path)


def test_categorical_needs_integer_column(iris_csv: Path):
    with pytest.raises(UserInputError, match="one column of category indices"):
        _load(iris_csv, "categorical")
