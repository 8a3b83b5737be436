"""The run directory: config, provenance, metrics rows, the run's log and checkpoints.

A run directory has one writer at a time (:mod:`model_collapse.engine.lock`) and verifies itself
before it is resumed or read (:mod:`model_collapse.engine.state`). Each completed generation is
saved in this order: its sample files, its model, its metrics rows, its log lines and
last, atomically, ``checkpoints/state.json`` with the lengths and checksums of all of
them. A kill at any point leaves the previous generation complete; bytes written after
the recorded lengths (a generation cut short) are dropped on resume and written again,
identically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.config import Config, config_to_toml
from model_collapse.core.errors import DifferentRunError, SaveError, UserInputError, refuse_special
from model_collapse.engine.lineages import LINEAGE
from model_collapse.engine.lock import RunLock
from model_collapse.engine.provenance import now, provenance
from model_collapse.engine.state import (
    RESTART,
    STATE,
    State,
    damaged,
    first_difference,
    read_provenance,
    read_state,
    sha256_bytes,
    verify,
)

# What a run directory holds: --restart removes these and nothing else.
RUN_ENTRIES = (
    "config.toml",
    "provenance.json",
    "metrics.csv",
    "run.log",
    "collapse.csv",
    "checkpoints",
    "samples",
    "figures",
    # read from the run's numbers (model-collapse report, the verdict): stale on a restart
    "report.html",
    "verdict.txt",
)


def atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers see the old file or the new, never half.

    The file is created with mode 0666 less the user's umask, like any other file.
    """
    temporary = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a read-only directory keeps it: next run's
            temporary.unlink(missing_ok=True)
        raise


@dataclass
class Completed:
    """One completed generation, as the store saves it."""

    generation: int
    values: dict[str, np.ndarray]
    model_state: dict[str, np.ndarray]
    samples: dict[str, bytes] = field(default_factory=dict)  # paths under samples/
    log: str = ""  # lines for run.log
    notes: dict[str, Any] = field(default_factory=dict)  # what the run log needs to resume
    # several lineages: each one's name (values hold their seeds one lineage after another)
    # and the model states of all but the first, by the folder their checkpoints go in
    lineages: list[str] = field(default_factory=list)
    more_states: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


