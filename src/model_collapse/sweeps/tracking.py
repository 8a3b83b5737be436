"""Experiment tracking: ``--track mlflow[:URI]`` logs each run to MLflow through an observer.

One MLflow run per run directory, tagged with the directory's absolute path: its config as
params, each generation's metrics as they are saved (the mean over seeds, and the median,
at step = generation), and at the end its figures, config.toml and metrics.csv as
artifacts. A resumed run continues its MLflow run and first logs the generations saved
while nothing was tracking, so MLflow ends with every generation once. The store is a
local file store (``./mlruns``) unless a URI is given; MLflow's client API is used, not
its global "active run", so runs in one process never mix. mlflow is imported only here.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model_collapse.core.errors import SaveError, UserInputError, first_line
from model_collapse.engine.observers import Observer

if TYPE_CHECKING:
    from model_collapse.api import Result
    from model_collapse.engine.loop import Plan

DIRECTORY_TAG = "model_collapse.directory"
KEY_TAG = "model_collapse.directory_sha256"  # searched for: a path may hold any character
PARAM_CHARS = 6000  # MLflow's limit on a param's value


# the database stores MLflow opens through SQLAlchemy, which mlflow-skinny leaves out
DATABASES = ("sqlite", "postgresql", "mysql", "mssql")


def parse_track(text: str) -> str:
    """The tracking URI of ``--track mlflow[:URI]`` (absolute, so workers elsewhere and later
    resumes reach the same store), or a one-line refusal."""
    import importlib.util

    kind, _, uri = text.partition(":")
    if kind != "mlflow":
        raise UserInputError(f"--track {text!r}: the tracker this version has is mlflow[:URI]")
    if importlib.util.find_spec("mlflow") is None:
        raise UserInputError(
            "--track mlflow needs mlflow, which is not installed; "
            "pip install 'model-collapse[mlflow]'"
        )
    scheme = uri.split(":", 1)[0].split("+", 1)[0]  # postgresql+psycopg2: postgresql
    if scheme in DATABASES and not all(
        importlib.util.find_spec(m) for m in ("sqlalchemy", "alembic")
    ):
        raise UserInputError(
            f"--track mlflow:{uri}: a {scheme} store needs the full mlflow package (SQLAlchemy "
            "and Alembic), and only mlflow-skinny is installed; pip install mlflow, or give a "
            "folder (mlflow:PATH) or a server (mlflow:http://HOST:PORT)"
        )
    if not uri:
        return (Path.cwd() / "mlruns").resolve().as_uri()
    if "://" not in uri:  # a plain path: a file store there
        return Path(uri).resolve().as_uri()
    return uri


def open_store(track: str, experiment: str) -> str:
    """The MLflow URI of ``--track``, its store and experiment opened before any run (one
    line if they cannot be)."""
    uri = parse_track(track)
    check_store(uri, experiment)
    return uri


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """MLflow's file store warns that it is in maintenance mode on every opening; the
    docs say so once (docs/sweeps.md), the run's output need not."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="mlflow")
        warnings.filterwarnings("ignore", message=".*filesystem tracking backend.*")
        yield


def client(uri: str) -> Any:
    if uri.startswith("file:"):  # newer MLflow opens a file store only when asked to
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    # a server that stops answering fails a request in bounded time, not after hours
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def check_store(uri: str, experiment: str) -> None:
    """Open the store and its experiment before a run starts; refuse in one line if not
    (a server where nothing answers: within 30 s)."""
    if uri.startswith(("http:", "https:")):
        from model_collapse.core.network import reach

        port = uri.split("://", 1)[1].split("/", 1)[0]
        reach(
            port if ":" in port else f"{port}:{443 if uri.startswith('https') else 80}",
            "MLflow tracking server",
        )
    try:
        with quiet():
            experiment_id(client(uri), experiment)
    except Exception as err:  # MLflow raises its own and OSError alike
        first = first_line(err)
        raise UserInputError(f"--track mlflow:{uri}: cannot open the store ({first})") from None


