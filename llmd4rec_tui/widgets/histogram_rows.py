"""Distributions over time as rows of block characters, one row per epoch or round."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from llmd4rec_tui.store.records import HistogramRecord
from llmd4rec_tui.widgets.text_charts import histogram_strip

STRIP_WIDTH = 36


def histogram_rows(points: list[HistogramRecord], label: str, width: int = STRIP_WIDTH) -> Table:
    """A grid with a label, the strip, its range and mean ± std; one shared peak."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column(justify="right")
    peak = max((c for p in points for c in p.counts), default=0)
    for point in points:
        strip = Text(histogram_strip(point.counts, width, peak=peak), style="cyan")
        low = point.edges[0] if point.edges else 0.0
        high = point.edges[-1] if point.edges else 0.0
        grid.add_row(
            _label(point, label),
            strip,
            f"[{low:.2f}, {high:.2f}]",
            f"μ {point.mean:.3f} σ {point.std:.3f}",
        )
    return grid


def _label(point: HistogramRecord, kind: str) -> str:
    if kind == "epoch":
        return f"{point.name} ep {point.epoch}"
    return f"round {point.round}"
