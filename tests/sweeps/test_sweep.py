"""Sweeps: a sweep file expands into named runs checked before any runs; local processes
give the same bytes as one process; a failed run is recorded while the others finish; a
second pass skips what is done; bad sweep files are refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.core.errors import UserInputError
from model_collapse.sweeps.sweep import read_sweep, run_sweep

SMALL = """base = "gaussian-1d"
[set]
"experiment.generations" = 3
"experiment.seeds" = 3
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(SMALL + text)
    return path


def test_a_grid_and_zipped_keys_expand_into_named_runs(tmp_path: Path):
    sweep = read_sweep(
        _file(
            tmp_path,
            '[grid]\n"regime.name" = ["replace", "mix"]\n'
            '[zip]\n"sampling.n" = [20, 40]\n"source.n_train" = [20, 40]\n',
        )
    )
    assert [r.name for r in sweep.runs] == [
        "regime.name=replace,sampling.n=20,source.n_train=20",
        "regime.name=replace,sampling.n=40,source.n_train=40",
        "regime.name=mix,sampling.n=20,source.n_train=20",
        "regime.name=mix,sampling.n=40,source.n_train=40",
    ]
    assert sweep.keys == ["regime.name", "sampling.n", "source.n_train"]
    assert sweep.runs[2].overrides == [
        "experiment.generations=3",
        "experiment.seeds=3",
        'regime.name="mix"',
        "sampling.n=20",
        "source.n_train=20",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[grid]\n"regime.nam" = ["mix"]\n', "did you mean 'regime.name'"),
        ("[grid]\n", "the sweep varies nothing"),
        ('[grid]\n"regime.name" = "mix"\n', "[grid] regime.name must be a non-empty list"),
        ('[zip]\n"sampling.n" = [10, 20]\n"source.n_train" = [10]\n', "differ in length"),
        ('[grids]\n"regime.name" = ["mix"]\n', "unknown part 'grids'"),
        ('[grid]\n"regime.name" = ["mixx"]\n', "unknown regime 'mixx'; did you mean 'mix'"),
    ],
)
def test_a_bad_sweep_file_is_refused_in_one_line_before_any_runs(tmp_path, text, message):
    path = _file(tmp_path, text)
    with pytest.raises(UserInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_sweep(path)
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_backend_this_version_lacks_is_refused(tmp_path: Path):
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--backend", "slurm", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "--backend 'slurm' is not available" in result.output


@pytest.mark.slow  # 8 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_two_processes_write_the_bytes_one_process_writes(tmp_path: Path):
    sweep = read_sweep(
        _file(tmp_path, '[grid]\n"regime.name" = ["replace", "mix"]\n"sampling.n" = [20, 50]\n')
    )
    run_sweep(sweep, tmp_path / "one", jobs=1, tell=lambda line: None)
    run_sweep(sweep, tmp_path / "two", jobs=2, tell=lambda line: None)
    for name in ["aggregate.csv", "sweep.csv", *(f"{r.name}/metrics.csv" for r in sweep.runs)]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    aggregate = (tmp_path / "one/aggregate.csv").read_text().splitlines()
    assert aggregate[0].startswith("run,regime.name,sampling.n,seed,generation,")
    assert len(aggregate) == 1 + 4 * 3 * 3  # 4 runs x 3 seeds x 3 generations


def test_a_failed_run_is_recorded_the_others_finish_and_a_second_pass_keeps_them(tmp_path):
    path = tmp_path / "sweep.toml"
    # gmm in 2-D needs 3 samples: sampling.n = 2 fails when that run starts, not before
    path.write_text(
        'base = "gmm-2d"\n[set]\n"experiment.generations" = 2\n"experiment.seeds" = 2\n'
        '[grid]\n"sampling.n" = [2, 50]\n'
    )
    sweep = read_sweep(path)
    said: list[str] = []
    errors = run_sweep(sweep, tmp_path / "out", tell=said.append)
    assert errors["sampling.n=50"] == "" and "needs at least 3 samples" in errors["sampling.n=2"]
    states = (tmp_path / "out/sweep.csv").read_text()
    assert "sampling.n=2,2,failed,\"family 'gmm' needs at least 3" in states
    assert (tmp_path / "out/aggregate.csv").read_text().count("sampling.n=50") == 4
    metrics = (tmp_path / "out/sampling.n=50/metrics.csv").read_bytes()
    again = run_sweep(sweep, tmp_path / "out", tell=said.append)
    assert again == errors  # the finished run found finished, the failed one failed again
    assert (tmp_path / "out/sampling.n=50/metrics.csv").read_bytes() == metrics


def test_a_changed_sweep_never_passes_old_numbers_off_as_new(tmp_path: Path):
    """Same run names, more generations: the old folders hold a different run, which the
    run refuses; the aggregate then holds nothing, not the old rows."""
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    run_sweep(read_sweep(path), tmp_path / "out", tell=lambda line: None)
    path.write_text(
        path.read_text().replace('"experiment.generations" = 3', '"experiment.generations" = 4')
    )
    errors = run_sweep(read_sweep(path), tmp_path / "out", tell=lambda line: None)
    error = errors["regime.name=mix"]
    assert "holds a run of another config (experiment.generations = 3 there)" in error
    assert "give the sweep another --out, or remove that folder" in error
    assert not (tmp_path / "out/aggregate.csv").exists()


def test_list_and_mixed_values_are_shown_as_text_in_the_tables(tmp_path: Path):
    path = _file(tmp_path, '[grid]\n"metrics.names" = [["mean_error", "wasserstein"]]\n')
    sweep = read_sweep(path)
    assert sweep.runs[0].name == "metrics.names=__mean_error_,__wasserstein__"
    run_sweep(sweep, tmp_path / "out", tell=lambda line: None)
    import pandas as pd

    table = pd.read_parquet(tmp_path / "out/aggregate.parquet")
    assert set(table["metrics.names"]) == {'["mean_error", "wasserstein"]'}
    assert len(table) == 9 and list(table.columns[-2:]) == ["mean_error", "wasserstein"]


@pytest.mark.parametrize(
    "text",
    [
        '[grid]\n"experiment.generations" = [2, 4]\n',  # also in [set]
        '[grid]\n"sampling.n" = [20]\n[zip]\n"sampling.n" = [30]\n',
    ],
)
def test_a_key_given_twice_is_refused(tmp_path, text):
    with pytest.raises(UserInputError, match="is given twice"):
        read_sweep(_file(tmp_path, text))


def test_an_out_that_is_a_file_is_refused_in_one_line(tmp_path: Path):
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    (tmp_path / "taken").write_text("mine")
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "taken").read_text() == "mine"


