"""`llmd4rec runs plot KIND`: a publication figure of stored runs, and its numbers as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmd4rec_tui.cli.common import DB_INT_MAX, EXIT_USAGE, fail, out_console
from llmd4rec_tui.cli.runs_cmd import runs_app
from llmd4rec_tui.cli.selection import reported_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.figures.data import FigureError
from llmd4rec_tui.figures.style import COLUMN_WIDTH_IN, image_format
from llmd4rec_tui.results import METRICS
from llmd4rec_tui.store.figure_source import figure_source

KINDS = ("rounds", "ablations", "weights", "losses", "sweep")
SPLITS = ("test", "valid")


@runs_app.command("plot")
def plot(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(KINDS)}.", show_default=False)],
    ids: Annotated[
        list[int] | None, typer.Argument(help="Run ids to include.", show_default=False, min=1, max=DB_INT_MAX)
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Include every run with this tag.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The figure: FILE.png, FILE.svg or FILE.pdf.")] = Path(
        "figure.pdf"
    ),
    metric: Annotated[str, typer.Option("--metric", "-m", help=f"One of {', '.join(METRICS)}.")] = "ndcg@10",
    split: Annotated[str, typer.Option("--split", help="Which evaluation: test or valid.")] = "test",
    width: Annotated[
        float, typer.Option("--width", help="Figure width in inches (one column).", min=0.5, max=40.0)
    ] = COLUMN_WIDTH_IN,
    data_out: Annotated[Path | None, typer.Option("--data-out", help="Also write the plotted numbers as CSV.")] = None,
    include_unfinished: Annotated[
        bool, typer.Option("--all", help="Also runs that have not succeeded (what they recorded so far).")
    ] = False,
) -> None:
    """Draw rounds (Fig. 4), ablations (Fig. 3), weights, losses or sweep for the chosen runs."""
    if kind not in KINDS:
        raise fail(f"KIND {kind!r}: expected one of {', '.join(KINDS)}", EXIT_USAGE)
    if metric not in METRICS:
        raise fail(f"--metric {metric!r}: expected one of {', '.join(METRICS)}", EXIT_USAGE)
    if split not in SPLITS:
        raise fail(f"--split {split!r}: expected test or valid", EXIT_USAGE)
    try:
        image_format(out)
    except ValueError as exc:
        raise fail(f"--out {exc}", EXIT_USAGE) from exc
    for path in (out, data_out):
        if path is not None and not path.parent.is_dir():
            raise fail(f"{path}: its folder {path.parent} does not exist", EXIT_USAGE)
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        runs = reported_runs(session, ids, tag, include_unfinished)
        source = figure_source(session, runs, split, METRICS, kind)
    from llmd4rec_tui.figures.render import draw, figure_data, write

    try:
        data = figure_data(kind, source, metric)
    except FigureError as exc:
        raise fail(f"{kind}: {exc}", EXIT_USAGE) from exc  # the chosen runs do not fit the kind
    write(draw(data, width), data, out, data_out)
    out_console.print(f"wrote {out}" + (f" and {data_out}" if data_out else ""), highlight=False)
