"""Sweep costs, each against a baseline in the same process: the per-run overhead of the
local backend (a sweep of small runs against calling model_collapse.run on the same
configs), the speed-up from 1 to 2 worker processes on CPU-bound runs, and report.html
for a 100-run sweep (against reading its runs' metrics.csv with pandas)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SMALL = ['"experiment.generations" = 3', '"experiment.seeds" = 2', '"sampling.n" = 100']
HEAVY = ['"experiment.generations" = 60', '"experiment.seeds" = 20', '"sampling.n" = 500']


def _sweep(folder: Path, settings: list[str], grid: str, base: str = "gaussian-1d") -> Any:
    from model_collapse.sweeps.sweep import read_sweep

    path = folder / "sweep.toml"
    path.write_text(f'base = "{base}"\n[set]\n' + "\n".join(settings) + f"\n[grid]\n{grid}\n")
    return read_sweep(path)


def _seconds(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def overhead(folder: Path, runs: int = 40) -> dict[str, float]:
    """The sweep's own cost per run, in this process (--jobs 1): the sweep's time less the
    time its runs took, each run timed where the sweep calls it (checks, lock, sweep.csv
    after each run, the aggregate and the intervals are what is left)."""
    import model_collapse
    from model_collapse.sweeps import backends
    from model_collapse.sweeps.sweep import run_sweep

    sweep = _sweep(folder, SMALL, f'"experiment.seed" = {list(range(runs))}')
    model_collapse.run(sweep.runs[0].config, folder / "warm")  # imports, caches
    spent: list[float] = []
    plain = backends.run_one

    def timed_run(*args: Any) -> str:
        start = time.perf_counter()
        error = plain(*args)
        spent.append(time.perf_counter() - start)
        return error

    backends.run_one = timed_run  # type: ignore[assignment]
    try:
        swept = _seconds(lambda: run_sweep(sweep, folder / "swept", tell=lambda line: None))
    finally:
        backends.run_one = plain  # type: ignore[assignment]
    return {"run": sum(spent) / runs, "sweep": swept / runs, "runs": runs}


def speedup(folder: Path) -> dict[str, float]:
    """Eight CPU-bound runs (EM for a 2-D GMM) on 1 and on 2 spawned worker processes."""
    from model_collapse.sweeps.sweep import run_sweep

    sweep = _sweep(folder, HEAVY, f'"experiment.seed" = {list(range(8))}', "gmm-2d")
    one = _seconds(lambda: run_sweep(sweep, folder / "one", jobs=1, tell=lambda line: None))
    two = _seconds(lambda: run_sweep(sweep, folder / "two", jobs=2, tell=lambda line: None))
    return {"one": one, "two": two}


def report_time(folder: Path, runs: int = 100) -> dict[str, float]:
    """report.html for a sweep of 100 runs (10 generations, 5 seeds each), best of 3."""
    import pandas as pd

    from model_collapse.output.report_page import write_report
    from model_collapse.sweeps.sweep import run_sweep

    settings = ['"experiment.generations" = 10', '"experiment.seeds" = 5']
    grid = f'"experiment.seed" = {list(range(runs // 2))}\n"regime.name" = ["replace", "mix"]'
    sweep = _sweep(folder, settings, grid)
    run_sweep(sweep, folder / "hundred", jobs=2, tell=lambda line: None)
    out = folder / "hundred"
    report = min(_seconds(lambda: write_report(out)) for _ in range(3))
    read = min(
        _seconds(lambda: [pd.read_csv(out / r.name / "metrics.csv") for r in sweep.runs])
        for _ in range(3)
    )
    size = (out / "report.html").stat().st_size
    return {"report": report, "read": read, "runs": len(sweep.runs), "mb": size / 1e6}


def sweep_benchmark() -> str:
    folder = Path(tempfile.mkdtemp(prefix="bench-sweeps-"))
    try:
        o, s, r = overhead(folder), speedup(folder), report_time(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    extra = (o["sweep"] - o["run"]) * 1000
    faster = f"{s['two']:.1f} ({s['one'] / s['two']:.2f}x faster)"
    against = f"{r['read']:.2f} ({r['report'] / r['read']:.0f}x)"
    return f"""## Sweeps

Per-run overhead of the local backend: a sweep of {o["runs"]:.0f} small gaussian-1d runs (3
generations, 2 seeds, n = 100; each draws its figures) in one process, each run timed
where the sweep calls it:

| what | seconds per run |
|---|---|
| the run itself (`model_collapse.run`, figures included) | {o["run"]:.3f} |
| the whole sweep | {o["sweep"]:.3f} |
| the sweep's own cost: lock, sweep.csv after each run, aggregate, intervals | {extra:.0f} ms |

Speed-up on this machine's 2 cores: eight CPU-bound runs (gmm-2d: EM on 20 seeds of
n = 500 points, 60 generations), on one process and on two spawned worker processes.
Each run's BLAS is on one thread (the same bytes everywhere), so the two processes do
not compete for the cores; what is left of 2x is the workers' start-up (each imports
the package) and the tables written at the end:

| what | seconds |
|---|---|
| `--jobs 1` | {s["one"]:.1f} |
| `--jobs 2` (two spawned processes; their start-up included) | {faster} |

report.html for a sweep of {r["runs"]:.0f} runs (10 generations, 5 seeds; {r["mb"]:.1f} MB, the
first 12 runs' figures embedded), best of 3:

| what | seconds |
|---|---|
| `model-collapse report` (every run read back and verified, intervals, page) | {r["report"]:.2f} |
| pandas reading the {r["runs"]:.0f} runs' metrics.csv only, same process | {against} |
"""
