"""The comparison of a sweep's runs: intervals checked against SciPy, Holm's correction
against a worked example, and a real sweep where replace loses variance and mix keeps it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.sweeps.compare import (
    column_intervals,
    compare,
    holm,
    interval,
    interval_table,
    welch,
)
from model_collapse.sweeps.sweep import read_sweep, run_sweep
from model_collapse.sweeps.sweep_tables import read_aggregate


def test_the_t_interval_is_scipys_and_the_bootstrap_repeats_itself():
    values = np.random.default_rng(1).normal(3.0, 2.0, size=12)
    got = interval(values)
    low, high = scipy.stats.t.interval(0.95, 11, loc=values.mean(), scale=scipy.stats.sem(values))
    assert np.isclose(got["t_low"], low) and np.isclose(got["t_high"], high)
    assert got == interval(values)
    assert got["boot_low"] < values.mean() < got["boot_high"]


def test_every_generation_gets_the_interval_it_gets_alone():
    """Columns computed together match each computed alone (bootstrap included), and the
    half-widths are what theory gives for 12 seeds of N(0, 1): t's 2.20 / sqrt(12) = 0.64,
    the percentile bootstrap's about 1.96 sqrt(11/12) / sqrt(12) = 0.54 (medians over 70
    generations; their sampling spread is under 0.03)."""
    matrix = np.random.default_rng(2).normal(size=(12, 70))
    matrix[3, 5], matrix[4, 6] = np.nan, np.inf
    together = column_intervals(matrix)
    for j in (0, 5, 6, 69):
        alone = interval(matrix[:, j])
        for name, value in alone.items():
            assert np.isclose(together[name][j], value, equal_nan=True), (j, name)
    assert together["n"][5] == 11 and np.isinf(together["mean"][6])
    half_t = np.nanmedian(together["t_high"] - together["mean"])
    half_boot = np.nanmedian((together["boot_high"] - together["boot_low"]) / 2)
    assert 0.57 < half_t < 0.71 and 0.47 < half_boot < 0.61


def test_holm_keeps_what_survives_the_step_down():
    # 0.01 <= 0.05/4, 0.015 <= 0.05/3, 0.03 > 0.05/2: the step-down stops there
    assert holm([0.03, 0.01, 0.2, 0.015]) == [False, True, False, True]
    assert holm([0.03, 0.01, 0.2, 0.02]) == [False, True, False, False]  # 0.02 > 0.05/3


def test_two_collapsed_groups_have_no_p_value():
    assert np.isnan(welch(np.zeros(5), np.zeros(5)))


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """replace vs mix with half real data, 20 seeds, 50 generations of a 1-D Gaussian."""
    folder = tmp_path_factory.mktemp("sweep")
    path = folder / "sweep.toml"
    path.write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 50\n"experiment.seeds" = 20\n'
        '"sampling.n" = 10\n"regime.real_fraction" = 0.5\n'
        '[grid]\n"regime.name" = ["replace", "mix"]\n'
    )
    run_sweep(read_sweep(path), folder / "out", tell=lambda line: None)
    return folder / "out"


def test_mix_keeps_the_variance_replace_loses_and_the_difference_is_marked(sweep_dir):
    table, keys = read_aggregate(sweep_dir)
    assert keys == ["regime.name"]
    rows, metric, at, read = compare(table, "variance_ratio", None, keys)
    assert read.statistic == "median" and read.better == "closer"  # a heavy-tailed ratio
    assert (metric, at) == ("variance_ratio", 49)
    # E[ratio] under replace = (9/10)^50 = 0.005; mix holds near 1
    assert [r["run"] for r in rows] == ["regime.name=mix", "regime.name=replace"]
    # a permutation test of medians: p no smaller than 1 / (1 + permutations)
    assert rows[1]["differs"] and rows[1]["p"] < 1e-3
    assert rows[1]["high"] < rows[0]["low"]  # the medians' bootstrap intervals
    by_mean, *_ = compare(table, "variance_ratio", None, keys, statistic="mean")
    assert by_mean[1]["differs"] and by_mean[1]["p"] < 1e-6  # Welch's, on the means


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "variance_ratoi"], "no metric 'variance_ratoi' in this sweep; did you mean"),
        (["--at", "50"], "--at 50 is outside the sweep's generations 0 to 49"),
        (["--statistic", "mode"], "--statistic is mean, median or log, got 'mode'"),
    ],
)
def test_bad_comparisons_are_refused_in_one_line(sweep_dir, args, message):
    result = CliRunner().invoke(app, ["compare", str(sweep_dir), *args])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output


def test_compare_on_a_folder_that_is_not_a_sweep_is_refused(tmp_path: Path):
    result = CliRunner().invoke(app, ["compare", str(tmp_path)])
    assert result.exit_code == 2 and "is not a run, a suite or a sweep" in result.output


def test_compare_prints_the_ranked_table(sweep_dir):
    result = CliRunner().invoke(app, ["compare", str(sweep_dir), "-m", "variance_ratio"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    mix = next(i for i, line in enumerate(lines) if "regime.name=mix" in line)
    replace = next(i for i, line in enumerate(lines) if "regime.name=replace" in line)
    assert mix < replace and "* p = " in lines[replace]


def test_infinite_values_are_kept_in_the_mean_not_dropped():
    """kl_true is infinite for a collapsed seed: the group's mean is infinite, and its
    intervals and p-value are undefined rather than computed on the other seeds."""
    got = interval(np.array([0.5, np.inf, 0.7]))
    assert got["mean"] == np.inf and np.isnan(got["t_low"]) and np.isnan(got["boot_high"])
    assert np.isnan(welch(np.array([1.0, np.inf, 2.0]), np.array([1.0, 2.0, 3.0])))
    assert interval(np.array([1.0, np.nan, 3.0]))["mean"] == 2.0


def test_intervals_csv_holds_every_generation_as_compare_shows_it(sweep_dir):
    import pandas as pd

    table, keys = read_aggregate(sweep_dir)
    written = pd.read_csv(sweep_dir / "intervals.csv")
    assert list(written.columns[:3]) == ["run", *keys, "metric"]
    assert len(written) == table["run"].nunique() * len(written["metric"].unique()) * 50
    rows, metric, at, _ = compare(table, "variance_ratio", None, keys)
    for row in rows:
        line = written[
            (written["run"] == row["run"])
            & (written["metric"] == metric)
            & (written["generation"] == at)
        ].iloc[0]
        for name in ("mean", "t_low", "t_high", "boot_low", "boot_high"):
            assert np.isclose(line[name], row[name]), name
    again = interval_table(table, keys)
    assert again.to_csv(index=False) == (sweep_dir / "intervals.csv").read_text()


def _damaged(sweep_dir: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sweep_dir, copy)
    (copy / ".lock").unlink(missing_ok=True)
    return copy


def _first_value_changed(lines: list[str]) -> list[str]:
    head, row = lines[0], lines[1].rstrip("\n").split(",")
    row[-1] = str(float(row[-1]) + 1.0)  # the last metric of the first row
    return [head, ",".join(row) + "\n", *lines[2:]]


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        # a header and no rows (before: ValueError: cannot convert float NaN to integer)
        ("aggregate.csv", lambda ls: ls[:1], "aggregate.csv has no rows"),
        ("aggregate.csv", lambda ls: [*ls, ls[5]], "row twice"),
        ("aggregate.csv", lambda ls: ls[:-1], "holds 999 rows of run"),
        ("aggregate.csv", _first_value_changed, "differs from the metrics of run"),
        (
            "sweep.csv",
            lambda ls: [ls[0], ls[1].replace("done", "to do"), *ls[2:]],
            "has not finished (1 runs to do",
        ),
        (
            "sweep.csv",
            lambda ls: [line.replace(",mix,", ",accumulate,") for line in ls],
            "gives run regime.name=mix regime.name = 'accumulate', but it ran with",
        ),
        ("sweep.csv", lambda ls: [*ls, ls[1]], "lists a run twice"),
        (
            "sweep.csv",
            lambda ls: [ls[0], "../..,replace,done,\n"],
            "names a run '../..' that no sweep writes",
        ),
        (
            "regime.name=mix/metrics.csv",
            lambda ls: [*ls[:3], ls[3][:-2] + ("1" if ls[3][-2] != "1" else "2") + "\n", *ls[4:]],
            "regime.name=mix/metrics.csv was changed",
        ),
    ],
)
def test_compare_and_report_refuse_damaged_or_edited_sweep_tables(
    sweep_dir: Path, tmp_path: Path, table: str, change, message: str
):
    """compare and report read what run verifies: each table checked against the runs
    it gathers (before: read as if intact, or a traceback for an empty one). The report
    reads the runs themselves, not the aggregate, and shows an unfinished sweep's
    finished runs."""
    copy = _damaged(sweep_dir, tmp_path)
    lines = (copy / table).read_text().splitlines(keepends=True)
    (copy / table).write_text("".join(change(lines)))
    for command in ("compare", "report"):
        result = CliRunner().invoke(app, [command, str(copy)])
        if command == "report" and (table == "aggregate.csv" or "to do" in message):
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 2, (command, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert message in result.output, result.output


def test_compare_reads_an_intact_copy(sweep_dir: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["compare", str(_damaged(sweep_dir, tmp_path))])
    assert result.exit_code == 0, result.output


def test_a_lower_is_better_metric_ranks_its_lowest_first(sweep_dir):
    """Before, compare ranked every metric highest first: for a distance, the worst run."""
    table, keys = read_aggregate(sweep_dir)
    rows, _, _, read = compare(table, "wasserstein", None, keys)
    assert read.better == "lower"
    assert [r["run"] for r in rows] == ["regime.name=mix", "regime.name=replace"]
    assert rows[0]["mean"] < rows[1]["mean"]
    printed = CliRunner().invoke(app, ["compare", str(sweep_dir), "-m", "wasserstein"])
    assert "lowest first" in printed.output and "(best)" in printed.output


def test_closer_ranks_by_distance_from_the_real_level_on_the_metrics_scale():
    from model_collapse.sweeps.compare import Reading

    ratio = Reading("closer", 1.0, "median", log_scale=True)
    assert ratio.distance(0.5) == ratio.distance(2.0)  # halved as far as doubled
    assert Reading("closer", 0.5).distance(0.4) < Reading("closer", 0.5).distance(0.7)
    assert Reading("higher").distance(3.0) < Reading("higher").distance(1.0)
    assert np.isinf(Reading("lower").distance(float("nan")))  # undefined last


def test_the_permutation_test_holds_its_false_alarm_rate_and_finds_a_shift():
    """200 pairs of groups of 20 seeds from one log-normal law (heavy-tailed, as a
    variance ratio): at 5%, false alarms stay within 3 standard errors of 5% (a bound that
    a correct test breaks with probability about 0.1%); a shift of the median by a factor
    4 is found in most pairs."""
    from model_collapse.sweeps.compare import PERMUTATIONS, permuted

    rng = np.random.default_rng(11)
    draws = np.exp(rng.normal(size=(200, 2, 20)))
    p_same = np.array([permuted("median", a, b) for a, b in draws])
    rate, se = (p_same <= 0.05).mean(), np.sqrt(0.05 * 0.95 / 200)
    assert rate <= 0.05 + 3 * se
    p_shift = np.array([permuted("median", a * 4, b) for a, b in draws[:50]])
    assert (p_shift <= 0.05).mean() > 0.8
    assert p_same.min() >= 1 / (1 + PERMUTATIONS)
    assert np.isnan(permuted("log", np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])))


def test_a_group_steady_to_rounding_is_compared_without_a_warning():
    """Every seed at 0.7 but for one rounding step: scipy warns of precision loss, which
    must not reach the user (nor fail under -W error); the test still runs."""
    import warnings

    from model_collapse.sweeps.compare import welch

    steady = np.array([0.7, 0.7, 0.7 + 7e-16])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = welch(steady, np.array([0.5, 0.6, 0.55]))
    assert 0 < p < 0.05
