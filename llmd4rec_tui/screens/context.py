"""What every screen needs from the app: the store, the clock and a few settings.

Passed explicitly to each screen so screens stay testable without a full app, and the
tests can fix the clock for snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.records import now_utc


@dataclass(frozen=True)
class AppContext:
    store: Store
    poll_s: float = 1.0  # how often screens re-read the database
    page_size: int = 100  # runs per page of the Runs table
    clock: Callable[[], datetime] = now_utc
    export_dir: Path = Path(".")  # where compare exports are written
    config_dir: Path = Path(".")  # where the add-configs picker starts
    log_dir: Path = Path("logs")  # where workers started from the app write their output
