"""Runs screen speed with 10,000 runs: open time, scrolling, page flips and a poll cycle.

Fills a fresh SQLite database with N runs (every status, summaries with metrics and loss
trails, as the worker leaves them), then drives the real app headless through Pilot. The
baseline is the same screen with paging switched off (page size = N, so the table holds
every run, as a naive run list would); ratios are baseline time over paged time, both
measured in this run on the same database.

    python benchmarks/tui_runs.py [--runs 10000] [--page-size 200] [--json]

Writes benchmarks/out/tui_runs.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from engine.config import config_from_dict
from llmd4rec_tui.app import Llmd4recApp, make_app
from llmd4rec_tui.screens.runs_screen import RunsScreen
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.models import Run, RunSummary
from llmd4rec_tui.widgets.runs_table import RunsTable

OUT = Path(__file__).resolve().parent / "out"
STATUSES = ["succeeded"] * 6 + ["failed", "cancelled", "queued", "held", "running"]
SIZE = (120, 40)


def fill(url: str, count: int, seed: int = 0) -> None:
    """count runs with summaries, written in a few bulk inserts."""
    rng = random.Random(seed)
    store = open_store(url)
    config = config_from_dict({}, "bench")
    now = datetime.now(UTC)
    runs, summaries = [], []
    for i in range(1, count + 1):
        status = rng.choice(STATUSES)
        started = now - timedelta(minutes=rng.randint(1, 10_000)) if status not in ("queued", "held") else None
        runs.append(
            {
                "id": i,
                "name": f"sweep-{i % 97}-lr{rng.choice([1, 2, 5])}e-3",
                "config_json": config.to_json(),
                "config_hash": f"{i:016x}",
                "dataset": rng.choice(["ml-100k", "ml-1m", "synthetic"]),
                "seed": i % 5,
                "tags": [rng.choice(["paper", "ablation", "smoke"])],
                "status": status,
                "priority": 0,
                "enqueued_at": now - timedelta(minutes=count - i),
                "attempts": 1 if started else 0,
                "started_at": started,
                "finished_at": started + timedelta(minutes=30) if started and status != "running" else None,
                "environment": {},
                "protocol": {"split": "leave-one-out", "ranking": "full"},
            }
        )
        done = status in ("succeeded", "failed", "running")
        trail = [2.5 * 0.97**k + rng.random() * 0.05 for k in range(40)] if done else []
        crm, llm = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2)
        summaries.append(
            {
                "run_id": i,
                "round": 1 if done else None,
                "phase": "llm" if done else None,
                "epoch": 2 if done else None,
                "progress": 1.0 if done else None,
                "last_losses": {"ce": 1.0, "total": 1.1} if done else {},
                "loss_trail": trail,
                "metrics": {"crm": {"test": {"ndcg@10": crm}}, "llm": {"test": {"ndcg@10": llm}}} if done else {},
                "crm_ndcg10": crm if done else None,
                "llm_ndcg10": llm if done else None,
            }
        )
    with store.write() as session:
        for start in range(0, count, 2000):
            session.execute(insert(Run), runs[start : start + 2000])
            session.execute(insert(RunSummary), summaries[start : start + 2000])
    store.close()


async def until(app: Llmd4recApp, condition: Any, timeout: float = 120.0) -> None:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the Runs screen did not reach the expected state")
        await asyncio.sleep(0.005)


async def measure(url: str, page_size: int, scroll_presses: int, flips: int) -> dict[str, float]:
    """Seconds to open, per scroll key press, per page flip and per poll cycle."""
    started = time.perf_counter()
    app = make_app(url, poll_s=3600, page_size=page_size)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:

        def table() -> RunsTable:
            return app.screen.query_one(RunsTable)

        await until(app, lambda: isinstance(app.screen, RunsScreen) and app.screen._last is not None)
        await pilot.pause()  # the first page is on screen
        opened = time.perf_counter() - started
        if table().row_count == 0:  # the empty reference: app start-up alone
            return {"open_s": opened}

        # Actions are called directly (not through pilot.press, which adds its own waits);
        # each measure ends when the change has been painted.
        press_times = []
        for _ in range(scroll_presses):
            t = time.perf_counter()
            table().action_page_down()
            await pilot.pause()
            press_times.append(time.perf_counter() - t)

        screen = app.screen
        assert isinstance(screen, RunsScreen)
        flip_times = []
        pages = -(-screen.total // page_size)
        for _ in range(min(flips, pages - 1)):
            before = table().run_ids[0]
            t = time.perf_counter()
            screen.action_page(1)
            await until(app, lambda before=before: table().run_ids[0] != before)
            await pilot.pause()
            flip_times.append(time.perf_counter() - t)

        poll_times = []
        for _ in range(5):
            last = screen._last
            t = time.perf_counter()
            screen.reload()
            await until(app, lambda last=last: screen._last is not last)
            await pilot.pause()
            poll_times.append(time.perf_counter() - t)
    return {
        "open_s": opened,
        "scroll_press_s": statistics.median(press_times),
        "page_flip_s": statistics.median(flip_times) if flip_times else float("nan"),
        "poll_cycle_s": statistics.median(poll_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'runs.db'}"
        t = time.perf_counter()
        fill(url, args.runs)
        fill_s = time.perf_counter() - t
        empty_url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        fill(empty_url, 0)
        startup = asyncio.run(measure(empty_url, args.page_size, 0, 0))["open_s"]
        paged = asyncio.run(measure(url, args.page_size, scroll_presses=20, flips=5))
        unpaged = asyncio.run(measure(url, args.runs, scroll_presses=20, flips=0))

    ratios = {k: unpaged[k] / paged[k] for k in ("open_s", "scroll_press_s", "poll_cycle_s")}
    result = {"runs": args.runs, "page_size": args.page_size, "fill_s": fill_s, "empty_db_open_s": startup,
              "paged": paged, "unpaged_baseline": unpaged, "speedup_vs_unpaged": ratios}  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "tui_runs.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("open the Runs screen", "open_s"),
        ("one PageDown in the table", "scroll_press_s"),
        ("one poll cycle (read + in-place update)", "poll_cycle_s"),
    ]
    lines = [
        f"Runs screen with {args.runs} runs (SQLite, {SIZE[0]}x{SIZE[1]} headless), median seconds.",
        "",
        f"| measure | paged ({args.page_size}/page) | unpaged baseline | baseline / paged |",
        "|---|---|---|---|",
    ]
    lines += [f"| {label} | {paged[k]:.3f} | {unpaged[k]:.3f} | {ratios[k]:.1f}x |" for label, k in rows]
    lines.append(f"| flip to the next page (`]`) | {paged['page_flip_s']:.3f} | - | - |")
    lines.append(f"| open on an empty database (app start-up alone) | {startup:.3f} | - | - |")
    (OUT / "tui_runs.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(result, indent=2) if args.json else "\n".join(lines))


if __name__ == "__main__":
    main()
