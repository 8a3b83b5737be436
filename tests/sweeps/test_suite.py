"""Suites: several runs from one file, each its own run directory, drawn side by side."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import model_collapse
from model_collapse.api import load_config, read_raw
from model_collapse.cli import app
from model_collapse.core.errors import UserInputError

SUITE = """
[experiment]
generations = 3
seeds = 5
[source]
n_test = 300
[sampling]
n = 40
[suite]
title = "replace vs accumulate"
compare = ["variance_ratio", "wasserstein"]
[suite.variants]
replace = ["regime.name=replace"]
accumulate = ["regime.name=accumulate"]
"""


def test_a_suite_runs_each_variant_and_draws_them_together(tmp_path: Path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    results = model_collapse.run_suite(path, tmp_path / "out", overrides=["experiment.seed=3"])
    assert set(results) == {"replace", "accumulate"}
    assert results["accumulate"].config.regime.name == "accumulate"
    assert results["replace"].config.experiment.seed == 3  # overrides reach every variant
    assert (tmp_path / "out/figures/comparison.png").stat().st_size > 10_000
    again = CliRunner().invoke(
        app, ["run", str(path), "--set", "experiment.seed=3", "--out", str(tmp_path / "out")]
    )
    assert again.exit_code == 0 and "comparison.png" in again.output  # resumes: all done


def test_a_suite_is_not_a_single_config(tmp_path: Path):
    with pytest.raises(UserInputError, match=re.escape("'lm-cpu' is a suite of 4 runs")):
        load_config("lm-cpu")
    path = tmp_path / "bad.toml"
    path.write_text("[suite]\ntitle = 'x'\n")
    with pytest.raises(UserInputError, match="must map each run's name to a list of overrides"):
        model_collapse.run_suite(path, tmp_path / "out")


def test_every_variant_is_checked_before_any_runs(tmp_path: Path):
    raw = read_raw("lm-cpu")
    raw["suite"]["variants"]["broken"] = ["family.name=gtp"]
    with pytest.raises(UserInputError, match="did you mean 'gpt'"):
        model_collapse.run_suite(raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_lm_paper_asks_for_the_files_it_needs(tmp_path: Path):
    result = CliRunner().invoke(app, ["run", "lm-paper", "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: source 'wikitext' needs source.path: the wikitext-2-raw folder"
    )
    assert not (tmp_path / "p").exists()  # refused before any variant ran: nothing left


@pytest.mark.slow  # torch training: make test-slow, for make test's 8 minutes
def test_lm_paper_runs_on_a_tiny_model_and_tiny_wikitext(tiny_hf: Path, tmp_path: Path):
    from model_collapse.sources.text import wikipedia_documents

    articles = list(wikipedia_documents()[:6])
    for name, chunk in {
        "wiki.train.raw": articles[:2],
        "wiki.valid.raw": articles[2:4],
        "wiki.test.raw": articles[4:],
    }.items():
        body = "".join(f" = Article {i} = \n\n {text[:3000]}\n\n" for i, text in enumerate(chunk))
        (tmp_path / name).write_text(body)
    overrides = [
        f"family.model_path={tiny_hf}",
        f"source.path={tmp_path}",
        "experiment.generations=2",
        "family.batch_size=16",
    ]
    results = model_collapse.run_suite("lm-paper", tmp_path / "out", overrides)
    replace, mix = results["replace-5-epochs"], results["mix-10-epochs"]
    assert replace.config.sampling.beams == 5 and replace.config.family.epochs == 5
    assert mix.config.regime.name == "mix" and mix.config.family.epochs == 10
    assert replace.config.sampling.n == 0 and len(replace.metrics) == 2  # every block, 1 seed
    assert (tmp_path / "out/figures/comparison.png").exists()


def test_every_bundled_preset_and_variant_is_a_valid_config():
    from model_collapse.api import preset_names, read_raw, read_suite
    from model_collapse.assemble.plan import check_names
    from model_collapse.assemble.validate import config_from_dict
    from model_collapse.config import apply_overrides

    for name in preset_names():
        raw = read_raw(name)
        variants = read_suite(raw).variants if "suite" in raw else {"": []}
        base = {k: v for k, v in raw.items() if k != "suite"}
        for changes in variants.values():
            check_names(config_from_dict(apply_overrides(base, changes)))


def test_a_set_that_clashes_with_a_variant_is_refused_naming_both(tmp_path: Path):
    """Before: --set family.name=gmm silently beat each variant's own family.name, and
    gmm ran in folders and under titles named after the variants."""
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    args = ["run", str(path), "--set", "regime.name=mix", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert (
        "--set regime.name clashes with the suite's variant 'replace', which sets regime.name"
        in result.output
    )
    assert not (tmp_path / "out").exists()


def test_a_suite_answers_compare_and_one_run_is_refused(tmp_path: Path):
    """compare ranks a suite's variants, each read back verified, as it ranks a sweep's
    runs; one run has nothing to rank against."""
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace("seeds = 5", "seeds = 8"))
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["run", str(path), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(app, ["compare", str(out), "--metric", "variance_ratio"])
    assert result.exit_code == 0, result.output
    assert "replace" in result.output and "accumulate" in result.output
    one = CliRunner().invoke(app, ["compare", str(out / "replace")])
    assert one.exit_code == 2 and "is one run; compare ranks the runs" in one.output
    metrics = out / "replace" / "metrics.csv"
    metrics.write_text(metrics.read_text().replace("0.", "9.", 1))  # a damaged variant
    damaged = CliRunner().invoke(app, ["compare", str(out)])
    assert damaged.exit_code == 2 and "metrics.csv" in damaged.output


def _suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    return path


def test_a_suite_writes_a_sweeps_tables_and_compare_ranks_its_variants(tmp_path: Path):
    import pandas as pd

    results = model_collapse.run_suite(_suite_file(tmp_path), tmp_path / "out")
    states = pd.read_csv(tmp_path / "out/sweep.csv")
    assert states.columns.tolist() == ["run", "variant", "status", "error"]
    assert states["run"].tolist() == states["variant"].tolist() == ["replace", "accumulate"]
    aggregate = pd.read_csv(tmp_path / "out/aggregate.csv")
    for name, result in results.items():  # the aggregate holds each variant's own numbers
        mine = aggregate[aggregate["variant"] == name].drop(columns=["run", "variant"])
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), result.metrics)
    intervals = pd.read_csv(tmp_path / "out/intervals.csv")
    assert set(intervals["variant"]) == {"replace", "accumulate"}
    ranked = CliRunner().invoke(app, ["compare", str(tmp_path / "out"), "-m", "variance_ratio"])
    assert ranked.exit_code == 0 and "accumulate" in ranked.output and "replace" in ranked.output


@pytest.mark.slow  # a pool of 2 processes: make test-slow and CI run it
def test_a_suite_on_two_processes_writes_the_bytes_it_writes_here(tmp_path: Path):
    path = _suite_file(tmp_path)
    model_collapse.run_suite(path, tmp_path / "here")
    model_collapse.run_suite(path, tmp_path / "pool", jobs=2)
    files = ["sweep.csv", "aggregate.csv", "intervals.csv", "figures/comparison.png"]
    files += [f"{v}/{f}" for v in ("replace", "accumulate") for f in ("metrics.csv", "config.toml")]
    for name in files:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()


def test_a_suite_written_before_it_kept_tables_resumes_and_gains_them(tmp_path: Path):
    path = _suite_file(tmp_path)
    model_collapse.run_suite(path, tmp_path / "out")
    before = (tmp_path / "out/replace/metrics.csv").read_bytes()
    for name in ("sweep.csv", "aggregate.csv", "aggregate.parquet", "intervals.csv"):
        (tmp_path / f"out/{name}").unlink()  # as a suite folder of an earlier version
    model_collapse.run_suite(path, tmp_path / "out")
    assert (tmp_path / "out/intervals.csv").is_file()
    assert (tmp_path / "out/replace/metrics.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "dask"], "--backend, --jobs and --address run a suite's variants"),
        (["--jobs", "2"], "a single run runs here: drop them"),
    ],
)
def test_a_single_run_refuses_the_suite_options(tmp_path: Path, args: list[str], message: str):
    result = CliRunner().invoke(app, ["run", "gaussian-1d", "--out", str(tmp_path / "r"), *args])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and not (tmp_path / "r").exists()


def test_restart_runs_a_suite_here_only(tmp_path: Path):
    args = ["run", str(_suite_file(tmp_path)), "--out", str(tmp_path / "s"), "--restart"]
    result = CliRunner().invoke(app, [*args, "--jobs", "2"])
    assert result.exit_code == 2 and "--restart runs a suite's variants one by one" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "[suite.variants] 'a/b' cannot name a run's folder"),
        (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    ],
)
def test_a_suite_refuses_a_bad_variant_name_or_jobs_in_one_line(tmp_path: Path, args, message):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace("replace = [", '"a/b" = [') if not args else SUITE)
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "s"), *args])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("jobs", ["0", '"two"', "1.5", "true"])
def test_a_suite_jobs_that_is_no_count_is_refused_in_one_line(tmp_path: Path, jobs: str):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace("[suite]\n", f"[suite]\njobs = {jobs}\n"))
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "suite.jobs is how many variants run at once" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.slow  # a pool of 2 processes: make test-slow and CI run it
def test_a_suite_runs_as_many_variants_at_once_as_it_says_unless_told(tmp_path: Path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace("[suite]\n", "[suite]\njobs = 2\n"))
    pooled = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "pool")])
    assert pooled.exit_code == 0 and "replace: done (" in pooled.output  # the sweep's lines
    here = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "here"), "-j", "1"])
    assert here.exit_code == 0 and "replace: done (" not in here.output  # each generation's
    for name in ("replace/metrics.csv", "accumulate/metrics.csv", "intervals.csv"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()
