"""The loop end to end: every family and regime, determinism, resume, bad combinations."""

import re
from pathlib import Path

import numpy as np
import pytest

import model_collapse
from model_collapse.config import config_to_dict
from model_collapse.core.errors import UserInputError
from tests.conftest import TEXT_SOURCE, TINY_GPT, InterruptedRunError, make_config

FAMILY_SOURCES = [
    ({"name": "gaussian"}, {"name": "gaussian", "dim": 2}),
    ({"name": "gaussian", "exact": True}, {"name": "gaussian"}),
    ({"name": "gmm", "components": 2}, {"name": "gmm", "dim": 2, "components": 2}),
    ({"name": "gmm", "covariance": "diag"}, {"name": "moons"}),
    ({"name": "kde"}, {"name": "student_t"}),
    ({"name": "categorical"}, {"name": "zipf", "categories": 30}),
    ({"name": "categorical", "exact": True}, {"name": "zipf", "categories": 30}),
    ({"name": "linear"}, {"name": "linear", "dim": 3}),
    ({"name": "ngram", "order": 3}, TEXT_SOURCE),
    (TINY_GPT, TEXT_SOURCE),
]
REGIMES = ["replace", "accumulate", "accumulate-subsample", "mix", "fresh"]


# The exact Gaussian path cannot subsample statistics: test_refused_combinations covers it.
COMBINATIONS = [
    (family, source, regime)
    for family, source in FAMILY_SOURCES
    for regime in REGIMES
    if not (
        family.get("exact") and family["name"] == "gaussian" and regime == "accumulate-subsample"
    )
]


@pytest.mark.parametrize(("family", "source", "regime"), COMBINATIONS)
def test_every_family_runs_every_regime(family, source, regime):
    config = make_config(family=family, source=source, regime={"name": regime})
    metrics = model_collapse.run(config).metrics
    assert len(metrics) == 3 * 4
    assert metrics[["seed", "generation"]].drop_duplicates().shape[0] == 12
    values = metrics.iloc[:, 2:].to_numpy()
    assert values.shape[1] >= 1 and np.isfinite(values).all()


def test_same_config_gives_byte_identical_metrics(tmp_path: Path):
    config = make_config(family={"name": "gmm"}, source={"dim": 2})
    model_collapse.run(config, tmp_path / "a")
    model_collapse.run(config, tmp_path / "b")
    assert (tmp_path / "a/metrics.csv").read_bytes() == (tmp_path / "b/metrics.csv").read_bytes()
    other = model_collapse.run(config_to_dict(config) | {"experiment": {"seed": 8}})
    assert not other.metrics.equals(model_collapse.open_run(tmp_path / "a").metrics)


@pytest.mark.parametrize(
    ("regime", "family", "source"),
    [
        ("replace", {}, {}),
        ("accumulate", {}, {}),
        ("mix", {}, {}),
        ("replace", {"name": "ngram"}, TEXT_SOURCE),
        ("mix", {"name": "linear"}, {"name": "linear"}),  # the design, inherited on resume
    ],
)
def test_interrupted_run_resumes_to_identical_bytes(tmp_path: Path, regime, family, source):
    config = make_config(
        experiment={"generations": 6}, regime={"name": regime}, family=family, source=source
    )
    model_collapse.run(config, tmp_path / "full")

    def stop_at_three(generation: int) -> None:
        if generation == 3:
            raise InterruptedRunError

    with pytest.raises(InterruptedRunError):
        model_collapse.run(config, tmp_path / "cut", on_generation=stop_at_three)
    # a partly written generation after the last checkpoint must be dropped on resume
    with open(tmp_path / "cut/metrics.csv", "a") as f:
        f.write("0,4,0.1,0.2")
    model_collapse.run(config, tmp_path / "cut")
    for name in [
        "metrics.csv",
        "config.toml",
        *(p.name for p in (tmp_path / "full/figures").iterdir()),
    ]:
        name = name if name.endswith((".csv", ".toml")) else f"figures/{name}"
        assert (tmp_path / "full" / name).read_bytes() == (tmp_path / "cut" / name).read_bytes()
    full = sorted(p.name for p in (tmp_path / "full/checkpoints").iterdir())
    assert full == sorted(p.name for p in (tmp_path / "cut/checkpoints").iterdir())


