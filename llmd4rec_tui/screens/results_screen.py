"""The Results screen: the paper-style table of `llmd4rec runs results` for the runs marked
(or filtered) on the Runs screen, or for a tag typed at the top, with exports in one key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Static

from llmd4rec_tui.results import CURVE_METRICS, EXPORTERS, ResultsTable, build_results
from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.export_file import SUFFIXES, write_export
from llmd4rec_tui.screens.figure_export import write_figure
from llmd4rec_tui.screens.messages import ReadAnswer, ReadFailed
from llmd4rec_tui.screens.polling import PollingScreen, Read
from llmd4rec_tui.search.tags import in_tag_selection
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import final_test_ranks, list_runs
from llmd4rec_tui.store.rounds import phase_epochs, round_metrics
from llmd4rec_tui.store.run_filter import RunFilter, RunSort
from llmd4rec_tui.store.views import compare_inputs
from llmd4rec_tui.widgets.results_view import ResultsView

#: The order `runs results --tag` takes runs in, so an export equals the CLI's output.
BY_ID = RunSort("id", descending=False)
NO_FINISHED = "no finished runs in this selection; `--all` / key `a` to include unfinished"
TYPING = "typing a tag: enter shows its runs, esc returns to the table (the keys below wait until then)"
#: Keys that act on the table; while the tag box has focus they type into it, so they are hidden.
TABLE_ACTIONS = frozenset({"toggle_unfinished", "focus_tag", "export", "figure"})


@dataclass(frozen=True)
class ResultsSource:
    """Which runs the table covers: the ids marked on the Runs screen, or what a filter selects."""

    run_ids: tuple[int, ...] = ()
    where: RunFilter | None = None

    @property
    def is_empty(self) -> bool:
        return not self.run_ids and self.where is None

    @property
    def tag_only(self) -> str | None:
        """The tag, when the filter is nothing but a tag (the CLI's `--tag`)."""
        where = self.where
        if where is None or where.tag is None or where.statuses or where.dataset or where.text:
            return None
        return where.tag

    def describe(self) -> str:
        if self.run_ids:
            return f"{len(self.run_ids)} marked runs"
        if self.where is None:
            return "no runs chosen"
        if self.tag_only is not None:
            return f"tag {self.tag_only}"
        where = self.where
        parts = [f"status:{','.join(where.statuses)}"] if where.statuses else []
        parts += [f"tag:{where.tag}"] if where.tag else []
        parts += [f"dataset:{where.dataset}"] if where.dataset else []
        parts += [where.text] if where.text else []
        return "filter " + " ".join(parts)


def export_path(directory: Path, source: ResultsSource, run_ids: tuple[int, ...], fmt: str) -> Path:
    """results-<tag>.<ext> for a tag, results-<marked ids>.<ext> for marked runs, else the ids
    of the runs in the table: the arguments that give the same output from `runs results`."""
    tag = source.tag_only
    if tag is not None:
        label = re.sub(r"[^\w.-]+", "_", tag)
    else:
        ids = source.run_ids or run_ids
        label = "-".join(str(i) for i in ids[:8]) + ("-etc" if len(ids) > 8 else "")
    return directory / f"results-{label}.{SUFFIXES[fmt]}"


class ResultsLoaded(ReadAnswer):
    """What one read found: how many runs the source selects, which of them the tables cover."""

    def __init__(self, selected: int, run_ids: tuple[int, ...], tables: list[ResultsTable]) -> None:
        self.selected, self.run_ids, self.tables = selected, run_ids, tables
        super().__init__()


def read_results(store: Store, source: ResultsSource, include_unfinished: bool) -> ResultsLoaded:
    """The same reads and filter as `runs results` (compare inputs, round metrics, succeeded only)."""
    with store.session() as session:
        if source.run_ids:
            ids = list(source.run_ids)
        elif source.where is not None:
            listed = list_runs(session, source.where, BY_ID)
            ids = [run.id for run in listed if in_tag_selection(run.tags or [], source.where.tag)]
        else:
            ids = []
        runs = compare_inputs(session, ids)
        chosen = [r for r in runs if include_unfinished or r.status == "succeeded"]
        rounds = round_metrics(session, [r.id for r in chosen], CURVE_METRICS)
        ranks = final_test_ranks(session, [r.id for r in chosen])
        epochs = phase_epochs(session, [r.id for r in chosen])
    tables = build_results(chosen, rounds, ranks, epochs)
    return ResultsLoaded(len(runs), tuple(r.id for r in chosen), tables)


class ResultsScreen(PollingScreen):
    CSS_PATH = "results_screen.tcss"
    AUTO_FOCUS = "#results"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("a", "toggle_unfinished", "Unfinished"),
        Binding("t", "focus_tag", "Tag"),
        Binding("m", "export('md')", "Markdown"),
        Binding("l", "export('latex')", "LaTeX"),
        Binding("c", "export('csv')", "CSV"),
        Binding("j", "export('json')", "JSON"),
        Binding("f", "figure", "Figure", show=False),  # in the help and the palette, not the footer
    ]

    def __init__(self, context: AppContext, source: ResultsSource, include_unfinished: bool = False) -> None:
        super().__init__()
        self.context = context
        self.origin = source  # what the Runs screen chose; an emptied tag input returns to it
        self.source = source
        self.include_unfinished = include_unfinished
        self.loaded: ResultsLoaded | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="press t to type a tag: every run with it (empty: the runs chosen on the Runs screen)",
                    id="results-tag")  # fmt: skip
        yield Static("loading…", id="results-status")
        yield ResultsView(id="results")
        yield Footer()

    def on_mount(self) -> None:
        self.ask()
        self.start_polling(max(self.context.poll_s, 2.0))

    # ---- reading ---------------------------------------------------------------------

    def read_store(self) -> Read:
        """Read and build the tables (the source or the unfinished toggle bump the question)."""
        store, source, unfinished = self.context.store, self.source, self.include_unfinished
        return lambda: read_results(store, source, unfinished)

    async def on_results_loaded(self, message: ResultsLoaded) -> None:
        if not self.answered(message):
            return  # an answer for a tag or toggle no longer shown
        self.loaded = message
        await self.query_one(ResultsView).show(message.tables, self._empty_text(message))
        self._status()

    def on_read_failed(self, message: ReadFailed) -> None:
        self.answered(message)
        self._status(message.message)

    def _empty_text(self, loaded: ResultsLoaded) -> str:
        if self.source.is_empty:
            return "press t and type a tag, or mark runs (space) or filter them (/) on the Runs screen and press R"
        if not loaded.selected:
            return f"no runs in this selection ({self.source.describe()})"
        return "no runs in this selection" if self.include_unfinished else NO_FINISHED

    def _status(self, error: str | None = None) -> None:
        status = self.query_one("#results-status", Static)
        status.set_class(error is not None, "-error")
        if error is not None:
            status.update(Text(error))
            return
        self.sub_title = self.source.describe()
        if self.typing:
            status.update(Text(TYPING))
            return
        which = "all runs" if self.include_unfinished else "finished runs only"
        text = f"{self.source.describe()} · {which} (a toggles)"
        if self.loaded is not None:
            shown = len(self.loaded.run_ids)
            text = f"{shown} of {self.loaded.selected} runs · {text} · {len(self.loaded.tables)} protocol(s)"
        status.update(Text(text))

    # ---- keys --------------------------------------------------------------------------

    @property
    def typing(self) -> bool:
        """Whether keys go to the tag box (only after `t` or a click put the focus there)."""
        return self.is_mounted and self.query_one("#results-tag", Input).has_focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a tag is typed, the footer shows only what leaves the box."""
        return not (action in TABLE_ACTIONS and self.typing)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
        self._status()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()
        self._status()

    def action_back(self) -> None:
        """esc in the tag box returns to the table; elsewhere to the Runs screen."""
        if self.typing:
            self.query_one(ResultsView).focus()
        else:
            self.app.pop_screen()

    def action_toggle_unfinished(self) -> None:
        self.include_unfinished = not self.include_unfinished
        self._status()
        self.ask()

    def action_focus_tag(self) -> None:
        self.query_one("#results-tag", Input).focus()

    @on(Input.Changed, "#results-tag")
    def tag_changed(self, event: Input.Changed) -> None:
        tag = event.value.strip()
        self.source = ResultsSource(where=RunFilter(tag=tag)) if tag else self.origin
        self.ask()

    @on(Input.Submitted, "#results-tag")
    def tag_submitted(self) -> None:
        self.query_one(ResultsView).focus()

    def action_export(self, fmt: str) -> None:
        loaded = self.loaded
        if loaded is None or not loaded.tables:
            self.notify("nothing to export: no runs in this selection", severity="warning")
            return
        path = export_path(self.context.export_dir, self.source, loaded.run_ids, fmt)
        write_export(self, path, EXPORTERS[fmt](loaded.tables))

    def action_figure(self) -> None:
        """The round curve of the runs in the tables, as `runs plot rounds` draws it."""
        loaded = self.loaded
        if loaded is None or not loaded.run_ids:
            self.notify("no figure: no runs in this selection", severity="warning")
            return
        path = export_path(self.context.export_dir, self.source, loaded.run_ids, "csv")
        write_figure(
            self,
            self.context.store,
            "rounds",
            loaded.run_ids,
            path.with_name("rounds-" + path.stem.removeprefix("results-") + ".png"),
        )
