"""The look every figure shares: one-column width, TrueType fonts, a colour-blind-safe palette.

ACM and IEEE reject PDFs with Type 3 fonts, matplotlib's default: ``pdf.fonttype = 42``
embeds TrueType instead. The palette is Okabe and Ito's (distinguishable under the common
colour-vision deficiencies); heat maps use cividis for the same reason.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: A one-column figure of the ACM and IEEE templates (3.33 in = 8.5 cm).
COLUMN_WIDTH_IN = 3.33
FORMATS = ("png", "svg", "pdf")
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
HEATMAP = "cividis"
RC: Any = {  # matplotlib types rcParams keys as literals
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "legend.fontsize": 6,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 300,
    "figure.dpi": 100,
}


def image_format(path: Path) -> str:
    """png, svg or pdf from the file's suffix; ValueError naming the file otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: expected a .png, .svg or .pdf file name")
    return suffix


def colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def new_figure(width_in: float, height_ratio: float, panels: int = 1) -> Figure:
    """A figure of panels side by side, width_in wide (inches), with room for a caption line."""
    from matplotlib.figure import Figure

    if width_in <= 0:
        raise ValueError(f"--width {width_in}: expected a positive width in inches")
    figure = Figure(figsize=(width_in, width_in * height_ratio), layout="constrained")
    figure.subplots(1, panels, squeeze=False)
    return figure


def add_caption(figure: Figure, caption: str, width_in: float) -> None:
    """The protocol line under the axes, wrapped to the figure's width."""
    wrapped = "\n".join(textwrap.wrap(caption, width=max(30, int(width_in * 24))))
    figure.supxlabel(wrapped, fontsize=5, color="#444444", x=0.0, ha="left")


def metadata(fmt: str, title: str, caption: str) -> dict[str, str]:
    """The title and caption in the file's own metadata fields."""
    if fmt == "pdf":
        return {"Title": title, "Subject": caption, "Creator": "llmd4rec runs plot"}
    if fmt == "svg":
        return {"Title": title, "Description": caption, "Creator": "llmd4rec runs plot"}
    return {"Title": title, "Description": caption, "Software": "llmd4rec runs plot"}
