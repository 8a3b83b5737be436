"""What every run directory records about how it was made: versions, commit, seeds, times."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from model_collapse.config import Config


def now() -> str:
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
        "started": now(),
        "resumed": [],
        "finished": None,
    }
