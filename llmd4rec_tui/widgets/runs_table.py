"""The Runs table: one page of runs, updated cell by cell as the poll brings changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from llmd4rec_tui.formatting import clip, format_duration, format_eta, format_metric, status_label, status_style
from llmd4rec_tui.formatting import format_rate as rate_text
from llmd4rec_tui.reports.progress import progress_at
from llmd4rec_tui.store.records import RunRecord
from llmd4rec_tui.widgets.text_charts import sparkline


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None  # the RunSort column it sorts by, None when not sortable
    width: int  # fixed, so a page of new runs is drawn without measuring every cell


# Up to the ETA the columns fit 80 terminal columns; the rest scroll into view. The name
# takes what a wider terminal has to spare, up to NAME_MAX.
NAME_WIDTH = 15
NAME_MAX = 48
DATASET_WIDTH = 12
TAGS_WIDTH = 16
COLUMNS = (
    Column("mark", " ", None, 1),
    Column("id", "id", "id", 4),
    Column("queue", "q", "priority", 3),
    Column("name", "name", "name", NAME_WIDTH),
    Column("status", "status", "status", 9),
    Column("progress", "progress", "progress", 14),
    Column("eta", "ETA", None, 7),
    Column("elapsed", "elapsed", "started", 7),
    Column("rate", "smp/s", None, 6),
    Column("crm", "CRM@10", "crm", 6),
    Column("llm", "LLM@10", "llm", 6),
    Column("loss", "loss", None, 10),
    Column("seed", "seed", None, 4),
    Column("tags", "tags", None, TAGS_WIDTH),
    Column("attempt", "try", "attempt", 5),
    Column("priority", "pri", "priority", 4),
    Column("dataset", "dataset", "dataset", DATASET_WIDTH),
)
#: What the columns other than the name take, cell padding (1 each side) included; the last
#: (dataset) may scroll into view rather than keep the name short.
OTHER_WIDTH = sum(c.width + 2 for c in COLUMNS if c.key not in ("name", "dataset")) + 2


def progress_cell(row: RunRecord) -> str:
    """Round, phase, epoch of its cap and the epoch's fraction (while running)."""
    pace = progress_at(row.pace)
    if pace.phase is None:
        if row.round is None or row.phase is None:
            return "-"
        return f"r{row.round} {row.phase}" + (f" e{row.epoch}" if row.epoch is not None else "")
    return (pace if row.status == "running" else replace(pace, fraction=None)).position()


def format_rate(row: RunRecord) -> str:
    """Samples per second of a running run, as the engine measured them last."""
    return rate_text(progress_at(row.pace).samples_per_s if row.status == "running" else None, unit="")


def format_pace(row: RunRecord, now: datetime) -> str:
    """The Run header's progress: position, samples/s and the phase's ETA."""
    text = progress_cell(row)
    if row.status == "running":
        text += f"  {format_rate(row)} samples/s  phase ETA {format_eta(row, now)}"
    return text


def format_status(row: RunRecord, now: datetime) -> tuple[str, str]:
    """The status as shown, with its style: a running run whose lease ran out reads lost?."""
    if row.lease_expired_s(now) is not None:
        return "lost?", "bold red"
    return status_label(row, compact=True), status_style(row.status)


def plain(text: str, style: str = "") -> Text:
    """A cell that is shown as written: DataTable would parse a str as markup ('[x]' vanishes)."""
    return Text(text, style=style, no_wrap=True, end="")


def row_cells(
    row: RunRecord, now: datetime, marked: bool, queue: int | None = None, name_width: int = NAME_WIDTH
) -> dict[str, Text]:
    """The text of every cell of one run, keyed by column; ``queue`` is its claim position."""
    status, style = format_status(row, now)
    return {
        "mark": plain("●", "bold yellow") if marked else plain(" "),
        "id": plain(str(row.id)),
        "queue": plain("-" if queue is None else str(queue)),
        "name": plain(clip(row.name, name_width)),
        "status": plain(status, style),
        "eta": plain(format_eta(row, now)),
        "rate": plain(format_rate(row)),
        "seed": plain(str(row.seed)),
        "tags": plain(clip(",".join(row.tags), TAGS_WIDTH), "dim"),
        "attempt": plain(f"{row.attempts}/{row.max_attempts}"),
        "priority": plain(str(row.priority)),
        "progress": plain(progress_cell(row)),
        "elapsed": plain(format_duration(row.elapsed_s(now))),
        "crm": plain(format_metric(row.crm_ndcg10)),
        "llm": plain(format_metric(row.llm_ndcg10)),
        "loss": plain(sparkline(row.loss_trail, 10), "blue"),
        "dataset": plain(clip(row.dataset, DATASET_WIDTH)),
    }


class RunsTable(DataTable[Text]):
    """A fixed set of row slots showing one page; a refresh rewrites only changed cells.

    Rows are slots (0..page size), not runs: a new page, sort or filter reuses them, so
    nothing is cleared, added or measured and only the visible cells are redrawn.
    """

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]

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
        self._shown: list[dict[str, Text]] = []  # per slot
        self._order: list[int] = []  # run id per slot
        self.name_width = NAME_WIDTH

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key, width=column.width)

    @property
    def run_ids(self) -> list[int]:
        return list(self._order)

    def selected_run_id(self) -> int | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def cell(self, run_id: int, column: str) -> Text:
        """What the table shows for one run in one column."""
        return self._shown[self._order.index(run_id)][column]

    def on_resize(self, event: Resize) -> None:
        """Give the name what the terminal has to spare; the next show redraws the names."""
        width = min(NAME_MAX, max(NAME_WIDTH, event.size.width - OTHER_WIDTH))
        if width != self.name_width:
            self.name_width = width
            self.columns[ColumnKey("name")].width = width
            self._shown = [{**cells, "name": Text()} for cells in self._shown]  # rewrite every name
            self._require_update_dimensions = True
            self.refresh()

    def show(
        self, rows: tuple[RunRecord, ...], now: datetime, marked: set[int], queue: dict[int, int] | None = None
    ) -> None:
        keep = self.selected_run_id()
        positions = queue or {}
        cells = [row_cells(row, now, row.id in marked, positions.get(row.id), self.name_width) for row in rows]
        for slot in range(len(self._shown), len(cells)):  # grow: a longer page than before
            self.add_row(*(cells[slot][c.key] for c in COLUMNS), key=f"slot-{slot}")
        for slot in range(len(cells), len(self._shown)):  # shrink: a shorter page
            self.remove_row(RowKey(f"slot-{slot}"))
        for slot, (old, new) in enumerate(zip(self._shown, cells, strict=False)):
            for key, value in new.items():
                if old[key] != value:
                    self.update_cell(RowKey(f"slot-{slot}"), ColumnKey(key), value)
        order = [row.id for row in rows]
        moved = order != self._order
        self._shown, self._order = cells, order
        if moved and keep in order:
            self.move_cursor(row=order.index(keep), animate=False)  # follow the run, not the slot

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
