"""The Run screen's plots and keys: losses on one axis over all rounds, the KL terms on their
own, a validation curve per epoch, and keys that act on the tab that is shown."""

from __future__ import annotations

import re

from textual.pilot import Pilot
from textual.widgets import TabbedContent
from textual_plotext import PlotextPlot

from engine.protocol import Log
from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.run_screen import RunScreen
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.widgets.event_log import EventLog
from llmd4rec_tui.widgets.loss_plot import LossPlot, ValidPlot
from llmd4rec_tui.widgets.weights_panel import WeightsPanel
from tests.tui.pilot_helpers import build_app, wait_for


def plain(drawn: str) -> str:
    """A plotext figure without its colour codes: the legend as a person reads it."""
    return re.sub(r"\x1b\[[0-9;]*m", "", drawn)


async def open_run(pilot: Pilot[None], app: Llmd4recApp, run_id: int) -> RunScreen:
    assert app.context is not None
    screen = RunScreen(app.context, run_id)
    await app.push_screen(screen)
    await wait_for(pilot, lambda: screen.info is not None)
    await pilot.pause()
    return screen


async def test_loss_curves_run_on_over_rounds_with_the_kl_terms_on_their_own_axis(
    db_url: str, run_ids: dict[str, int]
) -> None:
    app = build_app(db_url, poll_s=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        curve = screen.timeline.curve("crm")
        xs = [p.x for p in curve.losses]
        assert xs == list(range(1, len(xs) + 1))  # the engine restarts its step count each round; x does not
        assert [r for _, r in curve.round_starts] == [0, 1] and curve.round_starts[1][0] == 10
        drawn = plain(screen.query_one("#loss-crm", LossPlot).plt.build())
        assert "xx kl (right axis)" in drawn and "++ wkl (right axis)" in drawn and "r1" in drawn
        valid = screen.query_one(ValidPlot)
        assert len(screen.timeline.curve("crm").valid) == 6
        drawn = plain(valid.plt.build())
        assert "•• crm" in drawn and "xx llm" in drawn


async def test_each_model_keeps_its_marker_and_colour_from_plot_to_plot(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url, poll_s=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        valid = screen.query_one(ValidPlot).plt.build()
        await pilot.press("2")  # the metrics per round
        metrics = screen.query_one("#metrics-panel").query_one(PlotextPlot)
        await wait_for(pilot, lambda: "xx llm" in plain(metrics.plt.build()))
        per_round = metrics.plt.build()
        for entry in ("•• crm", "xx llm"):  # the marker in the legend, so no colour is needed to tell them
            assert entry in plain(per_round)
            assert legend_colour(per_round, entry) == legend_colour(valid, entry) != ""


def legend_colour(drawn: str, entry: str) -> str:
    """The colour code plotext writes just before a legend entry's marker."""
    marker, label = entry.split(" ")
    found = re.search(r"(\x1b\[[0-9;]*m)+" + re.escape(marker) + r"(\x1b\[[0-9;]*m)*\s*" + re.escape(label), drawn)
    return found.group(1) if found else ""


async def test_brackets_on_the_weights_tab_choose_the_round_without_a_tab_key(
    db_url: str, run_ids: dict[str, int]
) -> None:
    app = build_app(db_url, poll_s=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "weights"
        panel = screen.query_one(WeightsPanel)
        assert panel.has_focus and panel.selected_round == 1
        await pilot.press("left_square_bracket")
        assert panel.selected_round == 0
        await pilot.press("5", "3", "right_square_bracket")
        assert panel.selected_round == 1


async def test_log_search_finds_a_line_and_scrolling_up_stops_following(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        await pilot.press("5")
        log = screen.query_one(EventLog)
        assert log.has_focus
        await wait_for(pilot, lambda: len(log.lines) > 40)
        await pilot.press("slash", *"config", "enter")
        assert log.match == 0 and log.has_focus and not log.follow  # run_started is the first line
        ingestor = RunIngestor(store, run_ids["base0"], attempt=1)
        ingestor.add(Log(level="info", message="late line"))
        ingestor.flush()
        await wait_for(pilot, lambda: "late line" in log.lines[-1].text)
        assert log.scroll_offset.y < log.max_scroll_y  # still where the search put it
        await pilot.press("f")
        assert log.follow and log.scroll_offset.y == log.max_scroll_y
