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

from model_collapse.core.errors import DifferentRunError, UserInputError

STATE = "checkpoints/state.json"
FORMAT = 3  # 2 had no checksum of its own nor of its inputs
RESTART = "start it over with `model-collapse run ... --restart`, or choose another --out"


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
    inputs_sha256: str  # the real data and any model files the run reads
    files: dict[str, str] = field(default_factory=dict)  # checkpoints, samples, collapse.csv
    notes: dict[str, Any] = field(default_factory=dict)  # what the run log resumes from

    def to_json(self) -> bytes:
        body = {"format": FORMAT, **dataclasses.asdict(self)}
        return json.dumps({**body, "state_sha256": _digest(body)}).encode()


def _digest(body: dict[str, Any]) -> str:
    """The state's own checksum: an edited state.json is refused like any other file."""
    return sha256_bytes(json.dumps(body, sort_keys=True).encode())


def _inside(name: object) -> bool:
    """A file the state may list: collapse.csv, or under checkpoints/ or samples/."""
    parts = str(name).split("/")
    return isinstance(name, str) and (
        name == "collapse.csv"
        or (
            parts[0] in ("checkpoints", "samples")
            and all(part not in ("", ".", "..") for part in parts)
        )
    )


def damaged(directory: Path, name: str, why: str) -> UserInputError:
    return UserInputError(f"{directory / name} {why}: the run directory is damaged; {RESTART}")


def read_state(directory: Path) -> State | None:
    """The state of a run directory; None where there is none (a new directory)."""
    path = directory / STATE
    if not path.exists():
        return None
    if not path.is_file():  # a FIFO would wait for a writer for ever
        raise damaged(directory, STATE, "is not a regular file")
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        raise damaged(directory, STATE, "is unreadable") from None
    if not isinstance(raw, dict):
        raise damaged(directory, STATE, "is not a state")
    if not isinstance(raw.get("format", 0), int) or raw.get("format", 0) < FORMAT:
        raise UserInputError(
            f"{directory} was written by an older model-collapse that kept fewer checksums, so "
            f"it cannot be verified; {RESTART}"
        )
    if raw["format"] != FORMAT:
        raise damaged(directory, STATE, f"has format {raw['format']!r}, not {FORMAT}")
    body = {k: v for k, v in raw.items() if k != "state_sha256"}
    if raw.get("state_sha256") != _digest(body):
        raise damaged(directory, STATE, "was changed: it does not match its own checksum")
    kinds = {f.name: f.type for f in dataclasses.fields(State)}
    for name, kind in kinds.items():
        value = raw.get(name)
        expected = {"int": int, "str": str}.get(str(kind), dict)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise damaged(directory, STATE, f"has no valid {name}")
    if not all(_inside(name) and isinstance(h, str) for name, h in raw["files"].items()):
        raise damaged(directory, STATE, "lists files that are not a run's")
    if min(raw["completed"] + 1, raw["metrics_bytes"], raw["metrics_rows"], raw["log_bytes"]) < 0:
        raise damaged(directory, STATE, "holds negative counts")
    return State(**{name: raw[name] for name in kinds})


def verify(
    directory: Path, state: State, config_text: str, columns: list[str], inputs: str
) -> dict[str, Any]:
    """Check every file the run depends on against ``state``; return the running hashes.

    ``config_text`` is the config about to run, ``columns`` the metrics.csv header and
    ``inputs`` the checksum of the real data and model files it reads.
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
        difference = first_difference(saved, config_text)
        raise DifferentRunError(
            f"--out {directory} holds a different run ({difference} there); choose another "
            "--out, or add --restart to replace it",
            difference,
        )
    if inputs != state.inputs_sha256:
        raise UserInputError(
            f"the real data or model files of the run in {directory} changed {after} "
            "(source.path, source.tokenizer or family.model_path): restore them, or run with "
            "a new --out"
        )
    metrics, prefix = verify_appended(
        directory, "metrics.csv", state.metrics_bytes, state.metrics_sha256
    )
    check_rows(directory, prefix, state, columns)
    log, _ = verify_appended(directory, "run.log", state.log_bytes, state.log_sha256)
    verify_files(directory, state, state.files)
    return {"metrics": metrics, "log": log}


def verify_files(directory: Path, state: State, files: dict[str, str]) -> None:
    """Each listed file is there, with the bytes it was saved with."""
    for name, digest in sorted(files.items()):
        path = directory / name
        if not path.is_file():
            raise damaged(directory, name, f"is missing (saved with generation {state.completed})")
        if sha256_bytes(path.read_bytes()) != digest:
            raise damaged(directory, name, "does not match its checksum")


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
    read_by_figures = {k: v for k, v in state.files.items() if not k.startswith("checkpoints/")}
    verify_files(directory, state, read_by_figures)
    return text, state


def read_provenance(directory: Path) -> dict[str, Any]:
    """provenance.json, which a resumed run adds its resume and end times to."""
    if not (directory / "provenance.json").is_file():  # missing, or a FIFO
        raise damaged(directory, "provenance.json", "is missing or not a regular file")
    try:
        prov = json.loads((directory / "provenance.json").read_bytes())
    except (OSError, ValueError):
        raise damaged(directory, "provenance.json", "is missing or unreadable") from None
    if not isinstance(prov, dict) or not isinstance(prov.get("resumed"), list):
        raise damaged(directory, "provenance.json", "lacks its list of resume times")
    prov.setdefault("finished", None)
    return prov


def first_difference(saved: Path, text: str) -> str:
    """Up to three ``section.key = value`` of the saved config that differ from ``text``."""
    import tomllib

    try:
        old = tomllib.loads(saved.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "an unreadable config.toml"
    new = tomllib.loads(text)
    differ = [
        f"{section}.{key} = {value!r}"
        for section, body in old.items()
        for key, value in (body.items() if isinstance(body, dict) else [])
        if new.get(section, {}).get(key) != value
    ]
    more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
    return ", ".join(differ[:3]) + more if differ else "another config"
