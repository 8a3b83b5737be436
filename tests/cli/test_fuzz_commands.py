"""Fuzzing the commands beside ``run``: random sweep files, ``compare`` and ``report`` on
damaged copies of a real sweep, and ``audit`` and ``detect`` on generated corpora.

Each ends with exit 0 or exit 2 and one line, never a traceback; and an audit never prints
a zero-width interval (a point passed off as an interval). Examples are derandomised, as
in tests/cli/test_fuzz.py; the fuzzers are in the slow set (make test-slow, and CI), and
MODEL_COLLAPSE_FUZZ=N hunts with N fresh random examples instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli.test_fuzz import FUZZ, exits_0_or_2  # the same examples and checks

SMALL = {"experiment.generations": "2", "experiment.seeds": "2", "sampling.n": "30"}


def invoke(*args: object) -> tuple[int, str]:
    """Exit status and output of a command; exit 0 or 2, never a traceback."""
    result = exits_0_or_2(*args)
    return result.exit_code, result.stdout


# -- sweep files --------------------------------------------------------------------------

keys = st.sampled_from(
    [
        "regime.name",
        "regime.real_fraction",
        "family.name",
        "source.std",
        "source.n_train",
        "experiment.seed",
        "metrics.names",
        "bogus.key",
        "regime",
        "sampling.temperature",
    ]
)
values = st.sampled_from(
    [
        *('"replace"', '"mix"', '"accumulate"', '"kde"', '"gtp"', "0.1", "0.5", "2", "-1", "0"),
        *("1e400", "nan", "true", '"x"', "[]", '["kl"]', "{ a = 1 }", "1979-05-27", "", "="),
        '"é"',
    ]
)
lists = st.lists(values, max_size=3).map(lambda vs: "[" + ", ".join(vs) + "]")
entries = st.lists(st.tuples(keys, st.one_of(values, lists)), max_size=3)


@st.composite
def sweep_files(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(['"gaussian-1d"', '"gmm-2d"', '"nope"', '"x.toml"', "3", ""]))
    lines = [f"base = {base}"] if base else []
    fixed = {**SMALL, **{k: v for k, v in draw(entries)}}
    lines += ["[set]", *(f'"{k}" = {v}' for k, v in fixed.items())]
    for table in draw(st.lists(st.sampled_from(["grid", "zip", "other"]), max_size=2)):
        lines += [f"[{table}]", *(f'"{k}" = {v}' for k, v in draw(entries))]
    if not draw(st.integers(0, 4)):  # a damaged line now and then
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["[", "x", '"a"='])))
    return "\n".join(lines) + "\n"


@pytest.mark.slow  # about 30 s: make test-slow and CI run it
@FUZZ
@given(text=sweep_files())
def test_random_sweep_files_exit_0_or_2(tmp_path: Path, text: str):
    path = tmp_path / f"{uuid.uuid4().hex}.toml"
    path.write_text(text)
    out = tmp_path / uuid.uuid4().hex
    status, _ = invoke("sweep", path, "--out", out)
    if status == 0:  # what it wrote reads back
        assert invoke("compare", out)[0] == 0


# -- compare and report on damaged sweeps -------------------------------------------------


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-sweep")
    (folder / "s.toml").write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 4\n"experiment.seeds" = 3\n'
        '[grid]\n"regime.name" = ["replace", "mix"]\n'
    )
    assert invoke("sweep", folder / "s.toml", "--out", folder / "out")[0] == 0
    return folder / "out"


def _damage(path: Path, how: str, at: float) -> None:
    """One kind of damage to one file: ``at`` (0 to 1) says where in it."""
    data = path.read_bytes() if path.is_file() else b""
    cut = int(at * len(data))
    lines = data.splitlines(keepends=True)
    line = int(at * max(len(lines) - 1, 0))
    if how == "truncate":
        path.write_bytes(data[:cut])
    elif how == "flip":
        flipped = (data[cut] if cut < len(data) else 0) ^ 0x24  # one byte changed
        path.write_bytes(data[:cut] + bytes([flipped]) + data[cut + 1 :])
    elif how == "duplicate line" and lines:
        path.write_bytes(b"".join([*lines[: line + 1], lines[line], *lines[line + 1 :]]))
    elif how == "drop line" and lines:
        path.write_bytes(b"".join(lines[:line] + lines[line + 1 :]))
    elif how == "empty":
        path.write_bytes(b"")
    elif how in ("remove", "fifo", "folder"):
        path.unlink()
        if how == "fifo":
            os.mkfifo(path)
        elif how == "folder":
            path.mkdir()


@pytest.mark.slow  # about 40 s: make test-slow and CI run it
@FUZZ
@given(
    which=st.integers(0, 10_000),
    how=st.sampled_from(
        ["truncate", "flip", "duplicate line", "drop line", "empty", "remove", "fifo", "folder"]
    ),
    at=st.floats(0, 1),
)
def test_compare_and_report_on_damaged_sweeps_exit_0_or_2(
    sweep_dir: Path, tmp_path: Path, which: int, how: str, at: float
):
    copy = tmp_path / uuid.uuid4().hex
    shutil.copytree(sweep_dir, copy)
    files = sorted(p for p in copy.rglob("*") if p.is_file() and p.name != ".lock")
    _damage(files[which % len(files)], how, at)
    invoke("compare", copy)
    invoke("report", copy)


# -- audit and detect on generated corpora -------------------------------------------------


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A tiny n-gram run on the Wikipedia sample, and human paragraphs of its test split."""
    from model_collapse.detection.export import generated_set

    out = tmp_path_factory.mktemp("fuzz-text") / "run"
    sets = {
        "experiment.generations": 1,
        "experiment.seeds": 1,
        "source.max_documents": 30,
        "source.vocab_size": 512,
        "source.n_train": 200,
        "sampling.n": 200,
    }
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    assert invoke("run", "ngram-wikipedia", *args, "--out", out)[0] == 0
    _, plan = generated_set(out, 0)
    return out, [plan.real.decode(block.tolist()) for block in plan.real.test]


