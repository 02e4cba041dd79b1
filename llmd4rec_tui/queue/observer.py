"""What a worker tells whoever watches it: a run claimed, each of its events, how it ended.

The worker and its supervisors call these from their own threads, so an observer locks
what it keeps. The default one does nothing; `llmd4rec worker` passes its terminal display.
"""

from __future__ import annotations

from typing import Protocol

from engine.protocol import Event
from llmd4rec_tui.queue.claim import ClaimedRun
from llmd4rec_tui.queue.outcome import Outcome


class WorkerObserver(Protocol):
    def claimed(self, claim: ClaimedRun) -> None: ...

    def event(self, claim: ClaimedRun, event: Event) -> None: ...

    def ended(self, claim: ClaimedRun, outcome: Outcome) -> None: ...


class NoObserver:
    """Watches nothing: the worker's default."""

    def claimed(self, claim: ClaimedRun) -> None:
        pass

    def event(self, claim: ClaimedRun, event: Event) -> None:
        pass

    def ended(self, claim: ClaimedRun, outcome: Outcome) -> None:
        pass
