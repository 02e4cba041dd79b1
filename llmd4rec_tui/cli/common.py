"""Shared CLI plumbing: the resolved database URL and uniform error exits."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console

from llmd4rec_tui.settings import resolve_db_url

err_console = Console(stderr=True)
EXIT_USAGE = 2


@dataclass
class State:
    db_option: str | None = None

    @property
    def db_url(self) -> str:
        return resolve_db_url(self.db_option)


def state(ctx: typer.Context) -> State:
    """The root callback's State, also when a sub-command is invoked directly in tests."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one clear error line and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
