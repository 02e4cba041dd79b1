"""Emitting protocol events on stdout, the engine's only channel to the worker.

Everything else the engine prints goes to stderr (logging), so stdout stays one JSON
event per line. Step events are throttled here, not in the training loop.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from engine.protocol import Event, Step, encode


class Emitter:
    """Writes events as JSON lines and flushes each one so the reader sees it at once."""

    def __init__(self, stream: TextIO | None = None, step_every_s: float = 1.0) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()
        self._step_every_s = step_every_s
        self._last_step = float("-inf")
        self._recorded: list[Event] | None = None

    def emit(self, event: Event) -> None:
        line = encode(event)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
        if self._recorded is not None:
            self._recorded.append(event)

    def start_recording(self) -> None:
        """Keep a copy of every event from now on (a phase stored for reuse)."""
        self._recorded = []

    def stop_recording(self) -> list[Event]:
        recorded, self._recorded = self._recorded or [], None
        return recorded

    def step_due(self) -> bool:
        """Whether step() would emit now, so a caller can skip preparing (and syncing for)
        a step event that would be dropped."""
        return time.monotonic() - self._last_step >= self._step_every_s

    def step(self, event: Step, force: bool = False) -> bool:
        """Emit a step event unless one went out less than step_every_s ago."""
        now = time.monotonic()
        if not force and now - self._last_step < self._step_every_s:
            return False
        self._last_step = now
        self.emit(event)
        return True
