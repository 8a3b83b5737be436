"""Several model lineages on one web: each fits, samples and is measured on its own;
what the writing lineages publish joins the web every lineage learns from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from model_collapse.api import load_config, run
from model_collapse.cli import app
from model_collapse.core.data import REAL, Items, concat
from model_collapse.core.errors import UserInputError
from tests.conftest import run_interrupted

WEB: dict[str, Any] = {
    "experiment": {"generations": 4, "seeds": 4},
    "source": {"name": "gaussian", "dim": 2, "n_test": 300},
    "family": {"name": "gmm", "components": 2},
    "regime": {"name": "web", "human_per_generation": 100, "publish": 150},
    "sampling": {"n": 200},
}


def web(role: str = "both", **lineages: dict[str, Any]) -> dict[str, Any]:
    """The web config with the run's own family's role and other lineages."""
    regime = {**WEB["regime"], "role": role, "lineages": lineages}
    return {**WEB, "regime": regime}


def writer(role: str = "teacher") -> dict[str, Any]:
    return {"role": role, "family": {"name": "kde"}}


def test_each_lineage_has_its_rows_and_its_own_checkpoints(tmp_path: Path):
    out = tmp_path / "r"
    metrics = run(web("student", writer=writer("both")), out).metrics
    assert list(metrics.columns[:3]) == ["seed", "generation", "lineage"]
    assert metrics.groupby(["generation", "lineage"]).size().tolist() == [4] * 8
    assert set(metrics["lineage"]) == {"gmm", "writer"}
    assert (out / "checkpoints" / "writer" / "model-00003.safetensors").is_file()
    assert (out / "checkpoints" / "model-00003.safetensors").is_file()


def test_a_run_of_one_lineage_has_no_lineage_column(tmp_path: Path):
    assert "lineage" not in run(web(), tmp_path / "r").metrics.columns


def test_a_lineage_that_never_writes_leaves_the_first_lineage_as_it_was(tmp_path: Path):
    """The first lineage keeps a single-lineage run's streams; a student writes nothing
    into the web, so the run's own family draws and measures exactly what it did alone."""
    alone = run(web(), tmp_path / "alone").metrics
    both = run(web(probe={"role": "student", "family": {"name": "kde"}}), tmp_path / "two")
    own = both.metrics[both.metrics["lineage"] == "gmm"].drop(columns="lineage")
    pd.testing.assert_frame_equal(own.reset_index(drop=True), alone, check_exact=True)


def test_a_student_learns_from_what_a_teacher_publishes(tmp_path: Path):
    """Only the teacher writes: the student's web holds 150 g published rows of the
    teacher's beside 200 real and 100 g human ones, so its synthetic share rises, and the
    teacher, fitted once on the real data, keeps its generation-0 model."""
    out = tmp_path / "r"
    metrics = run(web("student", teacher=writer("teacher")), out).metrics
    student = metrics[metrics["lineage"] == "gmm"].groupby("generation")["web_synthetic_share"]
    assert student.mean().iloc[0] == 0 and student.mean().iloc[-1] > 0.2
    teacher = metrics[metrics["lineage"] == "teacher"]["web_synthetic_share"]
    assert (teacher == 0).all()  # it learned from the real data only
    first, last = (out / "checkpoints" / "teacher" / f"model-0000{g}.safetensors" for g in (0, 3))
    assert first.read_bytes() == last.read_bytes()


def test_a_web_nobody_writes_into_holds_only_human_data(tmp_path: Path):
    metrics = run(web("student", probe={**writer(), "role": "student"}), tmp_path / "r").metrics
    assert (metrics["web_synthetic_share"] == 0).all()


def test_a_resumed_run_of_several_lineages_is_byte_identical(tmp_path: Path):
    config = web("both", teacher=writer("teacher"))
    run(config, tmp_path / "whole")
    run_interrupted(config, tmp_path / "cut", 1)
    run(config, tmp_path / "cut")
    whole, cut = ((tmp_path / d / "metrics.csv").read_bytes() for d in ("whole", "cut"))
    assert whole == cut
    assert (tmp_path / "whole" / "run.log").read_bytes() == (
        tmp_path / "cut" / "run.log"
    ).read_bytes()


def test_the_web_records_which_lineage_wrote_each_item():
    """Items keep their lineage through concatenation, and a web publishes the first k
    of each lineage's samples."""
    seeds, data = 2, np.arange(2 * 6, dtype=float).reshape(2, 6, 1)
    real = Items.of(data[:, :2], REAL)
    mine, theirs = Items.of(data[:, 2:4], 0, 0), Items.of(data[:, 4:], 0, 1)
    web_items = concat([real, mine, theirs])
    assert web_items.lineage.tolist() == [[REAL, REAL, 0, 0, 1, 1]] * seeds
    published = concat([mine, theirs]).head_of_each_lineage(1)
    assert published.lineage.tolist() == [[0, 1]] * seeds
    assert published.data[0, :, 0].tolist() == [2.0, 4.0]


