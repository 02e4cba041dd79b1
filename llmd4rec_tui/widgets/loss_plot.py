"""Loss curves (CE, KL, weighted KL, total) of one phase, over all its rounds."""

from __future__ import annotations

import itertools
from pathlib import Path

from textual_plotext import PlotextPlot

from llmd4rec_tui.screens.run_timeline import LOSS_KEYS, LossPoint

PHASE_TITLES = {"crm": "CRM phase losses", "llm": "LLM phase losses"}


class LossPlot(PlotextPlot):
    """x is the step count within the phase; a vertical line marks each new round."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, phase: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.phase = phase
        self.title = PHASE_TITLES.get(phase, f"{phase} losses")

    def on_mount(self) -> None:
        self.show([])

    def show(self, points: list[LossPoint]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("step")
        plt.title(self.title)
        if not points:
            plt.title(f"{self.title}: no steps yet")
            self.refresh()
            return
        xs = [p.step for p in points]
        for key in LOSS_KEYS:
            ys = [p.losses[key] for p in points if key in p.losses]
            if len(ys) == len(xs) and any(ys):
                plt.plot(xs, ys, label=key, marker="braille")
        starts = [p.step for prev, p in itertools.pairwise(points) if p.round != prev.round]
        for x in starts:
            plt.vline(x, "gray")
        self.refresh()
