"""The ``model-collapse`` command line (typer + rich; rich is imported here only).

:mod:`.base` holds the app and what every command shares; the commands register on it
from :mod:`.runs` (run, demo, plot, init, list), :mod:`.tools` (export, watermark,
detect, audit), :mod:`.sweeps` (sweep, compare, report), :mod:`.recipes` (recipes
list, recipes run) and :mod:`.budget` (budget). Each imports ``base`` and
never this package, so the command modules form no cycle.
"""

from model_collapse.cli import budget, recipes, runs, sweeps, tools  # noqa: F401  (they register)
from model_collapse.cli.base import app, main

__all__ = ["app", "main"]
