"""How each screen looks at 80x24 and 160x45 (pytest-textual-snapshot; `--snapshot-update` after a
deliberate change, then review the SVGs in __snapshots__)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.compare_screen import CompareScreen
from llmd4rec_tui.screens.run_screen import RunScreen
from llmd4rec_tui.widgets.runs_table import RunsTable
from tests.tui.pilot_helpers import build_app, wait_for

SIZE = (80, 24)
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])


def still_app(db_url: str) -> Llmd4recApp:
    """No polling during the shot, so nothing repaints while it is taken."""
    return build_app(db_url, poll_s=3600)


async def runs_loaded(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: len(pilot.app.screen.query_one(RunsTable).run_ids) == 6)


def run_screen(run_id: int, tab: str) -> Callable[[Pilot[Any]], Any]:
    async def before(pilot: Pilot[Any]) -> None:
        await runs_loaded(pilot)
        screen = RunScreen(pilot.app.context, run_id)  # type: ignore[attr-defined]
        await pilot.app.push_screen(screen)
        await wait_for(pilot, lambda: screen.info is not None)
        screen.action_show_tab(tab)
        await pilot.pause(0.2)

    return before


@SIZES
def test_runs_screen(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=size, run_before=runs_loaded)


@SIZES
def test_finished_run_log(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=size, run_before=run_screen(run_ids["base0"], "log"))


@SIZES
def test_running_run_losses(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=size, run_before=run_screen(run_ids["running"], "losses"))


@SIZES
def test_running_run_weights(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=size, run_before=run_screen(run_ids["running"], "weights"))


@SIZES
def test_finished_run_metrics(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=size, run_before=run_screen(run_ids["base0"], "metrics"))


def test_failed_run(snap_compare: Any, db_url: str, run_ids: dict[str, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=SIZE, run_before=run_screen(run_ids["failed"], "failure"))


@SIZES
def test_compare_screen(snap_compare: Any, db_url: str, run_ids: dict[str, int], size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await runs_loaded(pilot)
        ids = [run_ids["base0"], run_ids["base1"], run_ids["failed"], run_ids["running"]]
        screen = CompareScreen(pilot.app.context, ids, baseline_id=run_ids["failed"])  # type: ignore[attr-defined]
        await pilot.app.push_screen(screen)
        await wait_for(pilot, lambda: bool(screen.comparison.tables))
        await pilot.pause(0.2)

    assert snap_compare(still_app(db_url), terminal_size=size, run_before=before)


def test_help_screen(snap_compare: Any, db_url: str, run_ids: dict[str, int]) -> None:
    assert snap_compare(still_app(db_url), terminal_size=SIZE, press=["question_mark"], run_before=runs_loaded)
