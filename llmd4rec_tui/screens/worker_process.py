"""Starting `llmd4rec worker` from the app, as its own process that outlives the app.

The worker is the only writer of run events; the app only starts it and then sees it,
like any other worker, through its heartbeat in the workers table.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def worker_command(db_url: str) -> list[str]:
    """The installed `llmd4rec` next to this Python, else the same entry point via -c."""
    script = Path(sys.executable).with_name("llmd4rec")
    if script.exists():
        return [str(script), "--db", db_url, "worker"]
    found = shutil.which("llmd4rec")
    if found:
        return [found, "--db", db_url, "worker"]
    return [sys.executable, "-c", "from llmd4rec_tui.cli import main; main()", "--db", db_url, "worker"]


@dataclass(frozen=True)
class StartedWorker:
    pid: int
    log_path: Path


def start_worker(db_url: str, log_dir: Path) -> StartedWorker:
    """Spawn a detached worker; its output goes to a log file named by start time."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"worker-{time.strftime('%Y%m%d-%H%M%S')}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            worker_command(db_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the app does not stop the worker
        )
    return StartedWorker(process.pid, log_path)
