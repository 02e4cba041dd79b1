"""Validation and test metrics of the CRM and the LLM after each phase of each round."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable
from textual_plotext import PlotextPlot

from llmd4rec_tui.formatting import PLOT_SERIES
from llmd4rec_tui.reports.timeline import EvalPoint
from llmd4rec_tui.widgets.loss_plot import legend
from llmd4rec_tui.widgets.runs_table import plain

HEADLINE = "ndcg@10"


class MetricsPanel(Vertical):
    """A table of every eval event and a plot of NDCG@10 per round for both models."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield PlotextPlot()

    def show(self, evals: list[EvalPoint]) -> None:
        table = self.query_one(DataTable)
        keys = sorted({k for e in evals for k in e.metrics}, key=lambda k: (k.partition("@")[0], len(k), k))
        table.clear(columns=True)
        table.add_columns("round", "model", "split", *keys)
        for e in evals:
            cells = [str(e.round), e.model, e.split, *(_cell(e.metrics.get(k)) for k in keys)]
            table.add_row(*(plain(c) for c in cells))
        self._plot(evals)

    def _plot(self, evals: list[EvalPoint]) -> None:
        widget = self.query_one(PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"valid {HEADLINE} per round")
        plt.xlabel("round")
        for model in ("crm", "llm"):
            points = [(e.round, e.metrics[HEADLINE]) for e in evals
                      if e.model == model and e.split == "valid" and HEADLINE in e.metrics]  # fmt: skip
            if points:
                marker, colour = PLOT_SERIES[model]
                xs, ys = [x for x, _ in points], [y for _, y in points]
                plt.plot(xs, ys, label=legend(model), marker=marker, color=colour)
        widget.refresh()


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
