"""Faults from the system: a full disk, a directory that turns read-only mid-run, Ctrl-C.

Each ends with one line saying what happened, what was saved and the command that
resumes; resuming then gives the bytes of an uninterrupted run. The disks are real
tmpfs mounts (this needs root, as CI has).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ARGS = ["run", "gaussian-1d", "--set", "experiment.generations=40", "--set", "experiment.seeds=300"]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts and setpriv need root")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "model_collapse", *args], capture_output=True, text=True
    )


@contextmanager
def tmpfs(mount: Path, options: str) -> Iterator[Path]:
    """A real file system (tmpfs) of the test's own at ``mount``, with mount options."""
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small real file system (tmpfs, 1 MiB) of the test's own."""
    with tmpfs(tmp_path / "disk", "size=1m") as mount:
        yield mount


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("full") / "r"
    assert cli(*ARGS, "--out", str(out)).returncode == 0
    return (out / "metrics.csv").read_bytes()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) >= 1, stderr
    return lines[-1]


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
@needs_root
def test_a_full_disk_says_what_is_saved_and_resumes(disk: Path, uninterrupted: bytes):
    out = disk / "r"
    result = cli(*ARGS, "--out", str(out))  # 40 x 300 rows need about 1.2 MiB
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "No space left on device" in line and "are saved in" in line, line
    command = line.split("resume with: ")[1]
    assert command == f"model-collapse {' '.join(ARGS)} --out {out}"
    subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)
    assert cli(*ARGS, "--out", str(out)).returncode == 0
    assert (out / "metrics.csv").read_bytes() == uninterrupted


@pytest.mark.slow  # 14 s: make test-slow and CI run it (make test stays under 8 minutes)
@needs_root
def test_a_directory_that_turns_unwritable_mid_run(tmp_path: Path):
    """Root writes anywhere; without the capabilities that let it, permissions bind it too."""
    out = tmp_path / "r"
    bound = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    command = [*bound, sys.executable, "-m", "model_collapse", *ARGS, "--set", "sampling.n=3000"]
    process = subprocess.Popen(
        [*command, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline and not (out / "checkpoints/model-00001.safetensors").exists()
    ):
        time.sleep(0.01)
    for folder in (out, out / "checkpoints"):
        os.chmod(folder, 0o555)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    line = one_line(stderr)
    assert "Permission denied" in line and "are saved in" in line, line
    assert "resume with: model-collapse run" in line
    for folder in (out, out / "checkpoints"):
        os.chmod(folder, 0o755)
    full = tmp_path / "full"
    assert subprocess.run([*command, "--out", str(full)], capture_output=True).returncode == 0
    assert subprocess.run([*command, "--out", str(out)], capture_output=True).returncode == 0
    assert (out / "metrics.csv").read_bytes() == (full / "metrics.csv").read_bytes()


@pytest.mark.slow  # 7 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_ctrl_c_says_how_to_resume(tmp_path: Path, uninterrupted: bytes):
    out = tmp_path / "r"
    process = subprocess.Popen(
        [sys.executable, "-m", "model_collapse", *ARGS, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "metrics.csv").exists():
        time.sleep(0.01)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    line = one_line(stderr)
    assert line.startswith("interrupted: generations 0-") or "no generation" in line, line
    assert line.endswith(f"to resume, run: model-collapse {' '.join(ARGS)} --out {out}")
    assert cli(*ARGS, "--out", str(out)).returncode == 0
    assert (out / "metrics.csv").read_bytes() == uninterrupted


@needs_root
def test_init_on_a_full_disk_leaves_no_half_file(tmp_path: Path):
    with tmpfs(tmp_path / "tiny", "size=4k") as mount:
        (mount / "filler").write_bytes(b"x")  # takes the mount's one page
        result = cli("init", "gaussian-1d", str(mount / "c.toml"))
        assert result.returncode == 2 and "No space left on device" in one_line(result.stderr)
        assert [p.name for p in mount.iterdir()] == ["filler"]  # all or nothing


SWEEP = 'base = "gaussian-1d"\n[set]\n"experiment.generations" = 4\n"experiment.seeds" = 3\n'
SWEEP += '[grid]\n"regime.name" = ["replace", "mix"]\n'


@needs_root
def test_a_sweep_on_a_read_only_disk_ends_in_one_line(tmp_path: Path):
    """Before: a traceback."""
    with tmpfs(tmp_path / "ro", "size=1m,ro") as mount:
        (tmp_path / "s.toml").write_text(SWEEP)
        result = cli("sweep", str(tmp_path / "s.toml"), "--out", str(mount / "sweep"))
        assert result.returncode == 2, result.stderr
        assert "Read-only file system" in one_line(result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.slow  # 12 s: make test-slow and CI run it
@needs_root
def test_a_sweep_whose_disk_fills_says_how_to_resume_and_resumes(tmp_path: Path, disk: Path):
    """The disk fills once the runs are saved, as the tables are written (before: a
    53-line traceback); freed, the same command finishes with the same bytes."""
    subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
    (tmp_path / "s.toml").write_text(SWEEP)
    command = ["sweep", str(tmp_path / "s.toml"), "--out", str(disk / "sweep")]
    assert cli(*command).returncode == 0
    tables = {name: (disk / "sweep" / name).read_bytes() for name in ("sweep.csv", "aggregate.csv")}
    # every byte the disk has left
    with open(disk / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
        while True:
            filler.write(b"x" * 4096)
    result = cli(*command)
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "No space left on device" in line and len(result.stderr.strip().splitlines()) <= 3
    assert line.endswith(f"resume with: model-collapse {' '.join(command)}"), line
    (disk / "filler").unlink()
    assert cli(*command).returncode == 0
    for name, data in tables.items():
        assert (disk / "sweep" / name).read_bytes() == data
