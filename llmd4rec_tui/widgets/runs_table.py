"""The Runs table: one page of runs, updated cell by cell as the poll brings changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from llmd4rec_tui.store.views import RunRow
from llmd4rec_tui.widgets.text_charts import sparkline

STATUS_STYLES = {
    "queued": "cyan",
    "held": "yellow",
    "running": "bold green",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "magenta",
    "lost": "red",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None  # the RunSort column it sorts by, None when not sortable


COLUMNS = (
    Column("mark", " ", None),
    Column("id", "id", "id"),
    Column("name", "name", "name"),
    Column("status", "status", "status"),
    Column("progress", "progress", "progress"),
    Column("elapsed", "elapsed", "started"),
    Column("crm", "CRM N@10", "crm"),
    Column("llm", "LLM N@10", "llm"),
    Column("loss", "loss", None),
    Column("attempt", "try", "attempt"),
    Column("priority", "pri", "priority"),
    Column("dataset", "dataset", "dataset"),
)
NAME_WIDTH = 20


def format_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_progress(row: RunRow) -> str:
    if row.round is None or row.phase is None:
        return "-"
    text = f"r{row.round} {row.phase}"
    if row.epoch is not None:
        text += f" e{row.epoch}"
    if row.progress is not None and row.status == "running":
        text += f" {row.progress:.0%}"
    return text


def format_metric(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def plain(text: str, style: str = "") -> Text:
    """A cell that is shown as written: DataTable would parse a str as markup ('[x]' vanishes)."""
    return Text(text, style=style, no_wrap=True, end="")


def row_cells(row: RunRow, now: datetime, marked: bool) -> dict[str, Text]:
    """The text of every cell of one run, keyed by column."""
    status = row.status + ("*" if row.cancel_requested and row.status == "running" else "")
    if row.status == "failed" and row.failure_kind not in (None, "exception"):
        status += f"·{row.failure_kind}"  # infrastructure (oom, signal) apart from a traceback
    name = row.name if len(row.name) <= NAME_WIDTH else row.name[: NAME_WIDTH - 1] + "…"
    return {
        "mark": plain("●", "bold yellow") if marked else plain(" "),
        "id": plain(str(row.id)),
        "name": plain(name),
        "status": plain(status, STATUS_STYLES.get(row.status, "")),
        "attempt": plain(f"{row.attempts}/{row.max_attempts}"),
        "priority": plain(str(row.priority)),
        "progress": plain(format_progress(row)),
        "elapsed": plain(format_elapsed(row.elapsed_s(now))),
        "crm": plain(format_metric(row.crm_ndcg10)),
        "llm": plain(format_metric(row.llm_ndcg10)),
        "loss": plain(sparkline(row.loss_trail, 10), "blue"),
        "dataset": plain(row.dataset),
    }


class RunsTable(DataTable[Text]):
    """Rows are keyed by run id; a refresh touches only the cells whose text changed."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    class PageEdge(Message):
        """The cursor tried to leave the page: +1 past the last row, -1 above the first."""

        def __init__(self, step: int) -> None:
            self.step = step
            super().__init__()

    class SortRequested(Message):
        def __init__(self, column: str) -> None:
            self.column = column
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[int, dict[str, Text]] = {}
        self._order: list[int] = []

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    @property
    def run_ids(self) -> list[int]:
        return list(self._order)

    def selected_run_id(self) -> int | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def show(self, rows: tuple[RunRow, ...], now: datetime, marked: set[int]) -> None:
        order = [row.id for row in rows]
        cells = {row.id: row_cells(row, now, row.id in marked) for row in rows}
        if order != self._order:
            self._replace(order, cells)
            return
        for run_id, new in cells.items():
            old = self._shown[run_id]
            for key, value in new.items():
                if old.get(key) != value:
                    self.update_cell(RowKey(str(run_id)), ColumnKey(key), value)
        self._shown = cells

    def _replace(self, order: list[int], cells: dict[int, dict[str, Text]]) -> None:
        """A new set or order of rows: rebuild, keeping the cursor on the same run."""
        keep = self.selected_run_id()
        self.clear()
        for run_id in order:
            self.add_row(*(cells[run_id][c.key] for c in COLUMNS), key=str(run_id))
        self._order = order
        self._shown = cells
        if keep in order:
            self.move_cursor(row=order.index(keep), animate=False)

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row == self.row_count - 1:
            self.post_message(self.PageEdge(1))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row == 0:
            self.post_message(self.PageEdge(-1))
            return
        super().action_cursor_up()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = next(c for c in COLUMNS if c.key == event.column_key.value)
        if column.sort:
            self.post_message(self.SortRequested(column.sort))
