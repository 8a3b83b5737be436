"""The user's own numeric data: CSV, NPY/NPZ or Parquet, split into train and test."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from model_collapse.config import Config
from model_collapse.errors import UserInputError
from model_collapse.rng import SOURCE_TEST, stream
from model_collapse.sources.base import SOURCES, Kind, RealData, Source, draw_per_seed

SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": r"[,\s]+"}


def _as_rows(array: np.ndarray) -> np.ndarray:
    return array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)


def _read_npz(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.keys())
        if len(names) != 1 and "data" not in names:
            raise UserInputError(
                f"{path} holds arrays {', '.join(names)}; keep one or name it 'data'"
            )
        return _as_rows(archive["data" if "data" in names else names[0]])


def _read_table(path: Path) -> tuple[np.ndarray, list[str]]:
    """Read a file into a (rows, columns) array of any dtype and its column names."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz", ".parquet", *SEPARATORS):
        raise UserInputError(
            f"{path}: unknown file type '{suffix}'; use .csv, .npy, .npz or .parquet"
        )
    try:
        if path.stat().st_size == 0:
            raise UserInputError(f"{path} is empty: it holds no data rows")
        if suffix == ".npy":
            return _as_rows(np.load(path, allow_pickle=False)), []
        if suffix == ".npz":
            return _read_npz(path), []
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            sep = SEPARATORS[suffix]
            frame = pd.read_csv(path, sep=sep, engine="python", encoding="utf-8")
            if all(_is_number(str(c)) for c in frame.columns):  # no header row
                frame = pd.read_csv(path, sep=sep, engine="python", header=None)
    except FileNotFoundError:
        raise UserInputError(f"data file not found: {path}") from None
    except pd.errors.EmptyDataError:
        raise UserInputError(f"{path} is empty: it holds no data rows") from None
    except UnicodeDecodeError as err:
        raise UserInputError(
            f"{path} is not UTF-8 text (byte offset {err.start}); give a numeric CSV"
        ) from None
    except (ValueError, OSError, csv.Error) as err:
        if isinstance(err, UserInputError):
            raise
        raise UserInputError(f"cannot read {path}: {str(err).splitlines()[0]}") from None
    return frame.to_numpy(), [str(c) for c in frame.columns]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_numeric(path: Path) -> np.ndarray:
    """A (rows, columns) float array; refuses empty, non-numeric, NaN or infinite data."""
    table, names = _read_table(path)
    if table.size == 0:
        raise UserInputError(f"{path} is empty: it holds no data rows")
    try:
        data = table.astype(float)
    except (ValueError, TypeError):
        row, col = next(
            (r, c) for r, c in np.ndindex(table.shape) if not _is_number(str(table[r, c]))
        )
        name = names[col] if names else str(col)
        raise UserInputError(
            f"{path} has a non-numeric value {table[row, col]!r} (row {row + 1}, column {name}); "
            "keep numeric columns only"
        ) from None
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        name = names[col] if names else str(col)
        raise UserInputError(
            f"{path} has NaN or infinite values (first at row {row + 1}, column {name}); "
            "remove or impute them"
        )
    return data


def _as_kind(data: np.ndarray, kind: Kind, path: Path) -> tuple[np.ndarray, int]:
    if kind == "categorical":
        if data.shape[1] != 1 or (data != np.round(data)).any() or data.min() < 0:
            raise UserInputError(
                f"{path}: the categorical family needs one column of category indices 0, 1, 2, ..."
            )
        return data.astype(np.int64), int(data.max()) + 1
    if kind == "regression" and data.shape[1] < 2:
        raise UserInputError(
            f"{path}: the linear family needs feature columns and a last target column"
        )
    return data, 0


def load_file(config: Config, kind: Kind) -> RealData:
    cfg = config.source
    if not cfg.path:
        raise UserInputError(
            "source 'file' needs source.path (a .csv, .npy, .npz or .parquet file)"
        )
    path = Path(cfg.path).expanduser()
    data, categories = _as_kind(read_numeric(path), kind, path)
    order = stream(config.experiment.seed, "source", SOURCE_TEST).permutation(len(data))
    n_test = max(1, round(cfg.test_fraction * len(data))) if cfg.test_fraction < 1 else len(data)
    test, pool = data[order[:n_test]], data[order[n_test:]]
    train, fresh = draw_per_seed(config, pool, str(path), "rows")
    return RealData(kind, train, test, None, fresh, categories)


SOURCES.register("file")(
    Source(
        ("continuous", "categorical", "regression"),
        load_file,
        "your numeric data: source.path = .csv, .npy, .npz or .parquet",
    )
)
