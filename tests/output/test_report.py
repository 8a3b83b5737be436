"""report.html from a real sweep, a run and a suite: what it says and what it refuses. The
page in a real browser is tests/output/test_report_browser.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.output.report import gather, group_label
from model_collapse.sweeps.sweep import read_sweep, run_sweep

SWEEP = """base = "gaussian-1d"
[set]
"experiment.generations" = 12
"experiment.seeds" = 10
"sampling.n" = 10
"source.n_train" = 10
[grid]
"regime.name" = ["replace", "mix"]
"regime.real_fraction" = [0.5]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """replace against mix with half real data: 10 seeds, n = 10, 12 generations."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "sweep.toml").write_text(SWEEP)
    run_sweep(read_sweep(folder / "sweep.toml"), folder / "out", tell=lambda line: None)
    return folder / "out"


def _data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert found
    return json.loads(found.group(1))


def test_a_sweep_report_reads_its_numbers_in_plain_words(sweep_dir: Path):
    result = CliRunner().invoke(app, ["report", str(sweep_dir)])
    assert result.exit_code == 0, result.output
    html = (sweep_dir / "report.html").read_text()
    data = _data(html)
    assert [g["label"] for g in data["groups"]] == ["replace", "mix, real_fraction=0.5"]
    ratio = data["curves"]["variance_ratio"]
    assert len(ratio["regime.name=replace"]["x"]) == 12
    # the reading names the last generation's medians (variance_ratio's declared
    # statistic), matching intervals.csv
    import pandas as pd

    intervals = pd.read_csv(sweep_dir / "intervals.csv")
    last = intervals[(intervals["metric"] == "variance_ratio") & (intervals["generation"] == 11)]
    replace = last[last["regime.name"] == "replace"].iloc[0]
    assert replace["statistic"] == "median"
    assert f"under replace it falls to {replace['value']:.3g}" in html
    assert "Theory expects a mean variance_ratio of" in html  # the replace run's closed form
    # the difference the reading states is the one compare marks (on medians, Holm)
    from model_collapse.sweeps.compare import compare
    from model_collapse.sweeps.sweep_tables import read_aggregate

    table, keys = read_aggregate(sweep_dir)
    rows, *_ = compare(table, "variance_ratio", None, keys)
    marked = rows[1]["differs"]
    said = "&quot;replace&quot; differs clearly from &quot;mix, real_fraction=0.5&quot;" in html
    assert marked and said
    assert data["theory"]["variance_ratio"]["regime.name=replace"]


def test_the_page_loads_nothing_from_a_network(sweep_dir: Path):
    CliRunner().invoke(app, ["report", str(sweep_dir)])
    html = (sweep_dir / "report.html").read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    assert "default-src 'none'" in html
    assert html.count("<img ") == sum(1 for _ in sweep_dir.glob("*/figures/*.png"))


def test_a_run_report_and_a_run_that_still_resumes(tmp_path: Path):
    """A report written into a run directory leaves the run readable and resumable."""
    import model_collapse
    from model_collapse.api import load_config

    config = load_config("gaussian-1d", ["experiment.generations=3", "experiment.seeds=3"])
    model_collapse.run(config, tmp_path / "run")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert gather(tmp_path / "run").kind == "run"
    model_collapse.run(config, tmp_path / "run")  # found complete, not refused


def test_text_from_a_run_is_escaped(tmp_path: Path):
    from model_collapse.output.report_page import page

    gathered = gather(_one_run(tmp_path))
    gathered.runs[0].label = '</script><script>alert("x")</script>'
    html = page(gathered)
    assert '</script><script>alert("x")' not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in html
    assert _data(html)["groups"][0]["label"] == gathered.runs[0].label  # JSON keeps it whole


def _one_run(tmp_path: Path) -> Path:
    import model_collapse
    from model_collapse.api import load_config

    config = load_config("gaussian-1d", ["experiment.generations=2", "experiment.seeds=2"])
    model_collapse.run(config, tmp_path / "one")
    return tmp_path / "one"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "is not a run, a suite or a sweep directory"),
        (lambda p: p / "missing", "is not a folder"),
        (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is not a folder"),
    ],
)
def test_a_report_on_what_is_not_a_run_is_refused_in_one_line(tmp_path: Path, make, message):
    target = make(tmp_path)
    result = CliRunner().invoke(app, ["report", str(target)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert not (tmp_path / "report.html").exists()


def test_a_damaged_run_is_refused_not_reported(tmp_path: Path):
    run = _one_run(tmp_path)
    metrics = run / "metrics.csv"
    metrics.write_text(metrics.read_text().replace("0.", "9.", 1))
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (run / "report.html").exists()


def test_group_labels_say_the_plug_in_and_the_settings():
    assert (
        group_label({"regime.name": "mix", "regime.real_fraction": 0.1}) == "mix, real_fraction=0.1"
    )


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_runs_of_different_lengths_and_one_seed_are_read_without_false_claims(tmp_path):
    """One seed has no interval and no test: it 'ends at', never 'falls'; runs of different
    lengths are each read at their own last generation, and not ranked against each other;
    the closed form is judged by its own band for the mean of that many seeds."""
    (tmp_path / "sweep.toml").write_text(
        'base = "gaussian-1d"\n[grid]\n"experiment.generations" = [2, 3]\n'
        '"experiment.seeds" = [1, 4]\n'
    )
    run_sweep(read_sweep(tmp_path / "sweep.toml"), tmp_path / "out", tell=lambda line: None)
    result = CliRunner().invoke(app, ["report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "1-4 seeds, 2-3 generations" in html
    reading = html[html.index('id="reading"') : html.index('id="curves"')]
    assert "under generations=3, seeds=1 it ends at" in reading
    assert "at generation 1 from" in reading and "at generation 2 from" in reading
    assert "seeds=1 it falls" not in reading and "seeds=1 it rises" not in reading
    assert "differ" not in reading
    assert "the mean of its 1 seeds is" in reading and "95% band for such a mean" in reading


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_an_unfinished_sweep_is_reported_with_its_runs_to_do(tmp_path: Path):
    """sweep.csv is written as runs end: a sweep stopped midway reads as one, with the
    runs still to do named, and compare says it has not finished."""
    from model_collapse.sweeps.sweep import write_states

    (tmp_path / "sweep.toml").write_text(SWEEP)
    sweep = read_sweep(tmp_path / "sweep.toml")
    run_sweep(sweep, tmp_path / "out", tell=lambda line: None)
    write_states(sweep, tmp_path / "out", {sweep.runs[0].name: ""})  # as if stopped there
    (tmp_path / "out" / "aggregate.csv").unlink()
    result = CliRunner().invoke(app, ["report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "1 runs are not shown: mix, real_fraction=0.5 (to do)." in html
    compared = CliRunner().invoke(app, ["compare", str(tmp_path / "out")])
    assert compared.exit_code == 2 and "has not finished" in compared.output


def test_a_suite_report_shows_its_variants_and_its_comparison(tmp_path: Path):
    import model_collapse
    from tests.sweeps.test_suite import SUITE

    (tmp_path / "suite.toml").write_text(SUITE)
    model_collapse.run_suite(tmp_path / "suite.toml", tmp_path / "out")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert [g["label"] for g in _data(html)["groups"]] == ["replace", "accumulate"]  # its order
    assert 'alt="comparison"' in html
    figures = sum(1 for _ in (tmp_path / "out").glob("*/figures/*.png"))
    assert html.count("<img ") == figures + 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (os.mkfifo, "is a FIFO (named pipe), not a regular file"),
        (lambda p: p.write_bytes(b"<svg>not a png</svg>"), "is not a PNG image"),
    ],
)
def test_a_figure_that_is_a_fifo_or_no_png_is_refused_not_embedded(tmp_path, make, message):
    """The report embeds each run's figures: a FIFO among them would wait for ever (it did),
    and a file that is no PNG is no figure of the run."""
    run = _one_run(tmp_path)
    figure = sorted((run / "figures").glob("*.png"))[0]
    figure.unlink()
    make(figure)
    result = subprocess.run(
        [sys.executable, "-m", "model_collapse", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr and figure.name in result.stderr
    assert not (run / "report.html").exists()


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_a_folder_of_suites_gets_an_index_and_each_suite_its_report(tmp_path: Path):
    """The demo's folder: a suite per setting. Before, report refused it."""
    import model_collapse
    from tests.sweeps.test_suite import SUITE

    (tmp_path / "suite.toml").write_text(SUITE)
    for name in ("first", "second"):
        model_collapse.run_suite(tmp_path / "suite.toml", tmp_path / "demo" / name)
    result = CliRunner().invoke(app, ["report", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "demo/report.html").read_text()
    assert 'href="first/report.html"' in index and 'href="second/report.html"' in index
    assert index.count("variance_ratio (median over seeds) starts at") == 2
    assert "<script" not in index  # links and words only
    assert (tmp_path / "demo/first/report.html").is_file()


def test_an_interrupted_suite_reports_the_variants_that_finished(tmp_path: Path):
    import pandas as pd

    import model_collapse
    from tests.sweeps.test_suite import SUITE

    (tmp_path / "suite.toml").write_text(SUITE)
    model_collapse.run_suite(tmp_path / "suite.toml", tmp_path / "out")
    states = pd.read_csv(tmp_path / "out/sweep.csv")
    states.loc[states["run"] == "accumulate", "status"] = "to do"  # as a stop leaves it
    states.to_csv(tmp_path / "out/sweep.csv", index=False)
    result = CliRunner().invoke(app, ["report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 runs are not shown: accumulate (to do)." in (tmp_path / "out/report.html").read_text()
