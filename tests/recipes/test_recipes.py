"""Recipes: each published closed form against our runs, and the command's refusals.

The closed forms are checked by simulation at fixed seeds: a reference number counts as
matched inside our 95% t interval over seeds, or within 15% of it. With 95% intervals,
each number alone falls outside its interval 5% of the time; the 15% margin makes a miss
rarer still, so a test that asks for every number of a recipe fails by chance well under
once in a hundred runs at these seeds (which are fixed: it passes or fails the same way
every time).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.recipes import RECIPES
from model_collapse.recipes.base import Row
from model_collapse.recipes.gerstgrasser_linear import expected_excess
from model_collapse.recipes.run import run_recipe


def _shrunk(name: str, monkeypatch, **settings) -> None:
    """A recipe's small scale cut further, for a quick test."""
    scale = RECIPES.get(name).scales["small"]
    monkeypatch.setitem(scale.sweep, "set", {**scale.sweep.get("set", {}), **settings})


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("gerstgrasser-linear", {"experiment.generations": 12, "experiment.seeds": 300}),
        pytest.param(  # 7 s: make test-slow, to keep make test's margin
            "shumailov-gaussian",
            {"experiment.generations": 30, "experiment.seeds": 300},
            marks=pytest.mark.slow,
        ),
        ("wright-fisher", {"experiment.generations": 40, "experiment.seeds": 100}),
        ("seddik-categorical", {"experiment.generations": 40, "experiment.seeds": 300}),
    ],
)
def test_a_recipe_matches_every_published_number(tmp_path: Path, monkeypatch, name, settings):
    _shrunk(name, monkeypatch, **settings)
    lines = run_recipe(name, tmp_path / "r")
    table = pd.read_csv(tmp_path / "r/reproduction.csv")
    assert list(table.columns) == [
        "quantity", "generation", "ours", "ours_low", "ours_high", "reference", "source"
    ]  # fmt: skip
    referenced = table.dropna(subset=["reference"])
    assert len(referenced) >= 4 and (referenced["source"].str.len() > 10).all()
    rows = [Row(**record) for record in referenced.to_dict("records")]
    assert all(row.matches() for row in rows), referenced
    assert lines[0].startswith(f"Ours matches {len(rows)} of {len(rows)} reference numbers")
    assert (tmp_path / "r/figures/reproduction.png").stat().st_size > 10_000


def test_a_share_of_chains_has_its_wilson_interval_even_at_0_and_1():
    from model_collapse.recipes.base import share_interval

    assert share_interval(0, 1000)[:2] == (0.0, 0.0) and 0 < share_interval(0, 1000)[2] < 0.004
    assert share_interval(1000, 1000)[1:] == pytest.approx((0.99617, 1.0), abs=1e-5)
    share, low, high = share_interval(250, 1000)
    assert low < share < high and high - low == pytest.approx(
        2 * 1.96 * (0.25 * 0.75 / 1000) ** 0.5, rel=0.02
    )


def test_a_number_far_from_ours_is_missed_and_named(tmp_path: Path):
    from model_collapse.recipes.run import matches

    close = Row("q", 3, 1.0, 0.9, 1.1, 1.05, "paper, eq. 1")
    far = Row("q", 9, 1.0, 0.9, 1.1, 2.0, "paper, eq. 2")
    assert close.matches() and not far.matches()
    lines = matches([close, far], "Paper (2024)")
    assert lines[0].startswith("Ours matches 1 of 2 reference numbers of Paper (2024)")
    assert "generation 9" in lines[1] and "theirs 2" in lines[1] and "eq. 2" in lines[1]


def test_the_linear_closed_forms_are_the_papers():
    """c n under replace, c sum 1/i^2 under accumulate, bounded by c pi^2 / 6."""
    c = 1.0 * 10 / (100 - 10 - 1)
    assert expected_excess("replace", 50, 1.0, 10, 100) == pytest.approx(50 * c)
    assert expected_excess("accumulate", 1, 1.0, 10, 100) == pytest.approx(c)
    assert expected_excess("accumulate", 2, 1.0, 10, 100) == pytest.approx(1.25 * c)
    assert expected_excess("accumulate", 10_000, 1.0, 10, 100) < c * np.pi**2 / 6


