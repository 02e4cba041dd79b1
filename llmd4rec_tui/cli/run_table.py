"""Run listings as a rich table, JSON or CSV: the shared output of `queue ls` and `runs ls`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmd4rec_tui.store.records import RunRecord, to_jsonable

console = Console(markup=False)

STATUS_STYLE = {
    "queued": "cyan",
    "held": "yellow",
    "running": "bold blue",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "magenta",
    "lost": "red",
}


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _where(run: RunRecord) -> str:
    if run.round is None:
        return ""
    progress = f" {run.progress:.0%}" if run.progress is not None and run.status == "running" else ""
    return f"r{run.round} {run.phase or ''}{progress}"


def _status(run: RunRecord) -> str:
    if run.cancel_requested and run.status == "running":
        return "cancelling"
    return f"{run.status} ({run.failure_kind})" if run.failure_kind and run.status != "queued" else run.status


#: (header, cell text for the table or None to leave it to CSV/JSON, value for CSV)
COLUMNS: list[tuple[str, Callable[[RunRecord], str] | None, Callable[[RunRecord], Any]]] = [
    ("id", lambda r: str(r.id), lambda r: r.id),
    ("name", lambda r: r.name, lambda r: r.name),
    ("status", _status, lambda r: r.status),
    ("failure", None, lambda r: r.failure_kind),
    ("prio", lambda r: str(r.priority), lambda r: r.priority),
    ("tries", lambda r: f"{r.attempts}/{r.max_attempts}", lambda r: r.attempts),
    ("progress", _where, _where),
    ("crm@10", lambda r: _number(r.crm_ndcg10), lambda r: r.crm_ndcg10),
    ("llm@10", lambda r: _number(r.llm_ndcg10), lambda r: r.llm_ndcg10),
    ("started", None, lambda r: r.started_at),
    ("time", lambda r: _duration(r.seconds), lambda r: r.seconds),
]
MIN_WIDTH = {"id": 2, "status": 9, "name": 10, "time": 4}


def render_runs(runs: Sequence[RunRecord], title: str, as_json: bool, as_csv: bool) -> None:
    if as_json:
        print(json.dumps([to_jsonable(run) for run in runs], indent=2))
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow([header for header, _, _ in COLUMNS])
        for run in runs:
            writer.writerow(["" if value(run) is None else to_jsonable(value(run)) for _, _, value in COLUMNS])
        return
    table = Table(title=title, title_justify="left", header_style="bold", caption="@10: test ndcg@10")
    shown = [(header, cell) for header, cell, _ in COLUMNS if cell is not None]
    for header, _ in shown:
        right = header in ("id", "prio", "time", "crm@10", "llm@10")
        table.add_column(
            header,
            justify="right" if right else "left",
            no_wrap=header != "name",
            overflow="ellipsis",
            min_width=MIN_WIDTH.get(header),
        )
    for run in runs:
        cells = [Text(cell(run)) for _, cell in shown]
        cells[2].stylize(STATUS_STYLE.get(run.status, ""))
        table.add_row(*cells)
    if not runs:
        console.print(f"{title}: none")
        return
    console.print(table)
