"""Where a sweep's runs go: local processes, a Dask cluster or a Ray cluster.

Each backend takes the runs to do and yields ``(name, error)`` as they end ("" for a
finished run). A run is a whole run directory written by ``run_one`` wherever it lands,
so every backend writes the same bytes. A worker that dies mid-run (killed, out of
memory) has its run tried again, at most ``RETRIES`` more times; the run resumes from its
directory's last completed generation, so nothing completed is lost. Dask and Ray are
imported only here, and only when asked for.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from model_collapse.core.errors import DifferentRunError, UserInputError, first_line
from model_collapse.core.network import REACH_SECONDS, reach

RETRIES = 3  # more tries for a run whose worker died; a run that kills its worker stops


class Task(NamedTuple):
    """One run to do: run_one(config, directory, track) under its name."""

    name: str
    config: dict[str, Any]
    directory: str
    track: str | None = None  # an MLflow tracking URI


# a generator: closing it (a stop: Ctrl-C, SIGTERM) ends the workers it started
Results = Generator[tuple[str, str], None, None]
STOP_SECONDS = 5  # a worker asked to stop (SIGTERM) that lingers this long is killed


def run_one(config: dict[str, Any], directory: str, track: str | None = None) -> str:
    """Run (or resume, or find finished) one run of a sweep; "" when it finished, else its
    error in a line. A folder that holds a different run is refused by the run itself, so
    a changed sweep never passes old numbers off as new. With ``track``, the run is logged
    to MLflow in an experiment named after the sweep's folder. At module level, so that
    worker processes can be given it."""
    from model_collapse.api import run
    from model_collapse.engine.observers import Observer

    observers: list[Observer] = []
    if track is not None:
        from model_collapse.sweeps.tracking import MlflowTracker

        observers.append(MlflowTracker(track, experiment=Path(directory).parent.name))
    try:
        run(config, directory, observers=observers)
    except DifferentRunError as err:  # in a sweep's own terms: there is no --restart here
        return (
            f"{directory} holds a run of another config ({err.difference} there): the sweep "
            "file changed; give the sweep another --out, or remove that folder"
        )
    except UserInputError as err:
        return str(err).splitlines()[0]
    except Exception as err:  # one failed run is recorded; the others go on
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return ""


def needs_gpu(config: dict[str, Any]) -> bool:
    """A run whose experiment.device names a GPU asks the cluster for one."""
    return str(config.get("experiment", {}).get("device", "cpu")).startswith("cuda")


def on_processes(todo: list[Task], jobs: int, address: str | None) -> Results:
    """In this process (one job) or ``jobs`` spawned ones. When a process of the pool dies,
    the pool breaks and every run it held fails with it: the runs that had started are
    suspects and each is tried alone (at most RETRIES more times), so only a run that
    kills its own process is recorded as failed; the others go to a new pool."""
    if jobs == 1:
        for task in todo:
            yield task.name, run_one(*task[1:])
        return
    while todo:
        suspects, again = [], []
        for task, outcome in pool_round(todo, jobs):
            if outcome is STARTED:
                suspects.append(task)
            elif outcome is PENDING:
                again.append(task)
            else:
                yield task.name, outcome
        if again and not suspects:  # it broke before any run was seen to start
            suspects, again = again, []
        for task in suspects:
            yield task.name, alone(task)
        todo = again


STARTED, PENDING = "(broken pool: started)", "(broken pool: pending)"


def pool_round(todo: list[Task], jobs: int) -> Iterator[tuple[Task, str]]:
    """Each task with its result, or STARTED / PENDING when the pool broke under it. A
    stop (an exception here, or the generator closed) ends the workers at once: each run
    keeps the generations it saved, and waiting for the runs under way could take hours."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    pool = ProcessPoolExecutor(
        jobs, mp_context=get_context("spawn"), initializer=watch_parent, initargs=(os.getpid(),)
    )
    try:
        futures = {pool.submit(run_one, *task[1:]): task for task in todo}
        started: set[Any] = set()
        waiting = set(futures)
        while waiting:
            started |= {future for future in waiting if future.running()}
            done, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield futures[future], future.result()
                except BrokenProcessPool:
                    yield futures[future], STARTED if future in started else PENDING
    except BaseException:
        end_workers(list(pool._processes.values()))  # the executor's only handle on them
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def end_workers(processes: list[Any]) -> None:
    """SIGTERM each worker process, then SIGKILL those still alive after STOP_SECONDS."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def watch_parent(parent: int) -> None:
    """In a worker process: end it once the sweep's process is gone, however it ended
    (kill -9 included, which no handler sees). The worker is then adopted by another
    process, so its parent id changes; a thread looks twice a second."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # the runs keep what they saved; the next sweep resumes them

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def alone(task: Task) -> str:
    """A suspect run in a pool of its own, at most RETRIES times."""
    from concurrent.futures.process import BrokenProcessPool

    for _ in range(RETRIES):
        for _, outcome in pool_round([task], 1):
            if outcome not in (STARTED, PENDING):
                return outcome
    return (
        f"{BrokenProcessPool.__name__}: its worker process died {RETRIES + 1} times "
        "(killed, or out of memory?); the generations it saved are kept"
    )


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
        workers = client.scheduler_info()["workers"].values()  # type: ignore[no-untyped-call]
        gpus = any(worker.get("resources", {}).get("GPU") for worker in workers)
        futures = {
            # a key of its own: a shared scheduler must not hand back another sweep's task;
            # a GPU run asks for a worker started with --resources GPU=1 where there is one
            # (asking where none is would wait for ever)
            task.name: client.submit(
                run_one,
                *task[1:],
                key=f"run-{uuid.uuid4().hex}",
                resources={"GPU": 1} if gpus and needs_gpu(task.config) else None,
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
    try:  # "local": a new instance, even where RAY_ADDRESS names a cluster
        ray.init(
            address=address or "local",
            num_cpus=None if address else jobs,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as err:
        raise UserInputError(
            f"cannot connect to the Ray cluster at {address or 'a local instance'} "
            f"({first_line(err)})"
        ) from None
    try:
        remote = ray.remote(max_retries=RETRIES)(run_one)
        # a GPU only where the cluster has one: asking where none is would wait for ever
        gpus = ray.cluster_resources().get("GPU", 0) > 0  # type: ignore[no-untyped-call]
        refs = {
            task.name: remote.options(num_gpus=1 if gpus and needs_gpu(task.config) else 0).remote(
                *task[1:]
            )
            for task in todo
        }
        for name, ref in refs.items():
            try:
                yield name, ray.get(ref)
            except Exception as err:  # its workers died more often than it retries
                yield name, f"{type(err).__name__}: {first_line(err)}"
    finally:
        ray.shutdown()


# name: (the runner, the module it needs, or "" for none)
BACKENDS: dict[str, tuple[Callable[[list[Task], int, str | None], Results], str]] = {
    "local": (on_processes, ""),
    "dask": (on_dask, "distributed"),
    "ray": (on_ray, "ray"),
}
