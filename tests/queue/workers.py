"""Starting workers for tests: in-process (fast) or as real `llmd4rec worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from llmd4rec_tui.queue.settings import WorkerSettings
from llmd4rec_tui.queue.worker import QueueWorker
from llmd4rec_tui.store.db import Store

FAKE_ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "fake_engine.py"
CLI = [sys.executable, "-c", "from llmd4rec_tui.cli import main; main()"]
#: Quick polling and heartbeats; the lease is per test (short only where a lost run is the point,
#: since a loaded machine can stall a live worker for a second or two).
FAST = ["--heartbeat", "0.3", "--poll", "0.1", "--grace", "2"]


def fake_engine(*options: str) -> list[str]:
    return [sys.executable, str(FAKE_ENGINE), *options]


def run_worker(store: Store, runs_dir: Path, *engine_options: str, **settings: object) -> list[int]:
    """Run an in-process worker until the queue is empty; the run ids it claimed."""
    values: dict[str, object] = {
        "until_empty": True,
        "poll_s": 0.05,
        "heartbeat_s": 0.2,
        "lease_s": 5.0,
        "grace_s": 1.0,
        "engine_cmd": fake_engine(*engine_options),
        "runs_dir": runs_dir,
    }
    values.update(settings)
    return QueueWorker(store, WorkerSettings(**values)).run()  # type: ignore[arg-type]


def start_worker_process(
    db_url: str, runs_dir: Path, engine: list[str], *options: str, lease_s: float = 30.0
) -> subprocess.Popen[str]:
    """A real `llmd4rec worker` process (so it can be killed with SIGKILL)."""
    env = {**os.environ, "LLMD4REC_ENGINE_CMD": subprocess.list2cmdline(engine), "LLMD4REC_RUNS_DIR": str(runs_dir)}
    return subprocess.Popen(
        [*CLI, "--db", db_url, "worker", *FAST, "--lease", str(lease_s), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_dir_of(runs_dir: Path, run_id: int) -> Path:
    """Where a worker with this runs folder keeps the run (runs/<db-name>-<uuid8>/<id>)."""
    found = sorted(runs_dir.glob(f"*/{run_id}"))
    assert len(found) <= 1, found
    return found[0] if found else runs_dir / "not-started" / str(run_id)


def steps_done(runs_dir: Path, run_id: int) -> list[int]:
    """The steps the fake engine executed for a run, across all its attempts."""
    log = run_dir_of(runs_dir, run_id) / "steps.log"
    return [int(line) for line in log.read_text().split()] if log.exists() else []
