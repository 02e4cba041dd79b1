"""Loss curves of one phase over all its rounds, and the per-epoch validation curve.

x is the phase's step counted over every round (the engine restarts its step count in each
round): one continuous curve, a dotted line and an ``rN`` label where each round starts.
CE and total share the left axis; KL and weighted KL, near zero beside a CE of 5-7, get the
right one. Every series keeps one marker and one colour in every plot (``PLOT_SERIES``); the
legend shows the marker and says which axis, so nothing depends on telling colours apart.
"""

from __future__ import annotations

from pathlib import Path

from textual_plotext import PlotextPlot

from llmd4rec_tui.formatting import PLOT_SERIES
from llmd4rec_tui.reports.timeline import KD_KEYS, LOSS_KEYS, PhaseCurve

PHASE_TITLES = {"crm": "CRM phase losses", "llm": "LLM phase losses"}
VALID_METRIC = "ndcg@10"


def legend(key: str, right: bool = False) -> str:
    """A legend entry (plotext draws the marker before it), naming the right axis where used."""
    return key + (" (right axis)" if right else "")


class LossPlot(PlotextPlot):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, phase: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.phase = phase
        self.title = PHASE_TITLES.get(phase, f"{phase} losses")

    def on_mount(self) -> None:
        self.show(PhaseCurve())

    def show(self, curve: PhaseCurve) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("step (all rounds)")
        plt.title(self.title)
        points = curve.losses
        if not points:
            plt.title(f"{self.title}: no steps yet")
            self.refresh()
            return
        for key in LOSS_KEYS:
            pairs = [(p.x, p.losses[key]) for p in points if key in p.losses]
            if not pairs or not any(y for _, y in pairs):
                continue  # KL terms of a phase without a teacher are all zero: nothing to draw
            right = key in KD_KEYS
            marker, colour = PLOT_SERIES[key]
            xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
            plt.plot(xs, ys, label=legend(key, right), marker=marker, color=colour, yside="right" if right else "left")
        for x, round_ in curve.round_starts[1:]:
            plt.vline(x - 0.5, "gray")
            plt.text(f"r{round_}", x, max(p.losses.get("ce", 0.0) for p in points), color="gray")
        self.refresh()


class ValidPlot(PlotextPlot):
    """Validation NDCG@10 after every epoch of both models' phases, epochs over all rounds."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def on_mount(self) -> None:
        self.show({})

    def show(self, phases: dict[str, PhaseCurve]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"valid {VALID_METRIC} per epoch")
        plt.xlabel("epoch (all rounds)")
        drawn = False
        for phase in ("crm", "llm"):
            curve = phases.get(phase)
            pairs = [
                (v.x, v.metrics[VALID_METRIC]) for v in (curve.valid if curve else []) if VALID_METRIC in v.metrics
            ]
            if pairs:
                marker, colour = PLOT_SERIES[phase]
                xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
                plt.plot(xs, ys, label=legend(phase), marker=marker, color=colour)
                drawn = True
        if not drawn:
            plt.title(f"valid {VALID_METRIC} per epoch: none yet")
        self.refresh()
