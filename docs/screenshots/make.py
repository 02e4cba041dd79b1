"""Regenerate the SVG screenshots in this folder from the app itself.

    python docs/screenshots/make.py
    python docs/screenshots/make.py --db sqlite:///runs.db --run 2 --tag ml100k --prefix ml100k

The first fills a temporary database with the recorded engine logs of tests/fixtures/events
(through `queue add` and the worker's ingestor), opens each screen headless and saves it.
The second shoots a real database instead: the Run screen's tabs of one run and the
Results screen of one tag, saved as PREFIX-run-TAB.svg and PREFIX-results.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

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
            ("failed", "failure"), ("base0", "config"), ("base0", "log")]  # fmt: skip


async def shoot_tab(app: Any, pilot: Any, run_id: int, tab: str, file_name: str) -> None:
    """Open one run's Run screen on one tab, save it, and go back."""
    screen = RunScreen(app.context, run_id)
    await app.push_screen(screen)
    await wait_for(pilot, lambda: screen.info is not None)
    screen.action_show_tab(tab)
    await pilot.pause(0.4)
    app.save_screenshot(file_name, str(HERE))
    app.pop_screen()


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
            await shoot_tab(app, pilot, ids[name], tab, f"run-{name}-{tab}.svg")
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


async def shoot_real(url: str, run_id: int, tag: str, prefix: str) -> None:
    """One real run's tabs and one real tag's results, read-only."""
    app = build_app(url, poll_s=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query_one(RunsTable).run_ids))
        for tab in ("losses", "weights", "metrics", "params"):
            await shoot_tab(app, pilot, run_id, tab, f"{prefix}-run-{tab}.svg")
        await pilot.press("slash", *f"tag:{tag}", "enter", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.loaded is not None)
        await pilot.pause(0.5)
        app.save_screenshot(f"{prefix}-results.svg", str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="Shoot this database instead of the test fixtures.")
    parser.add_argument("--run", type=int, default=0, help="With --db: the run whose tabs to shoot.")
    parser.add_argument("--tag", default="", help="With --db: the tag whose Results screen to shoot.")
    parser.add_argument("--prefix", default="real", help="With --db: file name prefix.")
    args = parser.parse_args()
    if args.db:
        if not args.run or not args.tag:
            parser.error("--db needs --run ID and --tag TAG")
        asyncio.run(shoot_real(args.db, args.run, args.tag, args.prefix))
        return
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
