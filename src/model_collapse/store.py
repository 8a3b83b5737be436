"""The run directory: config, provenance, metrics rows, checkpoints; resume after a kill.

Each completed generation appends its rows to ``metrics.csv``, then saves the fitted
model and finally ``checkpoints/state.json`` (atomically) with the byte length of
metrics.csv. A resumed run truncates metrics.csv to that length, so rows of a generation
that was cut short are dropped and written again, identically.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from model_collapse.config import Config, config_to_toml
from model_collapse.errors import UserInputError

STATE = "checkpoints/state.json"


def atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers see the old file or the new, never half."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(config: Config) -> dict[str, Any]:
    """Versions, commit, seeds and start time of a run."""
    libraries = {}
    for name in ("model-collapse", "numpy", "scipy", "pandas", "matplotlib"):
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = "not installed"
    return {
        "package_version": libraries.pop("model-collapse"),
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": libraries,
        "seeds": {
            "root_seed": config.experiment.seed,
            "seeds": config.experiment.seeds,
            "streams": "SeedSequence(root_seed, spawn_key=(stage, generation + 2))",
        },
        "command": sys.argv,
        "started": _now(),
        "resumed": [],
        "finished": None,
    }


class RunStore:
    """Reads and writes one run directory; ``directory=None`` keeps rows in memory only."""

    def __init__(self, directory: Path | None, config: Config, metric_names: list[str]) -> None:
        self.directory = directory
        self.config = config
        self.columns = ["seed", "generation", *metric_names]
        self.rows: list[str] = []  # CSV lines when there is no directory

    def path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / name

    def open(self) -> int:
        """Create or check the directory; return the first generation still to run."""
        if self.directory is None:
            return 0
        text = config_to_toml(self.config)
        self._claim(text)
        if self.path(STATE).exists():
            state = json.loads(self.path(STATE).read_text())
            with open(self.path("metrics.csv"), "r+b") as f:
                f.truncate(state["metrics_bytes"])
            prov = json.loads(self.path("provenance.json").read_text())
            if state["completed"] + 1 < self.config.experiment.generations:
                prov["resumed"].append(_now())
                atomic_write(self.path("provenance.json"), json.dumps(prov, indent=2).encode())
            return int(state["completed"]) + 1
        atomic_write(self.path("config.toml"), text.encode())
        atomic_write(
            self.path("provenance.json"), json.dumps(provenance(self.config), indent=2).encode()
        )
        atomic_write(self.path("metrics.csv"), (",".join(self.columns) + "\n").encode())
        return 0

    def _claim(self, text: str) -> None:
        """Refuse a directory that holds another run or other files; create it if needed."""
        out = self.directory
        assert out is not None
        if out.exists() and not out.is_dir():
            raise UserInputError(f"--out {out} is a file, not a directory; choose another --out")
        if out.is_dir() and any(not _leftover(entry) for entry in out.iterdir()):
            saved = out / "config.toml"
            if not saved.exists():
                raise UserInputError(
                    f"--out {out} holds other files, not a run of model-collapse; "
                    "choose another --out"
                )
            if saved.read_text(encoding="utf-8") != text:
                raise UserInputError(
                    f"--out {out} holds a different run ({_first_difference(saved, text)} there); "
                    "choose another --out or delete that directory"
                )
        try:
            (out / "checkpoints").mkdir(parents=True, exist_ok=True)
            probe = out / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise UserInputError(f"cannot write to --out {out}: {err.strerror}") from None

    def append(
        self,
        generation: int,
        values: dict[str, np.ndarray],
        model_state: dict[str, np.ndarray],
        keep_models: bool,
    ) -> None:
        """Record one completed generation: its rows, its model, then the resume point."""
        lines = []
        columns = [values[name] for name in self.columns[2:]]
        for seed in range(len(columns[0]) if columns else self.config.experiment.seeds):
            cells = [repr(float(col[seed])) for col in columns]
            lines.append(",".join([str(seed), str(generation), *cells]) + "\n")
        if self.directory is None:
            self.rows.extend(lines)
            return
        with open(self.path("metrics.csv"), "ab") as f:
            f.write("".join(lines).encode())
            f.flush()
            os.fsync(f.fileno())
            length = f.tell()
        from safetensors.numpy import save

        arrays = {name: np.require(value, requirements="C") for name, value in model_state.items()}
        atomic_write(self.path(f"checkpoints/model-{generation:05d}.safetensors"), save(arrays))
        state = {"completed": generation, "metrics_bytes": length}
        atomic_write(self.path(STATE), json.dumps(state).encode())
        if not keep_models:  # resuming needs the latest model, and generation 0's
            for stale in self.path("checkpoints").glob("model-*.safetensors"):
                if "model-00000.safetensors" < stale.name < f"model-{generation:05d}.safetensors":
                    stale.unlink()

    def save_samples(self, files: dict[str, bytes]) -> None:
        """Write files under ``samples/`` (before the generation is marked complete)."""
        if self.directory is None:
            return
        for name, payload in files.items():
            path = self.path(f"samples/{name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, payload)

    def load_model_state(self, generation: int) -> dict[str, np.ndarray]:
        """A saved model's arrays (safetensors: no code runs on load)."""
        from safetensors.numpy import load_file

        return load_file(self.path(f"checkpoints/model-{generation:05d}.safetensors"))

    def finish(self) -> None:
        if self.directory is None:
            return
        prov = json.loads(self.path("provenance.json").read_text())
        if prov["finished"] is None or prov["resumed"]:
            prov["finished"] = _now()
            atomic_write(self.path("provenance.json"), json.dumps(prov, indent=2).encode())

    def metrics_text(self) -> str:
        if self.directory is None:
            return ",".join(self.columns) + "\n" + "".join(self.rows)
        return self.path("metrics.csv").read_text()


def _leftover(entry: Path) -> bool:
    """What a run killed while it created its directory leaves: temp files, empty folders."""
    return entry.name.startswith(".") or (entry.is_dir() and not any(entry.iterdir()))


def _first_difference(saved: Path, text: str) -> str:
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


def npy_bytes(array: np.ndarray) -> bytes:
    """An .npy file's bytes (no pickle)."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()
