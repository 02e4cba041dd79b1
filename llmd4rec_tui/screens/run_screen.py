"""The Run screen: one run, live while it runs and complete after, in tabs."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from llmd4rec_tui.formatting import format_duration, format_metric, status_style
from llmd4rec_tui.reports.timeline import RunTimeline
from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.figure_export import write_figure
from llmd4rec_tui.screens.messages import ReadFailed, RunLoaded
from llmd4rec_tui.screens.polling import PollingScreen, Read
from llmd4rec_tui.store.queries import get_run, run_events
from llmd4rec_tui.store.records import RunDetail
from llmd4rec_tui.widgets.config_panel import ConfigPanel
from llmd4rec_tui.widgets.event_log import EventLog, LogPanel
from llmd4rec_tui.widgets.failure_panel import FailurePanel
from llmd4rec_tui.widgets.loss_plot import LossPlot, ValidPlot
from llmd4rec_tui.widgets.metrics_panel import MetricsPanel
from llmd4rec_tui.widgets.params_panel import ParamsPanel
from llmd4rec_tui.widgets.runs_table import format_pace
from llmd4rec_tui.widgets.weights_panel import WeightsPanel

TABS = ("losses", "metrics", "weights", "params", "log", "config", "failure")
WIDE_AT = 120  # columns from which the three plots sit side by side
EVENTS_PER_READ = 5000  # a long run's history comes in over a few polls, not one long read


def summary_text(info: RunDetail, now: datetime) -> Text:
    row = info.run
    text = Text()
    text.append(f"#{row.id} {row.name}  ", style="bold")
    text.append(row.status, style=status_style(row.status))
    elapsed = format_duration(row.elapsed_s(now))
    text.append(f"  try {row.attempts}/{row.max_attempts}  {format_pace(row, now)}  {elapsed}")
    text.append(f"  CRM N@10 {format_metric(row.crm_ndcg10)}  LLM N@10 {format_metric(row.llm_ndcg10)}")
    if row.tags:
        text.append("  " + " ".join(f"#{t}" for t in row.tags), style="dim")
    return text


class RunScreen(PollingScreen):
    CSS_PATH = "run_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        *(Binding(str(i + 1), f"show_tab('{tab}')", tab.title(), show=False) for i, tab in enumerate(TABS)),
        Binding("f", "figure", "Figure", show=False),  # in the help and the palette, not the footer
    ]

    def __init__(self, context: AppContext, run_id: int) -> None:
        super().__init__()
        self.context = context
        self.run_id = run_id
        self.timeline = RunTimeline(run_id)
        self.info: RunDetail | None = None
        self._summary = Text()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"run {self.run_id}: loading…", id="run-summary")
        with TabbedContent(id="tabs"):
            with TabPane("1 Losses", id="losses"), Grid(id="loss-plots"):
                yield LossPlot("crm", id="loss-crm")
                yield LossPlot("llm", id="loss-llm")
                yield ValidPlot(id="valid-plot")
            with TabPane("2 Metrics", id="metrics"):
                yield MetricsPanel(id="metrics-panel")
            with TabPane("3 Weights", id="weights"):
                yield WeightsPanel(id="weights-panel")
            with TabPane("4 Params", id="params"):
                yield ParamsPanel(id="params-panel")
            with TabPane("5 Log", id="log"):
                yield LogPanel(id="log-panel")
            with TabPane("6 Config", id="config"):
                yield ConfigPanel(id="config-panel")
            with TabPane("7 Failure", id="failure"):
                yield FailurePanel(id="failure-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        # At most half a second: with the worker's own half-second batching, a new event
        # shows within about a second of the engine printing it.
        self.start_polling(min(self.context.poll_s, 0.5))

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE_AT, "-wide")

    def action_figure(self) -> None:
        """The run's losses, as `runs plot losses ID` draws them."""
        path = self.context.export_dir / f"losses-run-{self.run_id}.png"
        write_figure(self, self.context.store, "losses", [self.run_id], path)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Focus follows the visible tab, so its keys (`[`/`]`, `/`) act on what is shown."""
        if event.pane.id is not None:
            self._focus_tab(event.pane.id)

    def _focus_tab(self, tab: str) -> None:
        pane = self.query_one(f"TabPane#{tab}", TabPane)
        target = next((w for w in pane.query("*") if w.focusable), None)
        if target is not None:
            target.focus()

    def read_store(self) -> Read:
        """The run row and only the events newer than the last seen (one read at a time
        keeps the events in order)."""
        store, run_id, after, clock = self.context.store, self.run_id, self.timeline.last_event_id, self.context.clock

        def read() -> RunLoaded:
            with store.session() as session:
                info = get_run(session, run_id)
                new = run_events(session, run_id, after_id=after, limit=EVENTS_PER_READ)
            return RunLoaded(info, new, clock())

        return read

    def on_read_failed(self, message: ReadFailed) -> None:
        self.answered(message)
        self._summary = Text()  # redraw the summary once reads work again
        self.query_one("#run-summary", Static).update(Text(message.message, style="red"))

    def on_run_loaded(self, message: RunLoaded) -> None:
        self.answered(message)
        if message.info is None:
            self.query_one("#run-summary", Static).update(Text(f"run {self.run_id} no longer exists", style="red"))
            return
        first = self.info is None
        changed_info = message.info != self.info
        self.info = message.info
        self.sub_title = message.info.run.name
        summary = summary_text(message.info, message.now)
        if summary != self._summary:
            self._summary = summary
            self.query_one("#run-summary", Static).update(summary)
        changed = self.timeline.add(message.events)
        if first:
            changed |= {"losses", "evals", "weights", "params"}
        self._draw(changed, message)
        if changed_info:
            self.query_one(ConfigPanel).show(message.info)
            self.query_one(FailurePanel).show(message.info, self.timeline.failure)
        if first and message.info.run.status in ("failed", "lost"):
            self.action_show_tab("failure")
        elif first:
            self._focus_tab(self.query_one(TabbedContent).active)

    def _draw(self, changed: set[str], message: RunLoaded) -> None:
        if "losses" in changed:
            self.query_one("#loss-crm", LossPlot).show(self.timeline.curve("crm"))
            self.query_one("#loss-llm", LossPlot).show(self.timeline.curve("llm"))
            self.query_one(ValidPlot).show(self.timeline.phases)
        if "evals" in changed:
            self.query_one(MetricsPanel).show(self.timeline.evals)
        if "weights" in changed:
            self.query_one(WeightsPanel).show(self.timeline)
        if "params" in changed:
            self.query_one(ParamsPanel).show(self.timeline)
        if "log" in changed:
            self.query_one(EventLog).add(message.events)
        if "failure" in changed and self.info is not None:
            self.query_one(FailurePanel).show(self.info, self.timeline.failure)
