"""Regenerate the SVG screenshots in this folder from the app itself.

    python docs/screenshots/make.py

Fills a temporary database with the recorded engine logs of tests/fixtures/events (through
`queue add` and the worker's ingestor), opens each screen headless and saves it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from llmd4rec_tui.screens.compare_screen import CompareScreen  # noqa: E402
from llmd4rec_tui.screens.results_screen import ResultsScreen  # noqa: E402
from llmd4rec_tui.screens.run_screen import RunScreen  # noqa: E402
from llmd4rec_tui.store.db import open_store  # noqa: E402
from llmd4rec_tui.widgets.runs_table import RunsTable  # noqa: E402
from tests.tui.dbfill import fill  # noqa: E402
from tests.tui.pilot_helpers import build_app, wait_for  # noqa: E402
from tests.tui.results_fill import TAG, fill_results  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZE = (120, 32)
RUN_TABS = [("running", "losses"), ("running", "weights"), ("base0", "metrics"), ("base0", "params"),
            ("failed", "failure"), ("base0", "config")]  # fmt: skip


async def shoot(url: str, ids: dict[str, int]) -> None:
    app = build_app(url, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query_one(RunsTable).run_ids) == len(ids))
        app.screen.query_one(RunsTable).move_cursor(row=2)
        await pilot.pause(0.2)
        app.save_screenshot("runs.svg", str(HERE))
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        app.save_screenshot("help.svg", str(HERE))
        await pilot.press("escape")
        for name, tab in RUN_TABS:
            screen = RunScreen(app.context, ids[name])  # type: ignore[arg-type]
            await app.push_screen(screen)
            await wait_for(pilot, lambda screen=screen: screen.info is not None)
            screen.action_show_tab(tab)
            await pilot.pause(0.3)
            app.save_screenshot(f"run-{name}-{tab}.svg", str(HERE))
            app.pop_screen()
        chosen = [ids["base0"], ids["base1"], ids["failed"], ids["running"]]
        compare = CompareScreen(app.context, chosen, baseline_id=ids["failed"])  # type: ignore[arg-type]
        await app.push_screen(compare)
        await wait_for(pilot, lambda: bool(compare.comparison.tables))
        await pilot.pause(0.3)
        app.save_screenshot("compare.svg", str(HERE))


async def shoot_results(url: str) -> None:
    """The Results screen on baselines, LLMD4Rec over two seeds and an ablation."""
    app = build_app(url, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query_one(RunsTable).run_ids))
        await pilot.press("slash", *f"tag:{TAG}", "enter", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.loaded is not None)
        await pilot.pause(0.3)
        app.save_screenshot("results.svg", str(HERE))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'runs.db'}"
        store = open_store(url)
        ids = fill(store)
        store.close()
        asyncio.run(shoot(url, ids))
        results_url = f"sqlite:///{Path(tmp) / 'results.db'}"
        store = open_store(results_url)
        fill_results(store)
        store.close()
        asyncio.run(shoot_results(results_url))


if __name__ == "__main__":
    main()