def test_rerunning_a_finished_run_changes_nothing(tmp_path: Path):
    config = make_config()
    model_collapse.run(config, tmp_path / "r")
    before = (tmp_path / "r/metrics.csv").read_bytes()
    model_collapse.run(config, tmp_path / "r")
    assert (tmp_path / "r/metrics.csv").read_bytes() == before


def test_out_holding_another_run_is_refused_and_left_alone(tmp_path: Path):
    model_collapse.run(make_config(), tmp_path / "r")
    before = {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}
    with pytest.raises(
        UserInputError, match=re.escape("holds a different run (source.n_train = 50, ")
    ):
        model_collapse.run(make_config(sampling={"n": 60}), tmp_path / "r")
    after = {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}
    assert before == after


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"family": {"name": "gmm", "exact": True}},
            "family 'gmm' has no exact sufficient-statistics path; set family.exact = false",
        ),
        (
            {"family": {"exact": True}, "regime": {"name": "accumulate-subsample"}},
            "regime 'accumulate-subsample' has no exact path for the gaussian family",
        ),
        (
            {"family": {"name": "kde"}, "sampling": {"bias": 0.5}},
            "sampling.bias is a key of gaussian and gmm, not of family 'kde'; leave it out, or set "
            "it to 1.0",
        ),
        (
            {"source": {"dim": 3}, "sampling": {"n": 3}},
            "family 'gaussian' needs at least 4 samples per training set in 3 dimensions, "
            "got sampling.n = 3; raise sampling.n",
        ),
        (
            {"source": {"n_train": 5}, "regime": {"name": "mix", "real_fraction": 0.5}},
            "regime 'mix' takes 25 real samples a generation but source.n_train is 5",
        ),
        (
            {"family": {"name": "categorical"}},
            "source 'gaussian' gives continuous data but family 'categorical' needs categorical",
        ),
        (
            {"metrics": {"names": ["support_fraction"]}},
            "metric 'support_fraction' does not apply to this run: it is for categorical data",
        ),
        ({"metrics": {"names": ["wasserstien"]}}, "did you mean 'wasserstein'?"),
        ({"family": {"name": "gausian"}}, "unknown family 'gausian'; did you mean 'gaussian'?"),
        ({"regime": {"name": "acumulate"}}, "unknown regime 'acumulate'; did you mean"),
        ({"source": {"name": "zipff"}}, "unknown source 'zipff'; did you mean 'zipf'?"),
        (
            {"family": {"name": "ngram"}, "source": TEXT_SOURCE, "sampling": {"temperature": 0.7}},
            "sampling.temperature is a key of gpt and hf, not of family 'ngram'",
        ),
        (
            {"family": {**TINY_GPT, "context": 100}, "source": TEXT_SOURCE},
            "a 64-token prompt plus 64 new tokens and the begin token need family.context >= 129",
        ),
        (
            {"family": {**TINY_GPT, "n_embd": 10, "n_head": 3}, "source": TEXT_SOURCE},
            "family.n_embd = 10 must be a multiple of family.n_head = 3",
        ),
        (
            {"family": TINY_GPT},
            "source 'gaussian' gives continuous data but family 'gpt' needs text",
        ),
    ],
)
def test_refused_combinations(sections, message, tmp_path: Path):
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(make_config(**sections), tmp_path / "r")
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_fresh_regime_refuses_a_file_too_small_for_all_generations(iris_csv: Path):
    config = make_config(
        source={"name": "file", "path": str(iris_csv), "n_train": 50},
        regime={"name": "fresh", "real_fraction": 0.5},
        experiment={"generations": 5},
    )
    with pytest.raises(UserInputError, match="the fresh regime needs 25 new real rows"):
        model_collapse.run(config)


