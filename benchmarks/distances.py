"""The feature metrics' distance work at vae-mnist's sizes, NumPy against torch on the
machine's GPU (the path a run on cuda takes) or, without one, torch on the CPU: the k-NN
radii and memberships behind precision and recall (10,000 features of 64 against as
many), and the nearest training image of 1,000 samples (784 pixels) among 10,000."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _best(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def distances_benchmark() -> str:
    import torch

    from model_collapse.metrics.distances import inside, kth_neighbour_distance, nearest_distance

    device = "cuda" if torch.cuda.is_available() else "cpu"
    where = torch.cuda.get_device_name(0) if device == "cuda" else "the CPU (no GPU here)"
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((10_000, 64)), rng.standard_normal((10_000, 64))
    pixels, train = rng.uniform(size=(1000, 784)), rng.uniform(size=(10_000, 784))

    def manifold(on: str) -> Any:
        radii = kth_neighbour_distance(real, 5, on)
        return inside(fake, real, radii, on), inside(
            real, fake, kth_neighbour_distance(fake, 5, on), on
        )

    lines = [
        "## The feature metrics on the device",
        "",
        f"NumPy against float64 torch on {where}, best of 3, in one process. A run on cuda "
        "takes the torch path; the values agree to rounding (tests/metrics/test_distances.py):",
        "",
        "| work | NumPy, s | torch, s | torch / NumPy | same values |",
        "|---|---|---|---|---|",
    ]

    def nearest(on: str) -> Any:
        return nearest_distance(pixels, train, on)

    def close(a: Any, b: Any) -> bool:
        return bool(np.allclose(a, b, rtol=1e-10))

    cases = [
        ("precision and recall's k-NN balls, 10,000 x 64 each", manifold, np.array_equal),
        ("nearest training image, 1,000 x 10,000 x 784", nearest, close),
    ]
    for name, work, same in cases:
        numpy_s = _best(functools.partial(work, ""))
        torch_s = _best(functools.partial(work, device))
        agree = same(np.asarray(work(""), dtype=float), np.asarray(work(device), dtype=float))
        ratio = torch_s / numpy_s
        lines.append(f"| {name} | {numpy_s:.2f} | {torch_s:.2f} | {ratio:.2f}x | {agree} |")
    if device == "cpu":
        lines += [
            "",
            "On a CPU, torch is the slower of the two: only a run on cuda takes its path. The "
            "GPU's times wait for a machine with one.",
        ]
    return "\n".join(lines) + "\n"
