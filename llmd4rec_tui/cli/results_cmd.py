"""`llmd4rec runs results`: the paper-style table (methods x HR/NDCG@k, mean ± std over
seeds, relative gains, per-round curve) produced from the database, never by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from llmd4rec_tui.cli.choices import ResultsFormat
from llmd4rec_tui.cli.common import DB_INT_MAX, print_wide
from llmd4rec_tui.cli.runs_cmd import runs_app
from llmd4rec_tui.cli.selection import reported_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.reporting import format_stat
from llmd4rec_tui.results import (
    CONVERGENCE_NOTE,
    CURVE_METRICS,
    EXPORTERS,
    GAIN_TEST_COLUMNS,
    METRICS,
    ResultsTable,
    build_results,
    gain_cell,
    gain_test_cells,
    phases_cell,
    row_label,
    seeds_label,
    significance_note,
)
from llmd4rec_tui.store.queries import final_test_ranks
from llmd4rec_tui.store.rounds import phase_epochs, round_metrics


def render_results(tables: list[ResultsTable]) -> None:
    """The results tables on the terminal (Rich), the same cells as the exports."""
    for table in tables:
        grid = Table(title=f"protocol: {table.protocol}", title_justify="left")
        grid.add_column("method", no_wrap=True)
        grid.add_column("runs", justify="right", min_width=4, no_wrap=True)
        for metric in METRICS:
            grid.add_column(metric.upper(), justify="right", no_wrap=True)
        for row in table.rows:
            grid.add_row(row_label(row), str(len(row.run_ids)), *(format_stat(row.stats.get(m)) for m in METRICS))
        print_wide(grid)
        if table.gains:
            gains = Table(
                title="relative gain (first the fair one: over the no-KD control)",
                title_justify="left",
                caption=significance_note(),
                caption_justify="left",
            )
            gains.add_column("method", no_wrap=True)
            gains.add_column("over")
            gains.add_column("seeds")
            for metric in METRICS:
                gains.add_column(metric.upper(), justify="right")
            for head in GAIN_TEST_COLUMNS:
                gains.add_column(head, justify="right")
            for gain in table.gains:
                cells = [gain_cell(gain, m) for m in METRICS] + gain_test_cells(gain)
                gains.add_row(gain.method, gain.baseline, seeds_label(gain), *cells)
            print_wide(gains)
        if table.convergence:
            epochs = Table(title="convergence", title_justify="left", caption=CONVERGENCE_NOTE, caption_justify="left")
            for head in ("method", "seed", "run", "best / run per round", "cap", "cap binding"):
                epochs.add_column(head)
            for item in table.convergence:
                cells = [item.method, str(item.seed), str(item.run_id), phases_cell(item), str(item.cap)]
                epochs.add_row(*cells, "yes" if item.binding() else "no")
            print_wide(epochs)
        if table.curve:
            curve = Table(title="per round (test, mutual runs)", title_justify="left")
            curve.add_column("round", justify="right")
            curve.add_column("model")
            for metric in CURVE_METRICS:
                curve.add_column(metric.upper(), justify="right")
            for point in table.curve:
                curve.add_row(str(point.round), point.model, *(format_stat(point.stats.get(m)) for m in CURVE_METRICS))
            print_wide(curve)


@runs_app.command("results")
def results(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="Run ids to include.", show_default=False, min=1, max=DB_INT_MAX)
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Include every run with this tag.")] = None,
    include_unfinished: Annotated[
        bool, typer.Option("--all", help="Also runs that have not succeeded (their latest metrics).")
    ] = False,
    fmt: Annotated[
        ResultsFormat, typer.Option("--format", "-f", help="How to print the tables.")
    ] = ResultsFormat.table,
) -> None:
    """Paper-style results: every method's HR/NDCG@{5,10,20}, gains and the round curve."""
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        runs = reported_runs(session, ids, tag, include_unfinished)
        rounds = round_metrics(session, [r.id for r in runs], CURVE_METRICS)
        ranks = final_test_ranks(session, [r.id for r in runs])
        epochs = phase_epochs(session, [r.id for r in runs])
    tables = build_results(runs, rounds, ranks, epochs)
    if fmt is ResultsFormat.table:
        render_results(tables)
    else:
        typer.echo(EXPORTERS[fmt.value](tables), nl=False)
