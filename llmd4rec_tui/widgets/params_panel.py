"""Histograms of the trained tensors (embeddings, LoRA, projections), one row per round."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from llmd4rec_tui.reports.timeline import RunTimeline
from llmd4rec_tui.widgets.histogram_rows import histogram_rows
from llmd4rec_tui.widgets.scroll_body import ScrollBody


def params_renderable(timeline: RunTimeline) -> RenderableType:
    names = timeline.param_names()
    if not names:
        return Text("no parameter histograms (the run reports them at the end of each phase)", style="dim")
    parts: list[RenderableType] = []
    for model, name in names:
        parts.append(Text(f"{model.upper()} · {name}", style="bold"))
        parts.append(histogram_rows(timeline.param_history(model, name), "round"))
    return Group(*parts)


class ParamsPanel(ScrollBody):
    def show(self, timeline: RunTimeline) -> None:
        self.draw(params_renderable(timeline))
