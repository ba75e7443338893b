"""``python -m copilot``: the same command line as the ``copilot`` console script."""

from .app.cli import run

run()
