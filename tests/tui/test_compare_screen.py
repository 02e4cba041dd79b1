"""The Compare screen: grouping on screen, a pinned baseline and the export keys."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.screens.compare_screen import CompareScreen
from llmd4rec_tui.widgets.compare_table import CompareView
from tests.tui.pilot_helpers import build_app, wait_for


async def open_compare(pilot: Pilot[None], app: Llmd4recApp, ids: list[int]) -> CompareScreen:
    assert app.context is not None
    screen = CompareScreen(app.context, ids)
    await app.push_screen(screen)
    await wait_for(pilot, lambda: bool(screen.comparison.tables))
    await pilot.pause()
    return screen


async def test_seeds_group_baseline_pins_and_every_export_writes(
    db_url: str, run_ids: dict[str, int], tmp_path: Path
) -> None:
    ids = [run_ids["base0"], run_ids["base1"], run_ids["failed"], run_ids["running"]]
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_compare(pilot, app, ids)
        (table,) = screen.comparison.tables
        assert [row.run_ids for row in table.rows] == [(1, 2), (3,), (4,)]
        assert table.config_keys == ("train.crm_lr",)
        grid = screen.query_one(CompareView).query_one(DataTable)
        assert grid.row_count == 3
        grid.focus()
        await pilot.press("down", "b")  # pin the failed run as the baseline
        assert screen.baseline_id == run_ids["failed"]
        await wait_for(pilot, lambda: "baseline #3" in str(screen.query_one("#compare-status").render()))
        deltas = screen.comparison.tables[0].rows[0].deltas
        assert round(deltas["crm.ndcg@10"], 4) == round(0.118 - 0.09, 4)
        for key in ("C", "M", "L", "J"):
            await pilot.press(key)
        await pilot.press("B")
        assert screen.baseline_id is None
    written = {p.suffix: p.read_text() for p in tmp_path.glob("compare-1-2-3-4.*")}
    assert set(written) == {".csv", ".md", ".tex", ".json"}
    rows = list(csv.DictReader(io.StringIO(written[".csv"])))
    assert [r["ids"] for r in rows] == ["1 2", "3", "4"] and rows[1]["crm.ndcg@10_delta"] == "0.0"
    assert "0.1180 ± 0.0042" in written[".md"]
    assert r"\toprule" in written[".tex"]
    assert json.loads(written[".json"])["baseline"] == run_ids["failed"]


async def test_an_unwritable_export_is_reported(db_url: str, run_ids: dict[str, int], tmp_path: Path) -> None:
    app = build_app(db_url, export_dir=tmp_path / "missing" / "dir")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_compare(pilot, app, [run_ids["base0"], run_ids["base1"]])
        await pilot.press("C")
        await wait_for(pilot, lambda: any("cannot write" in n.message for n in app._notifications))


async def test_down_down_b_pins_the_third_row_without_a_tab_key(db_url: str, run_ids: dict[str, int]) -> None:
    ids = [run_ids["base0"], run_ids["base1"], run_ids["failed"], run_ids["running"]]
    app = build_app(db_url, poll_s=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_compare(pilot, app, ids)
        grid = screen.query_one(CompareView).query_one(DataTable)
        assert grid.has_focus  # what b acts on is the table shown, highlighted
        await pilot.press("down", "down", "b")
        assert screen.baseline_id == run_ids["running"]
        await wait_for(pilot, lambda: screen.query_one(CompareView).query_one(DataTable).has_focus)
        rebuilt = screen.query_one(CompareView).query_one(DataTable)
        assert rebuilt.cursor_row == 2  # the pinned row stays under the cursor after the rebuild
