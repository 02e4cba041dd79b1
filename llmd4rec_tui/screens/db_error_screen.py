"""Shown instead of the app when the database cannot be read: what is wrong, and q."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


class DbErrorScreen(Screen[None]):
    CSS_PATH = "db_error_screen.tcss"
    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        text = Text.assemble(
            ("Cannot open the database", "bold"), "\n\n", self.message, "\n\n", ("press q to quit", "dim")
        )
        yield Static(text, id="db-error")
