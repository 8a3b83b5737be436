"""The sweep's backends: real local processes and a real Ray instance, started here; a
worker process killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.engine.state import read_state
from model_collapse.sweeps.sweep import read_sweep, run_sweep

SWEEP = """base = "gaussian-1d"
[set]
"experiment.generations" = {generations}
"experiment.seeds" = {seeds}
[grid]
"regime.name" = ["replace", "mix", "accumulate"]
"""


def _sweep(tmp_path: Path, generations: int = 6, seeds: int = 3) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(generations=generations, seeds=seeds))
    return path


def _same(names: list[str], one: Path, other: Path) -> None:
    for name in names:
        assert (one / name).read_bytes() == (other / name).read_bytes(), name


@pytest.mark.slow  # a Ray instance starts in 5-10 s: make test-slow and CI run it
def test_ray_writes_the_bytes_local_processes_write(tmp_path: Path):
    """A real local Ray instance of 2 CPUs, started and stopped by the sweep."""
    sweep = read_sweep(_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "local", jobs=1, tell=lambda line: None)
    run_sweep(sweep, tmp_path / "ray", jobs=2, tell=lambda line: None, backend="ray")
    tables = ["aggregate.csv", "sweep.csv", *(f"{r.name}/metrics.csv" for r in sweep.runs)]
    _same(tables, tmp_path / "local", tmp_path / "ray")


def test_an_unreachable_ray_cluster_is_named_in_one_line(tmp_path: Path):
    args = ["sweep", str(_sweep(tmp_path)), "--backend", "ray", "--address", "127.0.0.1:1"]
    started = time.monotonic()
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in result.output
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()


def test_an_address_without_a_port_is_refused_in_one_line(tmp_path: Path):
    args = ["sweep", str(_sweep(tmp_path)), "--backend", "ray", "--address", "somehost"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "give the Ray cluster as HOST:PORT" in result.output


def _completed(directory: Path) -> int:
    try:
        state = read_state(directory)
    except Exception:  # being written this instant
        return -1
    return -1 if state is None else state.completed


def _pool_workers(pid: int) -> list[psutil.Process]:
    """The sweep's spawned worker processes (a process pool's, or a Dask LocalCluster's;
    not multiprocessing's resource tracker)."""
    workers = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:  # it ended between the listing and the look (a zombie)
            continue
    return workers


@pytest.mark.slow  # 15-20 s each: make test-slow and CI run them
@pytest.mark.parametrize("backend", ["local", "dask"])
def test_a_worker_killed_mid_run_is_retried_and_loses_nothing(tmp_path: Path, backend: str):
    """kill -9 one of two worker processes once a run has saved generations; the run goes
    to another process (a new pool; Dask's rescheduling), which resumes it, and every run
    ends byte-identical to an uninterrupted sweep."""
    path = _sweep(tmp_path, generations=100, seeds=20)
    sweep = read_sweep(path)
    command = [sys.executable, "-m", "model_collapse", "sweep", str(path), "--backend", backend]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [*command, "--out", str(killed), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        saved = {r.name: _completed(killed / r.name) for r in sweep.runs}
        midway = [n for n, c in saved.items() if 3 <= c < 90]
        workers = _pool_workers(proc.pid)
        if midway and workers:
            victim = (midway[0], saved[midway[0]])
            os.kill(workers[0].pid, signal.SIGKILL)
        time.sleep(0.05)
    output, _ = proc.communicate(timeout=300)
    assert victim is not None, f"no run was caught midway: {output}"
    assert proc.returncode == 0, output
    run_sweep(sweep, tmp_path / "whole", jobs=1, tell=lambda line: None)
    tables = ["aggregate.csv", "sweep.csv", *(f"{r.name}/metrics.csv" for r in sweep.runs)]
    _same(tables, killed, tmp_path / "whole")
    resumed = [
        r.name
        for r in sweep.runs
        if json.loads((killed / r.name / "provenance.json").read_text()).get("resumed")
    ]
    # the killed process's run went on from its saved generations, not from zero (the
    # pool's other runs too: a broken pool resubmits everything it held)
    assert resumed and (backend != "local" or victim[0] in resumed)


@pytest.mark.slow  # 12 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_only_the_run_that_kills_its_worker_fails(tmp_path: Path):
    """A plug-in that ends any worker process importing it: its two runs fail after their
    tries, and the two runs beside them in the pool finish."""
    killer = tmp_path / "killer.py"
    killer.write_text(
        "import multiprocessing, os\n"
        "if multiprocessing.parent_process() is not None:  # in a worker, not the sweep\n"
        "    os._exit(137)\n"
    )
    path = tmp_path / "sweep.toml"
    path.write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 3\n"experiment.seeds" = 2\n'
        f'[grid]\n"experiment.plugins" = [[], ["{killer}"]]\n'
        '"regime.name" = ["replace", "mix"]\n'
    )
    errors = run_sweep(read_sweep(path), tmp_path / "out", jobs=2, tell=lambda line: None)
    failed = sorted(name for name, error in errors.items() if error)
    assert len(errors) == 4 and len(failed) == 2
    assert all("killer" in name for name in failed)
    assert all("died 4 times" in errors[name] for name in failed)


