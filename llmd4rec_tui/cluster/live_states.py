"""Slurm states for screens that redraw often: answered from memory, refreshed off-thread.

The TUI must never wait on the scheduler (or on its absence, on a laptop): ``get`` returns
the last states read, at once, and starts one background read when they are older than
``refresh_s``. Where Slurm's commands are missing, the states stay empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from llmd4rec_tui.cluster import slurm

Reader = Callable[[Sequence[str]], dict[str, slurm.SlurmState]]


class LiveSlurmStates:
    def __init__(self, refresh_s: float = 15.0, read: Reader | None = None) -> None:
        self.refresh_s = refresh_s
        self._read: Reader = read or slurm.job_states
        self._states: dict[str, str] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self._reading = False

    def get(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The last known state of each job (absent until the first read returns)."""
        wanted = tuple(sorted(set(job_ids)))
        with self._lock:
            known = {job_id: self._states[job_id] for job_id in wanted if job_id in self._states}
            stale = time.monotonic() - self._read_at >= self.refresh_s or len(known) < len(wanted)
            start = bool(wanted) and stale and not self._reading
            if start:
                self._reading = True
        if start:
            threading.Thread(target=self._refresh, args=(wanted,), daemon=True, name="slurm-states").start()
        return known

    def _refresh(self, job_ids: Sequence[str]) -> None:
        try:
            found = {job_id: state.state for job_id, state in self._read(job_ids).items()}
        except slurm.SlurmError:  # no Slurm here, or it did not answer: show none
            found = {}
        with self._lock:
            self._states.update(found)
            self._read_at = time.monotonic()
            self._reading = False
