"""The web regime: a pool of real, new human and published items that grows each
generation, each training set a sample of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_collapse.api import load_config, run
from model_collapse.core.errors import UserInputError

WEB = [
    "regime.name=web", "experiment.generations=4", "experiment.seeds=200", "sampling.n=100",
    "source.n_train=100", "regime.human_per_generation=50", "regime.publish=100",
]  # fmt: skip


def test_the_synthetic_share_follows_the_web_as_it_grows(tmp_path: Path):
    """Year g's web holds 100 real rows, 50 g human rows and 100 g published ones: its
    synthetic share is 100 g / (100 + 150 g). A sample of 100 of its N rows has a share
    with standard error sqrt(p (1 - p) / 100 (N - 100) / (N - 1)); the mean of 200 seeds
    is held to five of its standard errors (a false alarm well under once in a million)."""
    metrics = run(load_config("gaussian-1d", WEB), tmp_path / "w").metrics
    share = metrics.groupby("generation")["web_synthetic_share"].mean()
    assert share[0] == 0.0
    for g in (1, 2, 3):
        total, p = 100 + 150 * g, 100 * g / (100 + 150 * g)
        se = np.sqrt(p * (1 - p) / 100 * (total - 100) / (total - 1)) / np.sqrt(200)
        assert abs(share[g] - p) < 5 * se, (g, share[g], p)


def test_a_web_with_nothing_published_is_all_real(tmp_path: Path):
    metrics = run(load_config("gaussian-1d", [*WEB, "regime.publish=0"]), tmp_path / "w").metrics
    assert (metrics["web_synthetic_share"] == 0).all()


def test_a_falling_human_share_is_a_schedule():
    config = load_config(
        "gaussian-1d",
        [*WEB, 'regime.human_per_generation={schedule = "linear", start = 100, end = 20}'],
    )
    assert config.regime.human_per_generation["schedule"] == "linear"


def test_the_web_needs_samples_not_statistics():
    from model_collapse.assemble.plan import plan_run

    with pytest.raises(UserInputError, match=r"set family\.exact = false"):
        plan_run(load_config("gaussian-1d", [*WEB, "family.exact=true"]))


def test_a_data_set_too_small_for_the_human_rows_is_refused_before_the_run(tmp_path, iris_csv):
    from model_collapse.assemble.plan import plan_run

    config = load_config(
        "gaussian-1d",
        [*WEB, "source.name=file", f"source.path={iris_csv}", "source.n_train=50",
         "sampling.n=50", "regime.publish=50"],
    )  # fmt: skip
    with pytest.raises(UserInputError, match="new real"):
        plan_run(config)


@pytest.mark.slow  # two suites' runs and the report: make test-slow, for make test's margin
def test_the_polluted_web_preset_reads_each_year_against_its_web(tmp_path: Path):
    """The first movers' figure and sentence: the polluted web's later models lose
    variance, a clear negative slope over 10 seeds; the clean web's stays at 0 share."""
    from typer.testing import CliRunner

    from model_collapse.cli import app

    args = ["run", "polluted-web-gmm", "--set", "experiment.seeds=10", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    polluted = next(line for line in lines if line.startswith("Under polluted, each later"))
    high = float(polluted.split("[")[1].split(",")[1].split("]")[0])
    assert high < 0  # the whole interval below 0: later years are worse
    assert any("with web_synthetic_share at 0 throughout" in line for line in lines)
    assert (tmp_path / "figures/first_mover.png").stat().st_size > 10_000


@pytest.mark.slow  # a GPT each year and seed: make test-slow
def test_the_polluted_web_preset_runs_a_teacher_and_two_students(tmp_path: Path):
    """The text web, cut to 3 years of 2 seeds: three lineages, each with its rows; the
    teacher, fitted once, scores the real test blocks the same every year; the students
    learn from a web the teacher writes into, so their synthetic share rises from 0."""
    small = [
        "experiment.generations=3", "experiment.seeds=2", "family.epochs=1",
        "source.n_train=300", "sampling.n=300",
    ]  # fmt: skip
    metrics = run(load_config("polluted-web", small), tmp_path / "w").metrics
    lineages = metrics.groupby("lineage", sort=False)
    assert list(lineages.groups) == ["gpt", "teacher", "ngram_student"]
    teacher = metrics[metrics["lineage"] == "teacher"]
    assert teacher.groupby("seed")["test_perplexity"].nunique().eq(1).all()
    share = metrics[metrics["generation"] == 2].groupby("lineage")["web_synthetic_share"]
    assert share.min()["teacher"] == 0
    assert share.min()["gpt"] > 0 and share.min()["ngram_student"] > 0
    from model_collapse.output.report import gather, text_samples

    parts = gather(tmp_path / "w").runs  # each lineage its own family and text samples
    assert [part.family for part in parts] == ["gpt", "ngram", "ngram"]
    texts = [text_samples(part)[2] for part in parts]
    assert len(set(texts)) == 3


@pytest.mark.parametrize(
    "regime",
    ["pool", "oracle", pytest.param("weight", marks=pytest.mark.slow)],  # a detector
)
def test_the_landed_defences_sort_a_sample_of_the_web(tmp_path: Path, regime):
    """regime.real_from = web: the pool is the web's sample, its history kept; the oracle
    keeps every real item of it, and weighted resampling keeps the variance the plain
    pool loses (5 seeds, 6 years, a GMM sampling at bias 0.7; by year 5 the web holds 500
    real, 1,000 new human and 2,500 published points)."""
    sets = ["regime.real_from=web", "experiment.generations=6", "experiment.seeds=5",
            "sampling.bias=0.7", "regime.human_per_generation=200", "regime.publish=500",
            f"regime.name={regime}", "sampling.n=500"]  # fmt: skip
    detector = "none" if regime != "weight" else "classifier"
    config = load_config("gmm-2d", [*sets, f"regime.detector={detector}"])
    metrics = run(config, tmp_path / regime).metrics
    last = metrics[metrics["generation"] == 5]
    # the first movers' exposure: the web sample's synthetic share, before any choice
    assert (last["web_synthetic_share"] > 0.5).all()
    if regime == "pool":  # the pool is the sample as it comes
        np.testing.assert_allclose(last["web_synthetic_share"], 1 - last["real_share"])
    if regime == "oracle":
        assert (last["real_share"] == 1.0).all()
    if regime == "pool":
        assert (last["real_share"] < 0.5).all()  # most of the web is generated by then
        assert last["variance_ratio"].median() < 0.9
    if regime == "weight":
        assert last["variance_ratio"].median() > 0.9


def test_a_pool_from_the_web_needs_samples():
    from model_collapse.assemble.plan import plan_run

    config = load_config("gaussian-1d", [*WEB, "regime.name=pool", "regime.real_from=web",
                                         "family.exact=true"])  # fmt: skip
    with pytest.raises(UserInputError, match=r"real_from = web draws items from the web"):
        plan_run(config)
