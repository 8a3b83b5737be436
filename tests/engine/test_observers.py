"""Observers see a run start, every saved generation with its values, and the finish."""

from pathlib import Path

import numpy as np

import model_collapse
from model_collapse.engine.observers import Observer
from tests.conftest import make_config, run_interrupted


class Recorder(Observer):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, plan, first, directory):
        self.events.append(("start", first, directory, plan.config.experiment.generations))

    def generation(self, generation, values):
        self.events.append(("generation", generation, {k: v.copy() for k, v in values.items()}))

    def finish(self, result):
        self.events.append(("finish", len(result.metrics)))


def test_an_observer_sees_what_the_run_saves(tmp_path: Path):
    config = make_config(experiment={"generations": 4})
    recorder = Recorder()
    result = model_collapse.run(config, tmp_path / "r", observers=[recorder])
    kinds = [event[0] for event in recorder.events]
    assert kinds == ["start", "generation", "generation", "generation", "generation", "finish"]
    assert recorder.events[0][1:] == (0, tmp_path / "r", 4)
    for generation, values in (e[1:] for e in recorder.events if e[0] == "generation"):
        rows = result.metrics[result.metrics["generation"] == generation]
        for name, seen in values.items():
            np.testing.assert_array_equal(seen, rows[name].to_numpy())
    assert recorder.events[-1] == ("finish", 4 * 4)


def test_a_resumed_run_starts_its_observers_where_it_resumes(tmp_path: Path):
    config = make_config(experiment={"generations": 5})
    run_interrupted(config, tmp_path / "r", 2)
    recorder = Recorder()
    model_collapse.run(config, tmp_path / "r", observers=[recorder])
    assert recorder.events[0][1] == 3
    assert [e[1] for e in recorder.events if e[0] == "generation"] == [3, 4]
