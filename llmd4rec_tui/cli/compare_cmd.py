"""`llmd4rec runs compare IDS`: the Compare screen's table, headless, in any export format."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from llmd4rec_tui.cli.choices import CompareFormat
from llmd4rec_tui.cli.common import DB_INT_MAX, EXIT_USAGE, fail, print_wide
from llmd4rec_tui.cli.runs_cmd import runs_app
from llmd4rec_tui.cli.selection import chosen_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.compare import EXPORTERS, Comparison, compare
from llmd4rec_tui.reporting import format_delta, format_stat


def render_table(comparison: Comparison) -> list[Table]:
    """One Rich table per protocol, best per column in bold green."""
    with_deltas = any(row.deltas for t in comparison.tables for row in t.rows)
    out = []
    for table in comparison.tables:
        grid = Table(title=f"protocol: {table.protocol}", title_justify="left")
        for name in ("run", "ids", "seeds", *table.config_keys):
            grid.add_column(name, no_wrap=True)
        for key in table.metric_keys:
            grid.add_column(key, justify="right", no_wrap=True)
            if with_deltas:
                grid.add_column(f"Δ {key}", justify="right", no_wrap=True)
        for index, row in enumerate(table.rows):
            cells: list[str | Text] = [
                row.label + (" (baseline)" if row.is_baseline else ""),
                ",".join(map(str, row.run_ids)),
                ",".join(map(str, row.seeds)),
                *(str(row.config.get(k)) for k in table.config_keys),
            ]
            for key in table.metric_keys:
                best = table.is_best(index, key)
                cells.append(Text(format_stat(row.stats.get(key)), style="bold green" if best else ""))
                if with_deltas:
                    cells.append(format_delta(row.deltas.get(key)))
            grid.add_row(*cells)
        out.append(grid)
    return out


@runs_app.command("compare")
def compare_runs(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="Run ids to compare.", show_default=False, min=1, max=DB_INT_MAX)
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Add every run with this tag.")] = None,
    baseline: Annotated[
        int | None, typer.Option("--baseline", "-b", help="Run id to compute deltas against.", min=1, max=DB_INT_MAX)
    ] = None,
    fmt: Annotated[CompareFormat, typer.Option("--format", "-f", help="How to print the table.")] = CompareFormat.table,
) -> None:
    """Compare runs: differing config keys, metrics (mean ± std over seeds), best and deltas."""
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        runs = chosen_runs(session, ids, tag)
    chosen = [run.id for run in runs]
    if baseline is not None and baseline not in chosen:
        raise fail(f"--baseline {baseline}: not among the compared runs ({', '.join(map(str, chosen))})", EXIT_USAGE)
    comparison = compare(runs, baseline)
    if fmt is CompareFormat.table:
        for grid in render_table(comparison):
            print_wide(grid)
        return
    typer.echo(EXPORTERS[fmt.value](comparison), nl=False)
