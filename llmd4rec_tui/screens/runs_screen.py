"""The Runs screen: every run with its progress and metrics, filters, sorting and paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.messages import ReadFailed, RunsLoaded
from llmd4rec_tui.store.views import SORT_COLUMNS, FilterError, RunFilter, RunSort, list_runs, live_workers
from llmd4rec_tui.widgets.runs_table import RunsTable
from llmd4rec_tui.widgets.workers_panel import WorkersPanel

SORT_CYCLE = tuple(SORT_COLUMNS)


class RunsScreen(Screen[None]):
    CSS_PATH = "runs_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_run", "Open", show=True),
        Binding("space", "toggle_mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False),
        Binding("escape", "clear_marks", "Clear marks", show=False),
    ]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.where = RunFilter()
        self.sort = RunSort()
        self.page_offset = 0
        self.total = 0
        self.marked: set[int] = set()
        self._request = 0
        self._last: RunsLoaded | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/ filter: status:running,failed tag:x dataset:ml-1m words", id="filter")
        yield RunsTable(id="runs")
        yield Static("loading…", id="runs-status")
        yield WorkersPanel(id="workers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunsTable).focus()
        self.reload()
        self.set_interval(self.context.poll_s, self.reload)

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    # ---- reading ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the current page in a thread; the answer comes back as RunsLoaded."""
        self._request += 1
        request, where, sort, offset = self._request, self.where, self.sort, self.page_offset
        limit, store, clock = self.context.page_size, self.context.store, self.context.clock

        def read() -> None:
            try:
                with store.session() as session:
                    page = list_runs(session, where, sort, offset, limit)
                    workers = live_workers(session)
            except Exception as exc:  # a locked or vanished database must not kill the UI
                self.post_message(ReadFailed(f"cannot read runs: {exc}"))
                return
            self.post_message(RunsLoaded(request, page, workers, clock()))

        self.run_worker(read, thread=True, group="runs-read", exit_on_error=False)

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        if message.request < self._request:
            return  # an answer to a filter, sort or page no longer shown
        self._last = message
        self.total = message.page.total
        if message.page.total and message.page.offset >= message.page.total:
            self.page_offset = max(0, message.page.total - self.context.page_size)
            self.reload()
            return
        self.table.show(message.page.rows, message.now, self.marked)
        self.query_one(WorkersPanel).show(message.workers, message.now)
        self._status()

    def on_read_failed(self, message: ReadFailed) -> None:
        self._status(message.message)

    def _status(self, error: str | None = None) -> None:
        status = self.query_one("#runs-status", Static)
        status.set_class(error is not None, "-error")
        if error is not None:
            status.update(Text(error))
            return
        shown = len(self.table.run_ids)
        first = self.page_offset + 1 if shown else 0
        arrow = "↓" if self.sort.descending else "↑"
        text = f"runs {first}-{self.page_offset + shown} of {self.total} · sort {self.sort.column} {arrow}"
        if self.marked:
            text += f" · {len(self.marked)} marked"
        if self.total > self.context.page_size:
            text += " · [ ] pages"
        status.update(Text(text))

    def redraw(self) -> None:
        """Show marks at once, without waiting for the next read."""
        if self._last is not None:
            self.table.show(self._last.page.rows, self._last.now, self.marked)
        self._status()

    # ---- filter, sort, pages ---------------------------------------------------------

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        try:
            self.where = RunFilter.parse(event.value)
        except FilterError as exc:
            self._status(str(exc))
            return
        self.page_offset = 0
        self.reload()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_cycle_sort(self) -> None:
        index = (SORT_CYCLE.index(self.sort.column) + 1) % len(SORT_CYCLE)
        self.sort = RunSort(SORT_CYCLE[index], self.sort.descending)
        self.page_offset = 0
        self.reload()

    def action_reverse_sort(self) -> None:
        self.sort = RunSort(self.sort.column, not self.sort.descending)
        self.page_offset = 0
        self.reload()

    def on_runs_table_sort_requested(self, message: RunsTable.SortRequested) -> None:
        descending = not self.sort.descending if message.column == self.sort.column else True
        self.sort = RunSort(message.column, descending)
        self.page_offset = 0
        self.reload()

    def action_page(self, step: int) -> None:
        size = self.context.page_size
        offset = min(max(self.page_offset + step * size, 0), max(0, (self.total - 1) // size * size))
        if offset != self.page_offset:
            self.page_offset = offset
            self.reload()

    # ---- selection -------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        """The marked runs, or the one under the cursor when none is marked."""
        if self.marked:
            return sorted(self.marked)
        current = self.table.selected_run_id()
        return [] if current is None else [current]

    def action_toggle_mark(self) -> None:
        current = self.table.selected_run_id()
        if current is None:
            return
        self.marked.symmetric_difference_update({current})
        self.redraw()
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)

    def action_clear_marks(self) -> None:
        self.marked.clear()
        self.redraw()

    @on(DataTable.RowSelected, "#runs")
    def row_selected(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        from llmd4rec_tui.screens.run_screen import RunScreen

        current = self.table.selected_run_id()
        if current is not None:
            self.app.push_screen(RunScreen(self.context, current))

    def action_compare(self) -> None:
        from llmd4rec_tui.screens.compare_screen import CompareScreen

        ids = self.selected_ids()
        if len(ids) < 2:
            self.notify("mark at least two runs with space to compare them", severity="warning")
            return
        self.app.push_screen(CompareScreen(self.context, ids))

    def after_write(self, done: Callable[[], None] | None = None) -> None:
        """Re-read at once after a queue action, so its effect shows without a poll wait."""
        self.reload()
        if done is not None:
            done()
