"""The paper's Fig. 3: grouped bars of LLMD4Rec and each ablation (w/o loop, w/o w,
w/o eu), for the CRM and the LLM, with error bars of one standard deviation over seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmd4rec_tui.figures.common import MODEL_NAMES, caption, final_value, metric_title, one_protocol
from llmd4rec_tui.figures.data import FigureData, FigureError, Point, series_of
from llmd4rec_tui.figures.style import colour
from llmd4rec_tui.reporting import mean_std
from llmd4rec_tui.results import build_results, row_label
from llmd4rec_tui.store.figure_source import FigureSource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT = 0.6


def _series(label: str) -> str:
    """'LLMD4Rec_C w/o w' -> 'LLMD4Rec w/o w': one bar colour for both models."""
    return label.replace("LLMD4Rec_C", "LLMD4Rec").replace("LLMD4Rec_L", "LLMD4Rec")


def build(source: FigureSource, metric: str) -> FigureData:
    one_protocol(source)
    points = []
    for table in build_results(list(source.runs)):
        for row in table.rows:
            if not row.method.startswith("LLMD4Rec_"):
                continue
            values = [v for i in row.run_ids if (v := final_value(source.per_round, i, row.model, metric)) is not None]
            if values:
                stat = mean_std(values)
                points.append(
                    Point("", _series(row_label(row)), "bar", MODEL_NAMES[row.model], stat.mean, stat.std, stat.n)
                )
    if not any(" w/o" in p.series for p in points):
        raise FigureError(
            "ablations needs finished LLMD4Rec runs and at least one ablation (distill.rounds = 1, "
            "sample_weights = false or refresh_embeddings = false) among the chosen runs"
        )
    return FigureData(
        "ablations",
        f"Ablations, {metric_title(metric, source.split)}",
        "",
        metric_title(metric, source.split),
        caption(source, f"final {source.split} {metric}, mean ± std over seeds"),
        tuple(points),
    )


def draw(figure: Figure, data: FigureData) -> None:
    ax = figure.axes[0]
    groups = list(dict.fromkeys(str(p.x) for p in data.points))
    series = series_of(data.points)
    width = 0.8 / max(1, len(series))
    for index, (label, points) in enumerate(series.items()):
        at = {str(p.x): p for p in points}
        xs = [g + (index - (len(series) - 1) / 2) * width for g, name in enumerate(groups) if name in at]
        bars = [at[name] for name in groups if name in at]
        ax.bar(
            xs,
            [p.y for p in bars],
            width,
            yerr=[p.err for p in bars],
            color=colour(index),
            label=label,
            error_kw={"elinewidth": 0.6, "capsize": 1.5},
        )
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(data.ylabel)
    ax.legend(frameon=False, ncols=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
