"""The paper's Fig. 4: a metric after every round for the CRM and the LLM, the mean over
seeds with a band of one standard deviation; the no-KD control dashed and each model
trained alone as a horizontal reference line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmd4rec_tui.figures.common import MODEL_NAMES, caption, final_value, metric_title, one_protocol
from llmd4rec_tui.figures.data import FigureData, FigureError, Point, series_of
from llmd4rec_tui.figures.style import colour
from llmd4rec_tui.reporting import mean_std
from llmd4rec_tui.results import NO_KD, MethodRow, build_results, row_label
from llmd4rec_tui.store.figure_source import FigureSource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT = 0.85


def _role(row: MethodRow) -> str | None:
    if row.rounds == 0:
        return "reference"
    if row.method.endswith(NO_KD):
        return "control"
    if row.method.startswith("LLMD4Rec_") and " w/o" not in row.method:
        return "line"
    return None  # one-way and the ablations have their own figure


def build(source: FigureSource, metric: str) -> FigureData:
    one_protocol(source)
    points: list[Point] = []
    for table in build_results(list(source.runs)):
        for row in table.rows:
            role = _role(row)
            if role is None:
                continue
            panel, label = MODEL_NAMES[row.model], row_label(row)
            if role == "reference":
                values = [
                    v for i in row.run_ids if (v := final_value(source.per_round, i, row.model, metric)) is not None
                ]
                if values:
                    stat = mean_std(values)
                    points.append(Point(panel, label, role, "", stat.mean, stat.std, stat.n))
                continue
            by_round: dict[int, list[float]] = {}
            for run_id in row.run_ids:
                for round_, models in source.per_round.get(run_id, {}).items():
                    if (value := models.get(row.model, {}).get(metric)) is not None:
                        by_round.setdefault(int(round_), []).append(float(value))
            for round_, values in sorted(by_round.items()):
                stat = mean_std(values)
                points.append(Point(panel, label, role, round_, stat.mean, stat.std, stat.n))
    if not any(p.role == "line" for p in points):
        raise FigureError(
            "rounds needs finished LLMD4Rec (distill.mode = 'mutual') runs with per-round "
            f"{source.split} metrics among the chosen runs"
        )
    return FigureData(
        "rounds",
        f"{metric_title(metric, source.split)} per round",
        "round",
        metric_title(metric, source.split),
        caption(source, f"{source.split} {metric} after each round, mean ± std over seeds"),
        tuple(sorted(points, key=lambda p: ["CRM", "LLM"].index(p.panel))),
    )


def draw(figure: Figure, data: FigureData) -> None:
    for ax, panel in zip(figure.axes, data.panels(), strict=True):
        rounds = sorted({int(p.x) for p in data.in_panel(panel) if p.role != "reference"})
        for index, (label, points) in enumerate(series_of(data.in_panel(panel)).items()):
            tint, role = colour(index), points[0].role
            if role == "reference":
                ax.axhline(points[0].y, linestyle=":", linewidth=1.0, color=tint, label=label)
                continue
            xs, ys = [float(p.x) for p in points], [p.y for p in points]
            dashes = "-" if role == "line" else "--"
            ax.plot(xs, ys, marker="o", markersize=2.5, linestyle=dashes, color=tint, label=label)
            low, high = [p.y - p.err for p in points], [p.y + p.err for p in points]
            ax.fill_between(xs, low, high, color=tint, alpha=0.2, linewidth=0)
        ax.set_title(panel)
        ax.set_xlabel(data.xlabel)
        ax.set_xticks(rounds)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), fontsize=5)
    figure.axes[0].set_ylabel(data.ylabel)
