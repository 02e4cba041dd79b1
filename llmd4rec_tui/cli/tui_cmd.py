"""`llmd4rec tui` (and plain `llmd4rec`): open the Textual app on the configured database."""

from __future__ import annotations

from typing import Annotated

import typer

from llmd4rec_tui.cli.common import EXIT_RUNTIME, fail, state
from llmd4rec_tui.store.db import StoreError, sqlite_file
from llmd4rec_tui.store.views import open_for_reading


def open_tui(
    ctx: typer.Context,
    poll: Annotated[float, typer.Option("--poll", min=0.1, help="Seconds between database reads.")] = 1.0,
    page_size: Annotated[int, typer.Option("--page-size", min=10, help="Runs per page of the Runs table.")] = 100,
) -> None:
    """Watch, control and compare runs in the terminal."""
    url = state(ctx).db_url
    file = sqlite_file(url)
    if file is None or file.exists() or not file.parent.is_dir():  # a new file opens an empty Runs screen
        try:
            open_for_reading(url).close()  # say what is wrong on stderr before taking the screen
        except StoreError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    from llmd4rec_tui.app import make_app  # Textual loads only when the TUI opens

    make_app(url, poll_s=poll, page_size=page_size).run()
