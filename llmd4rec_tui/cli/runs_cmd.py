"""`llmd4rec runs ...`."""

from __future__ import annotations

import typer

runs_app = typer.Typer(help="runs commands.", no_args_is_help=True)
