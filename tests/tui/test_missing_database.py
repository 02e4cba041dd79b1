"""`llmd4rec tui` on a path with no database: an empty Runs screen that says how runs get
in, no file left behind, and the file made by the first write (runs queued from the app)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from engine.config import config_from_dict, config_to_toml
from llmd4rec_tui.screens import queue_requests
from llmd4rec_tui.screens.runs_screen import EMPTY_HINT, RunsScreen
from llmd4rec_tui.store.created_on_write import StoreCreatedOnWrite
from llmd4rec_tui.store.queries import run_page
from llmd4rec_tui.store.views import open_for_reading
from tests.tui.pilot_helpers import build_app, wait_for


def status_text(app: object) -> str:
    return str(app.screen.query_one("#runs-status", Static).render())  # type: ignore[attr-defined]


async def test_a_missing_database_opens_an_empty_runs_screen_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "new" / "runs.db"
    path.parent.mkdir()
    app = build_app(f"sqlite:///{path}")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and "no runs yet" in status_text(app))
        assert status_text(app) == EMPTY_HINT
        await pilot.press("q")
    assert not path.exists()


async def test_the_first_write_creates_the_file_and_the_screen_then_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    config = tmp_path / "one.toml"
    config.write_text(config_to_toml(config_from_dict({"run": {"name": "first"}})), encoding="utf-8")
    app = build_app(f"sqlite:///{path}")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "no runs yet" in status_text(app))
        assert app.context is not None and isinstance(app.context.store, StoreCreatedOnWrite)
        assert queue_requests.add_configs(app.context.store, [config]) == "queued 1 run(s) from 1 file(s)"
        assert path.exists()
        await wait_for(pilot, lambda: "runs 1-1 of 1" in status_text(app))
    store = open_for_reading(f"sqlite:///{path}")
    try:
        with store.session() as session:
            assert [row.name for row in run_page(session).rows] == ["first"]
    finally:
        store.close()
