"""The Runs screen driven through Pilot against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.compare_screen import CompareScreen
from llmd4rec_tui.screens.help_screen import HelpScreen
from llmd4rec_tui.screens.run_screen import RunScreen
from llmd4rec_tui.screens.runs_screen import RunsScreen
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.widgets.runs_table import RunsTable
from tests.tui.pilot_helpers import build_app, wait_for


def shown(app: Llmd4recApp) -> list[int]:
    return app.screen.query_one(RunsTable).run_ids


def status_line(app: Llmd4recApp) -> str:
    return str(app.screen.query_one("#runs-status", Static).render())


async def test_runs_open_with_every_run_and_the_live_worker(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        assert shown(app) == sorted(run_ids.values(), reverse=True)
        assert "runs 1-6 of 6 · sort id ↓" in status_line(app)
        workers = str(app.screen.query_one("#workers", Static).render())
        assert "host-a:4242 1/2 runs" in workers and "3s ago" in workers
        table = app.screen.query_one(RunsTable)
        row = table.get_row_at(table.run_ids.index(run_ids["running"]))  # what the DataTable holds
        cells = [str(row[table.get_column_index(c)]) for c in ("status", "attempt", "priority", "progress", "elapsed")]
        assert cells == ["running", "1/3", "0", "r1 crm e1/3", "2:00"]
        assert str(table.cell(run_ids["running"], "crm")) == "0.0900"


async def test_filter_by_status_tag_and_text_and_explain_a_bad_one(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"status:failed")
        await wait_for(pilot, lambda: shown(app) == [run_ids["failed"]])
        app.screen.query_one(Input).value = "tag:paper lr01"
        await wait_for(pilot, lambda: shown(app) == [run_ids["running"]])
        app.screen.query_one(Input).value = "status:bogus"
        await wait_for(pilot, lambda: "unknown status 'bogus'" in status_line(app))
        await pilot.press("enter")
        assert isinstance(app.focused, RunsTable)


async def test_sort_by_key_by_header_click_and_reverse(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        await pilot.press("s")  # id -> name
        await wait_for(pilot, lambda: "sort name ↓" in status_line(app))
        assert shown(app)[:2] == [run_ids["running"], run_ids["failed"]]  # sasrec-kd-lr01, sasrec-kd-hot
        await pilot.press("S")
        await wait_for(pilot, lambda: "sort name ↑" in status_line(app))
        assert shown(app)[0] == run_ids["queued"]  # gru4rec-kd
        table = app.screen.query_one(RunsTable)
        columns = list(table.columns.values())
        crm_x = sum(c.get_render_width(table) for c in columns[: table.get_column_index("crm")])
        await pilot.click("#runs", offset=(crm_x + 2, 0))  # the "CRM N@10" header
        await wait_for(pilot, lambda: "sort crm ↓" in status_line(app))
        assert shown(app)[0] == run_ids["base1"]


async def test_pages_through_a_long_list(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url, page_size=4)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 4)
        assert "runs 1-4 of 6" in status_line(app) and "[ ] pages" in status_line(app)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: shown(app) == [2, 1])
        assert "runs 5-6 of 6" in status_line(app)
        await pilot.press("right_square_bracket")  # no page beyond the last
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: shown(app) == [6, 5, 4, 3])
        table = app.screen.query_one(RunsTable)
        await pilot.press("down", "down", "down", "down")  # past the last row: on into the next page
        await wait_for(pilot, lambda: shown(app) == [2, 1])
        assert table.selected_run_id() == 2
        await pilot.press("up")  # above the first row: back, onto the last row of the page before
        await wait_for(pilot, lambda: shown(app) == [6, 5, 4, 3])
        await wait_for(pilot, lambda: table.selected_run_id() == 3)


async def test_rows_update_in_place_when_the_database_changes(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    from llmd4rec_tui.store.models import RunSummary

    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        table = app.screen.query_one(RunsTable)
        with store.write() as session:
            summary = session.get(RunSummary, run_ids["running"])
            assert summary is not None
            summary.pace = {**summary.pace, "epoch": 2, "fraction": 0.5}
        slot = table.run_ids.index(run_ids["running"])
        progress = table.get_column_index("progress")
        await wait_for(pilot, lambda: str(table.get_row_at(slot)[progress]) == "r1 crm e3/3 50%")
        assert shown(app) == sorted(run_ids.values(), reverse=True)


async def test_mark_runs_and_open_compare_and_run(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        await pilot.press("c")  # nothing marked, one run under the cursor: not enough
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("down", "down", "down", "space", "space")  # marks #3 and #2
        assert app.screen.marked == {run_ids["failed"], run_ids["base1"]}
        await wait_for(pilot, lambda: "2 marked" in status_line(app))
        await pilot.press("c")
        assert isinstance(app.screen, CompareScreen)
        assert app.screen.run_ids == [run_ids["base1"], run_ids["failed"]]
        await pilot.press("escape", "escape")  # back, then clear the marks
        assert isinstance(app.screen, RunsScreen) and not app.screen.marked
        app.screen.query_one(Input).value = "tag:paper"
        await wait_for(pilot, lambda: len(shown(app)) == 3)
        await pilot.press("A")
        assert app.screen.marked == {run_ids["base0"], run_ids["base1"], run_ids["running"]}
        await pilot.press("escape")
        app.screen.query_one(Input).value = ""
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == run_ids["base0"]
        await pilot.press("escape")
        await pilot.click("#runs", offset=(8, 3))  # the third row: run 4
        await pilot.click("#runs", offset=(8, 3))  # a click on the highlighted row opens it
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == run_ids["running"]


async def test_help_lists_the_screen_bindings_and_the_palette_has_every_action(
    db_url: str, run_ids: dict[str, int]
) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Hold/release", "Move up", "Move down", "Cancel", "Retry", "Delete", "Add", "Worker"} <= commands
        assert {"Compare", "Mark", "Filter", "Sort", "Next page", "Help"} <= commands
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = app.export_screenshot()
        assert "Hold/release" in text and "Delete" in text and "ctrl+p" in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_a_palette_command_runs_its_action(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        await pilot.press("ctrl+p")
        await pilot.press(*"Reverse sort")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "sort id ↑" in status_line(app))


async def test_a_database_in_a_missing_folder_explains_itself(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'nowhere' / 'absent.db'}")
    async with app.run_test(size=(80, 24)) as pilot:
        text = str(app.screen.query_one("#db-error", Static).render())
        assert "no database at" in text and "absent.db" in text
        await pilot.press("q")
    assert not (tmp_path / "nowhere").exists()


async def test_a_silent_worker_is_marked_lost_and_its_run_lost_when_the_lease_ran_out(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    from datetime import timedelta

    from llmd4rec_tui.store.models import Run, Worker
    from tests.tui.dbfill import NOW

    with store.write() as session:
        worker = session.get(Worker, "host-a:4242")
        run = session.get(Run, run_ids["running"])
        assert worker is not None and run is not None
        worker.heartbeat_at = NOW - timedelta(minutes=10)
        run.lease_expires_at = NOW - timedelta(minutes=9)
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        workers = str(app.screen.query_one("#workers", Static).render())
        assert "host-a:4242 lost" in workers and "heard from 10m ago" in workers
        assert str(app.screen.query_one(RunsTable).cell(run_ids["running"], "status")) == "lost?"


async def test_j_k_g_and_the_queue_column_show_where_u_and_d_move_a_run(db_url: str, run_ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        table = app.screen.query_one(RunsTable)

        def queue_of(name: str) -> str:
            return str(table.cell(run_ids[name], "queue"))

        assert (queue_of("queued"), queue_of("held"), queue_of("running")) == ("1", "2", "-")
        await pilot.press("G")
        assert table.cursor_row == 5
        await pilot.press("g", "j")
        assert table.cursor_row == 1 and table.selected_run_id() == run_ids["queued"]
        await pilot.press("d")
        await wait_for(pilot, lambda: queue_of("queued") == "2")
        assert queue_of("held") == "1"
        await pilot.press("k")
        assert table.cursor_row == 0


async def test_a_run_that_finishes_is_notified_with_its_metric(
    db_url: str, store: Store, run_ids: dict[str, int]
) -> None:
    from llmd4rec_tui.store.models import Run

    app = build_app(db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 6)
        with store.write() as session:
            run = session.get(Run, run_ids["running"])
            assert run is not None
            run.status = "succeeded"
        await wait_for(pilot, lambda: any("NDCG@10 0.0900" in str(n.message) for n in app._notifications))
