"""`llmd4rec runs import SOURCE [IDS...]`: copy finished runs from another llmd4rec database
into this one, so results and comparisons see runs made elsewhere as local ones."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from llmd4rec_tui.cli.common import DB_INT_MAX, EXIT_RUNTIME, EXIT_USAGE, fail, out_console, print_wide, state
from llmd4rec_tui.cli.runs_cmd import JsonOpt, runs_app
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.formatting import status_style
from llmd4rec_tui.settings import resolve_db_url
from llmd4rec_tui.store.db import StoreError, display_url
from llmd4rec_tui.store.transfer import ImportedRun, TransferError, choose_runs, import_runs, same_database, sqlite_path
from llmd4rec_tui.store.views import open_for_reading


def _render(imported: list[ImportedRun], source: str) -> None:
    table = Table(header_style="bold")
    table.add_column("source id", justify="right")
    table.add_column("id", justify="right")
    table.add_column("name")
    table.add_column("status")
    for run in imported:
        if run.skipped:
            status = Text(f"skipped (already here as {run.id})", style="dim")
        else:
            status = Text(run.status, style=status_style(run.status))
        table.add_row(str(run.source_id), str(run.id), run.name, status)
    if imported:
        print_wide(table)
    skipped = sum(run.skipped for run in imported)
    out_console.print(f"imported {len(imported) - skipped} run(s) from {source}, skipped {skipped}", highlight=False)


@runs_app.command("import")
def import_cmd(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="SOURCE_URL", help="The database to copy from: SQLAlchemy URL or SQLite path.")
    ],
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Source run ids (default: every finished run).", show_default=False, min=1, max=DB_INT_MAX),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Also every source run with this tag.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy finished runs (row, summary, events, metrics, histograms) from another database."""
    source_url, target_url = resolve_db_url(source), state(ctx).db_url
    if same_database(source_url, target_url):
        raise fail(f"{display_url(source_url)} is the --db database itself: import from another one", EXIT_USAGE)
    path = sqlite_path(source_url)
    if path is not None and not path.exists():
        raise fail(f"no database at {path} to import from", EXIT_RUNTIME)
    try:
        reader = open_for_reading(source_url, read_only=True)
    except StoreError as exc:
        raise fail(str(exc), EXIT_RUNTIME) from exc
    try:
        chosen = choose_runs(reader, ids or (), tag or ())
        with cli_store(ctx) as target:
            imported = import_runs(reader, target, chosen)
    except (TransferError, StoreError) as exc:
        raise fail(str(exc), EXIT_RUNTIME) from exc
    except SQLAlchemyError as exc:  # e.g. the target stayed locked past the busy timeout
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise fail(f"import failed, nothing imported: {reason}", EXIT_RUNTIME) from exc
    finally:
        reader.close()
    if as_json:
        print(json.dumps([asdict(run) for run in imported], indent=2))
        return
    _render(imported, display_url(source_url))
