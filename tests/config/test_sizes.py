"""The memory a run needs is estimated from the config and refused when it will not fit."""

import re

import pytest

import model_collapse
from model_collapse.config.sizes import Shape, available_memory, needs
from model_collapse.core.errors import UserInputError
from model_collapse.families import FAMILIES
from tests.conftest import make_config


def test_the_estimate_counts_the_big_arrays():
    config = make_config(experiment={"seeds": 10, "generations": 100}, sampling={"n": 1000})
    by_what = {
        need.what: need.bytes
        for need in needs(config, FAMILIES.get("gaussian"), 1000, Shape(2), history=False)
    }
    assert by_what["the real training sets"] == 10 * 1000 * 2 * 8
    assert by_what["each generation's sets"] == 4 * 10 * 1000 * 2 * 8
    kept = {
        need.what: need.bytes
        for need in needs(config, FAMILIES.get("gaussian"), 1000, Shape(2), history=True)
    }
    assert kept["every earlier synthetic set (the regime keeps them all)"] == 2 * 100 * 160_000


@pytest.mark.parametrize(
    ("sections", "keys"),
    [
        (
            {"experiment": {"seeds": 1_000_000}, "sampling": {"n": 1_000_000}},
            "experiment.seeds or sampling.n",
        ),
        (
            {
                "experiment": {"seeds": 1000, "generations": 100_000},
                "regime": {"name": "accumulate"},
                "sampling": {"n": 1000},
            },
            "experiment.generations, experiment.seeds or sampling.n",
        ),
        (
            {
                "source": {"name": "zipf", "categories": 10_000_000},
                "family": {"name": "categorical"},
                "experiment": {"seeds": 100_000},
            },
            "experiment.seeds or source.categories",
        ),
    ],
)
def test_runs_that_cannot_fit_are_refused_before_any_work(tmp_path, sections, keys):
    with pytest.raises(UserInputError) as err:
        model_collapse.run(make_config(**sections), tmp_path / "r")
    text = str(err.value)
    assert re.match(
        r"this run needs about [\d.]+ [TPG]iB of memory, more than the [\d.]+ GiB", text
    )
    assert text.endswith(f"lower {keys}")
    assert not (tmp_path / "r").exists()
    assert available_memory() > 2**30