def test_recipes_list_names_every_recipe_with_its_scales_and_times():
    result = CliRunner().invoke(app, ["recipes", "list"])
    assert result.exit_code == 0
    for name, recipe in RECIPES.items():
        line = next(line for line in result.output.splitlines() if line.startswith(name))
        assert "--scale small" in line and "--scale paper" in line
        for scale in recipe.scales.values():
            assert scale.time in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-recipe"], "unknown recipe 'no-such-recipe'"),
        (["wright-fisher", "--scale", "huge"], "has the scales small, paper; got --scale 'huge'"),
        (["wright-fisher", "--jobs", "0"], "--jobs must be at least 1, got 0"),
        (
            ["mad-bias", "--set", 'sampling.n={schedule = "linear", start = 500, end = 50}'],
            "recipe mad-bias: sampling.n follows a schedule, but a recipe reproduces",
        ),
        (
            [
                "gerstgrasser-linear",
                "--set",
                'sampling.n={schedule = "linear", start = 100, end = 60}',
            ],
            "sampling.n follows a schedule",
        ),
    ],
)
def test_a_bad_recipe_or_scale_is_refused_in_one_line(tmp_path: Path, args, message):
    result = CliRunner().invoke(app, ["recipes", "run", *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not (tmp_path / "r").exists()


def test_a_recipe_of_a_figure_gives_ours_at_its_generations_and_says_so(tmp_path, monkeypatch):
    """shumailov-gmm: the paper shows its GMM in a figure at fixed generations, with no
    number; ours are given at those generations and the verdict says there is none."""
    _shrunk("shumailov-gmm", monkeypatch, **{"experiment.generations": 52, "experiment.seeds": 3})
    lines = run_recipe("shumailov-gmm", tmp_path / "r")
    table = pd.read_csv(tmp_path / "r/reproduction.csv")
    assert sorted(set(table["generation"])) == [0, 50, 51]  # the paper's 0 and 50, and the last
    assert table["reference"].isna().all() and table["ours"].notna().all()
    assert lines == ["Shumailov et al. (2024) publishes no number for these settings; "
                     "reproduction.csv has ours."]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "runs", "quantities"),
    [
        ("bertrand-lambda", 5, 5),
        pytest.param("kazdan", 9, 9, marks=pytest.mark.slow),  # nine runs: make test-slow
        pytest.param("shumailov-vae", 1, 4, marks=pytest.mark.slow),  # VAEs: make test-slow
        pytest.param("drayson-defence", 3, 6, marks=pytest.mark.slow),  # GMMs, a classifier
    ],
)
def test_a_recipe_without_published_numbers_gives_ours_for_each_run(
    tmp_path, monkeypatch, name, runs, quantities
):
    _shrunk(name, monkeypatch, **{"experiment.generations": 6, "experiment.seeds": 5})
    lines = run_recipe(name, tmp_path / "r")
    table = pd.read_csv(tmp_path / "r/reproduction.csv")
    assert len(pd.read_csv(tmp_path / "r/sweep.csv")) == runs
    assert table["quantity"].nunique() == quantities and table["ours"].notna().all()
    assert table["reference"].isna().all() and "publishes no number" in lines[0]


@pytest.mark.slow  # 10 s: eight runs
def test_mad_bias_matches_its_closed_form_and_loses_recall_not_precision(tmp_path, monkeypatch):
    """The fully synthetic loop's covariance against ((n-1)/n)^(g+1) lambda^g; and the
    paper's reading: under lambda = 0.5 every one of 10 seeds ends with a lower recall
    than it began with, and no seed's precision falls by more than 0.02, while the fresh
    data loop keeps more recall than the fully synthetic one (every seed)."""
    _shrunk("mad-bias", monkeypatch, **{"experiment.generations": 5, "experiment.seeds": 10,
                                        "source.n_train": 200, "sampling.n": 200})  # fmt: skip
    lines = run_recipe("mad-bias", tmp_path / "r")
    assert lines[0].startswith("Ours matches 12 of 12 reference numbers")

    def metrics(bias: float, loop: str) -> pd.DataFrame:
        sweep = pd.read_csv(tmp_path / "r/sweep.csv")
        row = sweep[(sweep["sampling.bias"] == bias) & (sweep["regime.name"] == loop)].iloc[0]
        table = pd.read_csv(tmp_path / "r" / row["run"] / "metrics.csv")
        return table.pivot(index="seed", columns="generation")

    synthetic, fresh = metrics(0.5, "replace"), metrics(0.5, "fresh")
    assert (synthetic["knn_recall"][4] < synthetic["knn_recall"][0]).all()
    assert (synthetic["knn_precision"][4] > synthetic["knn_precision"][0] - 0.02).all()
    assert (fresh["knn_recall"][4] > synthetic["knn_recall"][4]).all()


