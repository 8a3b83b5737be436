"""Schedules: a schedulable key's value by generation, checked at every generation, and a
constant schedule that changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.api import load_config, run
from model_collapse.assemble.validate import config_from_dict
from model_collapse.cli import app
from model_collapse.config import config_to_toml, read_toml
from model_collapse.config.schedules import config_at, describe, values_of
from model_collapse.core.errors import UserInputError

MIX = ["experiment.generations=6", "experiment.seeds=5", "regime.name=mix"]


def test_each_kind_gives_a_value_per_generation():
    line = {"schedule": "linear", "start": 1.0, "end": 0.2}
    assert values_of("k", line, 5) == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    assert values_of("k", line, 5)[-1] == 0.2  # the ends exactly
    decay = {"schedule": "exponential", "start": 1.0, "rate": -0.5}
    assert values_of("k", decay, 3) == pytest.approx([1.0, np.exp(-0.5), np.exp(-1.0)])
    steps = {"schedule": "step", "generations": [0, 2], "values": [0.9, 0.3]}
    assert values_of("k", steps, 4) == [0.9, 0.9, 0.3, 0.3]
    assert values_of("k", {"schedule": "list", "values": [0.1, 0.2]}, 2) == [0.1, 0.2]
    assert describe(line) == "linear 1 to 0.2"


def test_the_resolver_gives_each_generation_its_value_and_the_rest_unchanged():
    config = load_config(
        "gaussian-1d", [*MIX, "regime.real_fraction=[0.5, 0.4, 0.3, 0.2, 0.1, 0.0]"]
    )
    assert config.regime.real_fraction == {
        "schedule": "list",
        "values": [0.5, 0.4, 0.3, 0.2, 0.1, 0.0],
    }
    third = config_at(config, 2)
    assert third.regime.real_fraction == 0.3 and third.sampling == config.sampling
    unscheduled = load_config("gaussian-1d", MIX)
    assert config_at(unscheduled, 3) is unscheduled


def test_a_schedule_is_saved_and_read_back_as_given(tmp_path: Path):
    schedule = '{schedule = "linear", start = 1.0, end = 0.2}'
    config = load_config("gaussian-1d", [*MIX, f"regime.real_fraction={schedule}"])
    path = tmp_path / "config.toml"
    path.write_text(config_to_toml(config))
    assert f"real_fraction = {schedule}" in path.read_text()
    assert config_from_dict(read_toml(path)) == config


def test_a_constant_schedule_gives_the_constants_bytes(tmp_path: Path):
    constant = run(load_config("gaussian-1d", [*MIX, "regime.real_fraction=0.3"]), tmp_path / "c")
    scheduled = load_config(
        "gaussian-1d",
        [*MIX, 'regime.real_fraction={schedule = "step", generations = [0], values = [0.3]}'],
    )
    run(scheduled, tmp_path / "s")
    assert (tmp_path / "c/metrics.csv").read_bytes() == (tmp_path / "s/metrics.csv").read_bytes()
    assert constant.metrics.shape[0] == 30


def test_a_falling_real_share_changes_the_generations_it_reaches(tmp_path: Path):
    """Generations 0 and 1 see the same share as the constant 0.5 (generation 0 trains on
    real data; generation 1's share is the schedule's first value): the same numbers. From
    generation 2 on, less real data: the variance ratio differs."""
    sched = '{schedule = "step", generations = [0, 2], values = [0.5, 0.0]}'
    a = run(load_config("gaussian-1d", [*MIX, "regime.real_fraction=0.5"]), tmp_path / "a")
    b = run(load_config("gaussian-1d", [*MIX, f"regime.real_fraction={sched}"]), tmp_path / "b")
    early = a.metrics["generation"] <= 1
    assert a.metrics[early].equals(b.metrics[early])
    assert not a.metrics[~early]["variance_ratio"].equals(b.metrics[~early]["variance_ratio"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '{schedule = "linear", start = 0.5, end = 1.5}',
            "regime.real_fraction at generation 3 must be in the range [0, 1], got 1.1",
        ),
        ("[0.5, 0.4]", "a schedule list gives one value per generation: 6 generations, 2 values"),
        ('{schedule = "cubic", start = 1}', "unknown schedule 'cubic'; the schedules are linear"),
        ('{schedule = "linear", start = 1}', 'a "linear" schedule takes end, start'),
        ('{schedule = "step", generations = [1, 3], values = [1, 0]}', "start at 0 and increase"),
        ('{schedule = "linear", start = "a", end = 1}', "the schedule's start must be numbers"),
        ('{schedule = "exponential", start = 0.0, rate = 1000}', "overflows by generation 5"),
    ],
)
def test_a_bad_schedule_is_refused_in_one_line(tmp_path: Path, value, message):
    sets = [a for s in [*MIX, f"regime.real_fraction={value}"] for a in ("--set", s)]
    result = CliRunner().invoke(app, ["run", "gaussian-1d", *sets, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not (tmp_path / "r").exists()


def test_a_key_that_takes_one_value_refuses_a_schedule():
    with pytest.raises(UserInputError, match=r"source\.n_test takes one value; it cannot follow"):
        load_config("gaussian-1d", ['source.n_test={schedule = "linear", start = 10, end = 20}'])


def test_each_generation_draws_its_scheduled_sample_size(tmp_path: Path):
    """sampling.n = [1000, 5, 1000, 1000] under replace: generation 2 is fitted on 5
    samples, generation 1 on 1,000. The log variance of a fit on n points has standard
    deviation about sqrt(2 / (n - 1)): 0.045 at 1,000 and 0.71 at 5, so over 200 seeds
    generation 2's spread is far above five times generation 1's (a false alarm needs the
    200-seed standard deviations off by factors no sample of that size gives)."""
    from model_collapse.engine.loop import generate
    from model_collapse.regimes import REGIMES

    sets = ["experiment.generations=4", "experiment.seeds=200", "sampling.n=[1000, 5, 1000, 1000]"]
    config = load_config("gaussian-1d", sets)
    model = run(config).metrics
    spread = np.log(model.pivot(index="seed", columns="generation", values="variance_ratio")).std()
    assert spread[2] > 5 * spread[1]
    from model_collapse.assemble.plan import plan_run

    plan = plan_run(config)
    fitted = plan.new_model(0).fit(plan.real.train, np.random.default_rng(0))
    shapes = [generate(fitted, config_at(config, g), REGIMES.get("replace"), g)[0].shape[1]
              for g in range(4)]  # fmt: skip
    assert shapes == [1000, 5, 1000, 1000]


def test_a_constant_sample_size_schedule_gives_the_constant_s_bytes(tmp_path: Path):
    sets = ["experiment.generations=5", "experiment.seeds=20", "regime.name=accumulate-subsample"]
    constant = run(load_config("gaussian-1d", [*sets, "sampling.n=300"]), tmp_path / "c")
    line = 'sampling.n={schedule = "linear", start = 300, end = 300}'
    scheduled = run(load_config("gaussian-1d", [*sets, line]), tmp_path / "s")
    assert (tmp_path / "c/metrics.csv").read_bytes() == (tmp_path / "s/metrics.csv").read_bytes()
    assert list(constant.metrics.columns) == list(scheduled.metrics.columns)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '{schedule = "linear", start = 0, end = 300}',
            "sampling.n at generation 0 must be at least 1",
        ),
        ("[100, 200]", "a schedule list gives one value per generation: 6 generations, 2 values"),
        (
            '{schedule = "linear", start = 100, end = -5}',
            "sampling.n at generation 5 must be in the range",
        ),
    ],
)
def test_a_bad_sample_size_schedule_is_refused_naming_the_generation(value: str, message: str):
    with pytest.raises(UserInputError, match=message):
        load_config("gaussian-1d", ["experiment.generations=6", f"sampling.n={value}"])


def test_decompose_takes_one_sample_size():
    from model_collapse.sweeps.decompose import decompose_configs

    config = load_config("gaussian-1d", ["sampling.n=[100, 200, 300]", "experiment.generations=3"])
    with pytest.raises(UserInputError, match=r"--decompose sizes its arms from one sampling\.n"):
        decompose_configs(config)


def test_fresh_rows_follow_a_changing_share(tmp_path: Path):
    """On a fixed data set, each generation's fresh rows start after the rows the earlier
    generations took, however many each took."""
    from model_collapse.sources.base import draw_per_seed

    config = load_config("gaussian-1d", ["experiment.seeds=1", "source.n_train=4"])
    pool = np.arange(40.0)[:, None]
    _, fresh = draw_per_seed(config, pool, "pool", "rows")
    rng = np.random.default_rng(0)
    first, second = fresh(1, 3, rng), fresh(2, 5, rng, used=3)
    third_default = fresh(3, 3, rng)  # (3 - 1) x 3 rows before it: the constant share's
    taken = np.concatenate([first, second], axis=1).ravel()
    assert len(set(taken)) == 8 and not set(third_default.ravel()) & set(first.ravel())


def test_a_schedule_on_the_exact_path_is_refused():
    """The exact path sizes a generation's statistics for the next one's share: a share
    that changes would train on the wrong number of items."""
    with pytest.raises(UserInputError, match=r"runs on samples; set family\.exact = false"):
        load_config(
            "gaussian-1d", [*MIX, "family.exact=true", "regime.real_fraction=[1, 1, 1, 0.5, 0, 0]"]
        )
