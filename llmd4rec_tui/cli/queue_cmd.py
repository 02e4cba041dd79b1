"""`llmd4rec queue ...`."""

from __future__ import annotations

import typer

queue_app = typer.Typer(help="queue commands.", no_args_is_help=True)
