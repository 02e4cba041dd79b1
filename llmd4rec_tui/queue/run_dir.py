"""A run directory is owned by one attempt at a time: an exclusive lock its engine holds.

The supervisor takes ``.lock`` (``fcntl.flock``) before it writes anything there, hands
the open file to the engine (inherited across exec) and closes its own copy, so the lock
lives exactly as long as the engine does, even when the worker hangs or dies. The next
attempt waits for it: the old engine stops itself once its lease runs out (see
engine/lease_watch.py), and only then does the new one start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

LOCK_NAME = ".lock"
LEASE_NAME = ".lease"
STAMP_NAME = ".database"  # the uuid of the database whose run this directory holds


class RunDirBusy(Exception):
    """Another attempt's engine still holds the run directory."""


class ForeignRunDir(Exception):
    """The run directory holds a run of another database."""


def stamp_database(run_dir: Path, database_id: str) -> None:
    """Mark run_dir as this database's (an unstamped one is adopted); ForeignRunDir if it is another's.

    Checked before anything is written there, so a refused directory is left as it was.
    """
    stamp = run_dir / STAMP_NAME
    try:
        owner = stamp.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        owner = ""
    if owner and owner != database_id:
        raise ForeignRunDir(
            f"{run_dir} belongs to another database (its {STAMP_NAME} says {owner}, this database is "
            f"{database_id}); nothing there was changed"
        )
    if not owner:
        stamp.write_text(database_id + "\n", encoding="utf-8")


class RunDirLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self, wait_s: float, keep_alive: Callable[[], None], poll_s: float = 0.2) -> None:
        """Take the lock, waiting up to wait_s (calling keep_alive meanwhile); RunDirBusy if it stays taken."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(fd)
                    raise RunDirBusy(
                        f"{self.path.parent} is still held by another attempt's engine ({holder})"
                    ) from None
                keep_alive()
                time.sleep(poll_s)

    def holder(self) -> str:
        with contextlib.suppress(OSError):
            return self.path.read_text(encoding="utf-8").strip() or "unknown pid"
        return "unknown pid"

    def stamp(self, text: str) -> None:
        """Say who holds it (for the message a waiting attempt gives up with)."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, text.encode(), 0)

    def release(self) -> None:
        """Close this process's copy; the lock stays held while the engine's copy is open."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def write_lease(run_dir: Path, expires_at: float) -> None:
    """The wall-clock time the lease runs out, for the engine's watcher; best effort."""
    tmp = run_dir / (LEASE_NAME + ".tmp")
    try:
        tmp.write_text(f"{expires_at:.3f}", encoding="utf-8")
        os.replace(tmp, run_dir / LEASE_NAME)
    except OSError:
        tmp.unlink(missing_ok=True)
