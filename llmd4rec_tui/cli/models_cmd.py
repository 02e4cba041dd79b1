"""`llmd4rec models ...`."""

from __future__ import annotations

import typer

models_app = typer.Typer(help="models commands.", no_args_is_help=True)
