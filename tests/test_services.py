"""Run-scoped services: built once per run from their own stream, saved with the run,
loaded (not rebuilt) on resume, and reachable from the metrics that declare them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import numpy as np
import pytest

import model_collapse
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import stream
from model_collapse.engine.step import Step
from model_collapse.metrics import METRICS
from model_collapse.metrics.base import Metric, always
from model_collapse.services import SERVICES, Service, needed
from model_collapse.sources import load_real_data
from model_collapse.sources.base import RealData
from tests.conftest import make_config, run_interrupted

FITS: list[int] = []


class RealCentre:
    """A helper: the real training data's mean per seed, moved by a draw of its stream
    (so a rebuilt helper would differ from a loaded one only if the stream did)."""

    def fit(self, real: RealData, rng: np.random.Generator) -> Self:
        FITS.append(1)
        self.centre_ = real.train.mean(axis=1) + rng.normal(size=real.train.shape[::2])
        return self

    def get_state(self) -> dict[str, np.ndarray]:
        return {"centre_": self.centre_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.centre_ = state["centre_"]
        return self


def distance_to_centre(step: Step) -> np.ndarray:
    centre = step.services["test-centre"].centre_
    return np.asarray(np.linalg.norm(step.synthetic.mean(axis=1) - centre, axis=1))


@pytest.fixture
def centre_service() -> Iterator[None]:
    """The tests' own service and a metric that declares it, removed after each test."""
    SERVICES.register("test-centre")(Service(lambda config, real: RealCentre(), "test"))
    METRICS.register("test_centre_distance")(
        Metric(("continuous",), distance_to_centre, always, "test", services=("test-centre",))
    )
    FITS.clear()
    yield
    SERVICES._entries.pop("test-centre")
    METRICS._entries.pop("test_centre_distance")


CONFIG: dict[str, Any] = {
    "metrics": {"names": ["variance_ratio", "test_centre_distance"]},
    "experiment": {"generations": 4, "seeds": 3, "seed": 7},
}


def test_a_service_is_built_once_from_its_own_stream(centre_service, tmp_path: Path):
    result = model_collapse.run(make_config(**CONFIG), tmp_path / "r")
    assert len(FITS) == 1
    expected_jitter = stream(7, "service:test-centre", 0).normal(size=(3, 1))
    real = load_real_data(result.config, "continuous")
    centre = real.train.mean(axis=1) + expected_jitter
    first = result.metrics[result.metrics["generation"] == 0]
    assert first["test_centre_distance"].notna().all()
    saved = tmp_path / "r/checkpoints/service-test-centre.safetensors"
    assert saved.exists()
    from safetensors.numpy import load_file

    np.testing.assert_array_equal(load_file(saved)["centre_"], centre)


def test_a_resumed_run_loads_its_services_and_matches_an_uninterrupted_one(
    centre_service, tmp_path: Path
):
    whole = model_collapse.run(make_config(**CONFIG), tmp_path / "whole")
    FITS.clear()
    run_interrupted(make_config(**CONFIG), tmp_path / "cut", generation=1)
    assert len(FITS) == 1
    model_collapse.run(make_config(**CONFIG), tmp_path / "cut")
    assert len(FITS) == 1  # loaded, not rebuilt
    assert (tmp_path / "cut/metrics.csv").read_bytes() == (
        tmp_path / "whole/metrics.csv"
    ).read_bytes()
    assert whole.metrics["test_centre_distance"].notna().all()


def test_a_damaged_service_is_refused_on_resume(centre_service, tmp_path: Path):
    run_interrupted(make_config(**CONFIG), tmp_path / "r", generation=1)
    saved = tmp_path / "r/checkpoints/service-test-centre.safetensors"
    saved.write_bytes(saved.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(UserInputError, match=r"service-test-centre\.safetensors"):
        model_collapse.run(make_config(**CONFIG), tmp_path / "r")


def test_an_unknown_service_is_refused_with_did_you_mean():
    with pytest.raises(UserInputError, match="unknown service 'clasifier'"):
        needed(("clasifier",))
