"""An engine stops itself when the worker that supervises it is gone or has lost the run.

Standard library only. The worker writes the wall-clock time its lease runs out to the
file named by ``LLMD4REC_LEASE_FILE`` every heartbeat. A worker that hangs (SIGSTOP, a
frozen mount) stops renewing it; a worker that dies leaves the engine re-parented. In
either case the engine asks itself to stop as a cancel does (SIGINT: checkpoint, exit),
so it never goes on writing into a run directory another attempt is about to own.

A worker that is gone or hung no longer reads the engine's stdout and stderr: a chatty
engine would block on the full pipe and never reach its stop. So the watcher first points
both at /dev/null, then signals the main thread, whose blocked write the signal interrupts
and which then finishes into /dev/null.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from engine.protocol import ENV_LEASE_FILE

CHECK_EVERY_S = 0.5


def lease_expired(path: str, now: float) -> bool:
    """True once the lease in the file has run out; a missing or unreadable file is no verdict."""
    try:
        with open(path, encoding="utf-8") as handle:
            return now > float(handle.read().strip())
    except (OSError, ValueError):
        return False


def let_go_of_pipes() -> None:
    """Point stdout and stderr at /dev/null: nobody reads them once the worker is gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def watch_lease() -> threading.Thread | None:
    """Start the watcher when a worker asked for one (the env var); None otherwise."""
    path = os.environ.get(ENV_LEASE_FILE)
    if not path:
        return None
    parent = os.getppid()
    main = threading.main_thread().ident
    assert main is not None

    def watch() -> None:
        while True:
            time.sleep(CHECK_EVERY_S)
            if os.getppid() != parent or lease_expired(path, time.time()):
                let_go_of_pipes()
                signal.pthread_kill(main, signal.SIGINT)  # to the main thread: it may be blocked writing
                return

    thread = threading.Thread(target=watch, name="lease-watch", daemon=True)
    thread.start()
    return thread