@pytest.mark.slow  # 9 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_dask_writes_the_bytes_local_processes_write(tmp_path: Path):
    """A real dask.distributed LocalCluster of 2 worker processes, started here."""
    sweep = read_sweep(
        _file(tmp_path, '[grid]\n"regime.name" = ["replace", "mix", "accumulate"]\n')
    )
    run_sweep(sweep, tmp_path / "local", jobs=1, tell=lambda line: None)
    run_sweep(sweep, tmp_path / "dask", jobs=2, tell=lambda line: None, backend="dask")
    for name in ["aggregate.csv", "sweep.csv", *(f"{r.name}/metrics.csv" for r in sweep.runs)]:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


def test_an_unreachable_dask_scheduler_is_named_in_one_line(tmp_path: Path, monkeypatch):
    from model_collapse.sweeps import backends

    monkeypatch.setattr(backends, "REACH_SECONDS", 2)  # 25 from the command line
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    args = ["sweep", str(path), "--backend", "dask", "--address", "tcp://127.0.0.1:1"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 2 s" in result.output
    assert not (tmp_path / "out").exists()


def test_a_backend_whose_package_is_missing_names_the_extra(tmp_path: Path, monkeypatch):
    from model_collapse.sweeps import backends

    monkeypatch.setitem(backends.BACKENDS, "dask", (backends.on_dask, "no_such_module_for_dask"))
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--backend", "dask", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "pip install 'model-collapse[dask]'" in result.output


def test_a_base_config_file_is_read_beside_the_sweep_file(tmp_path: Path, monkeypatch):
    from model_collapse.api import load_config
    from model_collapse.config import config_to_toml

    (tmp_path / "cfg.toml").write_text(config_to_toml(load_config("gaussian-1d")))
    path = tmp_path / "sweep.toml"
    path.write_text('base = "cfg.toml"\n[grid]\n"regime.name" = ["mix"]\n')
    monkeypatch.chdir(tmp_path.parent)  # not where the sweep file is
    sweep = read_sweep(path)
    assert sweep.base == str(tmp_path / "cfg.toml")


def test_two_sweeps_on_one_folder_at_once_are_refused_in_one_line(tmp_path: Path):
    from model_collapse.engine.lock import RunLock

    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix"]\n')
    (tmp_path / "out").mkdir()
    held = RunLock(tmp_path / "out")
    held.acquire()  # as a sweep running in another process holds it
    try:
        result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    finally:
        held.release()
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "is in use by another sweep" in result.output
    assert not (tmp_path / "out/sweep.csv").exists()
    again = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert again.exit_code == 0, again.output


def test_a_value_toml_cannot_pass_on_is_refused_in_one_line(tmp_path: Path):
    path = _file(tmp_path, '[grid]\n"source.seed_date" = [2020-01-01]\n')
    with pytest.raises(UserInputError, match=r"cannot write .* as TOML; give numbers, strings"):
        read_sweep(path)


def test_a_key_a_plug_in_does_not_use_makes_no_second_run(tmp_path: Path):
    """replace does not use real_fraction: replace x [0.1, 0.5] is one run, not two."""
    path = _file(
        tmp_path,
        '[grid]\n"regime.name" = ["replace", "mix"]\n"regime.real_fraction" = [0.1, 0.5]\n',
    )
    sweep = read_sweep(path)
    assert [r.name for r in sweep.runs] == [
        "regime.name=replace",
        "regime.name=mix,regime.real_fraction=0.1",
        "regime.name=mix,regime.real_fraction=0.5",
    ]
    assert sweep.same == 1 and sweep.keys == ["regime.name", "regime.real_fraction"]
    lines: list[str] = []
    run_sweep(sweep, tmp_path / "out", tell=lines.append)
    assert "the grid has 1 more setting(s) that vary only keys their plug-ins" in lines[1]
    import pandas as pd

    table = pd.read_csv(tmp_path / "out/sweep.csv")
    assert table["regime.real_fraction"].isna().tolist() == [True, False, False]


def test_the_terminal_view_shows_each_run_under_way_from_its_folder(tmp_path: Path):
    """The view reads run folders' states: one stopped after generation 2 of 6 shows as
    under way at generation 3, and the bar counts its 3 saved generations."""
    from model_collapse.cli.sweeps import SweepView
    from tests.conftest import run_interrupted

    path = tmp_path / "sweep.toml"
    path.write_text(
        'base = "gaussian-1d"\n[set]\n"experiment.generations" = 6\n"experiment.seeds" = 2\n'
        '[grid]\n"regime.name" = ["replace", "mix"]\n'
    )
    sweep = read_sweep(path)
    run_interrupted(sweep.runs[1].config, tmp_path / "out" / sweep.runs[1].name, 2)
    view = SweepView(sweep, tmp_path / "out")
    try:
        view.ended(sweep.runs[0].name, "")
        deadline = time.monotonic() + 10
        while "generation" not in view.under_way.plain and time.monotonic() < deadline:
            time.sleep(0.1)
        generations = sweep.runs[0].config["experiment"]["generations"]
        assert view.under_way.plain == f"  {sweep.runs[1].name}: generation 3 of {generations}"
        assert view.bar.tasks[0].completed == generations + 3
        assert view.bar.tasks[1].completed == 1
    finally:
        view.close()


def test_values_whose_names_collide_are_refused_not_merged(tmp_path: Path):
    """Two data files whose names differ only where a folder name cannot (a space and an
    underscore) are two runs that would share a folder: refused, not one run of them."""
    values = np.random.default_rng(0).normal(size=400)
    for name in ("a b.csv", "a_b.csv"):
        np.savetxt(tmp_path / name, values, header="x", comments="")
    path = _file(tmp_path, "")
    path.write_text(
        path.read_text().replace(
            "[set]", '[set]\n"source.name" = "file"\n"family.name" = "gaussian"'
        )
        + f'[grid]\n"source.path" = ["{tmp_path}/a b.csv", "{tmp_path}/a_b.csv"]\n'
    )
    with pytest.raises(UserInputError, match="would share a folder"):
        read_sweep(path)


def test_a_sweep_that_varies_only_unused_keys_is_refused(tmp_path: Path):
    path = _file(tmp_path, '[grid]\n"regime.real_fraction" = [0.1, 0.5]\n')
    path.write_text(path.read_text().replace("[set]", '[set]\n"regime.name" = "replace"'))
    with pytest.raises(UserInputError, match="is not used by the run's plug-ins"):
        read_sweep(path)


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        (
            lambda out: CliRunner().invoke(
                app, ["run", "gaussian-1d", "--set", "experiment.generations=2", "--out", str(out)]
            ),
            "holds a run (config.toml) and no sweep.csv",
        ),
        (lambda out: out.mkdir() or (out / "notes.txt").write_text("mine"), "holds 'notes.txt'"),
    ],
)
def test_an_out_that_holds_a_run_or_other_files_is_refused_and_left_alone(
    tmp_path: Path, fill, message
):
    """Before: a sweep wrote sweep.csv, its tables and run folders into a run's folder."""
    out = tmp_path / "taken"
    fill(out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    path = _file(tmp_path, '[grid]\n"regime.name" = ["mix", "replace"]\n')
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output, result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_sweep_file_that_is_a_fifo_is_refused_at_once(tmp_path: Path):
    os.mkfifo(tmp_path / "sweep.toml")
    command = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "out")]
    result = subprocess.run(
        [sys.executable, "-m", "model_collapse", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "is a FIFO (named pipe)" in result.stderr
