"""`llmd4rec queue ...`: add configs, list the queue, hold, release, reorder, remove."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from engine.config import ConfigError
from llmd4rec_tui.cli.common import DB_INT_MAX, EXIT_RUNTIME, EXIT_USAGE, fail
from llmd4rec_tui.cli.run_table import render_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.enqueue import add_runs, expand_patterns, validate
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.store.db import display_url
from llmd4rec_tui.store.queries import queue_order

queue_app = typer.Typer(help="Add experiment configs to the queue and control its order.", no_args_is_help=True)
console = Console(markup=False)

IdsArg = Annotated[list[int], typer.Argument(help="Run ids.", show_default=False, min=1, max=DB_INT_MAX)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@queue_app.command("add")
def add(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(help="Config TOML files or glob patterns ('configs/*.toml').")],
    priority: Annotated[
        int, typer.Option("--priority", "-p", help="Lower runs first.", min=-DB_INT_MAX, max=DB_INT_MAX)
    ] = 0,
    force: Annotated[bool, typer.Option("--force", help="Add configs identical to a queued/running/done run.")] = False,
    skip_done: Annotated[
        bool, typer.Option("--skip-done", help="Silently skip configs identical to a queued/running/done run.")
    ] = False,
    hold: Annotated[
        bool, typer.Option("--hold", help="Add as held: not claimed until released (its data files may arrive later).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate every file (sweeps expanded), then queue all of their runs, or none on any error."""
    try:
        pending = validate(expand_patterns(files), data_must_exist=not hold)
    except (ConfigError, QueueError) as exc:
        raise fail(f"{exc}; nothing was added", EXIT_USAGE) from exc
    with cli_store(ctx) as store:
        try:
            result = add_runs(store, pending, priority=priority, force=force, skip_done=skip_done, hold=hold)
        except QueueError as exc:
            raise fail(f"{exc}; nothing was added", EXIT_RUNTIME) from exc
        except SQLAlchemyError as exc:  # a full disk, a lock held past the busy timeout
            reason = str(getattr(exc, "orig", None) or exc).strip()
            raise fail(f"cannot write to {display_url(store.url)}: {reason}; nothing was added", EXIT_RUNTIME) from exc
    if as_json:
        print(json.dumps({"added": list(result.added), "skipped": list(result.skipped)}))
        return
    if result.added:
        ids = ", ".join(str(i) for i in result.added)
        console.print(f"queued {len(result.added)} run(s): {ids}", highlight=False)
    if result.skipped:
        console.print(f"skipped {len(result.skipped)} already queued or done", highlight=False)


@queue_app.command("ls")
def ls(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Running runs, then waiting ones in the order workers will take them."""
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        runs = queue_order(session)
    render_runs(runs, "queue", as_json, as_csv)


def _apply(ctx: typer.Context, action: str, ids: list[int]) -> None:
    with cli_store(ctx) as store:
        try:
            if action == "hold":
                control.hold(store, ids)
            elif action == "release":
                control.release(store, ids)
            else:
                control.remove(store, ids, statuses=control.WAITING)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    console.print(f"{action}: {', '.join(str(i) for i in ids)}", highlight=False)


@queue_app.command("hold")
def hold(ctx: typer.Context, ids: IdsArg) -> None:
    """Keep queued runs from being claimed."""
    _apply(ctx, "hold", ids)


@queue_app.command("release")
def release(ctx: typer.Context, ids: IdsArg) -> None:
    """Let held runs be claimed again."""
    _apply(ctx, "release", ids)


@queue_app.command("rm")
def rm(ctx: typer.Context, ids: IdsArg) -> None:
    """Remove queued or held runs (finished ones: `runs rm`)."""
    _apply(ctx, "removed", ids)


def _move(ctx: typer.Context, run_id: int, where: control.Move) -> None:
    with cli_store(ctx) as store:
        try:
            control.move(store, run_id, where)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc


@queue_app.command("top")
def top(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run id.", min=1, max=DB_INT_MAX)]) -> None:
    """Move a waiting run to the front of the queue."""
    _move(ctx, run_id, "top")


@queue_app.command("bottom")
def bottom(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run id.", min=1, max=DB_INT_MAX)]) -> None:
    """Move a waiting run to the end of the queue."""
    _move(ctx, run_id, "bottom")


@queue_app.command("up")
def up(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run id.", min=1, max=DB_INT_MAX)]) -> None:
    """Move a waiting run one place up."""
    _move(ctx, run_id, "up")


@queue_app.command("down")
def down(ctx: typer.Context, run_id: Annotated[int, typer.Argument(help="Run id.", min=1, max=DB_INT_MAX)]) -> None:
    """Move a waiting run one place down."""
    _move(ctx, run_id, "down")


@queue_app.command("priority")
def priority(
    ctx: typer.Context,
    ids: IdsArg,
    value: Annotated[
        int,
        typer.Option("--to", help="New priority (lower runs first), e.g. --to -5.", min=-DB_INT_MAX, max=DB_INT_MAX),
    ],
) -> None:
    """Set the priority of waiting runs: `queue priority 3 4 --to -5`."""
    with cli_store(ctx) as store:
        try:
            control.set_priority(store, ids, value)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
