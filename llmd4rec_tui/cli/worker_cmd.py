"""`llmd4rec worker`: claim queued runs and run each in an engine subprocess."""

from __future__ import annotations

import typer


def worker(ctx: typer.Context) -> None:
    """Run queued experiments."""
    raise typer.Exit(1)
