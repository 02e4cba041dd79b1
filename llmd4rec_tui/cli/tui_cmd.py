"""`llmd4rec tui`: open the Textual app on the configured database."""

from __future__ import annotations

import typer


def open_tui(ctx: typer.Context) -> None:
    """Open the terminal UI."""
    raise typer.Exit(1)
