"""w1/w2 per epoch in one round, with a round selector: how the weights shift by round."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from llmd4rec_tui.reports.timeline import RunTimeline
from llmd4rec_tui.widgets.histogram_rows import histogram_rows


class WeightsPanel(VerticalScroll, can_focus=True):
    """`[` and `]` step through rounds; the newest round is followed until one is chosen."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS = [
        Binding("left_square_bracket", "round(-1)", "Prev round"),
        Binding("right_square_bracket", "round(1)", "Next round"),
    ]

    selected_round: reactive[int | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timeline = RunTimeline()
        self._follow_latest = True

    def compose(self) -> ComposeResult:
        yield Static(id="weights-round")
        yield Static(id="weights-body")

    def show(self, timeline: RunTimeline) -> None:
        self._timeline = timeline
        rounds = timeline.weight_rounds()
        if rounds and (self._follow_latest or self.selected_round not in rounds):
            self.selected_round = rounds[-1]
        self._draw()

    def action_round(self, step: int) -> None:
        rounds = self._timeline.weight_rounds()
        if not rounds:
            return
        current = rounds.index(self.selected_round) if self.selected_round in rounds else len(rounds) - 1
        index = min(max(current + step, 0), len(rounds) - 1)
        self.selected_round = rounds[index]
        self._follow_latest = index == len(rounds) - 1
        self._draw()

    def _draw(self) -> None:
        rounds = self._timeline.weight_rounds()
        header = self.query_one("#weights-round", Static)
        body = self.query_one("#weights-body", Static)
        if not rounds or self.selected_round is None:
            header.update("no sample weights yet (they come with a teacher: distillation rounds)")
            body.update("")
            return
        header.update(Text(f"round {self.selected_round}  (rounds {rounds[0]}..{rounds[-1]}; [ and ] to change)"))
        body.update(histogram_rows(self._timeline.weights_in_round(self.selected_round), "epoch"))
