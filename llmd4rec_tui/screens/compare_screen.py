"""The Compare screen: marked runs side by side, a pinned baseline, exports in one key."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from llmd4rec_tui.compare import EXPORTERS, Comparison, compare
from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.export_file import SUFFIXES, write_export
from llmd4rec_tui.screens.messages import CompareLoaded, ReadFailed
from llmd4rec_tui.screens.polling import PollingScreen, Read
from llmd4rec_tui.store.views import CompareInput, compare_inputs
from llmd4rec_tui.widgets.compare_table import CompareView


def export_path(directory: Path, run_ids: list[int], fmt: str) -> Path:
    ids = "-".join(str(i) for i in run_ids[:8]) + ("-etc" if len(run_ids) > 8 else "")
    return directory / f"compare-{ids}.{SUFFIXES[fmt]}"


class CompareScreen(PollingScreen):
    CSS_PATH = "compare_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("b", "pin_baseline", "Pin baseline"),
        Binding("B", "clear_baseline", "Clear baseline", show=False),
        Binding("C", "export('csv')", "CSV"),
        Binding("M", "export('md')", "Markdown", show=False),
        Binding("L", "export('latex')", "LaTeX", show=False),
        Binding("J", "export('json')", "JSON", show=False),
    ]

    def __init__(self, context: AppContext, run_ids: list[int], baseline_id: int | None = None) -> None:
        super().__init__()
        self.context = context
        self.run_ids = list(run_ids)
        self.baseline_id = baseline_id
        self.runs: tuple[CompareInput, ...] = ()
        self.comparison = Comparison((), None)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="compare-status")
        yield CompareView(id="compare")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{len(self.run_ids)} runs"
        self.reload()
        self.start_polling(max(self.context.poll_s, 2.0))

    def read_store(self) -> Read:
        store, ids = self.context.store, self.run_ids

        def read() -> CompareLoaded:
            with store.session() as session:
                return CompareLoaded(compare_inputs(session, ids))

        return read

    async def on_compare_loaded(self, message: CompareLoaded) -> None:
        self.answered(message)
        self.runs = message.runs
        await self._draw()

    def on_read_failed(self, message: ReadFailed) -> None:
        self.answered(message)
        self.query_one("#compare-status", Static).update(Text(message.message))

    async def _draw(self) -> None:
        self.comparison = compare(self.runs, self.baseline_id)
        await self.query_one(CompareView).show(self.comparison)
        base = f"baseline #{self.baseline_id}" if self.baseline_id is not None else "b pins a baseline"
        groups = sum(len(t.rows) for t in self.comparison.tables)
        status = f"{len(self.runs)} runs in {groups} configs · {len(self.comparison.tables)} protocol(s) · {base}"
        self.query_one("#compare-status", Static).update(Text(status))

    async def action_pin_baseline(self) -> None:
        selected = self.query_one(CompareView).selected_run_id()
        if selected is None:
            return
        self.baseline_id = selected
        await self._draw()

    async def action_clear_baseline(self) -> None:
        self.baseline_id = None
        await self._draw()

    def action_export(self, fmt: str) -> None:
        path = export_path(self.context.export_dir, self.run_ids, fmt)
        write_export(self, path, EXPORTERS[fmt](self.comparison))
