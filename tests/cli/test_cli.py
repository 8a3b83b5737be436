"""The command line as a user meets it: exit codes, one-line errors, kill -9 and resume."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app

SMALL = [
    "--set",
    "experiment.generations=3",
    "--set",
    "experiment.seeds=3",
    "--set",
    "sampling.n=40",
    "--set",
    "source.n_test=200",
]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_run_preset_writes_the_run_directory(tmp_path: Path):
    result = invoke("run", "gaussian-1d", *SMALL, "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    for name in [
        "config.toml",
        "provenance.json",
        "metrics.csv",
        "figures/variance_ratio.png",
        "checkpoints/state.json",
    ]:
        assert (tmp_path / "r" / name).exists(), name
    rows = (tmp_path / "r/metrics.csv").read_text().splitlines()
    assert rows[0].startswith("seed,generation,") and len(rows) == 1 + 3 * 3
    # the saved config repeats the run as it is
    again = invoke("run", str(tmp_path / "r/config.toml"), "--out", str(tmp_path / "again"))
    assert again.exit_code == 0
    assert (tmp_path / "again/metrics.csv").read_bytes() == (
        tmp_path / "r/metrics.csv"
    ).read_bytes()


def test_list_states_each_presets_measured_time():
    """Each preset's time, measured on a quiet machine and written on its ``# time:`` line
    (docs/benchmarks.md), is on its line of list: a newcomer knows what they wait for."""
    import re

    presets = [line for line in invoke("list").output.splitlines() if line.startswith("preset")]
    from model_collapse.api import preset_names

    assert len(presets) == len(preset_names())
    for line in presets:
        assert re.search(r"Time: .*\d ?(s|min|h)\b", line), line


def test_list_and_plot(tmp_path: Path):
    listing = invoke("list")
    assert listing.exit_code == 0
    for line in [
        "family   gaussian",
        "regime   accumulate-subsample",
        "metric   wasserstein",
        "source   file",
        "preset   gmm-2d",
    ]:
        assert line in listing.output
    invoke("run", "zipf", *SMALL, "--out", str(tmp_path / "z"))
    (tmp_path / "z/figures/kl.png").unlink()
    assert invoke("plot", str(tmp_path / "z")).exit_code == 0
    assert (tmp_path / "z/figures/kl.png").exists()


def test_plot_of_a_folder_that_is_no_run_exits_2(tmp_path: Path):
    result = invoke("plot", str(tmp_path))
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path} is not a run directory: no config.toml and metrics.csv"
    )


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """Each bad input: the arguments after `run`, and what the one error line must say."""
    other = tmp / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    blocker = _write(tmp / "blocker", "a file")
    files = {
        name: _write(tmp / f"{name}.csv", text)
        for name, text in {
            "empty": "",
            "text": "a\n1\nx\n",
            "nan": "a\n1\nnan\n",
            "inf": "a\n1\n-inf\n",
            "ambiguous": "".join(f"{i},{i + 1}\n" for i in range(30)),
            "constant": "a,b\n" + "".join(f"{i},7\n" for i in range(30)),
            "duplicate": "a,b,c\n" + "".join(f"{i},{i * i},{i}\n" for i in range(30)),
            "huge": "a\n" + "".join(f"{i}e200\n" for i in range(1, 30)),
            "labels": "y\n1\n0\n1e12\n",
            "one label": "y\n" + "3\n" * 30,
            "uneven": "a,b\n1,2\n3,4,5\n",
        }.items()
    }

    def on_file(name: str, preset: str = "gaussian-1d") -> list[str]:
        return [preset, "--set", "source.name=file", "--set", f"source.path={files[name]}"]

    folder = tmp / "results"
    folder.mkdir()

    return {
        "empty file": (on_file("empty"), "is empty: it holds no data rows"),
        "non-numeric": (on_file("text"), "non-numeric value 'x' (row 2, column a)"),
        "nan": (on_file("nan"), "NaN or infinite values (first at row 2, column a)"),
        "infinite": (on_file("inf"), "NaN or infinite values (first at row 2, column a)"),
        "n <= d": (
            ["gmm-2d", "--set", "sampling.n=2"],
            "family 'gmm' needs at least 3 samples per training set in 2 dimensions",
        ),
        "real_fraction": (
            ["gaussian-1d", "--set", "regime.name=mix", "--set", "regime.real_fraction=1.2"],
            "regime.real_fraction must be in the range [0, 1], got 1.2",
        ),
        "another plug-in's key": (
            ["gaussian-1d", "--set", "regime.real_fraction=0.5"],
            "regime.real_fraction belongs to mix, fresh, pool, oracle, filter, weight, verify "
            "and watermark-filter, not to regime 'replace'; set regime.name too, or leave it out",
        ),
        "another family's sampling key": (
            ["gaussian-1d", "--set", "sampling.temperature=0.7"],
            "sampling.temperature belongs to gpt and hf, not to family 'gaussian'; set "
            "family.name too, or leave it out",
        ),
        "generations": (
            ["gaussian-1d", "--set", "experiment.generations=0"],
            "experiment.generations must be in the range [1, 10000000], got 0",
        ),
        "family": (
            ["gaussian-1d", "--set", "family.name=gausian"],
            "unknown family 'gausian'; did you mean 'gaussian'?",
        ),
        "regime": (
            ["gaussian-1d", "--set", "regime.name=mixx"],
            "unknown regime 'mixx'; did you mean 'mix'?",
        ),
        "metric": (
            ["gaussian-1d", "--set", 'metrics.names=["varianceratio"]'],
            "unknown metric 'varianceratio'; did you mean 'variance_ratio'?",
        ),
        "source": (
            ["gaussian-1d", "--set", "source.name=gausian"],
            "unknown source 'gausian'; did you mean 'gaussian'?",
        ),
        "key": (
            ["gaussian-1d", "--set", "sampling.nn=3"],
            "unknown config key sampling.nn; did you mean 'sampling.n'?",
        ),
        "other run": (["gaussian-1d", "--out", str(other)], "holds other files"),
        "unwritable": (["gaussian-1d", "--out", str(blocker / "sub")], "cannot write to --out"),
        "preset": (["gaussian-2d"], "neither a config file nor a preset; did you mean"),
        "config file": ([str(tmp / "missing.toml")], "config file not found"),
        "toml": ([str(_write(tmp / "bad.toml", "[experiment\n"))], "is not valid TOML"),
        "set syntax": (["gaussian-1d", "--set", "generations=3"], "--set takes section.key=value"),
        "ambiguous csv": (on_file("ambiguous"), "is ambiguous: it reads as 2 columns separated"),
        "constant column": (on_file("constant"), "column b is constant (7 in every row)"),
        "duplicate columns": (on_file("duplicate"), "columns a and c are identical; drop one"),
        "squares overflow": (on_file("huge"), "column a holds values up to 2.9e+201, whose"),
        "label range": (on_file("labels", "zipf"), "category labels run up to 1000000000000"),
        "one category": (on_file("one label", "zipf"), "holds a single category (3)"),
        "uneven rows": (on_file("uneven"), "has rows with different numbers of fields"),
        "test_fraction": (
            ["ngram-wikipedia", "--set", "source.test_fraction=1.0"],
            "source.test_fraction must be in the range (0, 1), got 1.0",
        ),
        "memory": (
            ["gaussian-1d", "--set", "experiment.seeds=1000000", "--set", "sampling.n=1000000"],
            "of memory, more than the",
        ),
        "overflowing std": (
            ["gaussian-1d", "--set", "source.std=1e200"],
            "source.std must be in the range (0, 1e+100], got 1e+200",
        ),
        "folder as config": (["results"], "'results' is a folder, neither a config file"),
        "unresolvable std": (
            ["gaussian-1d", "--set", "source.mean=[1e20]"],
            "source.std or source.cov (1) is below what float64 resolves at the mean (1e+20)",
        ),
        "list syntax": (
            ["gaussian-1d", "--set", "metrics.names=wasserstein"],
            'metrics.names must be a list of strings (in --set: metrics.names=["wasserstein"])',
        ),
        "binary corpus": (
            [
                "ngram-wikipedia",
                "--set",
                "source.name=text",
                "--set",
                f"source.path={_write_bytes(tmp / 'c.txt', b'ab' + bytes(3))}",
            ],
            "c.txt is binary, not text (NUL byte at offset 2)",
        ),
    }


CASE_NAMES = [
    "another family's sampling key",
    "empty file",
    "non-numeric",
    "nan",
    "infinite",
    "n <= d",
    "real_fraction",
    "generations",
    "family",
    "regime",
    "metric",
    "source",
    "key",
    "other run",
    "unwritable",
    "preset",
    "config file",
    "toml",
    "set syntax",
    "binary corpus",
    "ambiguous csv",
    "constant column",
    "duplicate columns",
    "squares overflow",
    "label range",
    "one category",
    "uneven rows",
    "test_fraction",
    "memory",
    "overflowing std",
    "folder as config",
    "unresolvable std",
    "list syntax",
    "another plug-in's key",
]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI test runs in its own folder: relative paths (results/, runs/) land there."""
    monkeypatch.chdir(tmp_path)


