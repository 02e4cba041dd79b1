"""`llmd4rec runs ...`: list and show runs, cancel, retry and remove them.

`runs compare` is attached to `runs_app` by the compare module.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from llmd4rec_tui.cli.common import DB_INT_MAX, EXIT_RUNTIME, EXIT_USAGE, fail
from llmd4rec_tui.cli.run_table import render_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.formatting import format_duration, format_moment, format_value, status_label
from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.store.queries import get_run, list_runs
from llmd4rec_tui.store.records import STATUSES, RunDetail, to_jsonable
from llmd4rec_tui.store.run_filter import RunFilter

runs_app = typer.Typer(help="List, show, cancel, retry and remove runs.", no_args_is_help=True)
console = Console(markup=False)

IdsArg = Annotated[list[int], typer.Argument(help="Run ids.", show_default=False, min=1, max=DB_INT_MAX)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@runs_app.command("ls")
def ls(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help=f"Only these statuses ({', '.join(STATUSES)}).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=DB_INT_MAX, help="At most this many runs, newest first.")
    ] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, max=DB_INT_MAX, help="Skip this many (paging).")] = 0,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Runs, newest first, with status, timings and headline metrics."""
    statuses = status or []
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise fail(f"--status {unknown[0]!r}: expected one of {', '.join(STATUSES)}", EXIT_USAGE)
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        runs = list_runs(session, RunFilter(statuses=tuple(statuses)), limit=limit, offset=offset)
    render_runs(runs, "runs", as_json, as_csv)


def _detail_view(detail: RunDetail) -> Group:
    run = detail.run
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = {
        "status": status_label(run),
        "config": f"{detail.source_path} (hash {run.config_hash})",
        "attempts": f"{run.attempts}/{run.max_attempts}",
        "enqueued": format_moment(run.enqueued_at),
        "started": format_moment(run.started_at, ""),
        "finished": format_moment(run.finished_at, ""),
        "time": format_duration(run.seconds, ""),
        "worker": run.worker_id or "",
        "heartbeat": format_moment(detail.heartbeat_at, ""),
        "lease until": format_moment(detail.lease_expires_at, ""),
        "exit code": "" if run.exit_code is None else str(run.exit_code),
        "run dir": detail.run_dir,
        "checkpoint": detail.last_checkpoint or "",
        "git": f"{detail.git_commit or '?'}{' (dirty)' if detail.git_dirty else ''}",
        "device": str(detail.environment.get("device", "")),
        "events": f"{run.events} ({run.bad_lines} bad lines)",
    }
    for key, value in rows.items():
        facts.add_row(key, Text(value))
    parts: list[object] = [Panel(facts, title=Text(f"run {run.id}: {run.name}"), title_align="left")]
    metrics = Table(title="metrics (latest)", title_justify="left", header_style="bold")
    for header in ("model", "split", "metric", "value"):
        metrics.add_column(header)
    for model, splits in sorted(detail.metrics.items()):
        for split, values in sorted(splits.items()):
            for key, value in sorted(values.items()):
                metrics.add_row(model, split, key, format_value(value))
    if detail.metrics:
        parts.append(metrics)
    if detail.history:
        parts.append(_history_table(detail))
    if run.error:
        parts.append(Panel(Text(run.error), title="error", title_align="left", border_style="red"))
    if detail.traceback:
        parts.append(Panel(Text(detail.traceback), title="traceback", title_align="left"))
    if detail.stderr_tail and run.status in ("failed", "lost"):
        parts.append(Panel(Text(detail.stderr_tail.rstrip()), title="stderr (tail)", title_align="left"))
    return Group(*parts)  # type: ignore[arg-type]


def _history_table(detail: RunDetail) -> Table:
    """Every attempt from the recorded events: retries keep counting, so each number is one attempt."""
    table = Table(title="attempts", title_justify="left", header_style="bold")
    for header in ("attempt", "started (UTC)", "ended (UTC)", "how it ended"):
        table.add_column(header)
    for item in detail.history:
        how = item.ended + (f": {item.message}" if item.message else "")
        started, ended = (format_moment(m, "") for m in (item.started_at, item.ended_at))
        table.add_row(str(item.attempt), started, ended, Text(how))
    return table


@runs_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="Run id.", min=1, max=DB_INT_MAX)],
    as_json: JsonOpt = False,
) -> None:
    """Everything about one run: status, timings, metrics, failure, reproducibility facts."""
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        detail = get_run(session, run_id)
    if detail is None:
        raise fail(f"no run with id {run_id}", EXIT_RUNTIME)
    if as_json:
        print(json.dumps(to_jsonable(detail), indent=2))
        return
    console.print(_detail_view(detail))


@runs_app.command("cancel")
def cancel(ctx: typer.Context, ids: IdsArg) -> None:
    """Cancel runs: waiting ones at once, running ones gracefully (checkpoint, then stop)."""
    with cli_store(ctx) as store:
        try:
            done = control.cancel(store, ids)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    for run_id, what in done.items():
        console.print(f"run {run_id}: {'cancel requested' if what == 'requested' else 'cancelled'}", highlight=False)


@runs_app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="Run ids (failed, cancelled or lost).", min=1, max=DB_INT_MAX)
    ] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Retry every failed or lost run.")] = False,
) -> None:
    """Queue failed, cancelled or lost runs again; each resumes from its last checkpoint."""
    if not ids and not failed:
        raise fail("give run ids or --failed", EXIT_USAGE)
    with cli_store(ctx) as store:
        try:
            retried = control.retry(store, ids or (), all_failed=failed)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    console.print(f"re-queued {len(retried)} run(s): {', '.join(map(str, retried))}", highlight=False)


@runs_app.command("rm")
def rm(ctx: typer.Context, ids: IdsArg) -> None:
    """Delete runs with their events and metrics (running ones must be cancelled first)."""
    with cli_store(ctx) as store:
        try:
            removed = control.remove(store, ids, statuses=control.REMOVABLE)
        except QueueError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    console.print(f"removed {len(removed)} run(s)", highlight=False)
