"""A run directory has one writer and verifies itself: what does not verify is refused in
one line, and never resumed into different numbers."""

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import model_collapse
from model_collapse.assemble.plan import plan_run
from model_collapse.config import config_to_toml
from model_collapse.core.errors import UserInputError
from model_collapse.engine.store import RunStore
from tests.conftest import make_config, run_interrupted

CONFIG = make_config(experiment={"generations": 5})
STATE_FILE = "checkpoints/state.json"
PLAN = plan_run(CONFIG)


def full_and_cut(tmp_path: Path) -> tuple[Path, Path]:
    """An uninterrupted run and the same run stopped after generation 2."""
    model_collapse.run(CONFIG, tmp_path / "full")
    run_interrupted(CONFIG, tmp_path / "cut", 2)
    return tmp_path / "full", tmp_path / "cut"


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def refused(cut: Path, message: str) -> None:
    before = files(cut)
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(CONFIG, cut)
    assert files(cut) == before  # refused before anything was touched


def test_a_second_writer_is_refused_naming_the_first(tmp_path: Path):
    with RunStore(tmp_path / "r", CONFIG, PLAN.names, PLAN.inputs):
        with pytest.raises(UserInputError) as err:
            model_collapse.run(CONFIG, tmp_path / "r")
        assert re.search(r"in use by another run \(pid \d+ on .+, started 20\d\d-", str(err.value))
    model_collapse.run(CONFIG, tmp_path / "r")  # let go: the next run takes it
    assert (tmp_path / "r/.lock").read_bytes() == b""


@pytest.mark.slow  # 7 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path):
    out = tmp_path / "r"
    command = [sys.executable, "-m", "model_collapse", "run", "gaussian-1d"]
    command += ["--set", "experiment.generations=400", "--set", "experiment.seeds=50"]
    command += ["--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and b"pid" not in _read(out / ".lock"):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert f"pid {process.pid} on ".encode() in (out / ".lock").read_bytes()  # left behind
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / ".lock").read_bytes() == b""
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 400 * 50


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_an_edited_config_is_refused(tmp_path: Path):
    _, cut = full_and_cut(tmp_path)
    text = (cut / "config.toml").read_text()
    (cut / "config.toml").write_text(text.replace("n = 50", "n = 40"))
    before = files(cut)
    edited = model_collapse.load_config(cut / "config.toml")
    with pytest.raises(
        UserInputError,
        match=r"config.toml was changed after generation 2 was saved: run with "
        "a new --out, or restore it",
    ):
        model_collapse.run(edited, cut)
    assert files(cut) == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: _truncate(d / "metrics.csv", 0.5), "metrics.csv is shorter"),
        (lambda d: _replace(d / "metrics.csv", b"0,1,", b"0,1,9"), "metrics.csv was changed"),
        (lambda d: (d / "metrics.csv").unlink(), "metrics.csv is missing"),
        (lambda d: (d / "run.log").unlink(), "run.log is missing"),
        (lambda d: _flip(d / "checkpoints/model-00002.safetensors"), "does not match its checksum"),
        (
            lambda d: (d / "checkpoints/model-00000.safetensors").unlink(),
            "model-00000.safetensors is missing",
        ),
        (lambda d: (d / "checkpoints/state.json").write_text("{"), "state.json is unreadable"),
        (
            lambda d: (d / "checkpoints/state.json").unlink(),
            "state.json is missing but metrics.csv",
        ),
        (lambda d: _legacy(d), "written by an older model-collapse"),
        (lambda d: _replace(d / STATE_FILE, b'"completed": 2', b'"completed": 1'), "own checksum"),
        (lambda d: (d / "provenance.json").write_text("[]"), "provenance.json lacks its list"),
    ],
    ids=[
        "truncated",
        "edited",
        "deleted",
        "log",
        "checkpoint",
        "missing model",
        "state",
        "no state",
        "legacy",
        "state edited",
        "provenance",
    ],
)
def test_a_damaged_run_directory_is_refused(tmp_path: Path, damage, message: str):
    _, cut = full_and_cut(tmp_path)
    damage(cut)
    refused(cut, message)
    with pytest.raises(UserInputError, match="--restart"):
        model_collapse.run(CONFIG, cut)


def test_restart_starts_the_directory_over(tmp_path: Path):
    full, cut = full_and_cut(tmp_path)
    _truncate(cut / "metrics.csv", 0.5)
    (cut / "notes.txt").write_text("mine")
    with pytest.raises(UserInputError, match=re.escape("--restart would leave notes.txt")):
        model_collapse.run(CONFIG, cut, restart=True)
    (cut / "notes.txt").unlink()
    model_collapse.run(CONFIG, cut, restart=True)
    assert (cut / "metrics.csv").read_bytes() == (full / "metrics.csv").read_bytes()
    other = make_config(sampling={"n": 60})  # --restart also replaces a different run
    model_collapse.run(other, cut, restart=True)
    assert model_collapse.open_run(cut).config == other


def test_a_generation_cut_short_is_dropped_and_written_again(tmp_path: Path):
    full, cut = full_and_cut(tmp_path)
    with open(cut / "metrics.csv", "a") as f:
        f.write("0,3,0.5")
    with open(cut / "run.log", "a") as f:
        f.write("generation 3: half a line")
    (cut / "checkpoints/model-00004.safetensors").write_bytes(b"left by a kill")
    model_collapse.run(CONFIG, cut)
    assert files(cut).keys() == files(full).keys()
    for name in ["metrics.csv", "run.log", "config.toml", "collapse.csv"]:
        assert (cut / name).read_bytes() == (full / name).read_bytes(), name


