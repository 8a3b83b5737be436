"""The user's own numeric data: CSV, NPY/NPZ or Parquet, split into train and test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import SOURCE_TEST, stream
from model_collapse.sources.base import SOURCES, Kind, RealData, Source, draw_per_seed
from model_collapse.sources.dialect import detect, parse, read_text_lines

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")  # delimited text: the dialect is detected


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
    if suffix not in (".npy", ".npz", ".parquet", *TEXT_SUFFIXES):
        raise UserInputError(
            f"{path}: unknown file type '{suffix}'; use .csv, .tsv, .txt, .npy, .npz or .parquet"
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
            return frame.to_numpy(), [str(c) for c in frame.columns]
        lines = read_text_lines(path)
        if not lines:
            raise UserInputError(f"{path} is empty: it holds no data rows")
        return parse(path, detect(path, lines))
    except FileNotFoundError:
        raise UserInputError(f"data file not found: {path}") from None
    except (ValueError, OSError) as err:
        if isinstance(err, UserInputError):
            raise
        raise UserInputError(f"cannot read {path}: {str(err).splitlines()[0]}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_numeric(path: Path) -> np.ndarray:
    """A (rows, columns) float array; refuses empty, non-numeric, NaN or infinite data."""
    return read_columns(path)[0]


def read_columns(path: Path) -> tuple[np.ndarray, list[str]]:
    """The data as floats and its column names (or their numbers, from 0)."""
    table, names = _read_table(path)
    if table.size == 0:
        raise UserInputError(f"{path} is empty: it holds no data rows")
    names = names or [str(c) for c in range(table.shape[1])]
    try:
        data = table.astype(float)
    except (ValueError, TypeError):
        row, col = next(
            (r, c) for r, c in np.ndindex(table.shape) if not _is_number(str(table[r, c]))
        )
        raise UserInputError(
            f"{path} has a non-numeric value {table[row, col]!r} (row {row + 1}, column "
            f"{names[col]}); keep numeric columns only"
        ) from None
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UserInputError(
            f"{path} has NaN or infinite values (first at row {row + 1}, column {names[col]}); "
            "remove or impute them"
        )
    return data, names


MAX_CATEGORIES = 10_000_000  # as source.categories: labels index arrays of this length


def _as_kind(data: np.ndarray, names: list[str], kind: Kind, path: Path) -> tuple[np.ndarray, int]:
    """The data as the family needs it, with degenerate data refused (see check_columns)."""
    if kind == "categorical":
        if data.shape[1] != 1 or (data != np.round(data)).any() or data.min() < 0:
            raise UserInputError(
                f"{path}: the categorical family needs one column of category indices 0, 1, 2, ..."
            )
        if data.max() >= MAX_CATEGORIES:  # checked before any array is sized by it
            raise UserInputError(
                f"{path}: category labels run up to {data.max():.0f}; number the categories "
                f"0, 1, 2, ... (fewer than {MAX_CATEGORIES})"
            )
        if np.unique(data).size < 2:
            raise UserInputError(
                f"{path} holds a single category ({data[0, 0]:.0f}): there is nothing to lose; "
                "give data with at least two categories"
            )
        return data.astype(np.int64), int(data.max()) + 1
    if kind == "regression" and data.shape[1] < 2:
        raise UserInputError(
            f"{path}: the linear family needs feature columns and a last target column"
        )
    check_columns(data, names, kind, path)
    return data, 0


def check_columns(data: np.ndarray, names: list[str], kind: Kind, path: Path) -> None:
    """Refuse columns no model of this kind can fit: values whose squares overflow,
    constant or identical columns, columns that depend linearly on each other."""
    rows, cols = data.shape
    limit = np.sqrt(np.finfo(float).max / (16 * rows * cols))  # sums of squares stay finite
    biggest = np.abs(data).max(axis=0)
    if (biggest > limit).any():
        col = int(np.argmax(biggest > limit))
        raise UserInputError(
            f"{path}: column {names[col]} holds values up to {biggest[col]:.3g}, whose squares "
            "overflow float64; rescale it"
        )
    checked = data if kind == "continuous" else data[:, :-1]  # regression: the features
    if kind == "continuous":
        for col in range(cols):
            if (data[:, col] == data[0, col]).all():
                raise UserInputError(
                    f"{path}: column {names[col]} is constant ({data[0, col]:g} in every row): "
                    "its variance is 0, so every fit is singular; drop the column"
                )
    for a in range(checked.shape[1]):
        for b in range(a + 1, checked.shape[1]):
            if np.array_equal(checked[:, a], checked[:, b]):
                raise UserInputError(
                    f"{path}: columns {names[a]} and {names[b]} are identical; drop one"
                )
    matrix = checked - checked.mean(axis=0) if kind == "continuous" else checked
    scale = np.sqrt((matrix**2).mean(axis=0))
    matrix = matrix / np.where(scale > 0, scale, 1.0)  # units do not matter: correlations do
    spectrum = np.linalg.eigvalsh(matrix.T @ matrix)  # squared singular values, ascending
    if spectrum[0] <= 1e3 * len(spectrum) * np.finfo(float).eps * spectrum[-1]:
        what = "columns" if kind == "continuous" else "feature columns"
        raise UserInputError(
            f"{path}: the {what} are linearly dependent (or there are too few distinct rows), "
            "so every fit is singular; drop a column that the others determine"
        )


def load_file(config: Config, kind: Kind) -> RealData:
    cfg = config.source
    if not cfg.path:
        raise UserInputError(
            "source 'file' needs source.path (a .csv, .tsv, .txt, .npy, .npz or .parquet file)"
        )
    path = Path(cfg.path).expanduser()
    data, categories = _as_kind(*read_columns(path), kind, path)
    order = stream(config.experiment.seed, "source", SOURCE_TEST).permutation(len(data))
    n_test = max(1, round(cfg.test_fraction * len(data)))
    test, pool = data[order[:n_test]], data[order[n_test:]]
    n_train = cfg.n_train or len(pool)
    if not len(pool) or n_train > len(pool):
        raise UserInputError(
            f"{path}: source.n_train = {n_train} but only {len(pool)} of its {len(data)} rows "
            f"are left for training once source.test_fraction = {cfg.test_fraction:g} went to "
            f"testing; set source.n_train <= {len(pool)} or lower source.test_fraction"
        )
    train, fresh = draw_per_seed(config, pool, str(path), "rows")
    return RealData(kind, train, test, None, fresh, categories)


SOURCES.register("file")(
    Source(
        ("continuous", "categorical", "regression"),
        load_file,
        "your numeric data: source.path = .csv, .tsv, .txt, .npy, .npz or .parquet",
        {
            "path": param("", "your data file", path=True),
            "test_fraction": param(
                0.2, "share held out for testing", low=0.0, high=1.0, open_low=True, open_high=True
            ),
        },
    )
)
