"""Run listings as a rich table, JSON or CSV: the shared output of `queue ls` and `runs ls`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from llmd4rec_tui.formatting import (
    format_duration,
    format_eta,
    format_metric,
    format_progress,
    status_label,
    status_style,
)
from llmd4rec_tui.store.records import RunRecord, now_utc, to_jsonable

console = Console(markup=False)


def eta_cell(run: RunRecord) -> str:
    """The running phase's ETA (formatting.format_eta), blank for any other run."""
    eta = format_eta(run, now_utc())
    return "" if eta == "-" else eta


#: (header, cell text for the table or None to leave it to CSV/JSON, value for CSV)
COLUMNS: list[tuple[str, Callable[[RunRecord], str] | None, Callable[[RunRecord], Any]]] = [
    ("id", lambda r: str(r.id), lambda r: r.id),
    ("name", lambda r: r.name, lambda r: r.name),
    ("status", status_label, lambda r: r.status),
    ("failure", None, lambda r: r.failure_kind),
    ("prio", lambda r: str(r.priority), lambda r: r.priority),
    ("tries", lambda r: f"{r.attempts}/{r.max_attempts}", lambda r: r.attempts),
    ("progress", lambda r: format_progress(r, ""), lambda r: format_progress(r, "")),
    ("eta", lambda r: eta_cell(r), lambda r: eta_cell(r)),
    ("crm@10", lambda r: format_metric(r.crm_ndcg10, missing=""), lambda r: r.crm_ndcg10),
    ("llm@10", lambda r: format_metric(r.llm_ndcg10, missing=""), lambda r: r.llm_ndcg10),
    ("started", None, lambda r: r.started_at),
    ("time", lambda r: format_duration(r.seconds, ""), lambda r: r.seconds),
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
    if not runs:
        console.print(f"{title}: none")
        return
    shown = [(header, cell) for header, cell, _ in COLUMNS if cell is not None]
    table = _table(runs, shown, title)
    for dropped in NARROW_DROP_ORDER:
        if _fits(table, console.width):
            break
        shown = [(header, cell) for header, cell in shown if header != dropped]
        table = _table(runs, shown, title)
    console.print(table)


#: Columns a narrow terminal loses first, so names and metrics are never squeezed to nothing
#: (`--json`/`--csv` keep every column).
NARROW_DROP_ORDER = ("tries", "prio", "eta", "time", "progress")


def _table(runs: Sequence[RunRecord], shown: list[tuple[str, Callable[[RunRecord], str]]], title: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", caption="@10: test ndcg@10")
    for header, _ in shown:
        right = header in ("id", "prio", "time", "crm@10", "llm@10")
        table.add_column(
            header,
            justify="right" if right else "left",
            no_wrap=header != "name",
            overflow="ellipsis",
            min_width=MIN_WIDTH.get(header),
        )
    status_at = [header for header, _ in shown].index("status")
    for run in runs:
        cells = [Text(cell(run)) for _, cell in shown]
        cells[status_at].stylize(status_style(run.status))
        table.add_row(*cells)
    return table


def _fits(table: Table, width: int) -> bool:
    """Whether every column but the name gets its widest cell with MIN_WIDTH left for the
    name (longer names wrap)."""
    name = next(c for c in table.columns if c.header == "name")
    saved, name.max_width = name.max_width, MIN_WIDTH["name"]
    needed = Measurement.get(console, console.options.update_width(10**6), table).maximum
    name.max_width = saved
    return needed <= width
