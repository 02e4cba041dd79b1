"""The Textual app: opens the store, shows the Runs screen, offers help and the palette.

Thin on purpose: screens own their behaviour. ``make_app`` is the one way to build it, used
by `llmd4rec tui` and by the tests (which fix the clock and speed up polling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen

from llmd4rec_tui.screens.context import AppContext
from llmd4rec_tui.screens.db_error_screen import DbErrorScreen
from llmd4rec_tui.screens.help_screen import HelpScreen
from llmd4rec_tui.screens.runs_screen import RunsScreen
from llmd4rec_tui.store.created_on_write import StoreCreatedOnWrite
from llmd4rec_tui.store.db import StoreError, display_url, sqlite_file
from llmd4rec_tui.store.records import now_utc
from llmd4rec_tui.store.views import open_for_reading


def short_url(url: str) -> str:
    """The file name of a SQLite database, the password-free URL of anything else."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).name
    return display_url(url)


def key_label(app: App[None], binding: Binding) -> str:
    """How the keys of a binding are written on the keyboard: '[', 'del/D', not 'left_square_bracket'."""
    if binding.key_display:
        return binding.key_display
    keys = [k.strip() for k in binding.key.split(",")]
    return "/".join(app.get_key_display(Binding(k, binding.action)) for k in keys)


def screen_bindings(screen: Screen[object]) -> list[Binding]:
    """The screen's own bindings and those of its focused widget, in declaration order."""
    found: dict[str, Binding] = {}
    sources: list[object] = [screen]
    if screen.focused is not None:
        sources.append(screen.focused)
    for source in sources:
        for item in getattr(type(source), "BINDINGS", []):
            if isinstance(item, Binding) and item.description:
                found.setdefault(item.key, item)  # the screen's meaning of a key wins
    return list(found.values())


class Llmd4recApp(App[None]):
    TITLE = "llmd4rec"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, context: AppContext | None, error: str | None = None) -> None:
        super().__init__()
        self.context = context
        self.error = error

    def on_mount(self) -> None:
        if self.context is None:
            self.push_screen(DbErrorScreen(self.error or "unknown error"))
            return
        self.sub_title = short_url(self.context.store.url)
        self.push_screen(RunsScreen(self.context))

    def on_unmount(self) -> None:
        if self.context is not None:
            self.context.store.close()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections = {
            type(self.screen).__name__.removesuffix("Screen") or "Screen": [
                (key_label(self, b), b.description) for b in screen_bindings(self.screen)
            ],
            "Everywhere": [(key_label(self, b), b.description) for b in self._app_bindings()]
            + [("ctrl+p", "command palette: every action by name")],
        }
        self.push_screen(HelpScreen(sections))

    def _app_bindings(self) -> list[Binding]:
        return [b for b in self.BINDINGS if isinstance(b, Binding)]

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every key action of the current screen is also a palette command."""
        yield from super().get_system_commands(screen)
        for binding in screen_bindings(screen):
            target = screen.focused if binding in getattr(type(screen.focused), "BINDINGS", []) else screen
            yield SystemCommand(
                binding.description, f"key: {key_label(self, binding)}", partial(self._run_on, target, binding.action)
            )
        yield SystemCommand("Help", "key: ?", self.action_help)

    async def _run_on(self, target: DOMNode | None, action: str) -> None:
        await self.run_action(action, target)


def make_app(
    db_url: str,
    *,
    poll_s: float = 1.0,
    page_size: int = 100,
    clock: Callable[[], datetime] = now_utc,
    export_dir: Path | None = None,
    config_dir: Path | None = None,
    log_dir: Path | None = None,
) -> Llmd4recApp:
    """The app on db_url; a database that cannot be read opens an explanation instead, and a
    SQLite file that does not exist yet, in a folder that does, an empty Runs screen (the file is
    made by the first write)."""
    file = sqlite_file(db_url)
    try:
        new = file is not None and not file.exists() and file.parent.is_dir()
        store = StoreCreatedOnWrite(db_url) if new else open_for_reading(db_url)
    except StoreError as exc:
        return Llmd4recApp(None, str(exc))
    context = AppContext(
        store=store,
        poll_s=poll_s,
        page_size=page_size,
        clock=clock,
        export_dir=export_dir or Path.cwd(),
        config_dir=config_dir or Path.cwd(),
        log_dir=log_dir or Path.cwd() / "logs",
    )
    return Llmd4recApp(context)