class RunStore:
    """Reads and writes one run directory; ``directory=None`` keeps rows in memory only.

    Use as a context manager: entering locks, checks and opens the directory (``start``
    is the first generation still to run); leaving lets the lock go.
    """

    def __init__(
        self,
        directory: Path | None,
        config: Config,
        metric_names: list[str],
        inputs: str = "",
        restart: bool = False,
    ) -> None:
        self.directory = directory
        self.config = config
        self.inputs = inputs  # checksum of the real data and model files
        self.columns = ["seed", "generation", *metric_names]
        self.restart = restart
        self.rows: list[str] = []  # CSV lines when there is no directory
        self.log_lines: list[str] = []
        self.start = 0
        self.state: State | None = None
        self.provenance: dict[str, Any] = {}
        self.ran = False  # this invocation saved a generation (provenance gets a new end)
        self.lock: RunLock | None = None
        self._hashes: dict[str, Any] = {}
        self.services: dict[str, dict[str, np.ndarray]] = {}  # kept here when no directory

    def __enter__(self) -> RunStore:
        if self.directory is not None:
            self.lock = RunLock(self.directory)
            try:
                self._open(config_to_toml(self.config))
            except BaseException:
                self.lock.release()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.lock is not None:
            self.lock.release()

    def path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / name

    # -- opening -------------------------------------------------------------------------

    def _open(self, text: str) -> None:
        out = self.directory
        assert out is not None and self.lock is not None
        if out.exists() and not out.is_dir():
            raise UserInputError(f"--out {out} is a file, not a directory; choose another --out")
        if out.is_dir():
            self._check_owner()  # before the lock file: nothing is written into others' folders
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserInputError(f"cannot write to --out {out}: {err.strerror}") from None
        self.lock.acquire()
        self._check_owner()  # again, now that no other run can change it
        state = None if self.restart else read_state(out)
        if self.restart:
            self._clear()
        if state is None:
            self._create(text)
        else:
            self._resume(state, text)

    def _check_owner(self) -> None:
        """Refuse a directory that holds files but no run of model-collapse."""
        out = self.directory
        assert out is not None
        entries = [e for e in out.iterdir() if not _leftover(e)]
        for entry in entries:  # reading a FIFO would wait for a writer for ever
            refuse_special(entry)
        # a run: its state, or the lock and config of one killed while it was created
        ours = (out / STATE).exists() or (
            (out / ".lock").exists() and (out / "config.toml").exists()
        )
        if entries and not ours:
            raise UserInputError(
                f"--out {out} holds other files, not a run of model-collapse; choose another --out"
            )
        if not self.restart:
            return
        others = sorted(e.name for e in entries if e.name not in RUN_ENTRIES)
        if others:
            raise UserInputError(
                f"--restart would leave {others[0]} in --out {out}, which is not a file of a "
                "run; move it away or choose another --out"
            )

    def _clear(self) -> None:
        """--restart: remove the run's files (only those) before it starts over."""
        for name in RUN_ENTRIES:
            entry = self.path(name)
            if entry.is_symlink() or entry.is_file():
                entry.unlink()  # a link goes, never what it points to
            elif entry.is_dir():
                shutil.rmtree(entry)

    def _create(self, text: str) -> None:
        out = self.directory
        assert out is not None
        saved = out / "config.toml"
        if saved.exists() and saved.read_bytes() != text.encode():
            difference = first_difference(saved, text)
            raise DifferentRunError(
                f"--out {out} holds a different run ({difference} there); "
                "choose another --out, or add --restart to replace it",
                difference,
            )
        metrics = out / "metrics.csv"
        if metrics.exists() and metrics.read_bytes().count(b"\n") > 1:
            raise UserInputError(
                f"{out / STATE} is missing but metrics.csv holds results: the run directory "
                f"is damaged; {RESTART}"
            )
        header = (",".join(self.columns) + "\n").encode()
        self._save(
            lambda: self._write_new_run(text, header),
            what="the new run directory",
        )

    def _write_new_run(self, text: str, header: bytes) -> None:
        self.path("checkpoints").mkdir(exist_ok=True)
        atomic_write(self.path("config.toml"), text.encode())
        self.provenance = provenance(self.config)
        self._write_provenance()
        atomic_write(self.path("metrics.csv"), header)
        atomic_write(self.path("run.log"), b"")
        self._hashes = {"metrics": hashlib.sha256(header), "log": hashlib.sha256()}
        self.state = State(
            completed=-1,
            config_sha256=sha256_bytes(text.encode()),
            metrics_bytes=len(header),
            metrics_sha256=self._hashes["metrics"].hexdigest(),
            metrics_rows=0,
            log_bytes=0,
            log_sha256=self._hashes["log"].hexdigest(),
            inputs_sha256=self.inputs,
        )
        atomic_write(self.path(STATE), self.state.to_json())

    def _resume(self, state: State, text: str) -> None:
        out = self.directory
        assert out is not None
        self._hashes = verify(out, state, text, self.columns, self.inputs)
        self.state = state
        self.start = state.completed + 1

        def tidy() -> None:
            for name, length in (
                ("metrics.csv", state.metrics_bytes),
                ("run.log", state.log_bytes),
            ):
                with open(self.path(name), "r+b") as f:
                    f.truncate(length)  # a generation cut short; verified not to pad
            self._remove_unlisted(state)
            if self.start < self.config.experiment.generations:
                self.provenance["resumed"].append(now())
                self._write_provenance()

        self.provenance = read_provenance(out)
        self._save(tidy, what="the resumed run directory")

    def _write_provenance(self) -> None:
        atomic_write(self.path("provenance.json"), json.dumps(self.provenance, indent=2).encode())

    def _remove_unlisted(self, state: State) -> None:
        """Checkpoints a kill left behind after a newer state, and half-written temp files."""
        out = self.directory
        assert out is not None
        for stale in [
            *out.glob("checkpoints/*.safetensors"),
            *out.glob("checkpoints/*/*.safetensors"),
        ]:
            if stale.relative_to(out).as_posix() not in state.files:
                stale.unlink()
        for temporary in [*out.glob(".*.tmp"), *out.glob("*/.*.tmp"), *out.glob("*/*/.*.tmp")]:
            temporary.unlink()

    # -- saving --------------------------------------------------------------------------

    def _save(self, write: Callable[[], None], what: str) -> None:
        """Run ``write``; a failure of the system becomes one line saying what is saved."""
        try:
            write()
        except OSError as err:
            completed = -1 if self.state is None else self.state.completed
            saved = (
                "no generation is saved yet"
                if completed < 0
                else f"generations 0-{completed} are saved in {self.directory}"
            )
            where = err.filename or what
            raise SaveError(f"cannot write {where}: {err.strerror}; {saved}") from None

    def append(self, done: Completed, keep_models: bool) -> None:
        """Record one completed generation: samples, model, rows, log lines, then the state."""
        lines = []
        seeds = self.config.experiment.seeds
        columns = [done.values[name] for name in self.columns[2:] if name != LINEAGE]
        for row in range(len(columns[0]) if columns else seeds):
            named = [done.lineages[row // seeds]] if done.lineages else []
            cells = [repr(float(col[row])) for col in columns]
            lines.append(",".join([str(row % seeds), str(done.generation), *named, *cells]) + "\n")
        if self.directory is None:
            self.rows.extend(lines)
            self.log_lines.append(done.log)
            return
        self._save(lambda: self._append(done, "".join(lines), keep_models), what="the run")

    def _append(self, done: Completed, rows: str, keep_models: bool) -> None:
        from safetensors.numpy import save

        state = self.state
        assert state is not None
        files = dict(state.files)
        for name, payload in done.samples.items():
            path = self.path(f"samples/{name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, payload)
            files[f"samples/{name}"] = sha256_bytes(payload)
        stale = []
        for tag, model_state in {"": done.model_state, **done.more_states}.items():
            folder = f"checkpoints/{tag}/" if tag else "checkpoints/"
            arrays = {k: np.require(v, requirements="C") for k, v in model_state.items()}
            payload = save(arrays)
            latest = f"{folder}model-{done.generation:05d}.safetensors"
            if tag:
                self.path(folder).mkdir(exist_ok=True)
            atomic_write(self.path(latest), payload)
            files[latest] = sha256_bytes(payload)
            if not keep_models:  # resuming needs generation 0's model and the latest
                first = f"{folder}model-00000.safetensors"
                stale += [
                    n for n in files if n.startswith(f"{folder}model-") and n not in (first, latest)
                ]
        files = {n: h for n, h in files.items() if n not in stale}
        metrics_bytes = self._append_text("metrics.csv", "metrics", rows)
        log_bytes = self._append_text("run.log", "log", done.log)
        self.state = State(
            completed=done.generation,
            config_sha256=state.config_sha256,
            metrics_bytes=metrics_bytes,
            metrics_sha256=self._hashes["metrics"].hexdigest(),
            metrics_rows=state.metrics_rows + rows.count("\n"),
            log_bytes=log_bytes,
            log_sha256=self._hashes["log"].hexdigest(),
            inputs_sha256=state.inputs_sha256,
            files=files,
            notes=done.notes,
        )
        atomic_write(self.path(STATE), self.state.to_json())
        self.ran = True
        for name in stale:
            self.path(name).unlink(missing_ok=True)

    def _append_text(self, name: str, key: str, text: str) -> int:
        """Append to a file, fsync, and carry its running checksum; return its length."""
        payload = text.encode()
        with open(self.path(name), "ab") as f:
            if payload:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            length = f.tell()
        self._hashes[key].update(payload)
        return length

    def notes(self) -> dict[str, Any] | None:
        """The run log's memory saved with the last completed generation."""
        return None if self.state is None else self.state.notes

    def load_service_state(self, name: str) -> dict[str, np.ndarray] | None:
        """A service's saved arrays, or None if this run has not saved it (yet)."""
        from safetensors.numpy import load_file

        key = f"checkpoints/service-{name}.safetensors"
        if self.state is None or key not in self.state.files:
            return self.services.get(name)
        return load_file(self.path(key))

    def save_service_state(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Keep a service's arrays with the run, listed and checksummed in the state."""
        if self.directory is None:
            self.services[name] = arrays
            return
        self._save(lambda: self._save_service(name, arrays), what="the run's services")

    def _save_service(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        from safetensors.numpy import save

        state = self.state
        assert state is not None
        payload = save({k: np.require(v, requirements="C") for k, v in arrays.items()})
        key = f"checkpoints/service-{name}.safetensors"
        atomic_write(self.path(key), payload)
        self.state = dataclasses.replace(state, files={**state.files, key: sha256_bytes(payload)})
        atomic_write(self.path(STATE), self.state.to_json())

    def load_model_state(self, generation: int, lineage: str = "") -> dict[str, np.ndarray]:
        """A saved model's arrays (safetensors: no code runs on load; checksum verified), of
        the run's own lineage or of the one whose folder is ``lineage``."""
        from safetensors.numpy import load_file

        folder = f"checkpoints/{lineage}/" if lineage else "checkpoints/"
        name = f"{folder}model-{generation:05d}.safetensors"
        if self.state is None or name not in self.state.files:
            assert self.directory is not None
            raise damaged(self.directory, name, "is not among the checkpoints the state lists")
        return load_file(self.path(name))

    def finish(self, collapse_table: str | None) -> None:
        """Write the collapse table and the end time."""
        if self.directory is None:
            return

        def write() -> None:
            assert self.state is not None
            if collapse_table is not None:
                payload = collapse_table.encode()
                atomic_write(self.path("collapse.csv"), payload)
                files = {**self.state.files, "collapse.csv": sha256_bytes(payload)}
                if files != self.state.files:
                    self.state = dataclasses.replace(self.state, files=files)
                    atomic_write(self.path(STATE), self.state.to_json())
            if self.provenance["finished"] is None or self.ran:
                self.provenance["finished"] = now()
                self._write_provenance()

        self._save(write, what="the run's end")

    def metrics_text(self) -> str:
        if self.directory is None:
            return ",".join(self.columns) + "\n" + "".join(self.rows)
        return self.path("metrics.csv").read_text()

    def log_text(self) -> str:
        if self.directory is None:
            return "".join(self.log_lines)
        return self.path("run.log").read_text()


def _leftover(entry: Path) -> bool:
    """What a run killed while it created its directory leaves: temp files, empty folders."""
    return entry.name.startswith(".") or (entry.is_dir() and not any(entry.iterdir()))


def npy_bytes(array: np.ndarray) -> bytes:
    """An .npy file's bytes (no pickle)."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()