def test_files_follow_the_users_umask(tmp_path: Path):
    old = os.umask(0o027)
    try:
        model_collapse.run(CONFIG, tmp_path / "r")
    finally:
        os.umask(old)
    for name in ["metrics.csv", "config.toml", "checkpoints/state.json", "run.log"]:
        assert (tmp_path / "r" / name).stat().st_mode & 0o777 == 0o640, name


def test_reading_a_run_verifies_it(tmp_path: Path):
    full, cut = full_and_cut(tmp_path)
    assert len(model_collapse.open_run(cut).metrics) == 3 * 4  # generations 0-2 are saved
    _replace(full / "metrics.csv", b"0,1,", b"0,1,9")
    with pytest.raises(UserInputError, match=re.escape("metrics.csv was changed")):
        model_collapse.open_run(full)


def test_a_run_with_no_completed_generation_cannot_be_plotted(tmp_path: Path):
    out = tmp_path / "r"
    with RunStore(out, CONFIG, PLAN.names, PLAN.inputs):
        pass  # created, then stopped before generation 0 finished
    with pytest.raises(UserInputError, match="has no completed generation yet; run it first"):
        model_collapse.open_run(out)


def test_the_state_records_what_the_directory_holds(tmp_path: Path):
    full, _ = full_and_cut(tmp_path)
    state = json.loads((full / "checkpoints/state.json").read_text())
    assert state["completed"] == 4 and state["metrics_rows"] == 5 * 4
    assert state["metrics_bytes"] == (full / "metrics.csv").stat().st_size
    assert sorted(state["files"]) == [
        "checkpoints/model-00000.safetensors",
        "checkpoints/model-00004.safetensors",
        "collapse.csv",
    ]
    assert (full / "config.toml").read_text() == config_to_toml(CONFIG)


def _truncate(path: Path, share: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * share)])


def _replace(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes(data.replace(old, new, 1) if old else data + new)


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def _legacy(folder: Path) -> None:
    state = folder / "checkpoints/state.json"
    state.write_text(json.dumps({"completed": 2, "metrics_bytes": 100}))


def test_data_changed_between_interruption_and_resume_is_refused(tmp_path: Path, iris_csv: Path):
    config = make_config(
        source={"name": "file", "path": str(iris_csv)}, experiment={"generations": 5}
    )
    run_interrupted(config, tmp_path / "r", 2)
    rows = iris_csv.read_text().splitlines()
    iris_csv.write_text("\n".join([rows[0], *rows[2:], rows[1]]) + "\n")  # same rows, moved
    with pytest.raises(UserInputError, match="the real data or model files of the run in"):
        model_collapse.run(config, tmp_path / "r")


def test_restart_removes_a_link_not_what_it_points_to(tmp_path: Path):
    model_collapse.run(CONFIG, tmp_path / "r")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    import shutil

    shutil.rmtree(tmp_path / "r/figures")
    (tmp_path / "r/figures").symlink_to(precious)
    model_collapse.run(CONFIG, tmp_path / "r", restart=True)
    assert (precious / "keep.txt").read_text() == "mine"
    assert (tmp_path / "r/figures").is_dir() and not (tmp_path / "r/figures").is_symlink()


def test_a_folder_with_only_a_users_config_is_not_a_run(tmp_path: Path):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "config.toml").write_text("# my commented config\n")
    for restart in (False, True):
        with pytest.raises(UserInputError, match="holds other files, not a run"):
            model_collapse.run(CONFIG, folder, restart=restart)
    assert (folder / "config.toml").read_text() == "# my commented config\n"


def test_a_checkpoint_the_state_does_not_list_is_never_loaded(tmp_path: Path):
    _, cut = full_and_cut(tmp_path)
    from model_collapse.engine.state import read_state

    state = read_state(cut)
    assert state is not None
    files = {k: v for k, v in state.files.items() if not k.endswith("00002.safetensors")}
    (cut / STATE_FILE).write_bytes(dataclasses.replace(state, files=files).to_json())
    with pytest.raises(UserInputError, match="is not among the checkpoints the state lists"):
        model_collapse.run(CONFIG, cut)


def test_plot_refuses_an_edited_collapse_table(tmp_path: Path):
    full, _ = full_and_cut(tmp_path)
    table = full / "collapse.csv"
    table.write_text(table.read_text().replace(",,", ",1,", 1))
    with pytest.raises(UserInputError, match=re.escape("collapse.csv does not match its checksum")):
        model_collapse.open_run(full)


def test_rerunning_a_finished_run_leaves_its_provenance(tmp_path: Path):
    _, cut = full_and_cut(tmp_path)
    model_collapse.run(CONFIG, cut)  # resumed: gets an end time
    before = (cut / "provenance.json").read_bytes()
    time.sleep(1.1)
    model_collapse.run(CONFIG, cut)  # nothing to run
    assert (cut / "provenance.json").read_bytes() == before


def test_a_saved_config_repeats_the_run_from_any_folder(tmp_path: Path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "d.csv").write_text("a,b\n" + "".join(f"{i},{i * i % 7}\n" for i in range(60)))
    monkeypatch.chdir(data)
    config = make_config(source={"name": "file", "path": "d.csv"}, sampling={"n": 20})
    model_collapse.run(config, tmp_path / "r")
    monkeypatch.chdir(tmp_path)
    again = model_collapse.run(tmp_path / "r/config.toml", tmp_path / "again")
    assert again.metrics.equals(model_collapse.open_run(tmp_path / "r").metrics)
