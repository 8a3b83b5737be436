"""model-collapse budget: the share of generated data a tolerance affords, with its interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.sweeps.budget import (
    Tolerance,
    budget_of,
    crossing,
    finer,
    worse,
)
from model_collapse.sweeps.compare import Reading


def test_a_tolerance_is_a_share_of_the_baseline_or_a_number():
    assert Tolerance.parse("5%").allowed(-2.0) == pytest.approx(0.1)
    assert Tolerance.parse("0.3").allowed(100.0) == 0.3
    assert str(Tolerance.parse("5%")) == "5%" and str(Tolerance.parse("2.5%")) == "2.5%"


def test_worse_follows_the_metrics_direction():
    assert worse(Reading("lower"), 1.2, 1.0) == pytest.approx(0.2)
    assert worse(Reading("higher"), 1.2, 1.0) == pytest.approx(-0.2)  # better, not worse
    assert worse(Reading("closer", 1.0), 0.8, 0.95) == pytest.approx(0.15)
    assert worse(Reading("closer", 1.0), 1.05, 0.95) == pytest.approx(0.0)  # as close as it


def test_the_crossing_is_interpolated_between_the_grid_points_around_it():
    shares = np.array([0.0, 0.5, 1.0])
    assert crossing(shares, np.array([-1.0, -0.5, 0.5])) == pytest.approx(0.75)
    assert crossing(shares, np.array([-1.0, -1.0, -0.1])) == 1.0  # never crossed
    assert crossing(shares, np.array([0.0, 1.0, 2.0])) == 0.0  # crossed at once
    assert finer([0.0, 0.5, 1.0], np.array([-1.0, -0.5, 0.5])) == [0.625, 0.75, 0.875]
    # an undefined value is not within the tolerance: the budget stops before it
    assert crossing(np.array([0.0, 0.2, 0.4, 0.6]), np.array([-1, -0.5, np.nan, 3])) == 0.2


def test_a_looser_tolerance_affords_at_least_as_much_and_the_interval_holds_it():
    """Per-seed values that fall linearly with the share, with noise: the budget at 20%
    is past the budget at 5%, each inside its own bootstrap interval."""
    rng = np.random.default_rng(0)
    shares = np.linspace(0, 1, 11)
    values = {s: 1.0 - 0.4 * s + 0.02 * rng.standard_normal(40) for s in shares}
    read = Reading("higher", statistic="mean")
    tight = budget_of(values, read, Tolerance.parse("5%"), np.mean)
    loose = budget_of(values, read, Tolerance.parse("20%"), np.mean)
    assert tight[1] <= tight[0] <= tight[2] and loose[1] <= loose[0] <= loose[2]
    assert tight[0] == pytest.approx(0.125, abs=0.05) and loose[0] == pytest.approx(0.5, abs=0.05)


SMALL = ["--set", "experiment.generations=5", "--set", "experiment.seeds=20"]


@pytest.mark.slow  # two searches of up to nine runs each
def test_budget_on_the_gaussian_chain_grows_with_the_tolerance(tmp_path: Path):
    found = {}
    for tolerance in ("5%", "30%"):
        out = tmp_path / tolerance.rstrip("%")
        args = ["budget", "gaussian-1d", *SMALL, "--metric", "variance_ratio"]
        result = CliRunner().invoke(app, [*args, "--tolerance", tolerance, "--out", str(out)])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out / "budget.csv")
        assert table["row"].iloc[-1] == "budget" and (table["row"][:-1] == "grid").all()
        last = table.iloc[-1]
        assert 0 <= last["share_low"] <= last["share"] <= last["share_high"] <= 1
        found[tolerance] = last["share"]
        assert result.output.strip().splitlines()[-1].startswith(f"Up to {last['share']:.0%}")
        assert (out / "figures/budget.png").stat().st_size > 10_000
    assert found["30%"] >= found["5%"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "variance_ratyo"], "unknown metric 'variance_ratyo'; did you mean"),
        (["--metric", "test_perplexity"], "this run does not compute test_perplexity"),
        (["--tolerance", "-5%"], "--tolerance must be 0 or more"),
        (["--tolerance", "much"], "--tolerance takes a share such as 5%"),
        (["--at", "500"], "--at must be a generation from 0 to 4, got 500"),
        (["--set", "regime.real_fraction=0.2"], "budget sets the regime (mix) and its real"),
    ],
)
def test_a_bad_budget_is_refused_in_one_line_before_anything_runs(tmp_path: Path, args, message):
    given = {"--metric": "variance_ratio", "--tolerance": "5%"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        given[flag] = value
    words = [w for flag, value in given.items() for w in (flag, value) if flag != "--set"]
    sets = ["--set", given["--set"]] if "--set" in given else []
    result = CliRunner().invoke(
        app, ["budget", "gaussian-1d", *SMALL, *sets, *words, "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not (tmp_path / "b").exists()
