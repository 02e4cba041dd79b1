"""The key bindings of the screen below, generated from its bindings so it never drifts."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def bindings_table(sections: dict[str, list[tuple[str, str]]]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for title, rows in sections.items():
        if not rows:
            continue
        table.add_row(f"[u]{title}[/u]", "")
        for key, description in rows:
            table.add_row(key, description)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help_screen.tcss"
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, sections: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys (escape closes; ctrl+p finds any action)"
            yield Static(bindings_table(self.sections))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
