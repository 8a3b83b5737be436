"""--track mlflow: runs and sweeps logged to a real local MLflow file store, read back with
MLflow's own client; resumes log every generation exactly once."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from tests.conftest import run_interrupted

SMALL = ["--set", "experiment.generations=5", "--set", "experiment.seeds=4"]


def _client(store: Path):
    from mlflow.tracking import MlflowClient

    from model_collapse.sweeps.tracking import client

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mlflow = client(store.as_uri())
        mlflow.search_experiments()  # opens the store here, where its warning is ignored
    assert isinstance(mlflow, MlflowClient)
    return mlflow


def _runs(store: Path, experiment: str = "model-collapse") -> list:
    mlflow = _client(store)
    found = mlflow.get_experiment_by_name(experiment)
    return [] if found is None else mlflow.search_runs([found.experiment_id])


def _history(store: Path, run, metric: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in _client(store).get_metric_history(run.info.run_id, metric)]


def test_a_tracked_run_logs_params_every_generation_and_its_figures(tmp_path: Path):
    store = tmp_path / "mlruns"
    args = ["run", "gaussian-1d", *SMALL, "--track", f"mlflow:{store.as_uri()}"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    (run,) = _runs(store)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["experiment.generations"] == "5"
    assert run.data.params["regime.name"] == "replace"
    metrics = pd.read_csv(tmp_path / "run/metrics.csv")
    expected = metrics.groupby("generation")["variance_ratio"].mean()
    logged = _history(store, run, "variance_ratio")
    assert [step for step, _ in logged] == [0, 1, 2, 3, 4]
    assert np.allclose([value for _, value in logged], expected.to_numpy())
    artifacts = {a.path for a in _client(store).list_artifacts(run.info.run_id)}
    assert {"config.toml", "metrics.csv", "figures"} <= artifacts
    figures = _client(store).list_artifacts(run.info.run_id, "figures")
    assert "figures/variance_ratio.png" in {a.path for a in figures}


@pytest.mark.parametrize("tracked_first", [True, False])
def test_a_resumed_run_logs_every_generation_once(tmp_path: Path, tracked_first: bool):
    """Stopped after generation 2 (tracked or not), then resumed with tracking: one MLflow
    run holds generations 0-4, each once, equal to an uninterrupted run's."""
    from model_collapse.api import load_config
    from model_collapse.sweeps.tracking import MlflowTracker

    store = tmp_path / "mlruns"
    config = load_config("gaussian-1d", ["experiment.generations=5", "experiment.seeds=4"])
    import model_collapse

    if tracked_first:
        tracker = MlflowTracker(store.as_uri())
        with pytest.raises(KeyboardInterrupt):
            model_collapse.run(
                config, tmp_path / "run", on_generation=_stop_at(2), observers=[tracker]
            )
    else:
        run_interrupted(config, tmp_path / "run", 2)
    model_collapse.run(config, tmp_path / "run", observers=[MlflowTracker(store.as_uri())])
    (run,) = _runs(store)
    logged = _history(store, run, "mean_error")
    assert [step for step, _ in logged] == [0, 1, 2, 3, 4]
    whole = pd.read_csv(tmp_path / "run/metrics.csv").groupby("generation")["mean_error"].mean()
    assert np.allclose([value for _, value in logged], whole.to_numpy())


def _stop_at(generation: int):
    def stop(done: int) -> None:
        if done == generation:
            raise KeyboardInterrupt

    return stop


def test_a_tracked_sweep_logs_each_run_in_an_experiment_named_after_it(tmp_path: Path):
    (tmp_path / "sweep.toml").write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 3\n"experiment.seeds" = 2\n'
        '[grid]\n"regime.name" = ["replace", "accumulate"]\n'
    )
    store = tmp_path / "mlruns"
    args = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "grid")]
    result = CliRunner().invoke(app, [*args, "--track", f"mlflow:{store}"])
    assert result.exit_code == 0, result.output
    runs = _runs(store, "grid")
    assert sorted(r.info.run_name for r in runs) == [
        "regime.name=accumulate",
        "regime.name=replace",
    ]
    assert all(len(_history(store, r, "variance_ratio")) == 3 for r in runs)


