"""A run directory that verifies itself: ``checkpoints/state.json`` and its checks.

The state records the last completed generation, the SHA-256 of the resolved config,
the byte length, row count and SHA-256 of ``metrics.csv`` and ``run.log`` up to that
generation, and the SHA-256 of every checkpoint and sample file it kept. Before a run is
resumed or read, all of them are checked; what does not match is refused in one line
that names the file and the fix, never repaired into different numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_collapse.errors import UserInputError

STATE = "checkpoints/state.json"
FORMAT = 2
RESTART = "run with --restart to start it over, or choose another --out"


def sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class State:
    """What a run directory holds after generation ``completed`` (-1: none yet)."""

    completed: int
    config_sha256: str
    metrics_bytes: int
    metrics_sha256: str
    metrics_rows: int
    log_bytes: int
    log_sha256: str
    files: dict[str, str] = field(default_factory=dict)  # checkpoints and samples
    notes: dict[str, Any] = field(default_factory=dict)  # what the run log resumes from

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, **dataclasses.asdict(self)}).encode()


def damaged(directory: Path, name: str, why: str) -> UserInputError:
    return UserInputError(f"{directory / name} {why}: the run directory is damaged; {RESTART}")


def read_state(directory: Path) -> State | None:
    """The state of a run directory; None where there is none (a new directory)."""
    path = directory / STATE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        raise damaged(directory, STATE, "is unreadable") from None
    if not isinstance(raw, dict):
        raise damaged(directory, STATE, "is not a state")
    if "format" not in raw:
        raise UserInputError(
            f"{directory} was written by an older model-collapse that kept no checksums, so it "
            f"cannot be verified; {RESTART}"
        )
    names = {f.name for f in dataclasses.fields(State)}
    try:
        state = State(**{k: v for k, v in raw.items() if k in names})
    except TypeError:
        raise damaged(directory, STATE, "lacks entries") from None
    if raw["format"] != FORMAT or not isinstance(state.files, dict):
        raise damaged(directory, STATE, f"has format {raw['format']!r}, not {FORMAT}")
    return state


def verify(directory: Path, state: State, config_text: str, columns: list[str]) -> dict[str, Any]:
    """Check every file the run depends on against ``state``; return the running hashes.

    ``config_text`` is the config about to run; ``columns`` the metrics.csv header.
    """
    after = (
        "after the run started"
        if state.completed < 0
        else f"after generation {state.completed} was saved"
    )
    saved = directory / "config.toml"
    if not saved.is_file() or sha256_bytes(saved.read_bytes()) != state.config_sha256:
        raise UserInputError(f"{saved} was changed {after}: run with a new --out, or restore it")
    if saved.read_bytes() != config_text.encode():
        raise UserInputError(
            f"--out {directory} holds a different run ({first_difference(saved, config_text)} "
            "there); choose another --out, or add --restart to replace it"
        )
    metrics, prefix = verify_appended(
        directory, "metrics.csv", state.metrics_bytes, state.metrics_sha256
    )
    check_rows(directory, prefix, state, columns)
    log, _ = verify_appended(directory, "run.log", state.log_bytes, state.log_sha256)
    for name, digest in sorted(state.files.items()):
        path = directory / name
        if not path.is_file():
            raise damaged(directory, name, f"is missing (saved with generation {state.completed})")
        if sha256_bytes(path.read_bytes()) != digest:
            raise damaged(directory, name, "does not match its checksum")
    return {"metrics": metrics, "log": log}


def verify_appended(directory: Path, name: str, length: int, digest: str) -> tuple[Any, bytes]:
    """The running hash of a file's first ``length`` bytes, checked against ``digest``,
    and those bytes."""
    path = directory / name
    if not path.is_file():
        raise damaged(directory, name, "is missing")
    with open(path, "rb") as f:
        prefix = f.read(length)
    if len(prefix) < length:
        raise damaged(
            directory, name, f"is shorter ({len(prefix)} bytes) than the {length} bytes recorded"
        )
    running = hashlib.sha256(prefix)
    if running.hexdigest() != digest:
        raise damaged(directory, name, "was changed: its bytes do not match the checksum")
    return running, prefix


def check_rows(directory: Path, prefix: bytes, state: State, columns: list[str]) -> None:
    """The verified metrics.csv has the recorded rows and ends at the recorded generation."""
    lines = prefix.decode().splitlines()
    if lines[:1] != [",".join(columns)]:
        raise damaged(directory, "metrics.csv", "has other columns than this run's metrics")
    if len(lines) - 1 != state.metrics_rows:
        raise damaged(
            directory, "metrics.csv", f"holds {len(lines) - 1} rows, not the {state.metrics_rows}"
        )
    last = int(lines[-1].split(",")[1]) if len(lines) > 1 else -1
    if last != state.completed:
        raise damaged(directory, "metrics.csv", f"ends at generation {last}, not {state.completed}")


def read_verified(directory: Path) -> tuple[str, State]:
    """A finished or running run directory's metrics.csv up to its last saved generation.

    For reading (plots, reports): checks the config and metrics.csv, writes nothing.
    """
    state = read_state(directory)
    if state is None:
        raise UserInputError(
            f"{directory} has no saved generation yet (no {STATE}); run it first: the same "
            "`model-collapse run` command resumes it"
        )
    saved = directory / "config.toml"
    if not saved.is_file() or sha256_bytes(saved.read_bytes()) != state.config_sha256:
        raise UserInputError(f"{saved} was changed after the run started; restore it")
    _, prefix = verify_appended(directory, "metrics.csv", state.metrics_bytes, state.metrics_sha256)
    text = prefix.decode()
    header = text.splitlines()[0].split(",") if text else []
    check_rows(directory, prefix, state, header)
    if state.completed < 0:
        raise UserInputError(
            f"{directory} has no completed generation yet; run it first: the same "
            "`model-collapse run` command resumes it"
        )
    return text, state


def first_difference(saved: Path, text: str) -> str:
    """The first ``section.key = value`` of the saved config that differs from ``text``."""
    import tomllib

    try:
        old = tomllib.loads(saved.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "an unreadable config.toml"
    new = tomllib.loads(text)
    for section, body in old.items():
        for key, value in body.items() if isinstance(body, dict) else []:
            if new.get(section, {}).get(key) != value:
                return f"{section}.{key} = {value!r}"
    return "another config"
