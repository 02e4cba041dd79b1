"""The Run screen: live panels from the event stream, failure, config and reproducibility."""

from __future__ import annotations

import json
from dataclasses import replace

from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from engine.protocol import Eval, Step, Weights
from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.run_screen import RunScreen
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.widgets.event_log import EventLog, describe
from llmd4rec_tui.widgets.weights_panel import WeightsPanel
from tests.tui.dbfill import EVENTS, add_run, replay
from tests.tui.pilot_helpers import build_app, wait_for


async def open_run(pilot: Pilot[None], app: Llmd4recApp, run_id: int) -> RunScreen:
    assert app.context is not None
    screen = RunScreen(app.context, run_id)
    await app.push_screen(screen)
    await wait_for(pilot, lambda: screen.info is not None)
    return screen


async def test_a_running_run_shows_new_events_as_they_are_written(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    run_id = run_ids["running"]
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, run_id)
        assert len(screen.timeline.curve("crm").losses) == 12 and len(screen.timeline.log) == 46
        await pilot.press("5")
        log = screen.query_one(EventLog)
        await wait_for(pilot, lambda: len(log.lines) == 46)
        ingestor = RunIngestor(store, run_id, attempt=1)
        losses = {"ce": 0.8, "kl": 0.1, "wkl": 0.06, "total": 0.86}
        ingestor.add(Step(round=1, model="crm", epoch=1, step=22, losses=losses, progress=0.3))
        ingestor.add(Eval(round=1, model="crm", split="valid", metrics={"ndcg@10": 0.2}))
        ingestor.flush()
        await wait_for(pilot, lambda: len(screen.timeline.log) == 48, timeout=2)  # within a second or so
        assert screen.timeline.curve("crm").losses[-1].losses == losses
        await wait_for(pilot, lambda: len(log.lines) == 48)
        assert "r1 crm e1 step 22 ce=0.8000" in log.lines[-2].text
        await wait_for(pilot, lambda: "r1 crm e1 30%" in str(screen.query_one("#run-summary").render()))
        screen.action_show_tab("metrics")
        table = screen.query_one("#metrics-panel").query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 5)


async def test_the_weights_panel_follows_the_newest_round_until_one_is_chosen(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "weights"
        panel = screen.query_one(WeightsPanel)
        assert panel.selected_round == 1
        panel.focus()
        await pilot.press("left_square_bracket")
        assert panel.selected_round == 0
        assert "round 0  (rounds 0..1" in str(panel.query_one("#weights-round").render())
        await pilot.press("left_square_bracket")  # stays at the first round
        assert panel.selected_round == 0
        ingestor = RunIngestor(store, run_ids["base0"], attempt=1)
        ingestor.add(
            Weights(round=2, model="crm", epoch=0, name="w2", edges=[0, 0.5, 1], counts=[3, 1], mean=0.3, std=0.1)
        )
        ingestor.flush()
        await wait_for(pilot, lambda: screen.timeline.weight_rounds() == [0, 1, 2])
        assert panel.selected_round == 0  # a chosen round stays chosen
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert panel.selected_round == 2


async def test_a_run_stored_under_protocol_1_shows_what_the_same_run_under_protocol_2_does(
    db_url: str, store: Store
) -> None:
    """Old workers stored each payload as the engine sent it, `phase` and all."""
    old, new = add_run(store, "old", status="succeeded"), add_run(store, "new", status="succeeded")
    ingestor = RunIngestor(store, old, attempt=1)
    for line in (EVENTS / "finished.jsonl").read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        assert raw.pop("v") == 1 and ("phase" in raw or "round" not in raw or raw["type"] == "round_end")
        kind = raw.pop("type")
        raw.pop("ts")
        ingestor.note(kind, raw)
    ingestor.flush()
    replay(store, new, "finished.jsonl")
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        shown = []
        for run_id in (old, new):
            screen = await open_run(pilot, app, run_id)
            await wait_for(pilot, lambda: len(screen.timeline.log) == 87)  # noqa: B023
            await pilot.press("2")
            table = screen.query_one("#metrics-panel").query_one(DataTable)
            await wait_for(pilot, lambda: table.row_count == 8)  # noqa: B023
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            log = [describe(record) for record in screen.timeline.log]
            timeline = screen.timeline
            weights, params = ([replace(h, run_id=0) for h in kind] for kind in (timeline.weights, timeline.params))
            shown.append((timeline.phases, timeline.evals, weights, params, rows, log))
            await pilot.press("escape")
        assert shown[0] == shown[1]
        assert len(shown[0][0]["crm"].losses) == 18 and "r0 crm epoch" in " ".join(shown[0][5])


async def test_a_failed_run_opens_on_its_failure_with_the_traceback(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, run_ids["failed"])
        await wait_for(pilot, lambda: screen.query_one(TabbedContent).active == "failure")
        text = app.export_screenshot()
        assert "FloatingPointError:" in text and "weighted_kl" in text and "exit" in text


async def test_config_tab_shows_the_resolved_config_and_reproducibility(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        await pilot.press("6")
        await pilot.pause(0.2)
        text = app.export_screenshot()
        for fact in ("config&#160;hash", "protocol.ranking", "env.engine_versions.torch", "2.13.0", "leave-one-out"):
            assert fact in text
        screen.query_one("#config-panel").scroll_end(animate=False)
        await pilot.pause(0.2)
        assert "train.crm_lr" in app.export_screenshot()


async def test_every_tab_opens_by_number_and_escape_goes_back(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, app, run_ids["queued"])  # nothing to draw: only the switching is timed
        tabs = screen.query_one(TabbedContent)
        await pilot.click("Tab#--content-tab-params")  # the mouse works too
        assert tabs.active == "params"
        for key, tab in zip(
            "1234567", ("losses", "metrics", "weights", "params", "log", "config", "failure"), strict=True
        ):
            await pilot.press(key)
            assert tabs.active == tab
        await pilot.press("escape")
        assert not isinstance(app.screen, RunScreen)


async def test_a_run_deleted_while_open_says_so(db_url: str, store: Store, run_ids: dict[str, int]) -> None:
    from llmd4rec_tui.queue import control

    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, run_ids["base0"])
        control.remove(store, [run_ids["base0"]], control.REMOVABLE)
        await wait_for(pilot, lambda: "no longer exists" in str(screen.query_one("#run-summary").render()))