def test_result_plot_draws_every_metric():
    result = model_collapse.run(make_config())
    figure = result.plot()
    shown = [ax for ax in figure.axes if ax.get_visible()]
    assert len(shown) == len(result.metrics.columns) - 2 == 5
    rows = {round(ax.get_position().y0, 3) for ax in shown}
    columns = {round(ax.get_position().x0, 3) for ax in shown}
    assert len(rows) == 2 and len(columns) == 3  # a grid, not one long row


def test_a_directory_left_by_a_run_killed_while_starting_is_reused(tmp_path: Path):
    out = tmp_path / "r"
    (out / "checkpoints").mkdir(parents=True)
    (out / ".config.toml.abc123").write_text("half a config")
    model_collapse.run(make_config(), out)
    assert (out / "metrics.csv").exists()


@pytest.mark.parametrize(("keep", "expected"), [(False, [0, 2]), (True, [0, 1, 2])])
def test_checkpoints_kept(tmp_path: Path, keep: bool, expected: list[int]):
    model_collapse.run(make_config(experiment={"keep_checkpoints": keep}), tmp_path / "r")
    names = sorted(p.name for p in (tmp_path / "r/checkpoints").glob("model-*.safetensors"))
    assert names == [f"model-{g:05d}.safetensors" for g in expected]


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
@pytest.mark.parametrize(
    ("family", "source"),
    [
        ({"name": "gaussian"}, {"name": "gaussian"}),
        ({"name": "gaussian", "exact": True}, {"name": "gaussian"}),
        ({"name": "gmm"}, {"name": "gmm", "dim": 2, "components": 2}),
        ({"name": "ngram"}, TEXT_SOURCE),
        (TINY_GPT, TEXT_SOURCE),
    ],
)
def test_oracle_and_pool_record_the_real_share_they_trained_on(family, source):
    config = {"family": family, "source": source, "sampling": {"n": 40}}
    shares = {}
    for regime in ("pool", "oracle"):
        sections = {**config, "regime": {"name": regime, "real_fraction": 0.5}}
        metrics = model_collapse.run(make_config(**sections)).metrics
        assert metrics.columns[-1] == "real_share"
        shares[regime] = metrics.groupby("generation")["real_share"].first().tolist()
    assert shares == {"pool": [1.0, 0.5, 0.5], "oracle": [1.0, 1.0, 1.0]}


def test_pool_is_mix_by_another_name_and_adds_its_diagnostic():
    mixed = model_collapse.run(make_config(regime={"name": "mix", "real_fraction": 0.3}))
    pooled = model_collapse.run(make_config(regime={"name": "pool", "real_fraction": 0.3}))
    assert pooled.metrics.drop(columns="real_share").equals(mixed.metrics)


def test_the_oracle_refuses_a_real_share_too_small_to_fit():
    config = make_config(regime={"name": "oracle", "real_fraction": 0.01}, sampling={"n": 50})
    message = "regime 'oracle' trains on the real share of each pool only: regime.real_fraction"
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(config)


@pytest.mark.parametrize("source", [{"name": "gaussian"}, {"name": "zipf", "categories": 20}])
@pytest.mark.parametrize("real_fraction", [0.0, 1.0])
def test_the_exact_path_takes_no_real_or_no_synthetic_items(source, real_fraction):
    family = "gaussian" if source["name"] == "gaussian" else "categorical"
    regime = {"name": "pool", "real_fraction": real_fraction}
    exact = make_config(regime=regime, source=source, family={"name": family, "exact": True})
    metrics = model_collapse.run(exact).metrics
    later = metrics[metrics["generation"] > 0]
    assert later.drop(columns="real_share").notna().all().all()
    assert (later["real_share"] == real_fraction).all()


def test_a_diagnostic_may_not_take_a_metrics_column():
    from model_collapse.regimes import REGIMES, Regime
    from model_collapse.regimes.builtin import mix_set, rest

    clash = {"variance_ratio": lambda step, train: 0.0}
    REGIMES.register("test-clash")(Regime(mix_set, False, rest, "test", clash))
    try:
        with pytest.raises(UserInputError, match="adds a column 'variance_ratio' that a metric"):
            model_collapse.run(make_config(regime={"name": "test-clash"}))
    finally:
        REGIMES._entries.pop("test-clash")
