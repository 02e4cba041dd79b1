"""A focusable, scrolling panel that shows one renderable: the Config and Params tabs."""

from __future__ import annotations

from pathlib import Path

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class ScrollBody(VerticalScroll, can_focus=True):
    """Focusable so the arrows and page keys scroll it as soon as its tab is shown."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def compose(self) -> ComposeResult:
        yield Static(classes="body")

    def draw(self, renderable: RenderableType) -> None:
        self.query_one(".body", Static).update(renderable)
