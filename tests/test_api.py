"""The Python API and the run directory's provenance."""

import json
from pathlib import Path

import numpy as np

import model_collapse
from model_collapse.families.gmm import GMMModel
from tests.conftest import make_config


def test_readme_example():
    result = model_collapse.run(
        "gaussian-1d", overrides=["experiment.seeds=20", "experiment.generations=5"]
    )
    assert result.metrics.columns[:3].tolist() == ["seed", "generation", "mean_error"]
    assert len(result.metrics) == 100 and result.directory is None
    assert len(result.plot(["variance_ratio"]).axes) == 1


def test_provenance_records_versions_seeds_and_times(tmp_path: Path):
    model_collapse.run(make_config(), tmp_path / "r")
    prov = json.loads((tmp_path / "r/provenance.json").read_text())
    assert prov["package_version"] == model_collapse.__version__
    assert prov["seeds"]["root_seed"] == 7 and prov["seeds"]["seeds"] == 4
    assert set(prov["libraries"]) >= {"numpy", "scipy", "pandas", "matplotlib"}
    assert prov["started"] <= prov["finished"]
    assert len(prov["git_commit"]) == 40 or prov["git_commit"] == "unknown"


def test_open_run_reads_back_what_run_wrote(tmp_path: Path):
    written = model_collapse.run(make_config(), tmp_path / "r")
    read = model_collapse.open_run(tmp_path / "r")
    assert read.config == written.config
    np.testing.assert_array_equal(read.metrics.to_numpy(), written.metrics.to_numpy())


def test_gmm_sampling_bias_scales_every_component_covariance():
    state = {
        "weights_": np.array([[0.5, 0.5]]),
        "means_": np.array([[[-9.0], [9.0]]]),
        "covariances_": np.array([[[[1.0]], [[4.0]]]]),
    }
    x = GMMModel(2, bias=0.25).set_state(state).sample(100_000, np.random.default_rng(0))[0, :, 0]
    for side, var in ((x < 0, 0.25), (x > 0, 1.0)):
        part = x[side]
        assert abs(part.var() - var) < 5 * var * np.sqrt(2 / len(part))


def test_accumulating_keeps_linear_test_error_bounded_where_replacing_does_not():
    """Gerstgrasser et al. 2024: replace's test error grows with g, accumulate's stays put."""

    def last_error(regime: str) -> np.ndarray:
        metrics = model_collapse.run(
            {
                "experiment": {"generations": 30, "seeds": 100, "seed": 3},
                "source": {"name": "linear", "dim": 5, "noise": 1.0, "n_test": 2000},
                "family": {"name": "linear"},
                "regime": {"name": regime},
                "sampling": {"n": 50},
            }
        ).metrics
        return metrics.query("generation == 29")["test_error"].to_numpy()

    replace, accumulate = last_error("replace"), last_error("accumulate")
    gap = replace.mean() - accumulate.mean()
    se = np.sqrt(replace.var(ddof=1) / 100 + accumulate.var(ddof=1) / 100)
    assert gap > 4 * se


def test_a_run_gives_the_same_bytes_whatever_blas_threads_it_is_given():
    """Dask's and Ray's workers run BLAS on one thread, a laptop's numpy on every core;
    matrix products sum in another order on more threads. A run pins one thread, so a
    2-D GMM gives the same metrics either way."""
    from threadpoolctl import threadpool_limits

    import model_collapse

    settings = ["experiment.generations=3", "experiment.seeds=20", "sampling.n=500"]
    with threadpool_limits(limits=2, user_api="blas"):
        many = model_collapse.run("gmm-2d", overrides=settings).metrics
    with threadpool_limits(limits=1, user_api="blas"):
        one = model_collapse.run("gmm-2d", overrides=settings).metrics
    assert many.to_csv(index=False) == one.to_csv(index=False)


def test_a_finished_run_asked_again_keeps_its_figures_and_draws_missing_ones(tmp_path: Path):
    import shutil

    config = make_config(experiment={"generations": 3, "seeds": 2})
    model_collapse.run(config, tmp_path / "r")
    figure = next((tmp_path / "r/figures").glob("*.png"))
    figure.write_bytes(b"kept")  # a finished run does not draw its figures again
    model_collapse.run(config, tmp_path / "r")
    assert figure.read_bytes() == b"kept"
    shutil.rmtree(tmp_path / "r/figures")  # none there: drawn
    model_collapse.run(config, tmp_path / "r")
    assert any((tmp_path / "r/figures").glob("*.png"))