documents = st.one_of(
    st.sampled_from(["human"] * 6 + ["short", "empty", "symbols"]),
    st.text(alphabet="ab é\n.", min_size=1, max_size=30),
)


def _text(kind: str, human: list[str], i: int) -> str:
    return {
        "human": human[i % len(human)],
        "short": "one two",
        "empty": " ",
        "symbols": "%%% \x01 €€€",
    }.get(kind, kind)


@pytest.mark.slow  # about 40 s: make test-slow and CI run it
@FUZZ
@given(
    corpus=st.lists(documents, min_size=1, max_size=40),
    reference=st.integers(0, 60),
    fpr=st.sampled_from(["0.05", "0.1", "0.5", "0", "1", "-0.1", "nan"]),
    top=st.sampled_from(["0", "3", "-3"]),
    command=st.sampled_from(["audit", "detect"]),
)
def test_audit_and_detect_on_generated_corpora_exit_0_or_2(
    text_run, tmp_path: Path, corpus: list[str], reference: int, fpr: str, top: str, command: str
):
    run, human = text_run
    name = uuid.uuid4().hex
    corpus_file, reference_file = tmp_path / f"{name}-c.jsonl", tmp_path / f"{name}-r.jsonl"
    texts = [_text(kind, human, i) for i, kind in enumerate(corpus)]
    corpus_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    refs = human[len(human) // 2 :][:reference]  # apart from the corpus's human texts
    reference_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in refs))
    common = [corpus_file, "--model", run, "--reference", reference_file, "--fpr", fpr]
    if command == "audit":
        status, output = invoke("audit", *common, "--top", top, "--json")
    else:
        status, output = invoke("detect", *common)
    if command == "audit" and status == 0:
        found = json.loads(output.strip().splitlines()[-1])
        assert found["low"] < found["high"], found  # never a point
        assert found["low"] <= found["share"] <= found["high"]
        assert len(refs) >= 1 / float(fpr) - 1e-9  # the rule: refused below it
    if status == 0 and command == "detect":
        assert re.search(r"\d", output)


def test_the_damage_is_real(sweep_dir: Path, tmp_path: Path):
    """The damaged-sweep fuzzer's damages reach compare: a dropped row of the aggregate
    is refused (so exit 0 there is a judgement, not a blind spot)."""
    copy = tmp_path / "copy"
    shutil.copytree(sweep_dir, copy)
    _damage(copy / "aggregate.csv", "drop line", 0.5)
    assert invoke("compare", copy)[0] == 2
