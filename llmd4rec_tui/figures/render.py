"""From a kind's FigureData to a Figure and a file (PNG, SVG or PDF) with its CSV."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from llmd4rec_tui.figures import ablations, losses, rounds, sweep, weights
from llmd4rec_tui.figures.data import FigureData
from llmd4rec_tui.figures.style import COLUMN_WIDTH_IN, RC, add_caption, image_format, metadata, new_figure
from llmd4rec_tui.store.figure_source import FigureSource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KINDS: dict[str, ModuleType] = {
    "rounds": rounds,
    "ablations": ablations,
    "weights": weights,
    "losses": losses,
    "sweep": sweep,
}


def figure_data(kind: str, source: FigureSource, metric: str) -> FigureData:
    """FigureError when the chosen runs cannot make this kind."""
    return KINDS[kind].build(source, metric)


def draw(data: FigureData, width_in: float = COLUMN_WIDTH_IN) -> Figure:
    import matplotlib

    with matplotlib.rc_context(RC):
        panels = max(1, len(data.panels()))
        figure = new_figure(width_in, KINDS[data.kind].HEIGHT, panels)
        KINDS[data.kind].draw(figure, data)
        add_caption(figure, data.caption, width_in)
    return figure


def write(figure: Figure, data: FigureData, out: Path, data_out: Path | None = None) -> None:
    """The image (its format from the suffix, fonts embedded as TrueType) and, with data_out, its numbers."""
    import matplotlib

    fmt = image_format(out)
    with matplotlib.rc_context(RC):
        figure.savefig(out, format=fmt, metadata=metadata(fmt, data.title, data.caption))
    if data_out is not None:
        data_out.write_text(data.to_csv(), encoding="utf-8")