def _start(command: list[str], stderr: int = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def _wait_for_metrics(out: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if list(out.glob("*/metrics.csv")):
            time.sleep(0.3)
            return
        time.sleep(0.02)
    raise AssertionError("the sweep saved no generation within 60 s")


@pytest.mark.slow  # 15 s each: make test-slow and CI run them
@pytest.mark.parametrize(("sig", "jobs"), [(signal.SIGTERM, 1), (signal.SIGINT, 2)])
def test_a_stopped_sweep_says_what_is_saved_and_resumes_to_the_same_bytes(
    tmp_path: Path, sig: signal.Signals, jobs: int
):
    """SIGTERM or Ctrl-C: exit 130 at once, one line naming what is saved and the command
    that resumes, no worker left behind; that command then ends byte-identical to an
    uninterrupted sweep. (Before: SIGTERM exited 143 with nothing said, Ctrl-C waited for
    the runs under way.)"""
    path = _sweep(tmp_path, generations=200, seeds=10)
    out = tmp_path / "stopped"
    command = [sys.executable, "-m", "model_collapse", "sweep", str(path), "--out", str(out)]
    command += ["--jobs", str(jobs)] if jobs > 1 else []
    proc = _start(command)
    _wait_for_metrics(out, proc)
    workers = _pool_workers(proc.pid)
    stopped = time.monotonic()
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - stopped < 10
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and " of 3 runs finished" in last, last
    resume = f"to resume, run: model-collapse sweep {path} --out {out}"
    assert last.endswith(resume + (f" --jobs {jobs}" if jobs > 1 else "")), last
    assert jobs == 1 or workers, "no pool worker was seen"
    psutil.wait_procs(workers, timeout=5)
    assert not [w for w in workers if w.is_running()]
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    sweep = read_sweep(path)
    run_sweep(sweep, tmp_path / "whole", jobs=1, tell=lambda line: None)
    tables = ["aggregate.csv", "sweep.csv", *(f"{r.name}/metrics.csv" for r in sweep.runs)]
    _same(tables, out, tmp_path / "whole")


def test_no_worker_outlives_a_sweep_killed_with_kill_9(tmp_path: Path):
    """kill -9 of the sweep's own process, which no handler sees: its pool workers notice
    they were orphaned and end within seconds (before: alive 90 s later)."""
    path = _sweep(tmp_path, generations=3000, seeds=100)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "model_collapse", "sweep", str(path), "--out", str(out)]
    # no pipe: an orphan holding it open would keep the test waiting, not failing
    proc = _start([*command, "--jobs", "2"], stderr=subprocess.DEVNULL)
    _wait_for_metrics(out, proc)
    workers = _pool_workers(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:  # a failing test leaves none behind
        worker.kill()
    assert not alive, f"{len(alive)} workers outlived the sweep"