def test_a_recipe_takes_paths_for_every_run_and_refuses_to_fix_what_it_varies(tmp_path):
    from model_collapse.recipes.run import recipe_scale

    _, spec = recipe_scale("shumailov-lm", "paper", ["family.model_path=/models/opt-125m"])
    assert spec["set"]["family.model_path"] == "/models/opt-125m"
    assert "family.model_path" not in RECIPES.get("shumailov-lm").scales["paper"].sweep["set"]
    result = CliRunner().invoke(
        app,
        ["recipes", "run", "mad-bias", "--set", "sampling.bias=0.3", "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "recipe mad-bias varies it itself" in result.output and not (tmp_path / "r").exists()


def _lm_run(tmp_path: Path, first: np.ndarray, last: np.ndarray):
    """A finished shumailov-lm arm: its per-block gen0 perplexities at generations 1 and 3."""
    from types import SimpleNamespace

    from model_collapse.recipes.base import Finished

    folder = tmp_path / "samples" / "gen0_perplexity"
    folder.mkdir(parents=True)
    for g, values in ((1, first), (3, last)):
        np.save(folder / f"generation-{g:05d}.npy", values[None, :])
    metrics = pd.DataFrame({
        "seed": 0, "generation": [0, 1, 2, 3], "repetition": [0.5, 0.7, 0.8, 0.9],
        "test_perplexity": [400.0, 900.0, 2000.0, 5000.0],
    })  # fmt: skip
    config = SimpleNamespace(
        regime=SimpleNamespace(name="replace"), family=SimpleNamespace(epochs=5)
    )
    return Finished("arm", {}, config, metrics, directory=tmp_path)


def test_the_lm_recipe_says_whether_the_gen0_perplexity_histogram_shifts(tmp_path: Path):
    """A one-sided Mann-Whitney test at 5% (its false-alarm rate): 500 blocks whose
    perplexity fell by a fifth are a shift; the same distribution twice is not, and then
    the reading says why, from the run's own numbers."""
    from model_collapse.recipes.shumailov_lm import shift

    rng = np.random.default_rng(0)
    before = np.exp(rng.normal(3.0, 0.3, 500))
    shifted = shift(_lm_run(tmp_path / "a", before, 0.8 * np.exp(rng.normal(3.0, 0.3, 500))))
    assert "is more probable under generation 0's model, as in the paper" in shifted
    assert "no real, 5 epochs" in shifted and "Mann-Whitney" in shifted
    same = shift(_lm_run(tmp_path / "b", before, np.exp(rng.normal(3.0, 0.3, 500))))
    assert "is not more probable" in same and "Why, from its numbers:" in same
    assert "repeats 70% of its 4-grams" in same and "from 400 at generation 0 to 5e+03" in same


@pytest.mark.slow  # two GPTs trained and decoded by beam search
def test_the_lm_recipe_runs_the_protocol_and_reads_its_own_blocks(tmp_path, monkeypatch):
    _shrunk("shumailov-lm", monkeypatch, **{"experiment.generations": 3, "source.n_train": 24,
                                            "sampling.n": 24, "source.n_test": 32})  # fmt: skip
    lines = run_recipe("shumailov-lm", tmp_path / "r")
    table = pd.read_csv(tmp_path / "r/reproduction.csv")
    assert table["reference"].isna().all() and table["ours"].notna().all()
    assert {q.split(", ", 1)[1] for q in table["quantity"]} == {"no real, 5 epochs",
                                                                "10% real, 10 epochs"}  # fmt: skip
    config = pd.read_csv(tmp_path / "r/sweep.csv")
    assert set(config["family.epochs"]) == {5, 10}
    readings = [line for line in lines if "under generation 0's model" in line]
    assert len(readings) == 2 and all("Mann-Whitney" in line for line in readings)
