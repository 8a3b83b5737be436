"""Fuzzing the command line: random --set overrides and random data files.

Whatever comes in, ``model-collapse run`` ends with exit 0 or exit 2 and one line, never a
traceback; and a refused command leaves no run directory behind that would refuse the
corrected command. Examples are derandomised (the same ones in every CI run) and sizes
are kept small, so the whole file runs in under a minute; its two fuzzers are in the slow
set (make test-slow, and CI) to keep make test under ten minutes (MODEL_COLLAPSE_FUZZ=N
hunts with N fresh random examples instead).
"""

from __future__ import annotations

import codecs
import math
import os
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from typer.testing import CliRunner, Result

from model_collapse.cli import app

SMALL = ["experiment.generations=2", "experiment.seeds=2", "source.n_test=100", "sampling.n=30"]
# MODEL_COLLAPSE_FUZZ=500 runs 500 fresh random examples per test instead (a longer hunt)
HUNT = int(os.environ.get("MODEL_COLLAPSE_FUZZ", "0"))
FUZZ = settings(
    max_examples=HUNT or 40,
    deadline=None,
    derandomize=not HUNT,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 3, -1, 10**9, 2**63, 1e-320, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)
literals = st.one_of(
    numbers.map(
        lambda v: repr(v) if not (isinstance(v, float) and not math.isfinite(v)) else str(v)
    ),
    st.sampled_from(
        ["true", "false", '"x"', "[]", "[1, 2]", "[[1, 0], [0, 1]]", '["kl"]', "", "=", "{"]
    ),
    st.text(max_size=12),
)
sizes = st.sampled_from(["0", "1", "2", "3", "-1", "2.5", '"3"', "10000000000", "true"])
keys = st.sampled_from(
    [
        "source.dim",
        "source.std",
        "source.mean",
        "source.cov",
        "source.correlation",
        "source.components",
        "source.spread",
        "source.df",
        "source.categories",
        "source.exponent",
        "source.noise",
        "source.n_train",
        "source.test_fraction",
        "source.name",
        "family.name",
        "family.estimator",
        "family.exact",
        "family.components",
        "family.covariance",
        "family.max_iter",
        "family.tol",
        "family.reg_covar",
        "family.bandwidth",
        "regime.name",
        "regime.real_fraction",
        "regime.size",
        "sampling.bias",
        "metrics.names",
        "metrics.projections",
        "sampling.nn",
        "bogus.key",
        "experiment",
        "family.name.x",
    ]
)
overrides = st.lists(
    st.one_of(
        st.tuples(keys, literals).map(lambda kv: f"{kv[0]}={kv[1]}"),
        st.tuples(
            st.sampled_from(["experiment.generations", "experiment.seeds", "sampling.n"]), sizes
        ).map(lambda kv: f"{kv[0]}={kv[1]}"),
    ),
    max_size=4,
)
presets = st.sampled_from(["gaussian-1d", "gmm-2d", "zipf", "linear"])


def exits_0_or_2(*args: object) -> Result:
    """A command's result, which must be exit 0, or exit 2 with one line: never a
    traceback (tests/cli/test_fuzz_commands.py asks it too)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    output = result.output + (result.stderr or "")
    assert result.exit_code in (0, 2), (args, result.exit_code, output, result.exception)
    assert "Traceback" not in output, output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return result


def run(*args: str):
    result = exits_0_or_2("run", *args)
    if result.exit_code == 2:
        why = re.sub(r"/\S+|\d\S*|'[^']*'", "_", result.stderr.strip().splitlines()[0])[:60]
        note(f"refused: {why}")
    else:
        note("ran")
    return result.exit_code


def note(what: str) -> None:
    """What the examples met, for --hypothesis-show-statistics."""
    if currently_in_test_context():
        event(what)


def corrected_command_runs(preset: str, out: Path) -> None:
    """After a refusal, the plain preset runs in the same --out: nothing was left there."""
    args = [preset, *(a for o in SMALL for a in ("--set", o)), "--out", str(out)]
    assert run(*args) == 0


@pytest.mark.slow  # about 20 s: make test-slow and CI run it
@FUZZ
@given(preset=presets, changes=overrides)
def test_random_overrides_exit_0_or_2(tmp_path: Path, preset: str, changes: list[str]):
    out = tmp_path / uuid.uuid4().hex
    args = [preset, *(a for o in [*SMALL, *changes] for a in ("--set", o)), "--out", str(out)]
    if run(*args) == 2:
        corrected_command_runs(preset, out)


# Cells of three kinds of file: clean numbers, numbers with specials, anything at all.
clean = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.integers(min_value=-5, max_value=9),
)
special = st.one_of(clean, st.sampled_from([0.0, 1e200, -1e-300, 3.0, math.nan, math.inf]))
anything = st.one_of(special, st.floats(), st.text(alphabet="abcé;,.\t -e", max_size=4))


@st.composite
def data_files(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = draw(st.integers(min_value=0, max_value=40))
    cols = draw(st.integers(min_value=1, max_value=4))
    separator = draw(st.sampled_from([",", ";", "\t", " ", "|"]))
    decimal = draw(st.sampled_from([".", ","]))
    cells = draw(st.sampled_from([clean, clean, special, anything]))
    table = [[draw(cells) for _ in range(cols)] for _ in range(rows)]
    lines = [separator.join(_cell(v, decimal) for v in row) for row in table]
    if draw(st.booleans()):
        lines.insert(
            0,
            separator.join(draw(st.sampled_from(["a", "b", "é", "x y", "1"])) for _ in range(cols)),
        )
    if not draw(st.integers(0, 3)) and lines:  # a damaged line, now and then
        lines[draw(st.integers(0, len(lines) - 1))] += draw(
            st.sampled_from([separator, "x", "", "\0"])
        )
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    suffix = draw(st.sampled_from([".csv", ".tsv", ".txt"]))
    return codecs.encode(text, encoding, errors="replace"), suffix


def _cell(value: object, decimal: str) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return text.replace(".", decimal) if isinstance(value, float) else text


@pytest.mark.slow  # about 20 s: make test-slow and CI run it
@FUZZ
@given(data=data_files(), preset=st.sampled_from(["gaussian-1d", "zipf", "linear", "gmm-2d"]))
def test_random_data_files_exit_0_or_2(tmp_path: Path, data: tuple[bytes, str], preset: str):
    content, suffix = data
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(content)
    out = tmp_path / uuid.uuid4().hex
    small = [o for o in SMALL if not o.startswith("sampling.n")] + ["sampling.n=0"]
    settings_ = [*small, "source.name=file", f"source.path={path}"]
    args = [preset, *(a for o in settings_ for a in ("--set", o)), "--out", str(out)]
    if run(*args) == 2:
        corrected_command_runs(preset, out)


@pytest.mark.parametrize("preset", ["gaussian-1d", "zipf"])
def test_the_corrected_command_check_can_fail(tmp_path: Path, preset: str):
    """A run that did start leaves its directory: a different command there is refused."""
    out = tmp_path / "r"
    args = [preset, *(a for o in SMALL for a in ("--set", o)), "--set", "experiment.seed=5"]
    assert run(*args, "--out", str(out)) == 0
    with pytest.raises(AssertionError):
        corrected_command_runs(preset, out)
