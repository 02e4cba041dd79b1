"""A metric against the one or two config keys the chosen runs vary (seeds averaged): a
line with a band of one standard deviation for one key, a heat map for two."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmd4rec_tui.figures.common import MODEL_NAMES, caption, final_value, metric_title, one_protocol
from llmd4rec_tui.figures.data import FigureData, FigureError, Point, series_of
from llmd4rec_tui.figures.style import HEATMAP, colour
from llmd4rec_tui.reporting import differing_keys, mean_std
from llmd4rec_tui.store.figure_source import FigureSource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT = 0.6


def _x(value: Any) -> float | str:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def build(source: FigureSource, metric: str) -> FigureData:
    one_protocol(source)
    keys = differing_keys(list(source.runs))
    if len(keys) not in (1, 2):
        shown = ", ".join(keys) if keys else "none (they differ in the seed at most)"
        raise FigureError(f"sweep draws runs that vary one or two config keys; these vary {len(keys)}: {shown}")
    groups: dict[tuple[str, Any, Any], list[float]] = {}
    for run in source.runs:
        for model in sorted(run.metrics):
            value = final_value(source.per_round, run.id, model, metric)
            if value is not None:
                second = run.config.get(keys[1]) if len(keys) == 2 else None
                groups.setdefault((model, run.config.get(keys[0]), second), []).append(value)
    points = []
    for (model, first, second), values in sorted(
        groups.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]), _order(kv[0][2]))
    ):
        stat = mean_std(values)
        if len(keys) == 1:
            points.append(Point("", MODEL_NAMES.get(model, model), "line", _x(first), stat.mean, stat.std, stat.n))
        else:
            label = f"{keys[1]}={second}"
            points.append(Point(MODEL_NAMES.get(model, model), label, "cell", _x(first), stat.mean, stat.std, stat.n))
    if not points:
        raise FigureError(f"none of the chosen runs has a {source.split} {metric} yet")
    return FigureData(
        "sweep",
        f"{metric_title(metric, source.split)} against {' and '.join(keys)}",
        keys[0],
        metric_title(metric, source.split) if len(keys) == 1 else keys[1],
        caption(source, f"final {source.split} {metric}, mean over seeds (± std)"),
        tuple(points),
    )


def _order(value: Any) -> tuple[int, float, str]:
    return (
        (0, float(value), "")
        if isinstance(value, int | float) and not isinstance(value, bool)
        else (1, 0.0, str(value))
    )


def draw(figure: Figure, data: FigureData) -> None:
    for ax, panel in zip(figure.axes, data.panels(), strict=True):
        points = data.in_panel(panel)
        if points[0].role == "line":
            for index, (label, line) in enumerate(series_of(points).items()):
                xs = list(range(len(line))) if any(isinstance(p.x, str) for p in line) else [float(p.x) for p in line]
                ys = [p.y for p in line]
                ax.plot(xs, ys, marker="o", markersize=2.5, color=colour(index), label=label)
                low, high = [p.y - p.err for p in line], [p.y + p.err for p in line]
                ax.fill_between(xs, low, high, color=colour(index), alpha=0.2, linewidth=0)
                if any(isinstance(p.x, str) for p in line):
                    ax.set_xticks(xs, [str(p.x) for p in line])
            ax.legend(frameon=False)
            ax.set_ylabel(data.ylabel)
        else:
            columns = list(dict.fromkeys(p.x for p in points))
            rows = list(series_of(points))
            grid = [[float("nan")] * len(columns) for _ in rows]
            for p in points:
                grid[rows.index(p.series)][columns.index(p.x)] = p.y
            image = ax.imshow(grid, cmap=HEATMAP, aspect="auto", origin="lower")
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if value == value:  # not NaN
                        ax.text(c, r, f"{value:.3f}", ha="center", va="center", fontsize=5, color="white")
            ax.set_xticks(range(len(columns)), [f"{c:g}" if isinstance(c, float) else c for c in columns])
            ax.set_yticks(range(len(rows)), [row.split("=", 1)[1] for row in rows])
            ax.set_ylabel(data.ylabel)
            ax.set_title(panel)
            figure.colorbar(image, ax=ax, shrink=0.8)
        ax.set_xlabel(data.xlabel)
