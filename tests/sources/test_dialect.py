"""Delimited text is read in its own dialect, or refused when it could mean two things."""

import re
from pathlib import Path

import numpy as np
import pytest

import model_collapse
from model_collapse.core.errors import UserInputError
from model_collapse.sources.files import read_numeric

IRIS_LIKE = np.array([[5.1, 3.5, 1.4], [4.9, 3.0, 1.4], [6.2, 2.9, 4.3], [5.9, 3.0, 5.1]])


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def table(rows: np.ndarray, separator: str, decimal: str = ".") -> str:
    lines = [separator.join(f"{v:g}".replace(".", decimal) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "separator", "decimal", "header"),
    [
        ("comma.csv", ",", ".", "a,b,c\n"),
        ("semicolon.csv", ";", ",", "a;b;c\n"),
        ("tab.tsv", "\t", ".", "a\tb\tc\n"),
        ("tab-comma.tsv", "\t", ",", "a\tb\tc\n"),
        ("spaces.txt", "   ", ".", ""),
        ("bar.csv", "|", ".", "a|b|c\n"),
        ("no-header.csv", ";", ",", ""),
    ],
)
def test_each_dialect_gives_the_same_numbers(tmp_path, name, separator, decimal, header):
    path = write(tmp_path, name, header + table(IRIS_LIKE, separator, decimal))
    assert np.array_equal(read_numeric(path), IRIS_LIKE)


def test_quotes_byte_order_marks_and_utf16(tmp_path: Path):
    quoted = write(tmp_path, "q.csv", 'a;b\n"1,5";"2"\n"3";"4,25"\n')
    assert read_numeric(quoted).tolist() == [[1.5, 2.0], [3.0, 4.25]]
    bom = write(tmp_path, "bom.csv", "\ufeffa,b\n1,2\n3,4\n")
    assert read_numeric(bom).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    wide = write(tmp_path, "u16.csv", "a;b\n1,5;2\n", encoding="utf-16")
    assert read_numeric(wide).tolist() == [[1.5, 2.0]]


def test_a_header_tells_a_comma_separator_from_a_decimal_comma(tmp_path: Path):
    assert read_numeric(write(tmp_path, "h.csv", "x,y\n1,2\n3,4\n")).tolist() == [
        [1.0, 2.0],
        [3.0, 4.0],
    ]
    assert read_numeric(write(tmp_path, "v.csv", "v\n1,5\n2,25\n")).tolist() == [[1.5], [2.25]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1,2\n3,4\n",
            "is ambiguous: it reads as 2 columns separated by comma, decimal '.', no header or "
            "1 column, decimal ',', no header; add a header row, or separate columns with ';'",
        ),
        (
            "a;b\n1;2\n3;4;5\n",
            "has rows with different numbers of fields (2 on line 1, 3 on line 3",
        ),
        ("a;b\n1;2\n3;x\n", "has a non-numeric value 'x' (row 2, column b)"),
        ("a,b\n1.234,5;2\n", "has a non-numeric value '5;2' (row 1, column b)"),
    ],
)
def test_what_cannot_be_read_for_sure_is_refused(tmp_path: Path, text: str, message: str):
    with pytest.raises(UserInputError, match=re.escape(message)):
        read_numeric(write(tmp_path, "d.csv", text))


def test_latin1_is_refused_with_its_offset(tmp_path: Path):
    path = tmp_path / "l.csv"
    path.write_bytes("Länge;b\n1,5;2\n".encode("latin-1"))
    with pytest.raises(UserInputError, match=re.escape("is not UTF-8 text (byte offset 1)")):
        read_numeric(path)


def test_a_european_csv_runs_to_the_same_metrics_as_the_plain_one(tmp_path: Path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 2)) * [1.0, 3.0] + [2.0, -1.0]
    plain = write(tmp_path, "plain.csv", "a,b\n" + "".join(f"{u:.4f},{v:.4f}\n" for u, v in x))
    semi = write(
        tmp_path,
        "semi.csv",
        "a;b\n" + "".join(f"{u:.4f};{v:.4f}\n".replace(".", ",") for u, v in x),
    )
    runs = [
        model_collapse.run(
            "gaussian-1d",
            overrides=[
                "source.name=file",
                f"source.path={path}",
                "experiment.generations=3",
                "experiment.seeds=2",
                "sampling.n=100",
            ],
        ).metrics
        for path in (plain, semi)
    ]
    assert runs[0].equals(runs[1])


def test_spaces_inside_tab_separated_fields_are_never_a_separator(tmp_path: Path):
    path = write(tmp_path, "t.tsv", "a\tb\n5 605,9\t9 553,2\n1 001,5\t2 000,0\n")
    with pytest.raises(UserInputError, match=re.escape("has a non-numeric value '5 605,9'")):
        read_numeric(path)


def test_an_unnamed_column_a_saved_index_is_refused(tmp_path: Path):
    path = write(tmp_path, "i.csv", ",x,y\n0,1.5,2\n1,2.5,3\n")
    message = "column 1 has no name in the header row (a saved index?)"
    with pytest.raises(UserInputError, match=re.escape(message)):
        read_numeric(path)


def test_columns_on_different_scales_are_not_called_dependent(tmp_path: Path):
    rng = np.random.default_rng(0)
    income, share = rng.normal(5e4, 2e4, 300), rng.uniform(0, 0.03, 300)
    rows = zip(income.tolist(), share.tolist(), strict=True)
    text = "income,share\n" + "".join(f"{a!r},{b!r}\n" for a, b in rows)
    path = write(tmp_path, "scales.csv", text)
    result = model_collapse.run(
        "gaussian-1d",
        overrides=["source.name=file", f"source.path={path}", "experiment.generations=2"],
    )
    assert len(result.metrics) == 2 * result.config.experiment.seeds
