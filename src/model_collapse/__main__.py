"""``python -m model_collapse`` is the command line."""

from model_collapse.cli import main

main()
