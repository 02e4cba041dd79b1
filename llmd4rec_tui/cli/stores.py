"""Opening the store for a command: the resolved --db URL, errors as one clean exit."""

from __future__ import annotations

import typer

from llmd4rec_tui.cli.common import fail, state
from llmd4rec_tui.store.db import Store, StoreError, open_store


def open_cli_store(ctx: typer.Context, for_reading: bool = False) -> Store:
    """for_reading: a command that only reads, which also works on a read-only database."""
    try:
        return open_store(state(ctx).db_url, for_reading=for_reading)
    except StoreError as exc:
        raise fail(str(exc)) from exc
