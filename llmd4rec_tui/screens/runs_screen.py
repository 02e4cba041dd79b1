"""The Runs screen: every run with its progress and metrics, filters, sorting and paging."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Footer, Header, Input, Static

from engine.config import ConfigError
from llmd4rec_tui.queue.control import Move
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.screens import queue_requests
from llmd4rec_tui.screens.confirm_screen import ConfirmScreen
from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.messages import ActionDone, ReadFailed, RunsLoaded
from llmd4rec_tui.screens.path_prompt import PathPrompt
from llmd4rec_tui.screens.polling import PollingScreen, Read
from llmd4rec_tui.screens.worker_process import start_worker
from llmd4rec_tui.store.db import Store, StoreError
from llmd4rec_tui.store.queries import list_workers, queue_positions, run_page
from llmd4rec_tui.store.records import RunRecord
from llmd4rec_tui.store.run_filter import SORT_COLUMNS, FilterError, RunFilter, RunSort
from llmd4rec_tui.widgets.runs_table import RunsTable
from llmd4rec_tui.widgets.workers_panel import WorkersPanel

SORT_CYCLE = tuple(SORT_COLUMNS)
ENDED = ("succeeded", "failed", "lost", "cancelled")
#: What an empty database says: how runs get in and how they start.
EMPTY_HINT = (
    "no runs yet: press a to queue config files (or run `llmd4rec queue add examples/configs/quickstart/*.toml`), "
    "then w to start a worker (or `llmd4rec worker`)"
)


def ending_note(row: RunRecord) -> tuple[str, SeverityLevel]:
    """What a notification says of a run that ended: its key metric, or why it failed."""
    if row.status == "succeeded":
        parts = [f"{m} NDCG@10 {v:.4f}" for m, v in (("CRM", row.crm_ndcg10), ("LLM", row.llm_ndcg10)) if v is not None]
        return f"{row.name}: " + (", ".join(parts) or "no test metrics"), "information"
    reason = row.error or row.failure_kind or row.status
    return f"{row.name}: {reason}", "warning" if row.status == "cancelled" else "error"


class RunsScreen(PollingScreen):
    CSS_PATH = "runs_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_run", "Open", show=True),
        Binding("space", "toggle_mark", "Mark"),
        Binding("A", "mark_shown", "Mark all shown", show=False),
        Binding("c", "compare", "Compare"),
        Binding("R", "results", "Results"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "cycle_sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False),
        Binding("escape", "clear_marks", "Clear marks", show=False),
        Binding("h", "hold_release", "Hold/release", show=False),
        Binding("u", "move('up')", "Move up", show=False),
        Binding("d", "move('down')", "Move down", show=False),
        Binding("x", "cancel_runs", "Cancel", show=False),
        Binding("r", "retry", "Retry", show=False),
        Binding("delete,D", "delete", "Delete", show=False),
        Binding("a", "add_configs", "Add", show=False),
        Binding("w", "start_worker", "Worker", show=False),
    ]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.where = RunFilter()
        self.sort = RunSort()
        self.page_offset = 0
        self.total = 0
        self.marked: set[int] = set()
        self.filter_error: str | None = None  # shown until the filter text is valid again
        self._cursor_after_flip: int | None = None  # row to land on when a scrolled-to page arrives
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
        self.start_polling(self.context.poll_s)

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    # ---- reading ---------------------------------------------------------------------

    def read_store(self) -> Read:
        """The current page and the workers; the answer comes back as RunsLoaded."""
        where, sort, offset = self.where, self.sort, self.page_offset
        limit, store, clock = self.context.page_size, self.context.store, self.context.clock

        def read() -> RunsLoaded:
            with store.session() as session:
                page = run_page(session, where, sort, offset, limit)
                workers = list_workers(session, live_only=True)
                queue = queue_positions(session)
            return RunsLoaded(page, workers, clock(), queue)

        return read

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        if not self.answered(message):
            return  # an answer to a filter, sort or page no longer shown
        self.total = message.page.total
        if message.page.total and message.page.offset >= message.page.total:
            self.page_offset = max(0, message.page.total - self.context.page_size)
            self.ask()
            return
        self._notify_endings(message)
        self._last = message
        self.table.show(message.page.rows, message.now, self.marked, message.queue)
        if self._cursor_after_flip is not None and message.page.rows:
            self.table.move_cursor(row=min(self._cursor_after_flip, len(message.page.rows) - 1), animate=False)
            self._cursor_after_flip = None
        self.query_one(WorkersPanel).show(message.workers, message.now)
        self._status()

    def _notify_endings(self, message: RunsLoaded) -> None:
        """A notification for each run shown that finished or failed since the last read."""
        if self._last is None:
            return
        before = {row.id: row.status for row in self._last.page.rows}
        for row in message.page.rows:
            if before.get(row.id) in ("queued", "running") and row.status in ENDED:
                text, severity = ending_note(row)
                self.notify(text, title=f"run #{row.id} {row.status}", severity=severity, timeout=8)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.answered(message)
        self._status(message.message)

    def _status(self, error: str | None = None) -> None:
        status = self.query_one("#runs-status", Static)
        error = error or self.filter_error
        status.set_class(error is not None, "-error")
        if error is not None:
            status.update(Text(error))
            return
        shown = len(self.table.run_ids)
        if self.total == 0 and not self.query_one("#filter", Input).value.strip():
            status.update(Text(EMPTY_HINT))
            return
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
            self.table.show(self._last.page.rows, self._last.now, self.marked, self._last.queue)
        self._status()

    # ---- filter, sort, pages ---------------------------------------------------------

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        try:
            self.where = RunFilter.parse(event.value)
        except FilterError as exc:
            self.filter_error = str(exc)
            self._status()
            return
        self.filter_error = None
        self.page_offset = 0
        self.ask()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_cycle_sort(self) -> None:
        index = (SORT_CYCLE.index(self.sort.column) + 1) % len(SORT_CYCLE)
        self.sort = RunSort(SORT_CYCLE[index], self.sort.descending)
        self.page_offset = 0
        self.ask()

    def action_reverse_sort(self) -> None:
        self.sort = RunSort(self.sort.column, not self.sort.descending)
        self.page_offset = 0
        self.ask()

    def on_runs_table_sort_requested(self, message: RunsTable.SortRequested) -> None:
        descending = not self.sort.descending if message.column == self.sort.column else True
        self.sort = RunSort(message.column, descending)
        self.page_offset = 0
        self.ask()

    def on_runs_table_page_edge(self, message: RunsTable.PageEdge) -> None:
        """Arrow keys scroll on into the next or previous page, as if it were one list."""
        before = self.page_offset
        self.action_page(message.step)
        if self.page_offset != before:
            self._cursor_after_flip = 0 if message.step > 0 else self.context.page_size - 1

    def action_page(self, step: int) -> None:
        size = self.context.page_size
        offset = min(max(self.page_offset + step * size, 0), max(0, (self.total - 1) // size * size))
        if offset != self.page_offset:
            self.page_offset = offset
            self.ask()

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

    def action_mark_shown(self) -> None:
        """Mark every run on this page: filter by tag, then A, then c compares the tag."""
        self.marked.update(self.table.run_ids)
        self.redraw()

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

    def action_results(self) -> None:
        """The paper-style table of the marked runs, else of the runs the filter shows."""
        from llmd4rec_tui.screens.results_screen import ResultsScreen, ResultsSource

        if self.marked:
            source = ResultsSource(run_ids=tuple(sorted(self.marked)))
        elif self.where != RunFilter():
            source = ResultsSource(where=self.where)
        else:
            source = ResultsSource()  # the screen asks for a tag
        self.app.push_screen(ResultsScreen(self.context, source))

    # ---- queue actions ---------------------------------------------------------------

    def _chosen(self) -> list[int]:
        ids = self.selected_ids()
        if not ids:
            self.notify("no run selected", severity="warning")
        return ids

    def _write(self, action: Callable[[Store], str]) -> None:
        """Run one queue write in a thread; ActionDone reports it and triggers a re-read."""
        store = self.context.store

        def write() -> None:
            try:
                text = action(store)
            except (QueueError, ConfigError, StoreError) as exc:  # StoreError: a read-only database
                self.post_message(ActionDone(str(exc), error=True))
                return
            self.post_message(ActionDone(text))

        self.run_worker(write, thread=True, group="queue-write", exit_on_error=False)

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information", timeout=6)
        if not message.error:
            self.marked.clear()
        self.ask()

    def action_hold_release(self) -> None:
        if ids := self._chosen():
            self._write(partial(queue_requests.hold_or_release, ids=ids))

    def action_move(self, where: Move) -> None:
        if ids := self._chosen():
            self._write(partial(queue_requests.move, ids=ids, where=where))

    def action_cancel_runs(self) -> None:
        if ids := self._chosen():
            self._write(partial(queue_requests.cancel, ids=ids))

    def action_retry(self) -> None:
        if ids := self._chosen():
            self._write(partial(queue_requests.retry, ids=ids))

    def action_delete(self) -> None:
        ids = self._chosen()
        if not ids:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._write(partial(queue_requests.remove, ids=ids))

        listed = ", ".join(f"#{i}" for i in ids[:10]) + (" …" if len(ids) > 10 else "")
        question = f"Delete {len(ids)} run(s) ({listed}) with their events and metrics?"
        self.app.push_screen(ConfirmScreen(question), answered)

    def action_add_configs(self) -> None:
        def chosen(paths: list[Path] | None) -> None:
            if paths:
                self._write(partial(queue_requests.add_configs, paths=paths))

        self.app.push_screen(PathPrompt(self.context.config_dir), chosen)

    def action_start_worker(self) -> None:
        try:
            started = start_worker(self.context.store.url, self.context.log_dir)
        except OSError as exc:
            self.notify(f"cannot start a worker: {exc}", severity="error")
            return
        self.notify(f"started worker pid {started.pid}; output in {started.log_path}")
