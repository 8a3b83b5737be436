"""The verdict: a headline computed from a run's, suite's or sweep's numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import model_collapse
from model_collapse.cli import app
from model_collapse.output.report import gather
from model_collapse.output.verdict import headline_metric, verdict, write_verdict

SUITE = """
[experiment]
generations = 30
seeds = 20
[source]
n_test = 300
[sampling]
n = 20
[suite]
title = "replace vs accumulate"
[suite.variants]
replace = ["regime.name=replace"]
accumulate = ["regime.name=accumulate"]
"""


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("verdict")
    (folder / "suite.toml").write_text(SUITE)
    model_collapse.run_suite(folder / "suite.toml", folder / "out")
    return folder / "out"


def test_the_verdict_reads_the_headline_metric_from_the_numbers(suite_dir: Path):
    lines = write_verdict(suite_dir)
    assert (suite_dir / "verdict.txt").read_text().splitlines() == lines
    first, differ = lines[:2]
    assert first.startswith("By generation 29, variance_ratio (median of 20 seeds; real level 1)")
    # each group's median at the last generation, as intervals.csv holds it, best first
    intervals = pd.read_csv(suite_dir / "intervals.csv")
    last = intervals[(intervals["metric"] == "variance_ratio") & (intervals["generation"] == 29)]
    values = dict(zip(last["variant"], last["value"], strict=True))
    assert values["accumulate"] > values["replace"]
    assert first.index("under accumulate") < first.index("under replace")
    for name, value in values.items():
        assert f"{value:.3g} under {name}" in first
    assert differ == (
        "replace differs clearly from accumulate, the best (a permutation test of medians, "
        "Holm-corrected, 5%)."
    )


def test_without_a_family_headline_the_clearest_metric_leads(suite_dir: Path, monkeypatch):
    from model_collapse.families import FAMILIES

    gathered = gather(suite_dir, ends_only=True)
    assert headline_metric(gathered) == "variance_ratio"  # the Gaussian's own headline
    plain = dataclasses.replace(FAMILIES.get("gaussian"), headline="")
    monkeypatch.setitem(FAMILIES._entries, "gaussian", plain)
    chosen = headline_metric(gathered)
    assert chosen is not None and chosen != ""
    assert verdict(gathered)[0].startswith(f"By generation 29, {chosen} (")


def test_the_ends_only_intervals_equal_the_whole_tables(suite_dir: Path):
    whole, ends = gather(suite_dir).intervals, gather(suite_dir, ends_only=True).intervals
    kept = whole[whole["generation"].isin([0, 29])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, ends.reset_index(drop=True))
    assert np.isfinite(ends["value"]).any()


def test_sweep_prints_the_verdict_last_and_writes_it(tmp_path: Path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 5\n"experiment.seeds" = 5\n'
        '[grid]\n"regime.name" = ["replace", "accumulate"]\n'
    )
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "sw")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "sw/verdict.txt").read_text().splitlines()
    assert result.stdout.strip().splitlines()[-len(written) :] == written
    assert "under replace" in written[0] and "under accumulate" in written[0]
