"""run --decompose: three arms, and the cause named from their numbers by a stated test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.api import load_config
from model_collapse.cli import app
from model_collapse.families.empirical import EmpiricalBlocks, EmpiricalModel
from model_collapse.sweeps.decompose import (
    FUNCTIONAL,
    LARGE,
    LARGE_TEXT,
    STATISTICAL,
    decompose_configs,
)

SMALL = ["--set", "experiment.generations=30", "--set", "experiment.seeds=100"]


def _decompose(tmp_path: Path, *sets: str):
    result = CliRunner().invoke(
        app, ["run", "gaussian-1d", *SMALL, *sets, "--decompose", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_a_gaussian_refitted_on_its_own_samples_collapses_by_sampling_error(tmp_path: Path):
    """The Gaussian family holds a Gaussian truth: its functional-only arm (n x 100) all
    but stands still, its statistical-only arm falls as the ordinary loop does."""
    lines = _decompose(tmp_path, "--set", "sampling.n=20")
    assert lines[-2].startswith("Statistical error dominates the drift of variance_ratio")
    assert "their last values differ clearly" in lines[-1]
    assert (tmp_path / "d/verdict.txt").read_text().strip().endswith(lines[-1])


@pytest.mark.slow  # 6 s: make test-slow, to keep make test's margin
def test_a_kernel_density_drifts_by_its_own_kernel_not_by_sampling(tmp_path: Path):
    """A KDE adds its kernel's variance every generation, at any n: its functional arm
    spreads out faster than the Gaussian arm of n = 100 shrinks."""
    lines = _decompose(tmp_path, "--set", "family.name=kde")
    assert lines[-2].startswith("Functional error dominates the drift of variance_ratio")
    assert "the statistical-only arm (gaussian, n = 100)" in lines[-2]
    assert f"the functional-only arm (kde, n = {100 * LARGE})" in lines[-2]


def test_the_arms_change_only_what_they_must():
    config = load_config("gmm-2d", ["sampling.bias=0.7"])
    arms = decompose_configs(config)
    assert arms[STATISTICAL].family.name == "gaussian"
    assert arms[STATISTICAL].sampling.n == config.sampling.n
    assert arms[STATISTICAL].sampling.bias == 1.0  # a biased sampler is a functional error
    assert arms[FUNCTIONAL].family == config.family
    assert arms[FUNCTIONAL].sampling.n == LARGE * config.sampling.n
    assert arms[FUNCTIONAL].source.n_train == LARGE * config.sampling.n
    moons = decompose_configs(load_config("gmm-2d", ["source.name=moons"]))
    assert moons[STATISTICAL].family.name == "empirical"  # no family holds two moons


def test_the_empirical_family_draws_only_its_own_rows():
    rows = np.random.default_rng(0).normal(size=(3, 50, 2))
    model = EmpiricalModel().fit(rows, np.random.default_rng(1))
    drawn = model.sample(200, np.random.default_rng(2))
    for seed in range(3):
        mine = {tuple(r) for r in rows[seed]}
        assert all(tuple(r) in mine for r in drawn[seed])
    mean, cov = model.moments()
    assert np.allclose(mean, rows.mean(axis=1)) and np.allclose(
        cov[0], np.cov(rows[0].T, bias=True)
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["defences-gmm"], "--decompose runs three arms of one config; a suite holds several"),
        (["gmm-2d", "--set", "source.name=file"], "source 'file' holds a fixed sample"),
    ],
)
def test_what_cannot_be_decomposed_is_refused_in_one_line(tmp_path: Path, args, message):
    rows = tmp_path / "rows.csv"
    rows.write_text("x,y\n" + "".join(f"{i % 7},{i % 5}\n" for i in range(2000)))
    args = [*args, "--set", f"source.path={rows}"] if "source.name=file" in args else args
    result = CliRunner().invoke(app, ["run", *args, "--decompose", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not (tmp_path / "d").exists()


TEXT = ["source.max_documents=40", "source.vocab_size=512", "source.n_train=200"]


def test_a_language_model_is_decomposed_with_blocks_redrawn_and_ten_times_the_blocks():
    config = load_config("ngram-wikipedia", [*TEXT, "sampling.n=200"])
    arms = decompose_configs(config)
    assert arms[STATISTICAL].family.name == "empirical-text"
    assert arms[FUNCTIONAL].family == config.family
    assert arms[FUNCTIONAL].sampling.n == LARGE_TEXT * 200
    assert arms[FUNCTIONAL].source == config.source  # a corpus: generation 0 is the same
    every = decompose_configs(load_config("ngram-wikipedia", [*TEXT, "sampling.n=0"]))
    assert every[FUNCTIONAL].sampling.n == LARGE_TEXT * every[STATISTICAL].sampling.n > 0


def test_redrawn_blocks_are_whole_training_blocks():
    blocks = np.random.default_rng(0).integers(0, 50, size=(2, 30, 8))
    model = EmpiricalBlocks().fit(blocks, np.random.default_rng(1))
    drawn = model.sample(100, np.random.default_rng(2))
    assert drawn.dtype == blocks.dtype
    for seed in range(2):
        assert {tuple(b) for b in drawn[seed]} <= {tuple(b) for b in blocks[seed]}
    assert not model.collapsed().any()
    assert EmpiricalBlocks().fit(np.ones((1, 5, 8), int), None).collapsed().all()


@pytest.mark.slow  # three n-gram loops, one on 2,000 blocks a generation
def test_an_ngram_collapse_is_decomposed_on_a_metric_every_arm_has(tmp_path: Path):
    sets = [a for s in [*TEXT, "sampling.n=200", "experiment.generations=5",
                        "experiment.seeds=3"] for a in ("--set", s)]  # fmt: skip
    result = CliRunner().invoke(
        app, ["run", "ngram-wikipedia", *sets, "--decompose", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.strip().splitlines()[-3:])
    assert "error dominates the drift of" in said or "Neither cause is shown to dominate" in said
    assert "the statistical-only arm (empirical-text, n = 200)" in said
    assert f"the functional-only arm (ngram, n = {200 * LARGE_TEXT})" in said
    # the empirical arm has no probabilities: a perplexity headline gives way, and says so
    assert "drift of test_perplexity" not in said
    assert "test_perplexity" not in said or "test_perplexity is not read" in said


@pytest.mark.slow  # three small GPTs
def test_a_gpt_collapse_is_decomposed_too(tmp_path: Path):
    tiny = ["family.name=gpt", "family.n_layer=1", "family.n_embd=32", "family.n_head=2",
            "family.epochs=1", "sampling.n=100", "experiment.generations=3"]  # fmt: skip
    sets = [a for s in [*TEXT, *tiny] for a in ("--set", s)]
    result = CliRunner().invoke(
        app, ["run", "ngram-wikipedia", *sets, "--decompose", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.strip().splitlines()[-3:])
    assert f"the functional-only arm (gpt, n = {100 * LARGE_TEXT})" in said
    assert "the statistical-only arm (empirical-text, n = 100)" in said
