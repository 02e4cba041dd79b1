"""End to end: a worker started from the app runs the fake engine replaying a recorded log,
and the Runs and Run screens follow it live until it succeeds."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from pathlib import Path

import pytest

from engine.config import config_from_dict, config_to_toml
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.screens.run_screen import RunScreen
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.widgets.runs_table import RunsTable
from tests.tui.dbfill import EVENTS
from tests.tui.pilot_helpers import build_app, wait_for

FAKE_ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "fake_engine.py"


async def test_a_run_is_followed_live_from_queued_to_succeeded(
    db_url: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = f"{FAKE_ENGINE} --replay {EVENTS / 'finished.jsonl'} --sleep 0.03"
    monkeypatch.setenv("LLMD4REC_ENGINE_CMD", f"{shlex.quote(sys.executable)} {replay}")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    config = config_from_dict({"run": {"name": "live"}}, "live.toml")
    (run_id,) = add_runs(store, [PendingRun(Path("live.toml"), config, config_to_toml(config))]).added

    app = build_app(db_url, log_dir=tmp_path / "logs")
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.run_ids == [run_id])
        await pilot.press("w")
        await wait_for(pilot, lambda: any("started worker pid" in n.message for n in app._notifications))
        message = next(n.message for n in app._notifications if "started worker pid" in n.message)
        pid = int(message.split()[3].rstrip(";"))
        try:
            panel = app.screen.query_one("#workers")
            await wait_for(pilot, lambda: f":{pid}:" in str(panel.render()), timeout=30)  # its heartbeat shows
            await wait_for(pilot, lambda: str(table.cell(run_id, "status")) == "running", timeout=30)
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await wait_for(pilot, lambda: len(screen.timeline.log) > 0, timeout=10)
            seen_while_running = len(screen.timeline.log)
            await wait_for(pilot, lambda: screen.info is not None and screen.info.run.status == "succeeded", timeout=30)
            await wait_for(pilot, lambda: len(screen.timeline.log) == 87)
            assert seen_while_running < 87  # it was followed live, not loaded after the fact
            assert screen.timeline.weight_rounds() == [0, 1]
            await pilot.press("escape")
            await wait_for(pilot, lambda: str(table.cell(run_id, "crm")) == "0.1150")
        finally:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    assert list((tmp_path / "logs").glob("worker-*.log"))