@pytest.mark.parametrize(
    ("track", "message"),
    [
        ("wandb", "the tracker this version has is mlflow[:URI]"),
        ("mlflow:file:///proc/no-store-here", "cannot open the store"),
    ],
)
def test_a_bad_tracker_is_refused_in_one_line_before_the_run(tmp_path, track, message):
    args = ["run", "gaussian-1d", *SMALL, "--track", track, "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert not (tmp_path / "run").exists()


def test_a_database_store_without_sqlalchemy_names_the_full_mlflow(tmp_path: Path, monkeypatch):
    """mlflow-skinny (what requirements.txt pins) opens no database store; the message
    says so (before: MLflow's own words on its model registry)."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sqlalchemy" else real(name, *a),
    )
    track = f"mlflow:sqlite:///{tmp_path}/mlflow.db"
    args = ["run", "gaussian-1d", *SMALL, "--track", track, "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "a sqlite store needs the full mlflow package" in result.output
    assert "pip install mlflow" in result.output and not (tmp_path / "run").exists()


def test_tracking_without_mlflow_names_the_extra(tmp_path: Path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    args = ["run", "gaussian-1d", *SMALL, "--track", "mlflow", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "pip install 'model-collapse[mlflow]'" in result.output


def test_a_restarted_run_is_a_new_mlflow_run_with_its_own_params(tmp_path: Path):
    store = tmp_path / "mlruns"
    base = ["run", "gaussian-1d", "--track", f"mlflow:{store}", "--out", str(tmp_path / "r's")]
    first = CliRunner().invoke(app, [*base, *SMALL, "--set", "sampling.n=20"])
    assert first.exit_code == 0, first.output
    again = ["--set", "experiment.generations=2", "--set", "sampling.n=50", "--restart"]
    second = CliRunner().invoke(app, [*base, *again])
    assert second.exit_code == 0, second.output
    runs = sorted(_runs(store), key=lambda r: r.info.start_time)
    assert [r.data.params["sampling.n"] for r in runs] == ["20", "50"]
    assert [len(_history(store, r, "variance_ratio")) for r in runs] == [5, 2]


def test_a_failed_run_is_marked_failed_in_mlflow(tmp_path: Path):
    import model_collapse
    from model_collapse.api import load_config
    from model_collapse.sweeps.tracking import MlflowTracker

    store = tmp_path / "mlruns"
    config = load_config("gaussian-1d", ["experiment.generations=5", "experiment.seeds=2"])

    def fail(done: int) -> None:
        if done == 1:
            raise RuntimeError("a failure in generation 2")

    with pytest.raises(RuntimeError):
        model_collapse.run(
            config, tmp_path / "run", on_generation=fail, observers=[MlflowTracker(store.as_uri())]
        )
    (run,) = _runs(store)
    assert run.info.status == "FAILED"


def test_an_mlflow_server_that_does_not_answer_is_named_in_one_line(tmp_path: Path):
    args = ["run", "gaussian-1d", *SMALL, "--track", "mlflow:http://127.0.0.1:1"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "cannot reach the MLflow tracking server at 127.0.0.1:1" in result.output


def test_a_run_of_several_lineages_logs_each_lineage_s_own_series(tmp_path: Path):
    """The run's own family under its metrics' names, another lineage as NAME/metric."""
    config = tmp_path / "web.toml"
    config.write_text(
        '[experiment]\ngenerations = 3\nseeds = 3\n[source]\nname = "gaussian"\ndim = 2\n'
        '[family]\nname = "gmm"\n[regime]\nname = "web"\nrole = "student"\n'
        'publish = 100\n[regime.lineages.writer]\nrole = "teacher"\n'
        'family = {name = "kde"}\n[sampling]\nn = 200\n'
    )
    store = tmp_path / "mlruns"
    args = ["run", str(config), "--track", f"mlflow:{store.as_uri()}"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    (run,) = _runs(store)
    metrics = pd.read_csv(tmp_path / "run/metrics.csv")
    for lineage, name in (("gmm", "wasserstein"), ("writer", "writer/wasserstein")):
        rows = metrics[metrics["lineage"] == lineage]
        expected = rows.groupby("generation")["wasserstein"].mean().to_numpy()
        assert np.allclose([value for _, value in _history(store, run, name)], expected)
