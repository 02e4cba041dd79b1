"""Opening the store for a command: the resolved --db URL, errors as one clean exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from llmd4rec_tui.cli.common import EXIT_RUNTIME, fail, state
from llmd4rec_tui.store.db import Store, StoreError, open_store, sqlite_file

#: What a reading command reads where the SQLite file does not exist yet: an empty
#: database in memory, so `runs ls` lists no runs and never creates the file.
EMPTY = "sqlite://"


def _open_cli_store(ctx: typer.Context, for_reading: bool = False) -> Store:
    """for_reading: a command that only reads, which also works on a read-only database
    and on one that does not exist yet (as an empty one; nothing is created)."""
    url = state(ctx).db_url
    file = sqlite_file(url)
    if for_reading and file is not None and not file.exists():
        url = EMPTY
    try:
        return open_store(url, for_reading=for_reading)
    except StoreError as exc:
        raise fail(str(exc), EXIT_RUNTIME) from exc


@contextmanager
def cli_store(ctx: typer.Context, for_reading: bool = False) -> Iterator[Store]:
    """The command's store for the length of a with block, closed however the block ends."""
    store = _open_cli_store(ctx, for_reading=for_reading)
    try:
        yield store
    finally:
        store.close()
