"""The sample weights w1 (LLM phase) and w2 (CRM phase) per round and epoch as a ridgeline:
TensorBoard's "distributions" view for per-sample weights. The counts of every chosen run
are added up (the engine's bins are fixed), each ridge shows the share of samples per bin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmd4rec_tui.figures.common import caption, one_protocol
from llmd4rec_tui.figures.data import FigureData, FigureError, Point, series_of
from llmd4rec_tui.figures.style import colour
from llmd4rec_tui.store.figure_source import FigureSource
from llmd4rec_tui.store.records import HistogramRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT = 1.1
#: At most this many ridges per round (the first, the last and evenly spaced epochs between).
RIDGES_PER_ROUND = 6
PANELS = {"w1": "w1 (LLM phase)", "w2": "w2 (CRM phase)"}


def _epochs_kept(epochs: list[int]) -> list[int]:
    if len(epochs) <= RIDGES_PER_ROUND:
        return epochs
    step = (len(epochs) - 1) / (RIDGES_PER_ROUND - 1)
    return sorted({epochs[round(i * step)] for i in range(RIDGES_PER_ROUND)})


def build(source: FigureSource, metric: str) -> FigureData:
    one_protocol(source)
    latest: dict[tuple[int, str, int, int], HistogramRecord] = {}
    for h in source.histograms:  # written in order: a resumed attempt's histogram replaces the older one
        latest[(h.run_id, h.name, h.round, h.epoch or 0)] = h
    summed: dict[tuple[str, int, int], tuple[tuple[float, ...], list[int], int]] = {}
    for (_, name, round_, epoch), h in sorted(latest.items()):
        edges, counts, runs = summed.get((name, round_, epoch), (h.edges, [0] * len(h.counts), 0))
        if edges != h.edges:
            raise FigureError(f"run {h.run_id}: its {name} bins differ from the other runs'; plot it on its own")
        summed[(name, round_, epoch)] = (edges, [a + b for a, b in zip(counts, h.counts, strict=True)], runs + 1)
    points = []
    for name in sorted({key[0] for key in summed}):
        for round_ in sorted({key[1] for key in summed if key[0] == name}):
            epochs = sorted(key[2] for key in summed if key[:2] == (name, round_))
            for epoch in _epochs_kept(epochs):
                edges, counts, runs = summed[(name, round_, epoch)]
                total = sum(counts) or 1
                for low, high, count in zip(edges, edges[1:], counts, strict=False):
                    points.append(
                        Point(
                            PANELS.get(name, name),
                            f"r{round_} e{epoch}",
                            "ridge",
                            (low + high) / 2,
                            count / total,
                            0.0,
                            runs,
                        )
                    )
    if not points:
        raise FigureError("weights needs runs that recorded sample weights (distill.mode = 'mutual' or 'one_way')")
    return FigureData(
        "weights",
        "Sample weights per round and epoch",
        "weight",
        "round, epoch",
        caption(source, "share of training samples per weight bin, counts of all runs added"),
        tuple(points),
    )


def draw(figure: Figure, data: FigureData) -> None:
    for ax, panel in zip(figure.axes, data.panels(), strict=True):
        ridges = list(series_of(data.in_panel(panel)).items())
        tallest = max(p.y for _, points in ridges for p in points) or 1.0
        scale = 0.95 / tallest  # the tallest bin of the panel just reaches the ridge above
        rounds = list(dict.fromkeys(label.split()[0] for label, _ in ridges))
        for index, (label, points) in enumerate(reversed(ridges)):
            base = float(index)
            xs = [float(p.x) for p in points]
            tops = [base + p.y * scale for p in points]
            tint = colour(rounds.index(label.split()[0]))
            ax.fill_between(xs, base, tops, color=tint, alpha=0.55, linewidth=0, step="mid", zorder=len(ridges) - index)
            ax.plot(xs, tops, color=tint, linewidth=0.5, drawstyle="steps-mid", zorder=len(ridges) - index)
        ax.set_yticks(range(len(ridges)), [label for label, _ in reversed(ridges)])
        ax.set_title(panel)
        ax.set_xlabel(data.xlabel)
        ax.tick_params(axis="y", length=0)
    figure.axes[0].set_ylabel(data.ylabel)
