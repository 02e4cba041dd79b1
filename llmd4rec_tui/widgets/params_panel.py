"""Histograms of the trained tensors (embeddings, LoRA, projections), one row per round."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from llmd4rec_tui.reports.timeline import RunTimeline
from llmd4rec_tui.widgets.histogram_rows import histogram_rows


def params_renderable(timeline: RunTimeline) -> RenderableType:
    names = timeline.param_names()
    if not names:
        return Text("no parameter histograms (the run reports them at the end of each phase)", style="dim")
    parts: list[RenderableType] = []
    for model, name in names:
        parts.append(Text(f"{model.upper()} · {name}", style="bold"))
        parts.append(histogram_rows(timeline.param_history(model, name), "round"))
    return Group(*parts)


class ParamsPanel(VerticalScroll, can_focus=True):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def compose(self) -> ComposeResult:
        yield Static(id="params-body")

    def show(self, timeline: RunTimeline) -> None:
        self.query_one("#params-body", Static).update(params_renderable(timeline))
