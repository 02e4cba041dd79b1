"""Shared CLI plumbing: the resolved database URL and uniform error exits."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llmd4rec_tui.settings import resolve_db_url

err_console = Console(stderr=True)
out_console = Console(markup=False)  # user text (names, paths) is never markup
#: The two ways a command fails. Runtime: what the command met said no (the database cannot
#: be read or refuses the change, a run, tag or study is not there, the engine, a download or
#: the disk failed). Usage: the command is wrong whatever it meets (an argument value, a
#: combination of options, a config that does not validate).
EXIT_RUNTIME = 1
EXIT_USAGE = 2
DB_INT_MAX = 2**63 - 1  # the largest integer SQLite (and PostgreSQL BIGINT) can store


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


def fail(message: str, code: int) -> typer.Exit:
    """Print one clear error line and return the Exit to raise; code is EXIT_RUNTIME or EXIT_USAGE."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def print_wide(table: Table) -> None:
    """On a terminal, fit it; into a pipe or file, never wrap or cut a cell."""
    if out_console.is_terminal:
        out_console.print(table)
        return
    options = out_console.options.update_width(10_000)
    width = max(out_console.width, out_console.measure(table, options=options).maximum)
    Console(width=width, color_system=None, markup=False).print(table)
