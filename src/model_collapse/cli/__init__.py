"""The ``model-collapse`` command line (typer + rich; rich is imported here only).

:mod:`.base` holds the app and what every command shares; the commands register on it
from :mod:`.runs` (run, demo, plot, init, list), :mod:`.tools` (export, watermark,
detect, audit) and :mod:`.sweeps` (sweep, compare, report). Each imports ``base`` and
never this package, so the command modules form no cycle.
"""

from model_collapse.cli import runs, sweeps, tools  # noqa: F401  (their commands register)
from model_collapse.cli.base import app, main

__all__ = ["app", "main"]
