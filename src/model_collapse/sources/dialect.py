"""Reading the user's delimited text right, or refusing it: separator, decimal mark, header.

Every plausible reading of the file's first lines is tried: the separators comma,
semicolon, tab, vertical bar and whitespace, each with '.' or ',' as the decimal mark. A
reading counts if every line splits into the same number of fields and every field but
those of a first, header row is a number. The readings that count must agree on the
numbers; if they do not (``1,5`` is two columns, or one and a half), the file is refused
with what was seen, since a guess could turn it into different numbers silently. A
header whose names hold the decimal mark rules that reading out (``x,y`` over one column
of decimal-comma numbers would be a strange header), and where tabs separate, spaces
are part of a field (``1 000,5``), never a separator. A header with an unnamed column
(a saved index) is refused.

The whole file is then parsed by pandas in that dialect (its C parser reads decimals
exactly as Python's float does).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_collapse.core.errors import UserInputError

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar", " ": "whitespace"}
SAMPLE_LINES = 500


@dataclass(frozen=True)
class Dialect:
    """How a file is read: ``separator`` (" " for runs of whitespace), decimal, header row."""

    separator: str
    decimal: str
    header: bool
    columns: int

    def describe(self) -> str:
        head = "a header row" if self.header else "no header"
        if self.columns == 1:
            return f"1 column, decimal '{self.decimal}', {head}"
        return (
            f"{self.columns} columns separated by {SEPARATORS[self.separator]}, "
            f"decimal '{self.decimal}', {head}"
        )


def encoding_of(start: bytes) -> str:
    """UTF-16 where the file starts with its byte-order mark, else UTF-8 (BOM or not)."""
    return "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def read_text_lines(path: Path) -> list[str]:
    """The file's non-blank lines, UTF-8 (a BOM allowed) or UTF-16 with its BOM."""
    data = path.read_bytes()
    try:
        text = data.decode(encoding_of(data[:2]))
    except UnicodeDecodeError as err:
        raise UserInputError(
            f"{path} is not UTF-8 text (byte offset {err.start}); save it as UTF-8"
        ) from None
    if "\0" in text:
        offset = text.index("\0")
        raise UserInputError(f"{path} is binary, not text (a NUL byte at character {offset})")
    return [line for line in text.splitlines() if line.strip()]


def _fields(line: str, separator: str) -> list[str]:
    if separator == " ":
        return line.split()
    return next(csv.reader([line], delimiter=separator))


def _number(field: str, decimal: str) -> float | None:
    text = field.strip()
    if decimal == ",":
        if "." in text:
            return None  # 1.234,5: thousands separators are not read
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _reading(lines: list[str], separator: str, decimal: str) -> tuple[Dialect, np.ndarray] | None:
    """The dialect and the numbers of ``lines`` under one reading, or None if it fails."""
    rows = [_fields(line, separator) for line in lines]
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        return None
    first = [_number(field, decimal) for field in rows[0]]
    header = any(value is None for value in first)
    if header and decimal == "," and "," in "".join(rows[0]):
        return None  # header names holding the decimal comma: see the module docstring
    values = []
    for row in rows[1:] if header else rows:
        numbers = [_number(field, decimal) for field in row]
        if any(value is None for value in numbers):
            return None
        values.append(numbers)
    return Dialect(separator, decimal, header, width), np.array(values, dtype=float)


def detect(path: Path, lines: list[str]) -> Dialect:
    """The one reading of ``lines`` that makes numbers, or a one-line refusal."""
    sample = lines[:SAMPLE_LINES]
    found: list[tuple[Dialect, np.ndarray]] = []
    tabs = any("\t" in line for line in sample)
    for separator in SEPARATORS:
        for decimal in (".", ","):
            if separator == decimal or (separator == " " and tabs):
                continue  # tabs separate: spaces beside them are inside fields (1 000,5)
            reading = _reading(sample, separator, decimal)
            if reading is not None and not any(
                np.array_equal(reading[1], other, equal_nan=True) for _, other in found
            ):
                found.append(reading)
    if len(found) == 1 and found[0][0].header:
        names = _fields(sample[0], found[0][0].separator)
        if any(not name.strip() for name in names):
            empty = next(i for i, name in enumerate(names) if not name.strip())
            raise UserInputError(
                f"{path}: column {empty + 1} has no name in the header row (a saved index?); "
                "drop it, or name it"
            )
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise UserInputError(f"{path} {_what_was_seen(sample)}; keep numeric columns only")
    options = " or ".join(dialect.describe() for dialect, _ in found[:2])
    raise UserInputError(
        f"{path} is ambiguous: it reads as {options}; add a header row, or separate "
        "columns with ';' when decimals use ','"
    )


def _what_was_seen(lines: list[str]) -> str:
    """Why no reading works, for the refusal: uneven rows or a value that is no number,
    under the first separator the lines hold (none: one column)."""
    held = [sep for sep in SEPARATORS if any(len(_fields(line, sep)) > 1 for line in lines)]
    separator = "\t" if "\t" in held else held[0] if held else ","
    rows = [_fields(line, separator) for line in lines]
    uneven = next((i for i, row in enumerate(rows) if len(row) != len(rows[0])), None)
    if uneven is not None:
        return (
            f"has rows with different numbers of fields ({len(rows[0])} on line 1, "
            f"{len(rows[uneven])} on line {uneven + 1} when split at {SEPARATORS[separator]}s)"
        )
    header = any(_number(field, ".") is None and _number(field, ",") is None for field in rows[0])
    for number, row in enumerate(rows[1:] if header else rows, start=1):
        for col, field in enumerate(row):
            if _number(field, ".") is None and _number(field, ",") is None:
                name = rows[0][col].strip() if header else str(col)
                return f"has a non-numeric value {field.strip()!r} (row {number}, column {name})"
    return "has values that no separator and decimal mark read as numbers"


def parse(path: Path, dialect: Dialect) -> tuple[np.ndarray, list[str]]:
    """The whole file in ``dialect``: a (rows, columns) array and the column names."""
    import pandas as pd

    separator = r"\s+" if dialect.separator == " " else dialect.separator
    try:
        frame = pd.read_csv(
            path,
            sep=separator,
            decimal=dialect.decimal,
            header=0 if dialect.header else None,
            encoding="utf-16"
            if path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
            else "utf-8-sig",
            skip_blank_lines=True,
        )
    except (ValueError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0]
        raise UserInputError(f"cannot read {path} as {dialect.describe()}: {first}") from None
    names = [str(c) for c in frame.columns] if dialect.header else []
    return frame.to_numpy(), names
