"""Where a sweep's runs go: local processes, a Dask cluster or a Ray cluster.

Each backend takes the runs to do and yields ``(name, error)`` as they end ("" for a
finished run). A run is a whole run directory written by ``run_one`` wherever it lands,
so every backend writes the same bytes. A worker that dies mid-run (killed, out of
memory) has its run tried again, at most ``RETRIES`` more times; the run resumes from its
directory's last completed generation, so nothing completed is lost. Dask and Ray are
imported only here, and only when asked for.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from model_collapse.errors import UserInputError

RETRIES = 3  # more tries for a run whose worker died; a run that kills its worker stops
REACH_SECONDS = 25  # an unreachable scheduler is named within half a minute


class Task(NamedTuple):
    """One run to do: run_one(config, directory, track) under its name."""

    name: str
    config: dict[str, Any]
    directory: str
    track: str | None = None  # an MLflow tracking URI


Results = Iterator[tuple[str, str]]


def run_one(config: dict[str, Any], directory: str, track: str | None = None) -> str:
    """Run (or resume, or find finished) one run of a sweep; "" when it finished, else its
    error in a line. A folder that holds a different run is refused by the run itself, so
    a changed sweep never passes old numbers off as new. With ``track``, the run is logged
    to MLflow in an experiment named after the sweep's folder. At module level, so that
    worker processes can be given it."""
    import model_collapse
    from model_collapse.observers import Observer

    observers: list[Observer] = []
    if track is not None:
        from model_collapse.tracking import MlflowTracker

        observers.append(MlflowTracker(track, experiment=Path(directory).parent.name))
    try:
        model_collapse.run(config, directory, observers=observers)
    except Exception as err:  # one failed run is recorded; the others go on
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return ""


def needs_gpu(config: dict[str, Any]) -> bool:
    """A run whose experiment.device names a GPU asks the cluster for one."""
    return str(config.get("experiment", {}).get("device", "cpu")).startswith("cuda")


def died(err: BaseException, tries: int) -> str:
    return f"its worker died {tries} times, the last with {type(err).__name__}: {err}"


def on_processes(todo: list[Task], jobs: int, address: str | None) -> Results:
    """In this process (one job) or ``jobs`` spawned ones. A pool whose process died is
    replaced and the runs it held are given to the new one (each at most RETRIES times)."""
    if jobs == 1:
        for task in todo:
            yield task.name, run_one(*task[1:])
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    tries = dict.fromkeys((task.name for task in todo), 0)
    while todo:
        again = []
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(run_one, *task[1:]): task for task in todo}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield task.name, future.result()
                except BrokenProcessPool as err:  # a process of the pool died
                    tries[task.name] += 1
                    if tries[task.name] > RETRIES:
                        yield task.name, died(err, tries[task.name])
                    else:
                        again.append(task)
        todo = again


def reach(address: str, what: str) -> None:
    """Refuse, in one line within REACH_SECONDS, an address nothing listens on."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise UserInputError(f"--address {address}: give the {what} as HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=REACH_SECONDS).close()
    except OSError as err:
        raise UserInputError(
            f"cannot reach the {what} at {address} within {REACH_SECONDS} s "
            f"({err.strerror or type(err).__name__}); start it, or check the address"
        ) from None


def reach_scheduler(address: str) -> Any:
    """A client of the Dask scheduler at ``address``, or a one-line refusal within 30 s."""
    from distributed import Client

    try:
        return Client(address, timeout=f"{REACH_SECONDS}s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as err:
        raise UserInputError(
            f"cannot reach the Dask scheduler at {address} within {REACH_SECONDS} s "
            f"({type(err).__name__}); start it, or check the address"
        ) from None


def on_dask(todo: list[Task], jobs: int, address: str | None) -> Results:
    """On dask.distributed: the scheduler at ``address``, else a LocalCluster of ``jobs``
    single-thread workers. The scheduler retries a run whose worker died (its allowed
    failures, 3 by default)."""
    from distributed import Client, LocalCluster

    if address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        cluster = None
        client = reach_scheduler(address)
    try:
        futures = {
            # a key of its own: a shared scheduler must not hand back another sweep's task;
            # a GPU run needs workers started with --resources GPU=1
            task.name: client.submit(
                run_one,
                *task[1:],
                key=f"run-{uuid.uuid4().hex}",
                resources={"GPU": 1} if needs_gpu(task.config) else None,
            )
            for task in todo
        }
        for name, future in futures.items():
            try:
                yield name, future.result()
            except Exception as err:  # its workers died more often than Dask retries
                yield name, f"{type(err).__name__}: {err}"
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]


def on_ray(todo: list[Task], jobs: int, address: str | None) -> Results:
    """On Ray: the cluster at ``address``, else a local instance of ``jobs`` CPUs. A run
    whose worker died is retried by Ray (max_retries)."""
    import logging

    import ray

    if address not in (None, "auto"):  # ray.init would wait minutes for a dead address
        reach(address, "Ray cluster")
    ray.init(
        address=address,
        num_cpus=None if address else jobs,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
    )
    try:
        remote = ray.remote(max_retries=RETRIES)(run_one)
        refs = {
            task.name: remote.options(num_gpus=1 if needs_gpu(task.config) else 0).remote(*task[1:])
            for task in todo
        }
        for name, ref in refs.items():
            try:
                yield name, ray.get(ref)
            except Exception as err:  # its workers died more often than it retries
                yield name, f"{type(err).__name__}: {str(err).splitlines()[0]}"
    finally:
        ray.shutdown()


# name: (the runner, the module it needs, or "" for none)
BACKENDS: dict[str, tuple[Callable[[list[Task], int, str | None], Results], str]] = {
    "local": (on_processes, ""),
    "dask": (on_dask, "distributed"),
    "ray": (on_ray, "ray"),
}
