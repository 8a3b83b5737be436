"""Collapse is a result: long runs of every numeric family at tiny n end with the collapsed
(or diverged) seeds reported, limiting metric values, and no warning on the way.

pytest turns every warning into an error here (filterwarnings = error), so these runs
also show that no RuntimeWarning escapes the loop.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model_collapse

QUICK = ["source.n_test=200", "metrics.projections=8"]

# (preset, overrides, what every seed must end as)
LONG_RUNS = {
    "gaussian 1-D, n = 10": (
        "gaussian-1d",
        ["sampling.n=10", "experiment.generations=2000", "experiment.seeds=20"],
        "collapsed",
    ),
    "gaussian 1-D, n = 2": (
        "gaussian-1d",
        ["sampling.n=2", "experiment.generations=1000", "experiment.seeds=2"],
        "collapsed",
    ),
    "gaussian 2-D, n = 3": (
        "gaussian-1d",
        ["sampling.n=3", "source.dim=2", "experiment.generations=1000", "experiment.seeds=2"],
        "collapsed",
    ),
    "gaussian 3-D exact, n = 4": (
        "gaussian-1d",
        [
            "sampling.n=4",
            "source.dim=3",
            "family.exact=true",
            "experiment.generations=1000",
            "experiment.seeds=3",
        ],
        "collapsed",
    ),
    "categorical, n = 2": (
        "zipf",
        ["sampling.n=2", "experiment.generations=1000", "experiment.seeds=3"],
        "collapsed",
    ),
    "categorical exact, n = 3": (
        "zipf",
        ["sampling.n=3", "family.exact=true", "experiment.generations=1000", "experiment.seeds=3"],
        "collapsed",
    ),
    "gmm 2-D, n = 3": (
        "gmm-2d",
        ["sampling.n=3", "experiment.generations=1000", "experiment.seeds=2"],
        "collapsed",
    ),
    "kde, n = 2": (
        "gaussian-1d",
        ["family.name=kde", "sampling.n=2", "experiment.generations=1000", "experiment.seeds=3"],
        "collapsed",
    ),
    "kde, n = 10 (the variance grows until it overflows)": (
        "gaussian-1d",
        ["family.name=kde", "sampling.n=10", "experiment.generations=6000", "experiment.seeds=2"],
        "diverged",
    ),
    "linear, n = d + 1": (
        "linear",
        ["sampling.n=11", "experiment.generations=1000", "experiment.seeds=3"],
        "collapsed",
    ),
}


SLOW_RUNS = {"kde, n = 10 (the variance grows until it overflows)"}  # 13 s: make test-slow


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.slow) if c in SLOW_RUNS else c for c in LONG_RUNS],
)
def test_long_tiny_n_runs_end_with_collapsed_seeds_reported(tmp_path: Path, case: str):
    preset, overrides, ending = LONG_RUNS[case]
    result = model_collapse.run(preset, tmp_path / "r", [*overrides, *QUICK])
    generations = int(result.metrics["generation"].max()) + 1
    assert generations == result.config.experiment.generations >= 1000
    table = pd.read_csv(tmp_path / "r/collapse.csv")
    assert len(table) == result.config.experiment.seeds
    column = f"{ending}_at"
    assert table[column].notna().all(), table  # every seed got there, and when is kept
    log = (tmp_path / "r/run.log").read_text()
    assert f" {ending}: " in log
    assert (tmp_path / "r/figures/collapse.png").exists()
    last = result.metrics[result.metrics["generation"] == generations - 1]
    if ending == "diverged":  # undefined values are NaN, never a made-up number
        assert last["variance_ratio"].isna().all() and last["tail_mass_ratio"].isna().all()
        assert "variance_ratio is infinite for seed" in log and "diverged at generation" in log
        return
    limits = {
        "support_fraction": 1 / result.config.source.params.get("categories", np.nan),
        "entropy_ratio": 0.0,
        "heterozygosity_ratio": 0.0,
        "kl_true": np.inf,
    }
    for name, limit in limits.items():
        if name in last:
            assert (last[name] == limit).all(), (name, last[name].tolist())
    if result.config.family.name == "categorical":
        assert not np.signbit(last["entropy_ratio"]).any()  # 0.0, not -0.0
    if "variance_ratio" in last:  # 0 on the sample path; a mixture stays at its reg_covar
        assert (last["variance_ratio"] < 1e-4).all()
        point_masses = result.config.family.name in ("gaussian", "kde")
        if point_masses and not result.config.family.exact:  # every sample is the mean
            assert (last["variance_ratio"] == 0.0).all()
    if "kl_true" in last:
        assert "kl_true is infinite" in log and "collapsed at generation" in log


def test_collapse_generations_agree_with_the_log(tmp_path: Path):
    model_collapse.run(
        "gaussian-1d",
        tmp_path / "r",
        ["sampling.n=2", "experiment.generations=400", "experiment.seeds=4", *QUICK],
    )
    table = pd.read_csv(tmp_path / "r/collapse.csv")
    log = (tmp_path / "r/run.log").read_text()
    for seed, at in zip(table["seed"], table["collapsed_at"], strict=True):
        assert f"generation {int(at)}: " in log and f"{seed}" in log
    assert table["diverged_at"].isna().all()


def test_sampling_bias_above_one_diverges_into_nan_not_garbage():
    result = model_collapse.run(
        "gaussian-1d",
        overrides=["sampling.bias=10", "experiment.generations=400", "experiment.seeds=2", *QUICK],
    )
    last = result.metrics[result.metrics["generation"] == 399]
    assert last["variance_ratio"].isna().all() and last["tail_mass_ratio"].isna().all()
