"""One run's training losses (CE, KL, weighted KL) per phase over a global step, with
vertical lines where a round begins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmd4rec_tui.figures.common import MODEL_NAMES, caption, one_protocol
from llmd4rec_tui.figures.data import FigureData, FigureError, Point, series_of
from llmd4rec_tui.figures.style import colour
from llmd4rec_tui.store.figure_source import FigureSource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT = 0.75
KEYS = {"ce": "CE", "kl": "KL", "wkl": "weighted KL"}


def build(source: FigureSource, metric: str) -> FigureData:
    one_protocol(source)
    if len(source.runs) != 1:
        raise FigureError(f"losses draws one run's training: give one run id ({len(source.runs)} chosen)")
    run = source.runs[0]
    latest: dict[tuple[str, int, int, str], float] = {}
    for m in source.losses.get(run.id, ()):  # a resumed attempt's value replaces the older one
        if m.key in KEYS and m.step is not None:
            latest[(m.phase, m.round, m.step, m.key)] = m.value
    points = []
    for phase in ("crm", "llm"):
        rounds = sorted({key[1] for key in latest if key[0] == phase})
        offset = 0
        for round_ in rounds:
            steps = [key for key in latest if key[:2] == (phase, round_)]
            if round_ != rounds[0]:
                points.append(Point(MODEL_NAMES[phase], f"round {round_}", "boundary", offset, 0.0))
            for key in sorted(steps, key=lambda k: (list(KEYS).index(k[3]), k[2])):
                points.append(Point(MODEL_NAMES[phase], KEYS[key[3]], "line", offset + key[2], latest[key]))
            offset += max(key[2] for key in steps)
    if not points:
        raise FigureError(f"run {run.id} recorded no step losses (its training has not reported a step yet)")
    return FigureData(
        "losses",
        f"Training losses of run {run.id}",
        "global step",
        "loss",
        caption(source, "training losses per step (throttled step events), a dotted line where a round begins"),
        tuple(points),
    )


def draw(figure: Figure, data: FigureData) -> None:
    for ax, panel in zip(figure.axes, data.panels(), strict=True):
        index = 0
        for label, points in series_of(data.in_panel(panel)).items():
            if points[0].role == "boundary":
                ax.axvline(float(points[0].x), color="#777777", linestyle=":", linewidth=0.8)
                continue
            ax.plot([float(p.x) for p in points], [p.y for p in points], color=colour(index), label=label)
            index += 1
        ax.set_title(f"{panel} phase")
        ax.set_xlabel(data.xlabel)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=3, fontsize=5)
    figure.axes[0].set_ylabel(data.ylabel)