def experiment_id(mlflow: Any, name: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    return str(found.experiment_id if found is not None else mlflow.create_experiment(name))


def flat_params(config: Mapping[str, Any]) -> dict[str, str]:
    """``section.key`` = value for every key of the config (as MLflow params: text)."""
    params = {}
    for section, body in config.items():
        for key, value in body.items():
            params[f"{section}.{key}"] = str(value)[:PARAM_CHARS]
    return params


def generation_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """Mean and median over seeds of each value; NaN where no seed has one."""
    out = {}
    for name, per_seed in values.items():
        array = np.asarray(per_seed, dtype=float).ravel()
        finite = array[~np.isnan(array)]
        out[name] = float(finite.mean()) if len(finite) else float("nan")
        out[f"{name}.median"] = float(np.median(finite)) if len(finite) else float("nan")
    return out


class MlflowTracker(Observer):
    """Logs one run directory to MLflow (see the module's docstring)."""

    def __init__(self, uri: str, experiment: str = "model-collapse", tags: Any = None) -> None:
        self.uri, self.experiment, self.tags = uri, experiment, dict(tags or {})
        self.run_id: str | None = None

    def start(self, plan: Plan, first: int, directory: Path | None) -> None:
        from model_collapse.config import config_to_dict

        where = str(directory.resolve()) if directory is not None else ""
        key = hashlib.sha256(where.encode()).hexdigest()
        params = flat_params(config_to_dict(plan.saved))
        with self.guard():
            self.mlflow = client(self.uri)
            experiment = experiment_id(self.mlflow, self.experiment)
            found = self.mlflow.search_runs(
                [experiment],
                filter_string=f"tags.`{KEY_TAG}` = '{key}'",
                max_results=1,
                order_by=["attributes.start_time DESC"],
            )
            previous = found[0] if directory is not None and found else None
            if previous is not None and first > 0 and previous.data.params == params:
                self.run_id = previous.info.run_id  # the same run, resumed
                logged = self.logged_steps()
            else:  # new, or started over (--restart): the old MLflow run is not continued
                if previous is not None and previous.info.status == "RUNNING":
                    self.mlflow.set_terminated(previous.info.run_id, "KILLED")
                tags = {DIRECTORY_TAG: where, KEY_TAG: key, **self.tags}
                name = directory.name if directory is not None else "in memory"
                run = self.mlflow.create_run(experiment, run_name=name, tags=tags)
                self.run_id, logged = run.info.run_id, set()
                self.log_params(params)
            if directory is not None and first > 0:
                self.backfill(directory, first, logged)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """MLflow failing mid-run stops the run in one line: its directory keeps every
        generation, and a resume logs what MLflow missed."""
        try:
            with quiet():
                yield
        except Exception as err:
            first = first_line(err)
            raise SaveError(f"cannot log to MLflow at {self.uri} ({first})") from None

    def stopped(self, error: BaseException) -> None:
        if self.run_id is not None:
            with contextlib.suppress(Exception), quiet():
                status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
                self.mlflow.set_terminated(self.run_id, status)

    def logged_steps(self) -> set[int]:
        metrics = self.mlflow.get_run(self.run_id).data.metrics
        if not metrics:
            return set()
        history = self.mlflow.get_metric_history(self.run_id, next(iter(metrics)))
        return {int(m.step) for m in history}

    def log_params(self, flat: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        params = [Param(k, v) for k, v in flat.items()]  # type: ignore[no-untyped-call]
        for start in range(0, len(params), 100):  # MLflow's batch limit
            self.mlflow.log_batch(self.run_id, params=params[start : start + 100])

    def log_generation(self, generation: int, values: Mapping[str, Any]) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)  # MLflow's wall-time axis; the step is the generation
        metrics = [
            Metric(name, value, stamp, generation)
            for name, value in generation_metrics(values).items()
        ]
        with self.guard():
            for start in range(0, len(metrics), 1000):
                self.mlflow.log_batch(self.run_id, metrics=metrics[start : start + 1000])

    def backfill(self, directory: Path, first: int, logged: set[int]) -> None:
        """Generations saved before this tracker watched (an earlier, untracked attempt)."""
        import pandas as pd

        from model_collapse.engine.lineages import split

        lineages = split(pd.read_csv(directory / "metrics.csv"))
        generations = set(lineages[0][1]["generation"].tolist())
        for generation in sorted({g for g in generations if g < first} - logged):
            values = {}
            for i, (name, table) in enumerate(lineages):  # as the run tells observers
                rows = table[table["generation"] == generation]
                prefix = f"{name}/" if i else ""
                values.update({f"{prefix}{c}": rows[c].to_numpy() for c in table.columns[2:]})
            self.log_generation(generation, values)

    def generation(self, generation: int, values: Mapping[str, np.ndarray]) -> None:
        self.log_generation(generation, values)

    def finish(self, result: Result) -> None:
        with self.guard():
            if result.directory is not None:
                folder = result.directory
                for name in ("config.toml", "metrics.csv", "collapse.csv"):
                    if (folder / name).is_file():
                        self.mlflow.log_artifact(self.run_id, str(folder / name))
                if (folder / "figures").is_dir():
                    self.mlflow.log_artifacts(self.run_id, str(folder / "figures"), "figures")
            self.mlflow.set_terminated(self.run_id, "FINISHED")