@pytest.mark.parametrize(
    ("lineages", "message"),
    [
        (
            {"writer": {"role": "king", "family": {"name": "kde"}}},
            r"regime\.lineages\.writer\.role",
        ),
        (
            {"writer": {"role": "teacher"}},
            r"regime\.lineages\.writer must be a table with a family",
        ),
        ({"gmm": writer()}, r"regime\.lineages\.gmm: a lineage's name must be a word other"),
        ({"writer": {**writer(), "colour": 1}}, r"regime\.lineages\.writer\.colour is not"),
        (
            {"writer": {"role": "teacher", "family": {"name": "kde", "bandwith": 1}}},
            r"regime\.lineages\.writer: unknown config key family\.bandwith",
        ),
        (
            {"writer": {"role": "teacher", "family": {"name": "ngram"}}},
            r"regime\.lineages\.writer: family 'ngram' models text",
        ),
        ({"writer": {**writer(), "sampling": {"n": 5}}}, r"every lineage draws the run's"),
        ({"nan": writer()}, r"regime\.lineages\.nan: a lineage's name must be a word"),
        ({"None": writer()}, r"reads back as itself"),
        ({"inf": writer()}, r"reads back as itself"),
        (
            {
                "writer": {
                    "role": "teacher",
                    "family": {"name": "gmm"},
                    "sampling": {"bias": {"schedule": "linear", "start": 1.0, "end": 0.5}},
                }
            },
            r"regime\.lineages\.writer: its role = teacher keeps its generation-0 model, which "
            r"sampling\.bias's schedule",
        ),
    ],
)
def test_a_bad_lineage_is_refused_naming_it(lineages: dict[str, Any], message: str):
    from model_collapse.assemble.plan import plan_run

    with pytest.raises(UserInputError, match=message):
        plan_run(load_config(web("both", **lineages)))


def test_a_bad_lineage_exits_2_in_one_line(tmp_path: Path):
    path = tmp_path / "web.toml"
    path.write_text(
        '[regime]\nname = "web"\n[regime.lineages.writer]\nrole = "king"\nfamily = {name = "kde"}\n'
    )
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "regime.lineages.writer.role" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_a_sweep_of_runs_with_several_lineages_is_refused(tmp_path: Path):
    from model_collapse.sweeps.sweep import sweep_from

    base = tmp_path / "web.toml"
    base.write_text(
        '[source]\nname = "gaussian"\n[family]\nname = "gmm"\n[regime]\nname = "web"\n'
        '[regime.lineages.writer]\nrole = "teacher"\nfamily = {name = "kde"}\n'
    )
    raw = {"base": "web.toml", "grid": {"sampling.n": [100, 200]}}
    with pytest.raises(UserInputError, match="several model lineages"):
        sweep_from(raw, "sweep.toml", tmp_path)


def test_the_report_reads_each_lineage_as_a_group(tmp_path: Path):
    from model_collapse.output.report import gather

    out = tmp_path / "r"
    run(web("student", teacher=writer("teacher")), out)
    gathered = gather(out)
    assert [part.name for part in gathered.runs] == ["r/gmm", "r/teacher"]
    assert "student" in gathered.runs[0].label and "teacher" in gathered.runs[1].label
    from model_collapse.output.verdict import write_verdict

    lines = write_verdict(out)
    assert any("gmm (student), each later year's model" in line for line in lines)
    assert (out / "figures" / "first_mover.png").is_file()


def test_a_teacher_with_a_scheduled_sampling_key_is_refused():
    """The run's own family as a teacher: its generation-0 model would never see it."""
    from model_collapse.assemble.plan import plan_run

    config = web("teacher", probe={**writer(), "role": "student"})
    config["sampling"] = {**config["sampling"], "bias": [1.0, 0.9, 0.8, 0.7]}
    with pytest.raises(UserInputError, match=r"regime\.role = teacher keeps its generation-0"):
        plan_run(load_config(config))


def test_decompose_refuses_several_lineages():
    from model_collapse.sweeps.decompose import decompose_configs

    with pytest.raises(UserInputError, match=r"--decompose: a run with several model lineages"):
        decompose_configs(load_config(web("both", teacher=writer())))


def test_a_lineage_measures_the_run_s_columns_that_apply_to_it():
    """A kde lineage beside a Gaussian run: kl_true, asked for by name, is the Gaussian's
    (its closed form); the kde's column is NaN, noted, not refused."""
    from model_collapse.assemble.plan import plan_run

    config = {**web("both", writer=writer()), "metrics": {"names": ["kl_true", "wasserstein"]}}
    config["family"] = {"name": "gaussian"}
    plan = plan_run(load_config(config))
    assert list(plan.others[0].metrics) == ["wasserstein"]
    assert "lineage writer: kl_true is not measured for it; NaN" in plan.notes


def test_a_teacher_follows_a_scheduled_sample_size(tmp_path: Path):
    """sampling.n = [200, 10, 300, 300], 150 published a year, 100 human rows: year 2's
    web holds 200 real, 200 human, 150 of the teacher's 200 year-0 samples and all 10 of
    its year-1 ones (share 160 / 560); year 3's adds 150 of its 300 (310 / 810). A sample
    of 300 has a share with standard error under 0.019, the mean of 4 seeds under 0.01:
    held to 5 of them (a false alarm under once in a million)."""
    config = web("student", teacher=writer("teacher"))
    config["sampling"] = {"n": [200, 10, 300, 300]}
    metrics = run(config, tmp_path / "r").metrics
    share = metrics[metrics["lineage"] == "gmm"].groupby("generation")["web_synthetic_share"]
    assert share.mean()[2] == pytest.approx(160 / 560, abs=0.05)
    assert share.mean()[3] == pytest.approx(310 / 810, abs=0.05)