def test_every_bad_input_case_is_run(tmp_path: Path):
    assert sorted(CASE_NAMES) == sorted(bad_inputs(tmp_path))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, case: str):
    args, message = bad_inputs(tmp_path)[case]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert before == after  # nothing written, nothing lost


def test_another_run_in_out_is_refused_and_kept(tmp_path: Path):
    out = str(tmp_path / "r")
    assert invoke("run", "gaussian-1d", *SMALL, "--out", out).exit_code == 0
    before = {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}
    result = invoke("run", "gaussian-1d", *SMALL, "--set", "sampling.n=41", "--out", out)
    assert result.exit_code == 2
    assert "holds a different run (source.n_train = 40, " in result.stderr
    assert before == {p: p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file()}


@pytest.mark.slow  # 24 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_kill_9_then_resume_is_byte_identical(tmp_path: Path):
    config = [
        "run",
        "gaussian-1d",
        "--set",
        "experiment.seeds=200",
        "--set",
        "experiment.generations=300",
    ]
    command = [sys.executable, "-m", "model_collapse", *config]
    subprocess.run([*command, "--out", str(tmp_path / "full")], check=True, capture_output=True)
    cut = tmp_path / "cut"
    process = subprocess.Popen(
        [*command, "--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        metrics = cut / "metrics.csv"
        if metrics.exists() and metrics.stat().st_size > 20_000:
            break
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    rows_when_killed = len((cut / "metrics.csv").read_text().splitlines())
    assert 1 < rows_when_killed < 1 + 200 * 300  # killed mid-run
    subprocess.run([*command, "--out", str(cut)], check=True, capture_output=True)
    for name in ["metrics.csv", "config.toml", "figures/variance_ratio.png"]:
        assert (cut / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name


@pytest.mark.slow  # about 40 s: the demo as a user runs it
def test_demo_writes_comparison_figures(tmp_path: Path):
    result = invoke("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    for setting in ("gmm-2d", "gaussian-1d"):
        assert f"figure: {tmp_path / 'demo' / setting / 'figures/comparison.png'}" in result.output
        for regime in ("replace", "mix", "accumulate"):
            assert (tmp_path / "demo" / setting / regime / "metrics.csv").exists()
    import pandas as pd

    # the demo shows the collapse and its prevention: replace loses variance, accumulate not
    last = {
        r: pd.read_csv(tmp_path / f"demo/gaussian-1d/{r}/metrics.csv").query("generation == 199")[
            "variance_ratio"
        ]
        for r in ("replace", "accumulate")
    }
    assert np.median(last["replace"]) < 0.2 < 0.8 < np.median(last["accumulate"])


def test_heavy_libraries_load_only_inside_the_plug_ins_that_need_them():
    code = (
        "import sys, model_collapse.cli, model_collapse.families, model_collapse.metrics, "
        "model_collapse.sources, model_collapse.regimes; "
        "print(sorted(m for m in ('torch', 'gensim', 'tokenizers', 'matplotlib', 'sklearn') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_and_list():
    from model_collapse import __version__

    version = invoke("--version")
    assert version.exit_code == 0 and version.output.strip() == f"model-collapse {__version__}"
    listing = invoke("list").output
    assert "(none yet)" not in listing  # no roadmap notes
    assert "detector fast_detectgpt" in " ".join(listing.split())


def test_init_writes_a_commented_config_that_runs(tmp_path: Path):
    result = invoke("init", "gaussian-1d", "start.toml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "start.toml").read_text()
    assert "generations = 200" in text and "# generations to run; in [1, 10000000]" in text
    assert "# n_train = 100" in text  # derived from sampling.n until pinned
    run = invoke("run", "start.toml", *SMALL, "--out", "r")
    assert run.exit_code == 0, run.output
    again = invoke("init", "gaussian-1d", "start.toml")
    assert again.exit_code == 2 and "start.toml exists" in again.stderr
    assert (tmp_path / "start.toml").read_text() == text  # not overwritten
    unknown = invoke("init", "gaussian-2d")
    assert unknown.exit_code == 2 and "did you mean 'gaussian-1d'" in unknown.stderr
    assert invoke("init", "lm-cpu").exit_code == 0  # a suite: its own text
    assert "[suite]" in (tmp_path / "lm-cpu.toml").read_text()


def test_a_run_off_a_terminal_logs_its_start_and_every_tenth(tmp_path: Path):
    args = ["run", "gaussian-1d", *SMALL, "--set", "experiment.generations=50", "--out", "r"]
    first = invoke(*args)
    lines = first.stderr.strip().splitlines()
    assert lines[0] == "gaussian-1d: new run, 50 generations x 3 seeds, in r"
    assert [line.split(" (")[1][:4] for line in lines[1:]] == [
        f"{p}%)" if p < 100 else "100%" for p in range(10, 101, 10)
    ]
    again = invoke(*args)
    assert again.stderr.strip() == (
        "gaussian-1d: r is complete (50 generations x 3 seeds); nothing to run"
    )
    closing = again.output.strip().splitlines()
    at = closing.index("run directory: r  (metrics.csv, figures/, run.log)")
    # then the verdict, the last lines: the Gaussian's headline metric, from the run's numbers
    assert closing[at + 1].startswith("By generation 49, variance_ratio (median of 3 seeds; ")
    assert (tmp_path / "r/verdict.txt").read_text().splitlines() == closing[at + 1 :]


def test_resuming_says_where(tmp_path: Path):
    import model_collapse
    from tests.conftest import run_interrupted

    longer = [*SMALL, "--set", "experiment.generations=8"]
    config = model_collapse.load_config("gaussian-1d", [a for a in longer if a != "--set"])
    run_interrupted(config, tmp_path / "r", 4)
    result = invoke("run", "gaussian-1d", *longer, "--out", "r")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        "gaussian-1d: resuming at generation 5 of 8 generations x 3 seeds, in r"
    )


def test_a_folder_named_like_a_preset_resumes_the_preset(tmp_path: Path):
    args = ["run", "gaussian-1d", *SMALL, "--out", "gaussian-1d"]
    assert invoke(*args).exit_code == 0
    second = invoke(*args)
    assert second.exit_code == 0, second.stderr
    assert "is complete" in second.stderr


def test_restart_on_the_command_line(tmp_path: Path):
    assert invoke("run", "gaussian-1d", *SMALL, "--out", "r").exit_code == 0
    before = (tmp_path / "r/metrics.csv").read_bytes()
    other = invoke("run", "gaussian-1d", *SMALL, "--set", "sampling.n=41", "--out", "r")
    assert other.exit_code == 2 and "or add --restart to replace it" in other.stderr
    replaced = invoke(
        "run", "gaussian-1d", *SMALL, "--set", "sampling.n=41", "--out", "r", "--restart"
    )
    assert replaced.exit_code == 0 and (tmp_path / "r/metrics.csv").read_bytes() != before


def test_an_edited_config_is_refused_on_the_command_line(tmp_path: Path):
    assert invoke("run", "gaussian-1d", *SMALL, "--out", "r").exit_code == 0
    saved = tmp_path / "r/config.toml"
    saved.write_text(saved.read_text().replace("n = 40", "n = 30"))
    result = invoke("run", str(saved), "--out", "r")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {Path('r/config.toml')} was changed after generation 2 was saved: run with a "
        "new --out, or restore it"
    )


def test_plot_of_a_run_with_no_generation_yet(tmp_path: Path):
    from model_collapse.assemble.plan import plan_run
    from model_collapse.engine.store import RunStore

    config = __import__("model_collapse").load_config("gaussian-1d", ["experiment.seeds=2"])
    plan = plan_run(config)
    with RunStore(tmp_path / "r", config, plan.names, plan.inputs):
        pass  # a run killed before its first generation finished
    result = invoke("plot", "r")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: r has no completed generation yet; run it first: the same `model-collapse "
        "run` command resumes it"
    )


def test_a_suite_names_the_directories_it_wrote(tmp_path: Path):
    suite = tmp_path / "suite.toml"
    suite.write_text(
        "[experiment]\ngenerations = 2\nseeds = 2\n[sampling]\nn = 20\n[source]\nn_test = 100\n"
        '[suite]\ntitle = "t"\ncompare = ["variance_ratio"]\n'
        '[suite.variants]\nreplace = []\nmix = ["regime.name=mix"]\n'
    )
    result = invoke("run", str(suite), "--out", "s")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("suite directory"))
    assert lines[at : at + 2] == [
        "suite directory: s  (runs: replace/, mix/; sweep.csv, aggregate.csv, intervals.csv; "
        "model-collapse compare or report)",
        f"figure: {Path('s/figures/comparison.png')}",
    ]
    verdict = lines[at + 2 :]  # the last lines: each variant's value, from the suite's numbers
    assert verdict[0].startswith("By generation 1, variance_ratio (median of 2 seeds; real level")
    assert "under replace" in verdict[0] and "under mix" in verdict[0]
    for name in ("replace", "mix"):
        assert (tmp_path / "s" / name / "metrics.csv").exists()


def test_a_key_set_with_its_plug_ins_name_for_another_plug_in_is_left_out_with_a_note(
    tmp_path: Path,
):
    """The same overrides for several regimes (a comparison, a sweep): replace has no real
    share, so it runs without one and the command line says so."""
    args = ["gaussian-1d", "--set", "experiment.generations=2", "--set", "experiment.seeds=2"]
    args += ["--set", "regime.name=replace", "--set", "regime.real_fraction=0.1"]
    result = CliRunner().invoke(app, ["run", *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "note: regime.real_fraction is not used by regime 'replace'; left out" in result.output
    assert "real_fraction" not in (tmp_path / "r" / "config.toml").read_text()


def test_help_lists_each_command_in_one_whole_sentence():
    """Before, compare's and report's summaries ran over five lines, broken mid-sentence,
    and run's lost the word [suite] to the help's markup."""
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120", "TERM": "dumb"})
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Commands" in line)
    rows = [line.strip("│ ").rstrip(" │") for line in lines[start + 1 :] if line.startswith("│")]
    names = [row.split()[0] for row in rows]
    assert {"run", "sweep", "compare", "report", "audit"} <= set(names)
    assert len(names) == len(set(names))  # one row each: no summary runs onto a second
    assert all(row.endswith((".", ")")) for row in rows), rows
    assert "suite" in next(row for row in rows if row.startswith("run "))
