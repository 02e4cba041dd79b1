"""Queue control from the Runs screen: every action, against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.confirm_screen import ConfirmScreen
from llmd4rec_tui.screens.path_prompt import PathPrompt
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.widgets.runs_table import RunsTable
from tests.tui.pilot_helpers import build_app, wait_for

CONFIG = """
[run]
name = "added-from-the-app"
seed = 3
[train]
crm_lr = 0.123
"""


def column(store: Store, run_id: int, name: str) -> object:
    with store.session() as session:
        run = session.get(Run, run_id)
        return None if run is None else getattr(run, name)


async def select_run(pilot: Pilot[None], app: Llmd4recApp, run_id: int) -> None:
    table = app.screen.query_one(RunsTable)
    await wait_for(pilot, lambda: run_id in table.run_ids)
    table.move_cursor(row=table.run_ids.index(run_id))
    await pilot.pause()


async def test_hold_release_and_move(db_url: str, store: Store, run_ids: dict[str, int]) -> None:
    queued, held = run_ids["queued"], run_ids["held"]
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await select_run(pilot, app, queued)
        await pilot.press("h")
        await wait_for(pilot, lambda: column(store, queued, "status") == "held")
        await pilot.press("h")
        await wait_for(pilot, lambda: column(store, queued, "status") == "queued")
        await pilot.press("d")  # queued (priority 0) moves below held (priority 1)
        await wait_for(pilot, lambda: column(store, queued, "priority") == 1)
        assert column(store, held, "priority") == 0
        await pilot.press("u")
        await wait_for(pilot, lambda: column(store, queued, "priority") == 0)


async def test_a_refused_action_says_why(db_url: str, store: Store, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await select_run(pilot, app, run_ids["base0"])
        await pilot.press("h")
        await wait_for(pilot, lambda: any("only queued/held runs can be held" in n.message for n in app._notifications))
        assert column(store, run_ids["base0"], "status") == "succeeded"


async def test_cancel_queued_and_running_and_retry_failed(db_url: str, store: Store, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await select_run(pilot, app, run_ids["running"])
        await pilot.press("space")
        await select_run(pilot, app, run_ids["queued"])
        await pilot.press("space", "x")
        await wait_for(pilot, lambda: column(store, run_ids["queued"], "status") == "cancelled")
        assert column(store, run_ids["running"], "cancel_requested") is True
        assert column(store, run_ids["running"], "status") == "running"  # its worker stops it
        await select_run(pilot, app, run_ids["failed"])
        await pilot.press("r")
        await wait_for(pilot, lambda: column(store, run_ids["failed"], "status") == "queued")


async def test_delete_asks_first(db_url: str, store: Store, run_ids: dict[str, int]) -> None:
    doomed = run_ids["base0"]
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await select_run(pilot, app, doomed)
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert column(store, doomed, "status") == "succeeded"
        await pilot.press("D")
        await pilot.press("y")
        await wait_for(pilot, lambda: column(store, doomed, "status") is None)
        await wait_for(pilot, lambda: doomed not in app.screen.query_one(RunsTable).run_ids)


async def test_add_configs_by_path_and_refuse_a_bad_one(
    db_url: str, store: Store, run_ids: dict[str, int], tmp_path: Path
) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "good.toml").write_text(CONFIG)
    (tmp_path / "bad.toml").write_text("[train]\ncrm_lr = 'fast'\n")
    app = build_app(db_url, config_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, PathPrompt)
        await pilot.press(*"nothing*.toml", "enter")
        assert isinstance(app.screen, PathPrompt)  # stays open and says why
        assert "no file matches" in str(app.screen.query_one("#path-error").render())
        app.screen.query_one("#path-input").value = "bad.toml"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("train.crm_lr = 'fast'" in n.message for n in app._notifications))
        await pilot.press("a")
        app.screen.query_one("#path-input").value = "configs"  # type: ignore[attr-defined]
        await pilot.press("enter")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: len(table.run_ids) == 7)
    with store.session() as session:
        names = [run.name for run in session.query(Run).order_by(Run.id)]
    assert names[-1] == "added-from-the-app" and len(names) == 7
