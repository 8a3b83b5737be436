"""The classifier detector's fits on one thread against all of the machine's, at the table
sizes it meets: defences-gmm's (1,000 rows of 2 columns) and the digits' (2,000 of 64).
Below ``SMALL_TABLE`` values it fits on one thread; this measures why."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def _fit_seconds(x: np.ndarray, y: np.ndarray, threads: int | None) -> tuple[float, np.ndarray]:
    from threadpoolctl import threadpool_limits

    from model_collapse.detectors.classifier import discriminator

    times, found = [], np.empty(0)
    for _ in range(4):  # the first pays for the thread pool: the best of the other three
        with threadpool_limits(limits=threads, user_api="openmp"):
            start = time.perf_counter()
            model: Any = discriminator(0).fit(x, y)  # type: ignore[attr-defined]
            found = model.predict_proba(x)[:, 1]
            times.append(time.perf_counter() - start)
    return min(times[1:]), found


def classifier_benchmark() -> str:
    import os

    from model_collapse.detectors.classifier import SMALL_TABLE

    rng = np.random.default_rng(0)
    lines = [
        "## The classifier's threads",
        "",
        "A gradient-boosted discriminator (the classifier detector and the two-sample test) "
        "fitted and scored on one thread, against the same on all "
        f"{os.cpu_count()} cores, best of 3, in one process. Tables under {SMALL_TABLE:,} "
        "values fit on one thread; the probabilities are the same either way:",
        "",
        "| table | values | one thread, s | all cores, s | all / one | same probabilities |",
        "|---|---|---|---|---|---|",
    ]
    for rows, columns in ((1000, 2), (2000, 64)):
        x = rng.normal(size=(rows, columns))
        y = np.repeat([0.0, 1.0], rows // 2)
        one, p_one = _fit_seconds(x, y, 1)
        every, p_every = _fit_seconds(x, y, None)
        lines.append(
            f"| {rows:,} x {columns} | {x.size:,} | {one:.3f} | {every:.3f} | "
            f"{every / one:.2f}x | {np.array_equal(p_one, p_every)} |"
        )
    return "\n".join(lines) + "\n"
