"""The `llmd4rec` command: one Typer app with a sub-app per noun.

Every listing has a --json (and where tabular, --csv) twin so scripts never scrape tables.
Torch is never imported here; engine work happens in `python -m engine` subprocesses.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmd4rec_tui.cli import (  # noqa: F401  (they attach commands to runs_app)
    compare_cmd,
    import_cmd,
    plot_cmd,
    ranks_cmd,
    results_cmd,
)
from llmd4rec_tui.cli.cluster_cmd import cluster_app
from llmd4rec_tui.cli.common import State
from llmd4rec_tui.cli.data_cmd import data_app
from llmd4rec_tui.cli.models_cmd import models_app
from llmd4rec_tui.cli.queue_cmd import queue_app
from llmd4rec_tui.cli.runs_cmd import runs_app
from llmd4rec_tui.cli.search_cmd import search_app
from llmd4rec_tui.cli.tui_cmd import open_tui
from llmd4rec_tui.cli.worker_cmd import worker
from llmd4rec_tui.settings import ENV_DB


def hoist_db(args: list[str]) -> list[str]:
    """`--db URL` (or `--db=URL`) anywhere before `--` moves to the front, so `llmd4rec runs ls
    --db URL` means `llmd4rec --db URL runs ls`; the last one given wins, as for any option."""
    kept: list[str] = []
    db: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            kept += [arg, *rest]
            break
        if arg == "--db" and rest:
            db = [arg, rest.pop(0)]
        elif arg.startswith("--db="):
            db = [arg]
        else:
            kept.append(arg)
    return db + kept


class RootGroup(TyperGroup):
    """The root command: the database option is accepted after a sub-command as well."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: the click Context typer carries
        return super().parse_args(ctx, hoist_db(args))


app = typer.Typer(
    name="llmd4rec",
    cls=RootGroup,
    help="Queue, run, watch and compare LLM <-> CRM mutual distillation experiments.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(queue_app, name="queue")
app.add_typer(runs_app, name="runs")
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
app.add_typer(cluster_app, name="cluster")
app.add_typer(search_app, name="search")
app.command("worker")(worker)
app.command("tui")(open_tui)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar=ENV_DB,
            help=r"SQLAlchemy URL or SQLite path, before or after the command \[default: ./runs.db].",
        ),
    ] = None,
) -> None:
    """Without a command, open the TUI."""
    ctx.obj = State(db)
    if ctx.invoked_subcommand is None:
        open_tui(ctx)


def main() -> None:
    app()
