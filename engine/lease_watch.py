"""An engine stops itself when the worker that supervises it is gone or has lost the run.

Standard library only. The worker writes the wall-clock time its lease runs out to the
file named by ``LLMD4REC_LEASE_FILE`` every heartbeat. A worker that hangs (SIGSTOP, a
frozen mount) stops renewing it; a worker that dies leaves the engine re-parented. In
either case the engine asks itself to stop as a cancel does (SIGINT: checkpoint, exit),
so it never goes on writing into a run directory another attempt is about to own.
"""

from __future__ import annotations

import os
import signal
import threading
import time

ENV_LEASE_FILE = "LLMD4REC_LEASE_FILE"
CHECK_EVERY_S = 0.5


def lease_expired(path: str, now: float) -> bool:
    """True once the lease in the file has run out; a missing or unreadable file is no verdict."""
    try:
        with open(path, encoding="utf-8") as handle:
            return now > float(handle.read().strip())
    except (OSError, ValueError):
        return False


def watch_lease() -> threading.Thread | None:
    """Start the watcher when a worker asked for one (the env var); None otherwise."""
    path = os.environ.get(ENV_LEASE_FILE)
    if not path:
        return None
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(CHECK_EVERY_S)
            if os.getppid() != parent or lease_expired(path, time.time()):
                os.kill(os.getpid(), signal.SIGINT)
                return

    thread = threading.Thread(target=watch, name="lease-watch", daemon=True)
    thread.start()
    return thread
